"""The event outbox: what national systems are told, written in the SAME transaction as the
state change it reports, so that a change is never stored without its event (nor the reverse).

``record_event`` stores the event and, for every live subscription of the message's sender
agency that asked for its type, a notification for the webhook sender to deliver. Events carry
identifiers, states, channels and the rule ids and citations of findings: nothing of the
message's personal data.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, FromClause, Join, func, select, text

from gateway.store.tables import (
    api_tokens,
    deliveries,
    events,
    messages,
    notifications,
    subscriptions,
)


def subscriber_agency() -> ColumnElement[str]:
    """The agency whose subscriptions hear of a message: the agency of the token that sent it
    (subscriptions belong to tokens), or the message's own ``sender.agency`` when the token
    names none or is gone. Select it with ``messages`` outer-joined by ``token_joined``."""
    return func.coalesce(api_tokens.c.agency, messages.c.sender_agency).label("subscriber_agency")


def token_joined(table: FromClause = messages) -> Join:
    """``table`` (``messages`` or a join that holds it) with the sending token's row, if any."""
    return table.outerjoin(api_tokens, api_tokens.c.id == messages.c.token_id)


class EventType(StrEnum):
    """What national systems are told about; the names subscribers choose from."""

    DELIVERY_DELIVERED = "delivery.delivered"
    DELIVERY_FAILED = "delivery.failed"
    DELIVERY_HELD = "delivery.held"
    DELIVERY_RELEASED = "delivery.released"
    DELIVERY_REJECTED = "delivery.rejected"
    REPLY_RECEIVED = "reply.received"
    MESSAGE_EXPIRED = "message.expired"


EVENT_TYPES = tuple(t.value for t in EventType)

# Events of alerts go first, then by the message's priority (see ``event_rank``).
ALERT_RANK = 0

# An arbitrary constant naming the PostgreSQL advisory lock that orders event writers.
_OUTBOX_LOCK = 0x4D415252


def event_rank(kind: str, priority_rank: int) -> int:
    """The order notifications are sent in: an alert's events first, then by priority."""
    return ALERT_RANK if kind == "alert" else 1 + priority_rank


def _lock_outbox(conn: Connection) -> None:
    """On PostgreSQL, event writers take turns until they commit, so that ``seq`` order is the
    order in which events become visible and a reader's cursor never skips one committed late.
    SQLite writers take turns already."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _OUTBOX_LOCK})


def record_event(
    conn: Connection,
    *,
    type: EventType,
    country: str,
    agency: str,
    message_id: str | None,
    rank: int,
    data: Mapping[str, Any],
    now: datetime,
) -> str:
    """Store one event and its notifications in the caller's transaction; the event's id."""
    _lock_outbox(conn)
    event_id = str(uuid.uuid4())
    seq = conn.execute(
        events.insert()
        .values(
            id=event_id,
            type=type.value,
            country=country,
            agency=agency,
            message_id=message_id,
            priority_rank=rank,
            data_json=json.dumps(dict(data), sort_keys=True),
            occurred_at=now,
        )
        .returning(events.c.seq)
    ).scalar_one()
    targets = conn.execute(
        select(subscriptions.c.id, subscriptions.c.event_types_json).where(
            subscriptions.c.country == country,
            subscriptions.c.agency == agency,
            subscriptions.c.deleted_at.is_(None),
        )
    ).all()
    rows = [
        {
            "id": str(uuid.uuid4()),
            "event_seq": seq,
            "subscription_id": row.id,
            "message_id": message_id,
            "state": "queued",
            "priority_rank": rank,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for row in targets
        if type.value in json.loads(row.event_types_json)
    ]
    if rows:
        conn.execute(notifications.insert(), rows)
    return event_id


def transition_event(before: str, after: str) -> EventType | None:
    """What a person's action on a delivery tells its sender, from the states alone: a
    delivery that comes to be held is ``delivery.held`` (a retry or re-drive the day's rules
    send to review); a held one that goes out is ``delivery.released``; a held one that will
    never go (rejected, cancelled, or blocked by the rules of its release day) is
    ``delivery.rejected``. Anything else was not promised to the sender."""
    if after == "held":
        return None if before == "held" else EventType.DELIVERY_HELD
    if before != "held":
        return None
    if after == "queued":
        return EventType.DELIVERY_RELEASED
    if after in ("cancelled", "blocked"):
        return EventType.DELIVERY_REJECTED
    return None


def _findings(findings_json: str) -> list[dict[str, Any]]:
    """Rule ids, outcomes and citations only: a finding's message text might quote values."""
    out = []
    for finding in json.loads(findings_json or "[]"):
        if isinstance(finding, dict):
            out.append({k: finding.get(k) for k in ("rule", "cite", "outcome") if k in finding})
    return out


def record_delivery_events(
    conn: Connection,
    type: EventType,
    delivery_ids: Sequence[str],
    *,
    now: datetime,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """One event per delivery, read from the stored delivery and its message (the caller's
    transaction has just moved them)."""
    if not delivery_ids:
        return
    rows = conn.execute(
        select(
            deliveries.c.id,
            deliveries.c.message_id,
            deliveries.c.channel,
            deliveries.c.recipient,
            deliveries.c.state,
            deliveries.c.attempts,
            deliveries.c.findings_json,
            deliveries.c.last_error_class,
            deliveries.c.priority_rank,
            messages.c.sender_country,
            subscriber_agency(),
            messages.c.kind,
        )
        .select_from(
            token_joined(deliveries.join(messages, messages.c.id == deliveries.c.message_id))
        )
        .where(deliveries.c.id.in_(list(delivery_ids)))
        .order_by(deliveries.c.id)
    ).all()
    for row in rows:
        data: dict[str, Any] = {
            "message_id": row.message_id,
            "delivery_id": row.id,
            "channel": row.channel,
            "recipient": row.recipient,
            "state": row.state,
            "attempts": row.attempts,
        }
        if type in (EventType.DELIVERY_HELD, EventType.DELIVERY_REJECTED):
            data["findings"] = _findings(row.findings_json)
        if type is EventType.DELIVERY_FAILED:
            data["error_class"] = row.last_error_class
        data.update(extra or {})
        record_event(
            conn,
            type=type,
            country=row.sender_country,
            agency=row.subscriber_agency,
            message_id=row.message_id,
            rank=event_rank(row.kind, row.priority_rank),
            data=data,
            now=now,
        )
