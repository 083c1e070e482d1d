"""The delivery worker: claim due deliveries, send their stored bytes, record what happened.

Loop: claim (short transaction, lease) → decrypt the stored payload → ``adapter.send`` with the
channel's URL and timeouts from settings and the delivery's idempotency key → classify → ONE
short transaction records the attempt and the next state (shared with the attempts that
finished meanwhile). No database lock is held across the network call. Each channel has its own
bound on sends in flight. The worker survives any adapter exception; a failure to reach the
store only means the lease lapses and another worker resends with the same key.

Claiming ahead: while a channel has a backlog (its last claim got all it asked for), a running
worker leases up to one more round than it has free slots and starts those as slots free, so
that one claim serves many sends. A leased delivery that waited so long that too little of
its lease is left is handed back unsent, as are those still waiting when the worker stops.

Waking: a finished send, new deliveries stored by this process (``gateway.store.wakeup``) and,
on PostgreSQL, a ``NOTIFY`` from any process wake the worker; the poll is the fallback.

Stopping: stop claiming, give in-flight attempts a grace period, then cancel the rest and hand
their leases back as ``unknown`` (due now): nothing is lost, a repeat is absorbed downstream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from adapters.base import Adapter, Payload, Receipt, SendContext
from adapters.errors import OutcomeUnknown
from gateway.config import ChannelSettings, Settings
from gateway.delivery.claim import (
    ClaimedDelivery,
    claim_due_deliveries,
    claimable_channels,
    release_leases,
    return_unsent,
)
from gateway.delivery.classify import Outcome, Verdict, classify_result
from gateway.delivery.record import AttemptRecord, FinishedAttempt, record_attempts
from gateway.delivery.schedule import Step, next_step
from gateway.security.keys import KeyringRefresher
from gateway.security.tls import channel_ssl_context
from gateway.store.crypto import Keyring, KeyringError, payload_aad
from gateway.store.engine import Store
from gateway.store.states import DeliveryState
from gateway.store.tables import utcnow
from gateway.store.wakeup import listen_for_new_deliveries, on_deliveries_stored
from gateway.telemetry.spans import attempt_span, current_traceparent

log = logging.getLogger("gateway.delivery")


class AdapterLookup(Protocol):
    def get(self, name: str) -> Adapter: ...


class SendBudgetExceeded(OutcomeUnknown):
    """The attempt ran past its budget (kept below the lease) and was abandoned."""


def default_worker_id() -> str:
    """Host, process and a random tail: unique across hosts and restarts."""
    return f"{socket.gethostname()[:32]}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class _Channel:
    name: str
    settings: ChannelSettings
    adapter: Adapter
    limit: int
    verify: Any = True
    in_flight: int = 0
    # Leased ahead, waiting for a slot; in claim order (priority, then oldest due).
    ready: deque[ClaimedDelivery] = field(default_factory=deque)
    # The last claim or look found nothing due here: no reason to claim for it until a
    # poll interval passes or new deliveries are announced.
    dry: bool = False
    # The last claim got all it asked for: a backlog. Only then is claiming ahead worth it;
    # without one, leases taken ahead would wait here while other workers sit idle.
    backlogged: bool = False

    def room(self, *, ahead: bool) -> int:
        """How many a claim should take: the free slots, and a round more when claiming ahead
        into a backlog."""
        wanted = self.limit * (2 if ahead and self.backlogged else 1)
        return max(0, wanted - self.in_flight - len(self.ready))

    def running_low(self) -> bool:
        """Fewer leased-ahead deliveries left than half a round (and not known to be dry)."""
        if self.dry or self.room(ahead=True) == 0:
            return False
        return len(self.ready) < (self.limit + 1) // 2


@dataclass
class WorkerStats:
    claimed: int = 0
    handed_back_unsent: int = 0
    recorded: int = 0
    lease_lost: int = 0
    store_errors: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)


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
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.settings = settings
        self.worker_id = (worker_id or default_worker_id())[:64]
        self.clock = clock
        self.stats = WorkerStats()
        self._channels: dict[str, _Channel] = {}
        for name, channel_settings in settings.all_channels().items():
            try:
                adapter = registry.get(name)
            except KeyError:
                log.warning("channel %s is configured but no adapter is registered", name)
                continue
            self._channels[name] = _Channel(
                name,
                channel_settings,
                adapter,
                concurrency or channel_settings.concurrency,
                channel_ssl_context(channel_settings),
            )
        self._tasks: dict[asyncio.Task[None], ClaimedDelivery] = {}
        self._wake = asyncio.Event()
        # Set when there is reason to believe deliveries are due (a full claim, an
        # announcement): the next claim skips its read-only look first.
        self._expect_work = False
        # Counts announcements, so that a claim or look that began before one does not mark
        # a channel dry on a snapshot older than the announced deliveries.
        self._announcements = 0
        # Set once this worker listens for other processes' announcements (PostgreSQL).
        self.listening = asyncio.Event()
        self._stopping = asyncio.Event()
        self._pending: list[_PendingRecord] = []
        self._flush_lock = asyncio.Lock()
        # A rotated key file is picked up while running (payloads sealed with a new key).
        self._keys = KeyringRefresher(
            keyring, settings.key_file if settings.keys_json is None else None
        )

    # -- running --------------------------------------------------------------------------

    async def recover(self) -> int:
        """Hand back leases a previous run under this worker id left behind."""
        return await self.store.write(
            lambda conn: release_leases(conn, worker_id=self.worker_id, now=self.clock())
        )

    async def run(self, *, grace_s: float = 10.0) -> None:
        """Claim and send until ``stop()``; then finish or hand back what is in flight."""
        try:
            await self.recover()
        except Exception as exc:  # the store may be back later; lapsed leases are reclaimed
            log.warning("recovering leases failed (%s)", type(exc).__name__)
        log.info("delivery worker %s started: %s", self.worker_id, sorted(self._channels))
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
                low = any(c.running_low() for c in self._channels.values())
                if low and await self._claim_safely(ahead=True):
                    continue
                if not await self._wait(self.settings.worker_poll_interval_s):
                    for channel in self._channels.values():
                        channel.dry = False  # retries fall due and breakers close with time
        finally:
            unsubscribe()
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            await self._finish(grace_s)

    def new_deliveries_announced(self) -> None:
        """New deliveries were stored: claim now rather than at the next poll."""
        self._expect_work = True
        self._announcements += 1
        for channel in self._channels.values():
            channel.dry = False
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
        wants = {c.name: n for c in self._channels.values() if (n := c.room(ahead=ahead)) > 0}
        if not wants:
            return 0
        announcements = self._announcements
        try:
            if not self._expect_work:
                # A read first, which takes no write lock, to learn where anything is due.
                ready = await self.store.read(
                    lambda conn: claimable_channels(conn, now=self.clock(), channels=list(wants))
                )
                if announcements == self._announcements:
                    for name in wants.keys() - set(ready):
                        self._channels[name].dry = True
                wants = {c: wants[c] for c in ready}
                if not wants:
                    return 0
            self._expect_work = False
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
        got: dict[str, int] = {}
        for item in claimed:  # in claim order: priority, then oldest due
            self._channels[item.channel].ready.append(item)
            got[item.channel] = got.get(item.channel, 0) + 1
        for name, wanted in wants.items():
            channel = self._channels[name]
            channel.dry = got.get(name, 0) == 0 and announcements == self._announcements
            channel.backlogged = got.get(name, 0) >= wanted
            if channel.backlogged:
                self._expect_work = True  # it took all it asked for: probably more due
            self._start_ready(channel)
        self.stats.claimed += len(claimed)
        return len(claimed)

    def _start_ready(self, channel: _Channel) -> None:
        """Start leased deliveries while the channel has free slots."""
        while channel.ready and channel.in_flight < channel.limit:
            if self._stopping.is_set():
                return  # handed back by _finish
            item = channel.ready.popleft()
            channel.in_flight += 1
            task = asyncio.create_task(self._attempt(channel, item), name=f"delivery-{item.id}")
            self._tasks[task] = item
            task.add_done_callback(self._done)

    def _free_slot(self, channel: _Channel) -> None:
        channel.in_flight -= 1
        self._start_ready(channel)
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
        unsent = [item for c in self._channels.values() for item in c.ready]
        for channel in self._channels.values():
            channel.ready.clear()
        await self._hand_back_unsent(unsent)
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
        for channel in self._channels.values():
            with contextlib.suppress(Exception):
                await channel.adapter.aclose()
        log.info("delivery worker %s stopped (%d handed back)", self.worker_id, len(abandoned))

    # -- one attempt ----------------------------------------------------------------------

    def _payload(self, item: ClaimedDelivery) -> Payload:
        if item.payload_ciphertext is None or item.payload_key_id is None:
            raise LookupError("delivery has no stored payload")
        self._keys.maybe_refresh()
        try:
            body = self.keyring.decrypt(
                item.payload_key_id, item.payload_ciphertext, aad=payload_aad(item.id)
            )
        except KeyringError:
            self._keys.maybe_refresh(force=True)
            body = self.keyring.decrypt(
                item.payload_key_id, item.payload_ciphertext, aad=payload_aad(item.id)
            )
        headers = json.loads(item.payload_headers_json) if item.payload_headers_json else {}
        return Payload(
            body=body,
            content_type=item.content_type or "application/octet-stream",
            product=item.product,
            recipient=item.recipient,
            headers=headers,
        )

    def _full_budget_s(self, settings: ChannelSettings) -> float:
        natural = settings.connect_timeout_s + 2 * settings.read_timeout_s + 1.0
        return min(natural, self.settings.lease_s * 0.8)

    def _budget_s(self, settings: ChannelSettings, item: ClaimedDelivery) -> float:
        """Give up on an attempt well before its lease lapses, so two workers never overlap
        (a fifth of the lease is kept in hand, however long the delivery waited for a slot)."""
        left = (item.lease_until - self.clock()).total_seconds() - self.settings.lease_s * 0.2
        return min(self._full_budget_s(settings), left)

    async def _send(
        self, channel: _Channel, item: ClaimedDelivery, traceparent: str | None
    ) -> Receipt | BaseException:
        context = SendContext(
            url=channel.settings.url,
            idempotency_key=item.idempotency_key,
            traceparent=traceparent,
            connect_timeout_s=channel.settings.connect_timeout_s,
            read_timeout_s=channel.settings.read_timeout_s,
            verify=channel.verify,
            max_reply_bytes=channel.settings.max_reply_bytes,
        )
        try:
            async with asyncio.timeout(self._budget_s(channel.settings, item)):
                if item.prior_state == DeliveryState.UNKNOWN.value:
                    reconciled = await self._reconcile(channel.adapter, item, context)
                    if reconciled is not None:
                        return reconciled
                return await channel.adapter.send(self._payload(item), context)
        except TimeoutError:
            return SendBudgetExceeded("attempt exceeded its time budget")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return exc

    async def _reconcile(
        self, adapter: Adapter, item: ClaimedDelivery, context: SendContext
    ) -> Receipt | None:
        """Ask the destination about an unknown outcome where the adapter can; else resend."""
        stored = json.loads(item.receipt_json) if item.receipt_json else {}
        probe = Receipt(
            reference=stored.get("reference"),
            http_status=int(stored.get("http_status") or 0),
            details={"idempotency_key": item.idempotency_key},
        )
        try:
            found = await adapter.status(probe, context)
        except Exception as exc:
            log.info("reconcile of %s failed (%s); resending", item.id, type(exc).__name__)
            return None
        return found if isinstance(found, Receipt) else None

    async def _attempt(self, channel: _Channel, item: ClaimedDelivery) -> None:
        """Send (holding one of the channel's slots), then record (the slot already free for
        the next send: the destination is done with this one)."""
        try:
            if self._budget_s(channel.settings, item) < self._full_budget_s(channel.settings) / 2:
                finished = None  # leased ahead, it waited until too little lease was left
            else:
                finished = await self._send_and_classify(channel, item)
        finally:
            self._free_slot(channel)
        if finished is None:
            await self._hand_back_unsent([item])
        else:
            await self._record(finished)

    async def _send_and_classify(self, channel: _Channel, item: ClaimedDelivery) -> FinishedAttempt:
        started = self.clock()
        began = time.monotonic()
        with attempt_span(
            channel=item.channel,
            delivery_id=item.id,
            message_id=item.message_id,
            attempt=item.attempts,
            creation_traceparent=item.traceparent,
            recipient=item.recipient,
        ) as span:
            if item.deadline_at is not None and started > item.deadline_at:
                # It waited past its deadline (paused channel, open breaker): too late to send.
                verdict = Verdict(Outcome.PERMANENT, "DeadlinePassed")
                step = Step(DeliveryState.FAILED, reason="deadline")
                ended = self.clock()
            else:
                result = await self._send(channel, item, current_traceparent())
                verdict = classify_result(result)
                ended = self.clock()
                step = next_step(
                    verdict,
                    attempts_done=item.attempts,
                    now=ended,
                    deadline_at=item.deadline_at,
                    policy=channel.settings.retry,
                )
            span.record_outcome(
                step.state.value, error_class=verdict.error_class, http_status=verdict.http_status
            )
            record = AttemptRecord(
                started, ended, (time.monotonic() - began) * 1000, span.trace_id, span.span_id
            )
        return FinishedAttempt(item, verdict, step, record, channel.settings.breaker)

    async def _record(self, finished: FinishedAttempt) -> None:
        """Record the attempt, sharing one transaction with the attempts that finished
        meanwhile (group commit: one fsync for many on SQLite, fewer commits on PostgreSQL)."""
        item, verdict = finished.claimed, finished.verdict
        entry = _PendingRecord(finished)
        self._pending.append(entry)
        async with self._flush_lock:
            if entry.held is None and not entry.failed:
                batch, self._pending = self._pending, []
                # Shielded: a stop that cancels this task must not orphan the others' records.
                await asyncio.shield(self._flush(batch))
        if entry.failed:
            return
        self.stats.recorded += 1
        self.stats.by_outcome[verdict.outcome.value] = (
            self.stats.by_outcome.get(verdict.outcome.value, 0) + 1
        )
        if not entry.held:
            self.stats.lease_lost += 1
            log.warning("lease on %s was lost before its attempt was recorded", item.id)

    async def _flush(self, batch: list[_PendingRecord]) -> None:
        # Channel order keeps the breaker rows' locks in one order across workers.
        ordered = sorted(batch, key=lambda e: (e.finished.claimed.channel, e.finished.claimed.id))
        finished = [e.finished for e in ordered]
        try:
            results = await self.store.write(
                lambda conn: record_attempts(conn, finished, worker_id=self.worker_id)
            )
        except Exception as exc:
            # The leases lapse and the deliveries are resent with the same keys: repeats, no loss.
            self.stats.store_errors += 1
            log.warning("recording %d attempts failed (%s)", len(batch), type(exc).__name__)
            for e in batch:
                e.failed = True
            return
        for e, held in zip(ordered, results, strict=True):
            e.held = held


@dataclass
class _PendingRecord:
    finished: FinishedAttempt
    held: bool | None = None
    failed: bool = False
