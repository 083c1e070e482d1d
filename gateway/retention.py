"""Retention: erase message bodies and rendered payloads once they may no longer be kept.

A message is purged at the earlier of
- the day after its ``handling.retention_until`` (the sender's deletion deadline, e.g. PCC SEE
  Art. 31(4)(b)); deliveries still waiting are cancelled, since the data may not be sent after it
  had to be deleted (a delivery a worker is sending at that moment is left for the next run);
- ``retention_after_delivery_days`` after its last delivery reached a final state.

Answers from the channels to a message are erased with it (their ids and references stay).
An answer that matched no message has a retention date of its own (``expires_at``, set when
it is stored: ``retention_unmatched_answer_days`` later) and is erased on that date the same
way, with an audit entry each.
Purging keeps ids, hashes, sizes, decisions and the audit log, so what was sent where stays
provable; it sets ``purged_at`` and writes one audit entry per message. ``marri-gateway purge``
runs it once; an API process also runs it hourly (``RetentionScheduler``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Connection, and_, exists, not_, or_, select, update

from gateway.events.outbox import (
    EventType,
    event_rank,
    record_event,
    subscriber_agency,
    token_joined,
)
from gateway.security.audit import append_audit
from gateway.store.states import PRIORITY_RANK, DeliveryState
from gateway.store.tables import deliveries, inbound_messages, messages, utcnow

if TYPE_CHECKING:
    from gateway.store.engine import Store

log = logging.getLogger("gateway.retention")

FINAL_STATES = (
    DeliveryState.BLOCKED.value,
    DeliveryState.DELIVERED.value,
    DeliveryState.FAILED.value,
    DeliveryState.CANCELLED.value,
)
# States a deadline may cancel; ``sending`` is leased and ``unknown`` awaits reconciliation.
CANCELLABLE_STATES = (
    DeliveryState.QUEUED.value,
    DeliveryState.RETRY_WAIT.value,
    DeliveryState.HELD.value,
)


@dataclass
class PurgeResult:
    """Which messages a purge erased and how many of their deliveries it cancelled."""

    purged: list[str] = field(default_factory=list)
    cancelled_deliveries: int = 0
    answers: list[str] = field(default_factory=list)


def _due_by_deadline(now: datetime) -> ColumnElement[bool]:
    return and_(messages.c.retention_until.is_not(None), messages.c.retention_until < now.date())


def _due_after_delivery(now: datetime, days: int) -> ColumnElement[bool]:
    cutoff = now - timedelta(days=days)
    unfinished_or_recent = (
        select(deliveries.c.id)
        .where(
            deliveries.c.message_id == messages.c.id,
            or_(deliveries.c.state.not_in(FINAL_STATES), deliveries.c.updated_at > cutoff),
        )
        .correlate(messages)
    )
    return not_(exists(unfinished_or_recent))


def due_message_ids(conn: Connection, *, now: datetime, days: int, limit: int) -> list[str]:
    """Messages not yet purged whose retention has ended."""
    query = (
        select(messages.c.id)
        .where(
            messages.c.purged_at.is_(None),
            or_(_due_by_deadline(now), _due_after_delivery(now, days)),
        )
        .order_by(messages.c.received_at, messages.c.id)
        .limit(limit)
    )
    return [row_id for (row_id,) in conn.execute(query)]


def _purge_one(conn: Connection, message_id: str, now: datetime) -> int | None:
    """Erase one message's body and payloads; returns the deliveries cancelled, or None when
    there is nothing to do now (already purged, or a delivery is being sent this moment)."""
    row = conn.execute(
        select(
            messages.c.retention_until,
            messages.c.sender_country,
            subscriber_agency(),
            messages.c.kind,
            messages.c.priority,
        )
        .select_from(token_joined())
        .where(messages.c.id == message_id, messages.c.purged_at.is_(None))
    ).first()
    if row is None:
        return None
    sending = conn.execute(
        select(deliveries.c.id).where(
            deliveries.c.message_id == message_id,
            deliveries.c.state == DeliveryState.SENDING.value,
        )
    ).first()
    if sending is not None:
        return None
    cancelled = conn.execute(
        update(deliveries)
        .where(
            deliveries.c.message_id == message_id,
            deliveries.c.state.in_(CANCELLABLE_STATES),
        )
        .values(
            state=DeliveryState.CANCELLED.value,
            next_attempt_at=None,
            review_actor="retention",
            review_reason="the retention period ended before delivery",
            updated_at=now,
        )
    ).rowcount
    conn.execute(
        update(deliveries)
        .where(deliveries.c.message_id == message_id)
        .values(payload_ciphertext=None, payload_key_id=None)
    )
    conn.execute(
        update(messages)
        .where(messages.c.id == message_id)
        .values(body_ciphertext=None, body_key_id=None, case_ref_hash=None, purged_at=now)
    )
    # Answers belong to the case of the message they answer and go with it.
    conn.execute(
        update(inbound_messages)
        .where(inbound_messages.c.message_id == message_id)
        .values(
            body_ciphertext=None,
            body_key_id=None,
            reply_ciphertext=None,
            reply_key_id=None,
            purged_at=now,
        )
    )
    deadline = row.retention_until
    append_audit(
        conn,
        actor="retention",
        action="message.purged",
        subject=f"message:{message_id}",
        reason=(
            "retention_until passed"
            if deadline is not None and deadline < now.date()
            else "retention after delivery ended"
        ),
        details={"cancelled_deliveries": cancelled},
    )
    record_event(
        conn,
        type=EventType.MESSAGE_EXPIRED,
        country=row.sender_country,
        agency=row.subscriber_agency,
        message_id=message_id,
        rank=event_rank(row.kind, PRIORITY_RANK.get(row.priority, 2)),
        data={"message_id": message_id, "cancelled_deliveries": int(cancelled)},
        now=now,
    )
    return int(cancelled)


def due_answer_ids(conn: Connection, *, now: datetime, limit: int) -> list[str]:
    """Unmatched answers not yet purged whose retention date has passed."""
    query = (
        select(inbound_messages.c.id)
        .where(inbound_messages.c.expires_at < now, inbound_messages.c.purged_at.is_(None))
        .order_by(inbound_messages.c.expires_at, inbound_messages.c.id)
        .limit(limit)
    )
    return [row_id for (row_id,) in conn.execute(query)]


def _purge_answer(conn: Connection, inbound_id: str, now: datetime) -> bool:
    """Erase one expired answer's content and audit it; False when another run did."""
    erased = conn.execute(
        update(inbound_messages)
        .where(inbound_messages.c.id == inbound_id, inbound_messages.c.purged_at.is_(None))
        .values(
            body_ciphertext=None,
            body_key_id=None,
            reply_ciphertext=None,
            reply_key_id=None,
            purged_at=now,
        )
        .returning(inbound_messages.c.channel)
    ).first()
    if erased is None:
        return False
    append_audit(
        conn,
        actor="retention",
        action="inbound.purged",
        subject=f"inbound:{inbound_id}",
        reason="retention of the unmatched answer ended",
        details={"channel": erased.channel},
    )
    return True


def purge_expired_answers(store: Store, *, now: datetime, batch: int = 200) -> list[str]:
    """Erase every unmatched answer past its retention date; one transaction each."""
    purged: list[str] = []
    while True:
        ids = store.read_sync(partial(due_answer_ids, now=now, limit=batch))
        done = [i for i in ids if store.write_sync(partial(_purge_answer, inbound_id=i, now=now))]
        purged += done
        if not done:
            return purged


def purge_due(
    store: Store, *, days: int, batch: int = 200, now: datetime | None = None
) -> PurgeResult:
    """Purge every due message, then every expired unmatched answer, one short
    transaction each."""
    moment = now or utcnow()
    result = PurgeResult()
    skipped: set[str] = set()
    while True:
        ids = store.read_sync(
            partial(due_message_ids, now=moment, days=days, limit=batch + len(skipped))
        )
        ids = [i for i in ids if i not in skipped]
        if not ids:
            result.answers = purge_expired_answers(store, now=moment, batch=batch)
            return result
        for message_id in ids:
            cancelled = store.write_sync(partial(_purge_one, message_id=message_id, now=moment))
            if cancelled is None:
                skipped.add(message_id)
                continue
            result.purged.append(message_id)
            result.cancelled_deliveries += cancelled


class RetentionScheduler:
    """Runs ``purge_due`` in a thread at most every ``every_s``, started by request traffic
    (health probes included), one run at a time per process; the first run comes one interval
    after start. Several replicas purging at once is harmless: a message already purged is
    skipped."""

    def __init__(self, store: Store, *, days: int, every_s: float = 3600.0) -> None:
        self.store = store
        self.days = days
        self.every_s = every_s
        self.next_run = time.monotonic() + every_s
        self.running: asyncio.Future[PurgeResult] | None = None
        self.last_result: PurgeResult | None = None

    def maybe_start(self) -> bool:
        """Start a purge in a thread when one is due and none is running; True if it started."""
        now = time.monotonic()
        if now < self.next_run or (self.running is not None and not self.running.done()):
            return False
        self.next_run = now + self.every_s
        loop = asyncio.get_running_loop()
        self.running = loop.run_in_executor(None, partial(purge_due, self.store, days=self.days))
        self.running.add_done_callback(self._finished)
        return True

    def _finished(self, future: asyncio.Future[PurgeResult]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None:
            log.warning("retention purge failed: %s", type(error).__name__)
            return
        self.last_result = future.result()
        if self.last_result.purged:
            log.info("retention purge erased %d message(s)", len(self.last_result.purged))
