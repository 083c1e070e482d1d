"""The worker against a real simulator over HTTP on 127.0.0.1, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from gateway.config import BreakerPolicy, RetryPolicy
from gateway.delivery.claim import claim_due_deliveries
from gateway.store.crypto import Keyring
from gateway.store.engine import Store
from gateway.store.tables import channel_states, deliveries, utcnow
from simulators._base import Fault
from tests.delivery._support import (
    CrashingAdapter,
    JsonChannelAdapter,
    ReconcilingAdapter,
    add_delivery,
    attempt_rows,
    channel_settings,
    delivery_row,
    make_worker,
    simulator,
    worker_settings,
)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store(db_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def keyring() -> Keyring:
    return Keyring.generate()


async def drain(worker: object, store: Store, ids: list[str], timeout_s: float = 20.0) -> None:
    """Run the worker until every delivery is terminal."""
    terminal = {"delivered", "failed", "cancelled"}
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        await worker.run_once()  # type: ignore[attr-defined]
        if all(delivery_row(store, i).state in terminal for i in ids):
            return
        if asyncio.get_running_loop().time() > deadline:
            states = [delivery_row(store, i).state for i in ids]
            raise AssertionError(f"not drained: {states}")
        await asyncio.sleep(0.02)


async def test_delivered_with_idempotency_key_and_attempt_recorded(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (sim, server, _):
        settings = worker_settings(db_url, tmp_path, {"alpha": channel_settings(server.url)})
        worker = make_worker(store, keyring, settings, {"alpha": adapter}, worker_id="w-1")
        delivery_id = add_delivery(store, keyring, channel="alpha")
        await drain(worker, store, [delivery_id])
        await adapter.aclose()
    row = delivery_row(store, delivery_id)
    assert (row.state, row.attempts, row.lease_owner) == ("delivered", 1, None)
    assert row.delivered_at is not None
    [entry] = sim.inbox()
    assert entry.idempotency_key == row.idempotency_key
    assert entry.traceparent is not None
    [attempt] = attempt_rows(store, delivery_id)
    assert (attempt.outcome, attempt.worker_id, attempt.number) == ("delivered", "w-1", 1)
    assert attempt.http_status == 201
    assert attempt.ended_at >= attempt.started_at
    assert entry.traceparent.split("-")[1] == attempt.trace_id


async def test_permanent_error_dead_letters_after_one_attempt(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (sim, server, _):
        sim.inject(Fault("status", status=400))
        settings = worker_settings(db_url, tmp_path, {"alpha": channel_settings(server.url)})
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        delivery_id = add_delivery(store, keyring, channel="alpha")
        await drain(worker, store, [delivery_id])
        await adapter.aclose()
    row = delivery_row(store, delivery_id)
    assert (row.state, row.attempts, row.last_http_status) == ("failed", 1, 400)
    assert row.last_error_class == "PermanentError"
    assert [a.outcome for a in attempt_rows(store, delivery_id)] == ["permanent"]
    assert sim.inbox() == []


async def test_transient_errors_retry_with_growing_gaps_then_dead_letter(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    policy = RetryPolicy(max_attempts=4, initial_backoff_s=0.1, max_backoff_s=10)
    with simulator(adapter) as (sim, server, _):
        sim.inject(*[Fault("status", status=503)] * 4)
        settings = worker_settings(
            db_url, tmp_path, {"alpha": channel_settings(server.url, retry=policy)}
        )
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        delivery_id = add_delivery(store, keyring, channel="alpha")
        await drain(worker, store, [delivery_id])
        await adapter.aclose()
    row = delivery_row(store, delivery_id)
    assert (row.state, row.attempts) == ("failed", 4)
    assert "stopped: attempts" in row.last_error
    attempts = attempt_rows(store, delivery_id)
    assert [a.outcome for a in attempts] == ["transient"] * 4
    # Each wait is at least the back-off floor for its attempt: 0.1 s, 0.2 s, 0.4 s.
    waits = [
        (later.started_at - earlier.ended_at).total_seconds()
        for earlier, later in itertools.pairwise(attempts)
    ]
    assert [w >= 0.1 * 2**n for n, w in enumerate(waits)] == [True, True, True]


async def test_retry_after_is_respected(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (sim, server, _):
        sim.inject(Fault("status", status=503, retry_after="1"))
        settings = worker_settings(db_url, tmp_path, {"alpha": channel_settings(server.url)})
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        delivery_id = add_delivery(store, keyring, channel="alpha")
        await worker.run_once()
        row = delivery_row(store, delivery_id)
        [first] = attempt_rows(store, delivery_id)
        assert row.state == "retry_wait"
        assert (row.next_attempt_at - first.ended_at).total_seconds() >= 1.0
        await worker.run_once()  # not due yet: nothing is sent
        assert len(attempt_rows(store, delivery_id)) == 1
        await drain(worker, store, [delivery_id])
        await adapter.aclose()
    first, second = attempt_rows(store, delivery_id)
    assert (second.started_at - first.ended_at).total_seconds() >= 1.0
    assert delivery_row(store, delivery_id).state == "delivered"


async def test_breaker_opens_waits_without_attempts_then_one_probe_closes_it(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    breaker = BreakerPolicy(failure_threshold=2, open_s=1.0)
    with simulator(adapter) as (sim, server, log):
        sim.inject(Fault("status", status=503), Fault("status", status=503))
        settings = worker_settings(
            db_url,
            tmp_path,
            {"alpha": channel_settings(server.url, concurrency=1, breaker=breaker)},
        )
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        ids = [add_delivery(store, keyring, channel="alpha") for _ in range(5)]
        await worker.run_once()
        await worker.run_once()
        gate = store.read_sync(lambda c: c.execute(channel_states.select()).one())
        assert (gate.breaker_state, gate.consecutive_failures) == ("open", 2)
        spent = sum(delivery_row(store, i).attempts for i in ids)
        for _ in range(5):  # open: nothing is claimed, no attempt is spent
            assert await worker.run_once() == 0
        assert sum(delivery_row(store, i).attempts for i in ids) == spent
        await asyncio.sleep(1.05)
        # Half-open: even with room for many, exactly one probe goes out.
        probe_worker = make_worker(
            store, keyring, settings, {"alpha": adapter}, concurrency=10, worker_id="probe"
        )
        assert await probe_worker.run_once() == 1
        gate = store.read_sync(lambda c: c.execute(channel_states.select()).one())
        assert (gate.breaker_state, gate.consecutive_failures) == ("closed", 0)
        await drain(worker, store, ids)
        await adapter.aclose()
    assert all(delivery_row(store, i).state == "delivered" for i in ids)
    assert len(log.arrivals) == 7


async def test_failed_probe_reopens(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    breaker = BreakerPolicy(failure_threshold=3, open_s=0.3)
    with simulator(adapter) as (sim, server, log):
        sim.inject(*[Fault("status", status=503)] * 4)
        settings = worker_settings(
            db_url, tmp_path, {"alpha": channel_settings(server.url, breaker=breaker)}
        )
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        for _ in range(3):
            add_delivery(store, keyring, channel="alpha")
        assert await worker.run_once() == 3  # closed: all three go, all fail: open
        await asyncio.sleep(0.35)
        assert await worker.run_once() == 1  # the probe, which fails
        assert await worker.run_once() == 0
        gate = store.read_sync(lambda c: c.execute(channel_states.select()).one())
        assert (gate.breaker_state, gate.consecutive_failures) == ("open", 4)
        assert gate.open_until > utcnow()
        await adapter.aclose()
    assert len(log.arrivals) == 4


async def test_priority_order_then_oldest_due(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (sim, server, _):
        settings = worker_settings(
            db_url, tmp_path, {"alpha": channel_settings(server.url, concurrency=1)}
        )
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        now = utcnow()
        order = [
            ("routine", 3),
            ("urgent", 2),
            ("immediate", 1),
            ("routine", 5),
            ("immediate", 4),
            ("urgent", 6),
        ]
        ids = {
            add_delivery(
                store, keyring, channel="alpha", priority=p, due=now - timedelta(seconds=age)
            ): (p, age)
            for p, age in order
        }
        await drain(worker, store, list(ids))
        await adapter.aclose()
    sent = [
        next(i for i in ids if e.idempotency_key.startswith(delivery_row(store, i).message_id))
        for e in sim.inbox()
    ]
    got = [ids[i] for i in sent]
    assert got == [
        ("immediate", 4),
        ("immediate", 1),
        ("urgent", 6),
        ("urgent", 2),
        ("routine", 5),
        ("routine", 3),
    ]


async def test_unexpected_adapter_exception_is_survived_as_transient(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    settings = worker_settings(db_url, tmp_path, {"alpha": channel_settings("http://127.0.0.1:9/")})
    worker = make_worker(store, keyring, settings, {"alpha": CrashingAdapter("alpha")})
    delivery_id = add_delivery(store, keyring, channel="alpha")
    await worker.run_once()
    row = delivery_row(store, delivery_id)
    assert (row.state, row.last_error_class) == ("retry_wait", "ZeroDivisionError")
    assert "Jane" not in (row.last_error or "")
    [attempt] = attempt_rows(store, delivery_id)
    assert (attempt.outcome, attempt.error_class) == ("transient", "ZeroDivisionError")


async def test_lapsed_lease_is_reclaimed_and_old_owner_cannot_overwrite(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (sim, server, _):
        settings = worker_settings(db_url, tmp_path, {"alpha": channel_settings(server.url)})
        delivery_id = add_delivery(store, keyring, channel="alpha")
        # A worker that claimed and then died: its lease lapses.
        [dead] = store.write_sync(
            lambda c: claim_due_deliveries(
                c, worker_id="dead", now=utcnow(), lease_s=0.2, wants={"alpha": 5}
            )
        )
        assert delivery_row(store, delivery_id).state == "sending"
        rescuer = make_worker(store, keyring, settings, {"alpha": adapter}, worker_id="rescuer")
        assert await rescuer.run_once() == 0  # lease still valid
        await asyncio.sleep(0.25)
        assert await rescuer.run_once() == 1
        await adapter.aclose()
    row = delivery_row(store, delivery_id)
    assert (row.state, row.attempts) == ("delivered", 2)
    # The dead worker comes back and tries to record a failure: refused by the lease guard.
    from adapters.errors import PermanentError
    from gateway.delivery.classify import classify_result
    from gateway.delivery.record import AttemptRecord, record_attempt
    from gateway.delivery.schedule import next_step

    verdict = classify_result(PermanentError("x", http_status=400))
    step = next_step(
        verdict,
        attempts_done=1,
        now=utcnow(),
        deadline_at=None,
        policy=settings.channels["alpha"].retry,
    )
    held = store.write_sync(
        lambda c: record_attempt(
            c,
            dead,
            worker_id="dead",
            verdict=verdict,
            step=step,
            attempt=AttemptRecord(utcnow(), utcnow(), 1.0),
            breaker=settings.channels["alpha"].breaker,
        )
    )
    assert held is False
    assert delivery_row(store, delivery_id).state == "delivered"
    assert len(sim.inbox()) == 1


async def test_worker_restart_hands_back_its_own_stale_leases(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    settings = worker_settings(db_url, tmp_path, {"alpha": channel_settings("http://127.0.0.1:9/")})
    delivery_id = add_delivery(store, keyring, channel="alpha")
    store.write_sync(
        lambda c: claim_due_deliveries(
            c, worker_id="w-named", now=utcnow(), lease_s=600, wants={"alpha": 1}
        )
    )
    worker = make_worker(
        store, keyring, settings, {"alpha": JsonChannelAdapter("alpha")}, worker_id="w-named"
    )
    assert await worker.recover() == 1
    row = delivery_row(store, delivery_id)
    assert (row.state, row.lease_owner) == ("unknown", None)


async def test_concurrent_workers_never_send_one_delivery_at_the_same_time(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (sim, server, log):
        sim.inject(*[Fault("latency", seconds=0.05)] * 40)
        sim.inject(*[Fault("status", status=503)] * 10)
        settings = worker_settings(
            db_url,
            tmp_path,
            {"alpha": channel_settings(server.url, concurrency=4)},
            lease_s=5.0,
        )
        ids = [add_delivery(store, keyring, channel="alpha") for _ in range(60)]
        workers = [
            make_worker(store, keyring, settings, {"alpha": adapter}, worker_id=f"w{n}")
            for n in range(3)
        ]
        runs = [asyncio.create_task(w.run(grace_s=5)) for w in workers]
        deadline = asyncio.get_running_loop().time() + 30
        while any(delivery_row(store, i).state != "delivered" for i in ids):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.1)
        for w in workers:
            w.stop()
        await asyncio.gather(*runs)
        await adapter.aclose()
    by_key: dict[str | None, list[tuple[float, float]]] = {}
    for arrival in log.arrivals:
        by_key.setdefault(arrival.key, []).append((arrival.arrived, arrival.answered))
    assert len(by_key) == 60
    for spans in by_key.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end
    assert len(sim.inbox()) == 60
    assert sum(w.stats.claimed for w in workers) == len(log.arrivals)
    assert {a.worker_id for i in ids for a in attempt_rows(store, i)} <= {"w0", "w1", "w2"}


async def test_stop_hands_back_in_flight_leases_after_the_grace_period(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (sim, server, _):
        sim.inject(Fault("latency", seconds=3))
        settings = worker_settings(db_url, tmp_path, {"alpha": channel_settings(server.url)})
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        delivery_id = add_delivery(store, keyring, channel="alpha")
        run = asyncio.create_task(worker.run(grace_s=0.2))
        # In flight: the request reached the destination (which holds it for 3 s).
        while sim.stats["faults"] == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        worker.stop()
        await asyncio.wait_for(run, 5)
        await adapter.aclose()
    row = delivery_row(store, delivery_id)
    assert (row.state, row.lease_owner) == ("unknown", None)
    assert row.next_attempt_at <= utcnow()


async def test_paused_channel_is_not_claimed(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    from gateway.delivery.breaker import set_paused

    settings = worker_settings(db_url, tmp_path, {"alpha": channel_settings("http://127.0.0.1:9/")})
    worker = make_worker(store, keyring, settings, {"alpha": JsonChannelAdapter("alpha")})
    add_delivery(store, keyring, channel="alpha")
    store.write_sync(lambda c: set_paused(c, "alpha", paused=True, now=utcnow()))
    assert await worker.run_once() == 0
    store.write_sync(lambda c: c.execute(update(deliveries).values(next_attempt_at=utcnow())))
    assert await worker.run_once() == 0


async def test_unknown_outcome_is_reconciled_by_status_where_the_adapter_has_one(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    plain = JsonChannelAdapter("alpha")
    with simulator(plain) as (sim, server, log):
        adapter = ReconcilingAdapter("alpha", server.url + "_sim/inbox")
        sim.inject(Fault("drop"))  # stored at the destination, answer lost: unknown
        settings = worker_settings(db_url, tmp_path, {"alpha": channel_settings(server.url)})
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        arrived_id = add_delivery(store, keyring, channel="alpha")
        await worker.run_once()
        assert delivery_row(store, arrived_id).state == "unknown"
        await drain(worker, store, [arrived_id])
        await adapter.aclose()
    row = delivery_row(store, arrived_id)
    assert row.state == "delivered"
    assert adapter.asked == [row.idempotency_key]
    assert len(log.arrivals) == 1  # reconciled, not resent
    assert [a.outcome for a in attempt_rows(store, arrived_id)] == ["unknown", "delivered"]


def test_half_open_channel_gives_exactly_one_probe_across_workers(
    store: Store, keyring: Keyring
) -> None:
    from gateway.delivery.breaker import record_channel_result

    for _ in range(4):
        add_delivery(store, keyring, channel="alpha")
    policy = BreakerPolicy(failure_threshold=1, open_s=0.01)
    opened_at = utcnow()
    store.write_sync(
        lambda c: record_channel_result(c, "alpha", success=False, policy=policy, now=opened_at)
    )
    later = opened_at + timedelta(seconds=1)

    def claim(worker_id: str) -> int:
        return len(
            store.write_sync(
                lambda c: claim_due_deliveries(
                    c, worker_id=worker_id, now=later, lease_s=30, wants={"alpha": 4}
                )
            )
        )

    assert [claim("w1"), claim("w2"), claim("w3")] == [1, 0, 0]
    gate = store.read_sync(lambda c: c.execute(channel_states.select()).one())
    assert gate.breaker_state == "half_open"
    # The probe's worker died: once its lease passes, another probe may go.
    much_later = later + timedelta(seconds=31)
    assert (
        len(
            store.write_sync(
                lambda c: claim_due_deliveries(
                    c, worker_id="w4", now=much_later, lease_s=30, wants={"alpha": 4}
                )
            )
        )
        == 1
    )


async def test_delivery_past_its_deadline_is_dead_lettered_without_sending(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (_, server, log):
        settings = worker_settings(db_url, tmp_path, {"alpha": channel_settings(server.url)})
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        # Waited out a long pause: due long ago, deadline already behind it.
        late = add_delivery(
            store, keyring, channel="alpha", due=utcnow() - timedelta(hours=2), deadline_s=-60
        )
        await worker.run_once()
        await adapter.aclose()
    row = delivery_row(store, late)
    assert (row.state, row.last_error_class) == ("failed", "DeadlinePassed")
    assert "stopped: deadline" in row.last_error
    assert log.arrivals == []


async def test_worker_picks_up_a_rotated_key_file(
    db_url: str, tmp_path: Path, store: Store
) -> None:
    from gateway.store.crypto import load_or_create_keyring, save_keyring

    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (sim, server, _):
        settings = worker_settings(db_url, tmp_path, {"alpha": channel_settings(server.url)})
        loaded = load_or_create_keyring(settings.key_file)
        worker = make_worker(store, loaded, settings, {"alpha": adapter})
        rotated = loaded.with_new_active_key()
        save_keyring(rotated, settings.key_file)
        delivery_id = add_delivery(store, rotated, channel="alpha")
        await worker.run_once()
        await adapter.aclose()
    assert delivery_row(store, delivery_id).state == "delivered"
    assert len(sim.inbox()) == 1
