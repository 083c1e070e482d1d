"""Workers start on new deliveries when they are announced, not at their next poll; leases
taken ahead and never used go back as they were; several attempts are recorded at once."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, select

from adapters.base import Receipt
from adapters.errors import TransientError
from gateway.config import BreakerPolicy, RetryPolicy
from gateway.context import GatewayContext
from gateway.delivery.claim import ClaimedDelivery, claim_due_deliveries, return_unsent
from gateway.delivery.classify import classify_result
from gateway.delivery.record import AttemptRecord, FinishedAttempt, record_attempts
from gateway.delivery.schedule import next_step
from gateway.store.crypto import Keyring
from gateway.store.engine import Store
from gateway.store.tables import channel_states, utcnow
from gateway.store.wakeup import (
    announce_new_deliveries,
    deliveries_stored,
    libpq_conninfo,
    listen_for_new_deliveries,
    on_deliveries_stored,
)
from simulators._base import Fault
from tests.api.helpers import auth
from tests.conftest import Tokens, example_bytes
from tests.delivery._support import (
    JsonChannelAdapter,
    add_delivery,
    attempt_rows,
    channel_settings,
    delivery_row,
    make_worker,
    simulator,
    worker_settings,
)

# Far beyond every wait below: a delivery sent in time was not found by polling.
SLOW_POLL_S = 120.0
WAIT_S = 20.0


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


async def until_delivered(store: Store, delivery_id: str) -> None:
    async with asyncio.timeout(WAIT_S):
        while delivery_row(store, delivery_id).state != "delivered":  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_announced_deliveries_are_sent_without_waiting_for_the_poll(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    """SQLite: the storing process's own signal; PostgreSQL: NOTIFY alone, as when another
    process (the API server) stored them."""
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (_sim, server, _):
        settings = worker_settings(
            db_url,
            tmp_path,
            {"alpha": channel_settings(server.url)},
            worker_poll_interval_s=SLOW_POLL_S,
        )
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        run = asyncio.create_task(worker.run(grace_s=1))
        if store.dialect == "postgresql":
            async with asyncio.timeout(WAIT_S):
                await worker.listening.wait()
        # The first one may be found by the worker's first claim; the worker then idles.
        first = add_delivery(store, keyring, channel="alpha", announce=True)
        deliveries_stored()
        await until_delivered(store, first)
        await asyncio.sleep(0.1)  # let it go back to waiting for the (slow) poll
        for _ in range(3):
            later = add_delivery(store, keyring, channel="alpha", announce=True)
            if store.dialect == "sqlite":
                deliveries_stored()
            await until_delivered(store, later)
        worker.stop()
        await asyncio.wait_for(run, WAIT_S)
        await adapter.aclose()


async def test_deliveries_announced_while_a_claim_runs_are_not_left_for_the_poll(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    """The claim's snapshot predates them, so it finds nothing: that must not mark the
    channel as having nothing due."""
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (_sim, server, _):
        settings = worker_settings(
            db_url,
            tmp_path,
            {"alpha": channel_settings(server.url)},
            worker_poll_interval_s=SLOW_POLL_S,
        )
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        run = asyncio.create_task(worker.run(grace_s=1))
        if store.dialect == "postgresql":
            async with asyncio.timeout(WAIT_S):
                await worker.listening.wait()
        await asyncio.sleep(0.3)  # idle, waiting for the (slow) poll
        late: list[str] = []
        real_write = store.write

        async def claim_then_store_and_announce(fn: Any) -> Any:
            result = await real_write(fn)
            if not late:  # the claim below: it has run, on a snapshot without ``late``
                late.append(add_delivery(store, keyring, channel="alpha", announce=True))
                worker.new_deliveries_announced()
            return result

        store.write = claim_then_store_and_announce  # type: ignore[method-assign]
        worker.new_deliveries_announced()  # nothing stored yet: the claim finds nothing
        async with asyncio.timeout(WAIT_S):
            while not late:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await until_delivered(store, late[0])
        store.write = real_write  # type: ignore[method-assign]
        worker.stop()
        await asyncio.wait_for(run, WAIT_S)
        await adapter.aclose()


async def test_unannounced_deliveries_wait_for_the_poll(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    """The other side of the test above: without an announcement the idle worker sleeps on."""
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (sim, server, _):
        settings = worker_settings(
            db_url,
            tmp_path,
            {"alpha": channel_settings(server.url)},
            worker_poll_interval_s=SLOW_POLL_S,
        )
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        run = asyncio.create_task(worker.run(grace_s=1))
        if store.dialect == "postgresql":
            async with asyncio.timeout(WAIT_S):
                await worker.listening.wait()
        await asyncio.sleep(0.3)  # past its first (empty) claim
        quiet = add_delivery(store, keyring, channel="alpha")
        await asyncio.sleep(0.5)
        assert delivery_row(store, quiet).state == "queued"
        assert sim.inbox() == []
        worker.stop()
        await asyncio.wait_for(run, WAIT_S)
        await adapter.aclose()


async def test_local_signal_runs_callbacks_on_their_own_loop() -> None:
    loop_thread: list[int] = []
    woken = asyncio.Event()

    def callback() -> None:
        loop_thread.append(threading.get_ident())
        woken.set()

    unsubscribe = on_deliveries_stored(callback)
    try:
        await asyncio.to_thread(deliveries_stored)  # from a store writer thread, say
        async with asyncio.timeout(WAIT_S):
            await woken.wait()
        assert loop_thread == [threading.get_ident()]
    finally:
        unsubscribe()
    woken.clear()
    deliveries_stored()
    await asyncio.sleep(0)
    assert not woken.is_set()


async def test_notify_is_sent_at_commit_and_never_for_a_rolled_back_transaction(
    db_url: str, store: Store
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's")
    received = asyncio.Queue[str]()
    listening = asyncio.Event()
    listener = asyncio.create_task(
        listen_for_new_deliveries(
            store.url, lambda: received.put_nowait("hint"), listening=listening
        )
    )
    try:
        async with asyncio.timeout(WAIT_S):
            await listening.wait()
            assert await received.get() == "hint"  # the one given when listening starts

        class Abandon(Exception):
            pass

        def rolled_back(conn: Connection) -> None:
            announce_new_deliveries(conn)
            raise Abandon

        with pytest.raises(Abandon):
            store.write_sync(rolled_back)
        store.write_sync(announce_new_deliveries)
        async with asyncio.timeout(WAIT_S):
            assert await received.get() == "hint"
        await asyncio.sleep(0.2)
        assert received.empty()  # the rolled-back one never arrives (it would have come first)
    finally:
        listener.cancel()
        with pytest.raises(asyncio.CancelledError):
            await listener


def test_libpq_conninfo_drops_the_driver_name() -> None:
    assert (
        libpq_conninfo("postgresql+psycopg://u:secret@db.example:5433/gw")
        == "postgresql://u:secret@db.example:5433/gw"
    )


async def test_leases_taken_ahead_go_back_unsent_when_the_worker_stops(
    db_url: str, tmp_path: Path, store: Store, keyring: Keyring
) -> None:
    adapter = JsonChannelAdapter("alpha")
    with simulator(adapter) as (sim, server, _):
        sim.inject(Fault("latency", seconds=3))
        settings = worker_settings(
            db_url, tmp_path, {"alpha": channel_settings(server.url, concurrency=1)}
        )
        ids = [add_delivery(store, keyring, channel="alpha") for _ in range(3)]
        worker = make_worker(store, keyring, settings, {"alpha": adapter})
        run = asyncio.create_task(worker.run(grace_s=0.2))
        while sim.stats["faults"] == 0:  # noqa: ASYNC110 - the first is in flight
            await asyncio.sleep(0.02)
        leased = [delivery_row(store, i) for i in ids]
        worker.stop()
        await asyncio.wait_for(run, WAIT_S)
        await adapter.aclose()
    # One slot, one more leased ahead, the third left alone.
    assert sorted(r.state for r in leased) == ["queued", "sending", "sending"]
    assert worker.stats.handed_back_unsent == 1
    rows = {i: delivery_row(store, i) for i in ids}
    in_flight = [i for i in ids if rows[i].state == "unknown"]
    assert len(in_flight) == 1
    assert rows[in_flight[0]].attempts == 1
    for i in ids:
        if i not in in_flight:
            assert (rows[i].state, rows[i].attempts, rows[i].lease_owner) == ("queued", 0, None)
            assert rows[i].next_attempt_at <= utcnow()
    assert len(sim.inbox()) == 0  # the in-flight one was still held by the destination


async def test_return_unsent_restores_the_claimed_state_and_uncounts_the_attempt(
    store: Store, keyring: Keyring
) -> None:
    fresh = add_delivery(store, keyring, channel="alpha")
    fresh_before = delivery_row(store, fresh)
    # Claimed by a worker that died: once its lease lapsed, it may have been sent.
    lapsed = add_delivery(store, keyring, channel="beta")
    store.write_sync(
        lambda c: claim_due_deliveries(
            c, worker_id="gone", now=utcnow(), lease_s=0.0, wants={"beta": 1}
        )
    )
    claimed = store.write_sync(
        lambda c: claim_due_deliveries(
            c, worker_id="me", now=utcnow(), lease_s=60, wants={"alpha": 5, "beta": 5}
        )
    )
    assert {c.id for c in claimed} == {fresh, lapsed}
    assert delivery_row(store, lapsed).attempts == 2

    def give_back(worker_id: str) -> int:
        return store.write_sync(
            lambda c: return_unsent(c, worker_id=worker_id, items=claimed, now=utcnow())
        )

    assert give_back("other") == 0  # not its leases
    assert give_back("me") == 2
    row = delivery_row(store, fresh)
    assert (row.state, row.attempts, row.lease_owner, row.lease_until) == ("queued", 0, None, None)
    assert row.next_attempt_at == fresh_before.next_attempt_at
    row = delivery_row(store, lapsed)
    assert (row.state, row.attempts, row.lease_owner) == ("unknown", 1, None)
    assert row.next_attempt_at <= utcnow()


async def test_a_batch_of_attempts_is_numbered_per_delivery_and_moves_each_on(
    store: Store, keyring: Keyring
) -> None:
    ids = [add_delivery(store, keyring, channel="alpha") for _ in range(3)]
    policy = RetryPolicy(max_attempts=4, initial_backoff_s=0.05, max_backoff_s=1)
    breaker = BreakerPolicy(failure_threshold=2, open_s=60)

    def finished(item: ClaimedDelivery, result: Receipt | BaseException) -> FinishedAttempt:
        verdict = classify_result(result)
        now = utcnow()
        step = next_step(
            verdict, attempts_done=item.attempts, now=now, deadline_at=None, policy=policy
        )
        return FinishedAttempt(item, verdict, step, AttemptRecord(now, now, 1.0), breaker)

    def claim() -> list[ClaimedDelivery]:
        return store.write_sync(
            lambda c: claim_due_deliveries(
                c, worker_id="w", now=utcnow(), lease_s=60, wants={"alpha": 5}
            )
        )

    first = claim()
    results: list[Receipt | BaseException] = [
        Receipt("r-1", 200),
        TransientError("down", http_status=503),
        Receipt("r-3", 200),
    ]
    # In this order: the success after the failure must reset the channel's failure count.
    by_id = {item.id: item for item in first}
    batch = [finished(by_id[i], result) for i, result in zip(ids, results, strict=True)]
    assert store.write_sync(lambda c: record_attempts(c, batch, worker_id="w")) == [True] * 3
    rows = [delivery_row(store, i) for i in ids]
    assert [r.state for r in rows] == ["delivered", "retry_wait", "delivered"]
    assert json.loads(rows[0].receipt_json)["reference"] == "r-1"
    # Also in its indexed column, where answers quoting only it are matched.
    assert [r.receipt_reference for r in rows] == ["r-1", None, "r-3"]
    assert rows[0].delivered_at is not None
    assert rows[0].lease_owner is None
    assert (rows[1].receipt_json, rows[1].delivered_at) == (None, None)
    assert rows[1].last_error == "transient; TransientError; HTTP 503"
    assert rows[1].next_attempt_at > rows[1].updated_at
    gate = store.read_sync(lambda c: c.execute(select(channel_states)).one())
    assert (gate.breaker_state, gate.consecutive_failures) == ("closed", 0)

    await asyncio.sleep(0.3)  # the retry falls due
    [again] = claim()
    store.write_sync(
        lambda c: record_attempts(
            c, [finished(again, TransientError("down", http_status=503))], worker_id="w"
        )
    )
    gate = store.read_sync(lambda c: c.execute(select(channel_states)).one())
    assert (gate.breaker_state, gate.consecutive_failures) == ("closed", 1)
    numbers = [a.number for a in attempt_rows(store, ids[1])]
    assert numbers == [1, 2]
    assert [a.number for a in attempt_rows(store, ids[0])] == [1]
    # Not held any more (recorded above): the attempt is stored, the delivery left alone.
    assert store.write_sync(
        lambda c: record_attempts(c, [finished(again, Receipt("late", 200))], worker_id="w")
    ) == [False]
    assert delivery_row(store, ids[1]).state in ("retry_wait", "failed")
    gate = store.read_sync(lambda c: c.execute(select(channel_states)).one())
    assert (gate.breaker_state, gate.consecutive_failures) == ("closed", 0)
    assert attempt_rows(store, ids[1])[-1].detail == "lease lost before the result was recorded"


async def test_intake_announces_what_it_stores_and_nothing_for_a_repeat(
    client: httpx.AsyncClient, tokens: Tokens, context: GatewayContext
) -> None:
    store = context.store
    local: list[str] = []
    remote = asyncio.Queue[str]()
    listening = asyncio.Event()
    listener = None
    if store.dialect == "postgresql":
        listener = asyncio.create_task(
            listen_for_new_deliveries(
                store.url, lambda: remote.put_nowait("hint"), listening=listening
            )
        )
        async with asyncio.timeout(WAIT_S):
            await listening.wait()
            await remote.get()  # the one given when listening starts
    unsubscribe = on_deliveries_stored(lambda: local.append("hint"))
    try:
        raw = example_bytes("al-yellow-notice-request.json")
        headers = auth(tokens.sender("AL"))
        first = await client.post("/v1/messages", content=raw, headers=headers)
        assert first.status_code == 202, first.text
        assert local == ["hint"]
        repeat = await client.post("/v1/messages", content=raw, headers=headers)
        assert repeat.status_code == 200
        assert local == ["hint"]
        if listener is not None:
            async with asyncio.timeout(WAIT_S):
                assert await remote.get() == "hint"
            await asyncio.sleep(0.2)
            assert remote.empty()
    finally:
        unsubscribe()
        if listener is not None:
            listener.cancel()
            with pytest.raises(asyncio.CancelledError):
                await listener
