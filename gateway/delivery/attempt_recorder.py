"""Recording finished attempts: each shares ONE transaction (``record.record_attempts``) with
the attempts that finished while the previous one was being written.

This is a group commit of the worker's own, next to ``gateway.store.group_commit`` (which
batches separate writes of intake into one SQLite commit): here one statement set covers the
whole batch, the lease check included, and every attempt learns whether its worker still held
the delivery. One fsync serves many attempts on SQLite, and PostgreSQL commits less often.
A failure to reach the store loses nothing: the leases lapse and the deliveries are resent
under the same idempotency keys, which the destinations absorb as repeats.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from gateway.delivery.record import FinishedAttempt, record_attempts
from gateway.security.signing_key import SigningKeys
from gateway.store.engine import Store

log = logging.getLogger("gateway.delivery")


@dataclass
class WorkerStats:
    """What one worker did since it started (tests and benchmarks read it)."""

    claimed: int = 0
    handed_back_unsent: int = 0
    recorded: int = 0
    lease_lost: int = 0
    store_errors: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)


@dataclass
class _Pending:
    """One attempt waiting for a batch; ``held`` is set once its batch was written."""

    finished: FinishedAttempt
    held: bool | None = None
    failed: bool = False


class AttemptRecorder:
    """Writes finished attempts in batches under one worker's lease."""

    def __init__(
        self,
        store: Store,
        *,
        worker_id: str,
        stats: WorkerStats,
        signing: SigningKeys | None = None,
    ) -> None:
        self.store = store
        # Signs the evidence of deliveries that end (None: no evidence, a bare test worker).
        self.signing = signing
        self.worker_id = worker_id
        self.stats = stats
        self._pending: list[_Pending] = []
        self._flush_lock = asyncio.Lock()

    async def record(self, finished: FinishedAttempt) -> None:
        """Return once the attempt is stored (or its batch failed, counted as a store error).

        The first waiter to get the lock writes everything pending, its own attempt
        included; the others find theirs written already.
        """
        entry = _Pending(finished)
        self._pending.append(entry)
        async with self._flush_lock:
            if entry.held is None and not entry.failed:
                batch, self._pending = self._pending, []
                # Shielded: a stop that cancels this task must not orphan the others' records.
                await asyncio.shield(self._flush(batch))
        if entry.failed:
            return
        outcome = finished.verdict.outcome.value
        self.stats.recorded += 1
        self.stats.by_outcome[outcome] = self.stats.by_outcome.get(outcome, 0) + 1
        if not entry.held:
            self.stats.lease_lost += 1
            log.warning("lease on %s was lost before its attempt was recorded", finished.claimed.id)

    async def _flush(self, batch: list[_Pending]) -> None:
        # Channel order keeps the breaker rows' locks in one order across workers.
        ordered = sorted(batch, key=lambda e: (e.finished.claimed.channel, e.finished.claimed.id))
        finished = [e.finished for e in ordered]
        try:
            results = await self.store.write(
                lambda conn: record_attempts(
                    conn, finished, worker_id=self.worker_id, signing=self.signing
                )
            )
        except Exception as exc:
            self.stats.store_errors += 1
            log.warning("recording %d attempts failed (%s)", len(batch), type(exc).__name__)
            for e in batch:
                e.failed = True
            return
        for e, held in zip(ordered, results, strict=True):
            e.held = held
