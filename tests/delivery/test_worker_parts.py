"""The worker's parts on their own: lanes pace claims without a store, the runner turns a
leased delivery into a finished attempt, the recorder batches attempts under the lease."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, update

from adapters.base import Receipt
from gateway.config import BreakerPolicy, RetryPolicy
from gateway.delivery.attempt_recorder import AttemptRecorder, WorkerStats
from gateway.delivery.attempt_runner import AttemptRunner
from gateway.delivery.claim import ClaimedDelivery, claim_due_deliveries
from gateway.delivery.classify import Outcome, classify_result
from gateway.delivery.lanes import ChannelLane, ChannelLanes
from gateway.delivery.record import AttemptRecord, FinishedAttempt
from gateway.delivery.schedule import next_step
from gateway.store.crypto import Keyring
from gateway.store.engine import Store
from gateway.store.tables import deliveries, utcnow
from tests.delivery._support import (
    CrashingAdapter,
    JsonChannelAdapter,
    add_delivery,
    attempt_rows,
    channel_settings,
    delivery_row,
    worker_settings,
)

T = TypeVar("T")


def claimed(channel: str = "alpha", *, lease_s: float = 60.0, **fields: Any) -> ClaimedDelivery:
    """A leased delivery as a claim returns it, without a store."""
    now = utcnow()
    values: dict[str, Any] = {
        "id": f"d-{channel}",
        "message_id": "m-1",
        "channel": channel,
        "recipient": None,
        "product": "note",
        "prior_state": "queued",
        "attempts": 1,
        "priority_rank": 2,
        "idempotency_key": f"m-1:{channel}:-",
        "next_attempt_at": now,
        "deadline_at": now + timedelta(hours=1),
        "lease_until": now + timedelta(seconds=lease_s),
        "payload_ciphertext": None,
        "payload_key_id": None,
        "content_type": "application/json",
        "payload_headers_json": "{}",
        "receipt_json": None,
        "traceparent": None,
    }
    values.update(fields)
    return ClaimedDelivery(**values)


def lane(name: str, limit: int, adapter: Any = None) -> ChannelLane:
    """A lane on a channel that nothing listens to (these tests never reach it)."""
    settings = channel_settings("http://127.0.0.1:9")
    chosen: Any = adapter or JsonChannelAdapter(name)
    return ChannelLane(name, settings, chosen, limit)


# -- lanes ---------------------------------------------------------------------------------


def test_a_lane_claims_a_round_ahead_only_into_a_backlog() -> None:
    lanes = ChannelLanes([lane("alpha", 4)])
    assert lanes.wants(ahead=True) == {"alpha": 4}  # no backlog known: free slots only
    started = lanes.file_claim([claimed()] * 4, {"alpha": 4}, since=lanes.announcements)
    assert [s.name for s in started] == ["alpha"]
    assert lanes["alpha"].backlogged
    assert lanes.expect_work
    while lanes["alpha"].next_to_start() is not None:
        pass
    assert lanes["alpha"].in_flight == 4
    assert lanes.wants(ahead=False) == {}  # every slot taken
    assert lanes.wants(ahead=True) == {"alpha": 4}  # a round ahead of the slots
    lanes.file_claim([claimed()] * 2, {"alpha": 4}, since=lanes.announcements)
    assert not lanes["alpha"].backlogged  # got less than it asked for
    assert lanes["alpha"].next_to_start() is None  # no slot free: the two wait
    lanes["alpha"].free_slot()
    assert lanes["alpha"].next_to_start() is not None
    assert len(lanes["alpha"].ready) == 1


def test_a_lane_found_empty_stays_dry_until_an_announcement_or_a_poll() -> None:
    lanes = ChannelLanes([lane("alpha", 2), lane("beta", 2)])
    lanes.found_nothing(["alpha"], since=lanes.announcements)
    assert lanes.wants(ahead=True) == {"alpha": 2, "beta": 2}  # room, but ...
    assert not lanes["alpha"].running_low()
    assert lanes["beta"].running_low()
    lanes.announced()
    assert lanes["alpha"].running_low()
    lanes.file_claim([], {"alpha": 2}, since=lanes.announcements)
    assert lanes["alpha"].dry
    lanes.poll_passed()
    assert not lanes["alpha"].dry


def test_an_announcement_during_a_claim_keeps_the_lane_from_going_dry() -> None:
    lanes = ChannelLanes([lane("alpha", 2)])
    since = lanes.announcements
    lanes.announced()  # while the look or claim ran, on a snapshot from before
    lanes.found_nothing(["alpha"], since=since)
    assert not lanes["alpha"].dry
    lanes.file_claim([], {"alpha": 2}, since=since)
    assert not lanes["alpha"].dry
    assert lanes.running_low()


def test_stopping_takes_every_leased_ahead_delivery_out_of_the_lanes() -> None:
    lanes = ChannelLanes([lane("alpha", 1), lane("beta", 1)])
    items = [claimed("alpha"), claimed("alpha"), claimed("beta")]
    lanes.file_claim(items, {"alpha": 2, "beta": 1}, since=lanes.announcements)
    assert lanes["alpha"].next_to_start() is items[0]
    assert lanes.take_unsent() == items[1:]
    assert [len(x.ready) for x in lanes] == [0, 0]


def test_channels_without_an_adapter_get_no_lane(tmp_path: Path) -> None:
    settings = worker_settings(
        "sqlite://",
        tmp_path,
        {
            "alpha": channel_settings("http://a", concurrency=3),
            "ghost": channel_settings("http://g"),
        },
    )

    class Only:
        def get(self, name: str) -> Any:
            if name != "alpha":
                raise KeyError(name)
            return JsonChannelAdapter(name)

    lanes = ChannelLanes.configured(settings, Only(), concurrency=None)
    assert lanes.names() == ["alpha"]
    assert lanes["alpha"].limit == 3
    assert ChannelLanes.configured(settings, Only(), concurrency=7)["alpha"].limit == 7


# -- runner --------------------------------------------------------------------------------


def runner(tmp_path: Path, **overrides: Any) -> AttemptRunner:
    settings = worker_settings("sqlite://", tmp_path, {}, **overrides)
    return AttemptRunner(keyring=Keyring.generate(), settings=settings, clock=utcnow)


def test_a_delivery_that_waited_for_a_slot_until_its_lease_ran_low_is_not_sent(
    tmp_path: Path,
) -> None:
    run = runner(tmp_path, lease_s=10.0)
    alpha = lane("alpha", 1)
    # The full budget here is 2 + 2 * 2 + 1 = 7 s; a fifth of the lease (2 s) is kept in hand.
    assert not run.waited_too_long(alpha, claimed(lease_s=10.0))
    assert run.budget_s(alpha.settings, claimed(lease_s=10.0)) == pytest.approx(7.0, abs=0.1)
    assert run.waited_too_long(alpha, claimed(lease_s=5.0))  # 3 s left < half of 7 s


async def test_the_runner_turns_a_missing_payload_into_a_transient_attempt(
    tmp_path: Path,
) -> None:
    finished = await runner(tmp_path).run(lane("alpha", 1), claimed())
    assert (finished.verdict.outcome, finished.verdict.error_class) == (
        Outcome.TRANSIENT,
        "LookupError",
    )
    assert finished.step.state.value == "retry_wait"
    assert finished.attempt.ended_at >= finished.attempt.started_at
    assert finished.breaker == lane("alpha", 1).settings.breaker


async def test_the_runner_sends_nothing_past_the_deadline(tmp_path: Path) -> None:
    # Had it sent, the attempt would be recorded as the adapter's ZeroDivisionError.
    crashing = lane("alpha", 1, CrashingAdapter("alpha"))
    late = claimed(deadline_at=utcnow() - timedelta(seconds=1))
    finished = await runner(tmp_path).run(crashing, late)
    assert (finished.verdict.error_class, finished.step.state.value, finished.step.reason) == (
        "DeadlinePassed",
        "failed",
        "deadline",
    )


# -- recorder ------------------------------------------------------------------------------


class CountingStore(Store):
    """The real store, counting the write transactions asked of it."""

    writes = 0

    async def write(self, fn: Callable[[Connection], T]) -> T:
        self.writes += 1
        return await super().write(fn)


@pytest.fixture
def counting_store(db_url: str) -> Iterator[CountingStore]:
    opened = CountingStore(db_url)
    try:
        yield opened
    finally:
        opened.close()


def finished_attempt(item: ClaimedDelivery, result: Receipt | BaseException) -> FinishedAttempt:
    verdict = classify_result(result)
    now = utcnow()
    policy = RetryPolicy(max_attempts=4, initial_backoff_s=0.05, max_backoff_s=1)
    step = next_step(verdict, attempts_done=item.attempts, now=now, deadline_at=None, policy=policy)
    breaker = BreakerPolicy(failure_threshold=50, open_s=60)
    return FinishedAttempt(item, verdict, step, AttemptRecord(now, now, 1.0), breaker)


async def test_attempts_finishing_together_share_transactions_and_a_lost_lease_is_counted(
    counting_store: CountingStore,
) -> None:
    store, keyring = counting_store, Keyring.generate()
    ids = [add_delivery(store, keyring, channel="alpha") for _ in range(6)]
    items = store.write_sync(
        lambda c: claim_due_deliveries(
            c, worker_id="me", now=utcnow(), lease_s=60, wants={"alpha": 6}
        )
    )
    taken_over = items[0].id
    store.write_sync(
        lambda c: c.execute(
            update(deliveries).where(deliveries.c.id == taken_over).values(lease_owner="other")
        )
    )
    stats = WorkerStats()
    recorder = AttemptRecorder(store, worker_id="me", stats=stats)
    writes_before = store.writes
    await asyncio.gather(
        *(recorder.record(finished_attempt(i, Receipt(f"r-{i.id}", 200))) for i in items)
    )
    assert store.writes - writes_before < len(items)
    assert (stats.recorded, stats.lease_lost, stats.store_errors) == (6, 1, 0)
    assert stats.by_outcome == {"delivered": 6}
    states = {i: delivery_row(store, i).state for i in ids}
    assert states.pop(taken_over) == "sending"  # the newer owner's state is left alone
    assert set(states.values()) == {"delivered"}
    assert all(len(attempt_rows(store, i)) == 1 for i in ids)


async def test_a_store_that_fails_the_batch_loses_the_records_but_not_the_worker(
    sqlite_url: str,
) -> None:
    store = Store(sqlite_url)
    keyring = Keyring.generate()
    delivery_id = add_delivery(store, keyring, channel="alpha")
    [item] = store.write_sync(
        lambda c: claim_due_deliveries(
            c, worker_id="me", now=utcnow(), lease_s=60, wants={"alpha": 1}
        )
    )
    store.close()  # the store is gone when the attempt finishes
    stats = WorkerStats()
    await AttemptRecorder(store, worker_id="me", stats=stats).record(
        finished_attempt(item, Receipt("r-1", 200))
    )
    assert (stats.recorded, stats.store_errors) == (0, 1)
    reopened = Store(sqlite_url)
    try:
        row = delivery_row(reopened, delivery_id)
        assert (row.state, row.lease_owner) == ("sending", "me")  # the lease will lapse
        assert attempt_rows(reopened, delivery_id) == []
    finally:
        reopened.close()
