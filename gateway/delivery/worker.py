"""The delivery worker: claim due deliveries, send their stored bytes, record what happened.

Loop: claim (short transaction, lease) → decrypt the stored payload → ``adapter.send`` with the
channel's URL and timeouts from settings and the delivery's idempotency key → classify → ONE
short transaction records the attempt and the next state. No database lock is held across the
network call. Each channel has its own bound on sends in flight. The worker survives any
adapter exception; a failure to reach the store only means the lease lapses and another worker
resends with the same key.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection

from adapters.base import Adapter, Payload, Receipt, SendContext
from adapters.errors import OutcomeUnknown
from gateway.config import ChannelSettings, Settings
from gateway.delivery.claim import (
    ClaimedDelivery,
    claim_due_deliveries,
    claimable_channels,
    release_leases,
)
from gateway.delivery.classify import Outcome, Verdict, classify_result
from gateway.delivery.record import AttemptRecord, record_attempt
from gateway.delivery.schedule import Step, next_step
from gateway.security.keys import KeyringRefresher
from gateway.security.tls import channel_ssl_context
from gateway.store.crypto import Keyring, KeyringError, payload_aad
from gateway.store.engine import Store
from gateway.store.states import DeliveryState
from gateway.store.tables import utcnow
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


@dataclass
class WorkerStats:
    claimed: int = 0
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
        try:
            while not self._stopping.is_set():
                # Cleared before claiming, so a slot freed meanwhile wakes the wait below.
                self._wake.clear()
                if await self._claim_safely():
                    continue
                await self._wait(self.settings.worker_poll_interval_s)
        finally:
            await self._finish(grace_s)

    def stop(self) -> None:
        """Stop claiming (signal handlers call this)."""
        self._stopping.set()
        self._wake.set()

    async def run_once(self) -> int:
        """Claim one batch and send it to completion (tests, one-shot drains)."""
        claimed = await self._claim_safely()
        await self.wait_idle()
        return claimed

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def _wait(self, timeout_s: float) -> None:
        """Until a slot frees, ``stop()`` is called, or ``timeout_s`` passes."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._wake.wait()

    async def _claim_safely(self) -> int:
        wants = {c.name: c.limit - c.in_flight for c in self._channels.values()}
        if not any(n > 0 for n in wants.values()):
            return 0
        try:
            ready = await self.store.read(
                lambda conn: claimable_channels(
                    conn, now=self.clock(), channels=[c for c, n in wants.items() if n > 0]
                )
            )
            wants = {c: wants[c] for c in ready}
            if not wants:
                return 0
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
        for item in claimed:
            channel = self._channels[item.channel]
            channel.in_flight += 1
            task = asyncio.create_task(self._attempt(channel, item), name=f"delivery-{item.id}")
            self._tasks[task] = item
            task.add_done_callback(self._done)
        self.stats.claimed += len(claimed)
        return len(claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        item = self._tasks.pop(task, None)
        if item is not None:
            self._channels[item.channel].in_flight -= 1
        self._wake.set()

    async def _finish(self, grace_s: float) -> None:
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
            closer = getattr(channel.adapter, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()
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

    def _budget_s(self, settings: ChannelSettings) -> float:
        """Give up on an attempt well before its lease lapses, so two workers never overlap."""
        natural = settings.connect_timeout_s + 2 * settings.read_timeout_s + 1.0
        return min(natural, self.settings.lease_s * 0.8)

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
            async with asyncio.timeout(self._budget_s(channel.settings)):
                if item.prior_state == DeliveryState.UNKNOWN.value:
                    reconciled = await self._reconcile(channel.adapter, item)
                    if reconciled is not None:
                        return reconciled
                return await channel.adapter.send(self._payload(item), context)
        except TimeoutError:
            return SendBudgetExceeded("attempt exceeded its time budget")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return exc

    async def _reconcile(self, adapter: Adapter, item: ClaimedDelivery) -> Receipt | None:
        """Ask the destination about an unknown outcome where the adapter can; else resend."""
        status = getattr(adapter, "status", None)
        if status is None:
            return None
        stored = json.loads(item.receipt_json) if item.receipt_json else {}
        probe = Receipt(
            reference=stored.get("reference"),
            http_status=int(stored.get("http_status") or 0),
            details={"idempotency_key": item.idempotency_key},
        )
        try:
            found = await status(probe)
        except Exception as exc:
            log.info("reconcile of %s failed (%s); resending", item.id, type(exc).__name__)
            return None
        return found if isinstance(found, Receipt) else None

    async def _attempt(self, channel: _Channel, item: ClaimedDelivery) -> None:
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
        await self._record(channel, item, verdict, step, record)

    async def _record(
        self,
        channel: _Channel,
        item: ClaimedDelivery,
        verdict: Verdict,
        step: Step,
        record: AttemptRecord,
    ) -> None:
        """Record the attempt, sharing one transaction with the attempts that finished
        meanwhile (group commit: one fsync for many on SQLite, fewer commits on PostgreSQL)."""
        entry = _PendingRecord(channel, item, verdict, step, record)
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
        ordered = sorted(batch, key=lambda e: (e.item.channel, e.item.id))

        def write(conn: Connection) -> list[bool]:
            return [
                record_attempt(
                    conn,
                    e.item,
                    worker_id=self.worker_id,
                    verdict=e.verdict,
                    step=e.step,
                    attempt=e.record,
                    breaker=e.channel.settings.breaker,
                )
                for e in ordered
            ]

        try:
            results = await self.store.write(write)
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
    channel: _Channel
    item: ClaimedDelivery
    verdict: Verdict
    step: Step
    record: AttemptRecord
    held: bool | None = None
    failed: bool = False
