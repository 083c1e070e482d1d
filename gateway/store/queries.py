"""Read models for the API: a message with its deliveries, and a filtered, paged list."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, or_, select

from gateway.store.states import derive_message_status
from gateway.store.tables import attempts, deliveries, messages


def _delivery_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "channel": row.channel,
        "recipient": row.recipient,
        "product": row.product,
        "state": row.state,
        "decision": {
            "outcome": row.decision_outcome,
            "findings": json.loads(row.findings_json),
            "redacted": json.loads(row.redacted_json),
        },
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_error_class": row.last_error_class,
        "last_http_status": row.last_http_status,
        "delivered_at": row.delivered_at,
        "payload_sha256": row.payload_sha256,
        "payload_size": row.payload_size,
        "updated_at": row.updated_at,
    }


def message_view(conn: Connection, message_id: str) -> dict[str, Any] | None:
    """The message's status and per-delivery states, or None when absent."""
    row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
    if row is None:
        return None
    rows = conn.execute(
        select(deliveries)
        .where(deliveries.c.message_id == message_id)
        .order_by(deliveries.c.channel, deliveries.c.recipient)
    ).all()
    views = [_delivery_view(d) for d in rows]
    last = last_remote_errors(conn, [d["id"] for d in views])
    for view in views:
        view["last_remote"] = last.get(view["id"])
    return {
        "message_id": row.id,
        "status": derive_message_status([d["state"] for d in views]).value,
        "sender": {"country": row.sender_country, "agency": row.sender_agency},
        "kind": row.kind,
        "priority": row.priority,
        "received_at": row.received_at,
        "retention_until": row.retention_until.isoformat() if row.retention_until else None,
        "content_purged": row.body_ciphertext is None,
        "deliveries": views,
        "links": {
            "self": f"/v1/messages/{row.id}",
            "trace": f"/v1/messages/{row.id}/trace",
        },
    }


def remote_view(code: str | None, text: str | None) -> dict[str, str | None] | None:
    """The destination's own (scrubbed) error code and text, or None when it said nothing."""
    return {"code": code, "text": text} if code or text else None


def last_remote_errors(conn: Connection, ids: list[str]) -> dict[str, dict[str, str | None]]:
    """Per delivery, what the destination said at its latest attempt, when it said anything."""
    if not ids:
        return {}
    latest: dict[str, tuple[int, dict[str, str | None] | None]] = {}
    for a in conn.execute(
        select(
            attempts.c.delivery_id,
            attempts.c.number,
            attempts.c.remote_code,
            attempts.c.remote_text,
        ).where(attempts.c.delivery_id.in_(ids))
    ):
        if a.delivery_id not in latest or a.number > latest[a.delivery_id][0]:
            latest[a.delivery_id] = (a.number, remote_view(a.remote_code, a.remote_text))
    return {d: view for d, (_, view) in latest.items() if view is not None}


@dataclass(frozen=True)
class MessageFilter:
    """Which messages a listing shows; ``visible_countries`` keeps a sender to its own."""

    state: str | None = None  # a delivery state some delivery of the message is in
    channel: str | None = None
    recipient: str | None = None  # the country a delivery is addressed to
    sender_country: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # None = every country; otherwise only these senders' messages (tenancy).
    visible_countries: tuple[str, ...] | None = None


class BadCursor(ValueError):
    """The cursor was not produced by this API."""


def encode_cursor(received_at: datetime, message_id: str) -> str:
    """An opaque cursor after the given message, in listing order (newest first)."""
    raw = f"{received_at.isoformat()}|{message_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor stands for; BadCursor when it was not made by ``encode_cursor``."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
        stamp, message_id = text.split("|", 1)
        return datetime.fromisoformat(stamp), message_id
    except (ValueError, UnicodeError) as exc:
        raise BadCursor("cursor is not valid") from exc


def list_messages(
    conn: Connection, flt: MessageFilter, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; keyset pagination on (received_at, id)."""
    query = select(
        messages.c.id,
        messages.c.sender_country,
        messages.c.kind,
        messages.c.priority,
        messages.c.received_at,
    )
    rows = conn.execute(
        query.where(*_listing_conditions(flt, cursor))
        .order_by(messages.c.received_at.desc(), messages.c.id.desc())
        .limit(limit + 1)
    ).all()
    page = rows[:limit]
    ids = [r.id for r in page]
    states: dict[str, list[tuple[str, str]]] = {i: [] for i in ids}
    if ids:
        for d in conn.execute(
            select(deliveries.c.message_id, deliveries.c.channel, deliveries.c.state).where(
                deliveries.c.message_id.in_(ids)
            )
        ):
            states[d.message_id].append((d.channel, d.state))
    items = []
    for r in page:
        pairs = states[r.id]
        counts: dict[str, int] = {}
        for _, state in pairs:
            counts[state] = counts.get(state, 0) + 1
        items.append(
            {
                "message_id": r.id,
                "status": derive_message_status([s for _, s in pairs]).value,
                "sender_country": r.sender_country,
                "kind": r.kind,
                "priority": r.priority,
                "received_at": r.received_at,
                "channels": sorted({c for c, _ in pairs}),
                "delivery_states": counts,
            }
        )
    next_cursor = encode_cursor(page[-1].received_at, page[-1].id) if len(rows) > limit else None
    return items, next_cursor


def _listing_conditions(flt: MessageFilter, cursor: str | None) -> list[ColumnElement[bool]]:
    """The WHERE of a listing: the filter's tests, then the keyset position after ``cursor``."""
    conditions: list[ColumnElement[bool]] = []
    if flt.visible_countries is not None:
        conditions.append(messages.c.sender_country.in_(flt.visible_countries))
    if flt.sender_country:
        conditions.append(messages.c.sender_country == flt.sender_country)
    if flt.since:
        conditions.append(messages.c.received_at >= flt.since)
    if flt.until:
        conditions.append(messages.c.received_at < flt.until)
    delivery_conditions: list[ColumnElement[bool]] = [deliveries.c.message_id == messages.c.id]
    if flt.state:
        delivery_conditions.append(deliveries.c.state == flt.state)
    if flt.channel:
        delivery_conditions.append(deliveries.c.channel == flt.channel)
    if flt.recipient:
        delivery_conditions.append(deliveries.c.recipient == flt.recipient)
    if flt.state or flt.channel or flt.recipient:
        conditions.append(exists().where(and_(*delivery_conditions)))
    if cursor:
        at, last_id = decode_cursor(cursor)
        conditions.append(
            or_(
                messages.c.received_at < at,
                and_(messages.c.received_at == at, messages.c.id < last_id),
            )
        )
    return conditions
