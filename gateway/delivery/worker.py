"""The delivery worker: a loop that claims due deliveries into channel lanes, starts an attempt
wherever a lane has a free slot, and hands each finished attempt to the recorder.

    lanes.py            slots, leased-ahead queues and pacing per channel: what to claim
    attempt_runner.py   open the payload, send within the lease, classify, schedule
    attempt_recorder.py the attempt, next state and breaker, batched in one transaction

No database lock is held across the network call. The worker survives any adapter exception;
a failure to reach the store only means the lease lapses and another worker resends under the
same key. It wakes on a finished send, on deliveries stored by this process
(``gateway.store.wakeup``) and, on PostgreSQL, on a ``NOTIFY`` from any process; the poll is the
fallback. Stopping hands back the leased-ahead deliveries unsent, gives in-flight attempts a
grace period, then cancels the rest and hands their leases back as ``unknown`` (due now).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime

from gateway.config import Settings
from gateway.delivery.attempt_recorder import AttemptRecorder, WorkerStats
from gateway.delivery.attempt_runner import AttemptRunner
from gateway.delivery.claim import (
    ClaimedDelivery,
    claim_due_deliveries,
    claimable_channels,
    release_leases,
    return_unsent,
)
from gateway.delivery.lanes import AdapterLookup, ChannelLane, ChannelLanes
from gateway.security.signing_key import SigningKeys
from gateway.store.crypto import Keyring
from gateway.store.engine import Store
from gateway.store.tables import utcnow
from gateway.store.wakeup import listen_for_new_deliveries, on_deliveries_stored

log = logging.getLogger("gateway.delivery")


def default_worker_id() -> str:
    """Host, process and a random tail: unique across hosts and restarts."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{secrets.token_hex(3)}"


class DeliveryWorker:
    """One worker (one event loop); run as many as wanted, on as many hosts as wanted."""

    def __init__(
        self,
        *,
        store: Store,
        keyring: Keyring,
        registry: AdapterLookup,
        settings: Settings,
        worker_id: str | None = None,
        concurrency: int | None = None,
        clock: Callable[[], datetime] = utcnow,
        signing: SigningKeys | None = None,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.settings = settings
        self.worker_id = (worker_id or default_worker_id())[:64]
        self.clock = clock
        self.stats = WorkerStats()
        self.lanes = ChannelLanes.configured(settings, registry, concurrency)
        self.runner = AttemptRunner(keyring=keyring, settings=settings, clock=clock)
        self.recorder = AttemptRecorder(
            store, worker_id=self.worker_id, stats=self.stats, signing=signing
        )
        self._tasks: dict[asyncio.Task[None], ClaimedDelivery] = {}
        self._wake = asyncio.Event()
        # Set once this worker listens for other processes' announcements (PostgreSQL).
        self.listening = asyncio.Event()
        self._stopping = asyncio.Event()

    async def recover(self) -> int:
        """Hand back leases a previous run under this worker id left behind."""
        return await self.store.write(
            lambda conn: release_leases(conn, worker_id=self.worker_id, now=self.clock())
        )

    async def run(self, *, grace_s: float = 10.0) -> None:
        """Claim and send until ``stop()``; then finish or hand back what is in flight."""
        try:
            recovered = await self.recover()
        except Exception as exc:  # the store may be back later; lapsed leases are reclaimed
            log.warning("recovering leases failed (%s)", type(exc).__name__)
        else:
            if recovered:
                log.info("worker %s took back %d in-flight deliveries", self.worker_id, recovered)
        log.info("delivery worker %s started: %s", self.worker_id, self.lanes.names())
        unsubscribe = on_deliveries_stored(self.new_deliveries_announced)
        listener = None
        if self.store.dialect == "postgresql":
            listener = asyncio.create_task(
                listen_for_new_deliveries(
                    self.store.url, self.new_deliveries_announced, listening=self.listening
                ),
                name="delivery-listener",
            )
        try:
            while not self._stopping.is_set():
                # Cleared before claiming, so a slot freed meanwhile wakes the wait below.
                self._wake.clear()
                if self.lanes.running_low() and await self._claim_safely(ahead=True):
                    continue
                if not await self._wait(self.settings.worker_poll_interval_s):
                    self.lanes.poll_passed()
        finally:
            unsubscribe()
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            await self._finish(grace_s)

    def new_deliveries_announced(self) -> None:
        """New deliveries were stored: claim now rather than at the next poll."""
        self.lanes.announced()
        self._wake.set()

    def stop(self) -> None:
        """Stop claiming (signal handlers call this)."""
        self._stopping.set()
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch (free slots only) and send it to completion (tests, one-shot
        drains)."""
        claimed = await self._claim_safely(ahead=False)
        await self.wait_idle()
        return claimed

    async def wait_idle(self) -> None:
        """Return once every delivery task started so far has finished (shutdown, tests)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def _wait(self, timeout_s: float) -> bool:
        """Until woken (a slot frees, work is announced, ``stop()``) or ``timeout_s`` passes;
        False on the timeout."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._wake.wait()
        except TimeoutError:
            return False
        return True

    async def _claim_safely(self, *, ahead: bool) -> int:
        """Lease what the lanes have room for and start sends; how many were leased. A store
        error counts, pauses and claims nothing."""
        lanes = self.lanes
        wants = lanes.wants(ahead=ahead)
        if not wants:
            return 0
        since = lanes.announcements
        try:
            if not lanes.expect_work:
                # A read first, which takes no write lock, to learn where anything is due.
                ready = await self.store.read(
                    lambda conn: claimable_channels(conn, now=self.clock(), channels=list(wants))
                )
                lanes.found_nothing(wants.keys() - set(ready), since=since)
                wants = {c: wants[c] for c in ready}
                if not wants:
                    return 0
            lanes.expect_work = False
            claimed = await self.store.write(
                lambda conn: claim_due_deliveries(
                    conn,
                    worker_id=self.worker_id,
                    now=self.clock(),
                    lease_s=self.settings.lease_s,
                    wants=wants,
                )
            )
        except Exception as exc:
            self.stats.store_errors += 1
            log.warning("claim failed (%s); retrying after a pause", type(exc).__name__)
            await asyncio.sleep(max(1.0, self.settings.worker_poll_interval_s))
            return 0
        for lane in lanes.file_claim(claimed, wants, since=since):
            self._start_ready(lane)
        self.stats.claimed += len(claimed)
        return len(claimed)

    def _start_ready(self, lane: ChannelLane) -> None:
        """Start leased deliveries while the lane has free slots."""
        if self._stopping.is_set():
            return  # handed back by _finish
        while (item := lane.next_to_start()) is not None:
            task = asyncio.create_task(self._attempt(lane, item), name=f"delivery-{item.id}")
            self._tasks[task] = item
            task.add_done_callback(self._done)

    def _free_slot(self, lane: ChannelLane) -> None:
        lane.free_slot()
        self._start_ready(lane)
        self._wake.set()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        self._wake.set()

    async def _hand_back_unsent(self, items: list[ClaimedDelivery]) -> None:
        if not items:
            return
        try:
            await self.store.write(
                lambda conn: return_unsent(
                    conn, worker_id=self.worker_id, items=items, now=self.clock()
                )
            )
        except Exception as exc:  # the leases lapse instead
            log.warning("handing back %d leases failed (%s)", len(items), type(exc).__name__)
            return
        self.stats.handed_back_unsent += len(items)

    async def _finish(self, grace_s: float) -> None:
        await self._hand_back_unsent(self.lanes.take_unsent())
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace_s)
        abandoned = [item.id for item in self._tasks.values()]
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        if abandoned:
            with contextlib.suppress(Exception):
                await self.store.write(
                    lambda conn: release_leases(
                        conn, worker_id=self.worker_id, now=self.clock(), delivery_ids=abandoned
                    )
                )
        for lane in self.lanes:
            with contextlib.suppress(Exception):
                await lane.adapter.aclose()
        log.info("delivery worker %s stopped (%d handed back)", self.worker_id, len(abandoned))

    async def _attempt(self, lane: ChannelLane, item: ClaimedDelivery) -> None:
        """Send (holding one of the lane's slots), then record (the slot already free for the
        next send: the destination is done with this one)."""
        try:
            if self.runner.waited_too_long(lane, item):
                finished = None
            else:
                finished = await self.runner.run(lane, item)
        finally:
            self._free_slot(lane)
        if finished is None:
            await self._hand_back_unsent([item])
        else:
            await self.recorder.record(finished)
