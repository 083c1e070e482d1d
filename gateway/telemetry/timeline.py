"""The story of one message, read from the store: what the trace API, console and CLI show.

Everything here comes from rows that hold no personal data (decisions cite rules, payloads are
described by hash and size, attempts by class and status); bodies stay encrypted and unread.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from gateway.events.trace import message_notifications, notification_timeline
from gateway.exchange.views import reply_summaries
from gateway.store.queries import remote_view
from gateway.store.signature_tables import message_signatures
from gateway.store.states import derive_message_status
from gateway.store.tables import attempts, audit_entries, deliveries, messages

MAX_ACTIONS = 500


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _attempt_view(row: Any) -> dict[str, Any]:
    return {
        "number": row.number,
        "started_at": _iso(row.started_at),
        "ended_at": _iso(row.ended_at),
        "duration_ms": None if row.duration_ms is None else round(row.duration_ms, 1),
        "outcome": row.outcome,
        "error_class": row.error_class,
        "http_status": row.http_status,
        "detail": row.detail,
        "remote": remote_view(row.remote_code, row.remote_text),
        "worker_id": row.worker_id,
        "trace_id": row.trace_id,
        "span_id": row.span_id,
    }


def _delivery_view(row: Any, attempt_rows: list[Any]) -> dict[str, Any]:
    receipt = json.loads(row.receipt_json) if row.receipt_json else None
    payload = (
        {
            "sha256": row.payload_sha256,
            "size": row.payload_size,
            "content_type": row.content_type,
        }
        if row.payload_sha256
        else None
    )
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
            "pack_hash": row.pack_hash,
            "basis": json.loads(row.decision_basis_json) if row.decision_basis_json else None,
        },
        "payload": payload,
        "idempotency_key": row.idempotency_key,
        "attempt_count": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at),
        "last_error_class": row.last_error_class,
        "last_http_status": row.last_http_status,
        "delivered_at": _iso(row.delivered_at),
        "receipt": receipt,
        "attempts": [_attempt_view(a) for a in attempt_rows],
    }


def _action_view(row: Any) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "at": _iso(row.at),
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "reason": row.reason,
        "details": json.loads(row.details_json),
    }


def _reply_events(
    views: list[dict[str, Any]], replies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Answers from the channels, by the delivery they answer (content stays sealed)."""
    recipients = {d["id"]: d["recipient"] for d in views}
    events = []
    for r in replies:
        summary = f"{r['status']} answer {r['channel_message_id']} ({r['via']})"
        if r["unmapped_codes"]:
            summary += f", {r['unmapped_codes']} code(s) kept raw"
        events.append(
            {
                "at": r["received_at"],
                "type": "reply",
                "summary": summary,
                "delivery_id": r["delivery_id"],
                "channel": r["channel"],
                "recipient": recipients.get(r["delivery_id"]),
            }
        )
    return events


def _events(
    message: Any,
    views: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    replies: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """One chronological list: received, validated, per channel decision and rendering,
    attempts, receipts, answers from the channels, and what people did."""
    at = _iso(message.received_at)
    events: list[dict[str, Any]] = [
        {"at": at, "type": "received", "summary": f"from {message.sender_country}"},
        {"at": at, "type": "validated", "summary": "schema marri.exchange/1"},
    ]
    for d in views:
        where = {"delivery_id": d["id"], "channel": d["channel"], "recipient": d["recipient"]}
        rules = [f["rule"] for f in d["decision"]["findings"]]
        summary = d["decision"]["outcome"] + (f" ({', '.join(rules)})" if rules else "")
        events.append({"at": at, "type": "decision", "summary": summary, **where})
        if d["payload"]:
            p = d["payload"]
            summary = f"{p['size']} bytes, sha256 {p['sha256'][:12]}"
            events.append({"at": at, "type": "rendered", "summary": summary, **where})
        for a in d["attempts"]:
            parts = [a["outcome"] or "in progress"]
            if a["error_class"]:
                parts.append(a["error_class"])
            if a["http_status"] is not None:
                parts.append(f"HTTP {a['http_status']}")
            if a["remote"] and a["remote"]["code"]:
                parts.append(f"code {a['remote']['code']}")
            if a["duration_ms"] is not None:
                parts.append(f"{a['duration_ms']:.0f} ms")
            events.append(
                {
                    "at": a["started_at"],
                    "type": "attempt",
                    "summary": f"#{a['number']} " + ", ".join(parts),
                    **where,
                }
            )
        if d["delivered_at"]:
            reference = (d["receipt"] or {}).get("reference")
            summary = f"receipt {reference}" if reference else "acknowledged"
            events.append({"at": d["delivered_at"], "type": "receipt", "summary": summary, **where})
    by_subject = {f"delivery:{d['id']}": d for d in views}
    for act in actions:
        target = by_subject.get(act["subject"])
        channel = target["channel"] if target else None
        summary = f"{act['action']} by {act['actor']}"
        if act["subject"].startswith("channel:"):
            channel = act["subject"].removeprefix("channel:")
            summary += " (whole channel)"
        events.append(
            {
                "at": act["at"],
                "type": "action",
                "summary": summary,
                "delivery_id": target["id"] if target else None,
                "channel": channel,
                "recipient": target["recipient"] if target else None,
            }
        )
    events += _reply_events(views, replies)
    return sorted(events, key=lambda e: e["at"] or "")


def signature_view(conn: Connection, message_id: str) -> dict[str, Any] | None:
    """The sender's verified signature of the message (header and signature, no content)."""
    row = conn.execute(
        select(message_signatures).where(message_signatures.c.message_id == message_id)
    ).first()
    if row is None:
        return None
    return {
        "signed_by": f"{row.country} · {row.agency}",
        "country": row.country,
        "agency": row.agency,
        "kid": row.kid,
        "alg": row.alg,
        "verified_at": _iso(row.verified_at),
        "jws": row.jws,
    }


def _signature_events(signature: dict[str, Any] | None) -> list[dict[str, Any]]:
    if signature is None:
        return []
    summary = f"signed by {signature['agency']} key {signature['kid']} ({signature['alg']})"
    return [{"at": signature["verified_at"], "type": "signature", "summary": summary}]


def message_trace(conn: Connection, message_id: str) -> dict[str, Any] | None:
    """The whole timeline of one message with its OTel trace id, or None when absent."""
    message = conn.execute(select(messages).where(messages.c.id == message_id)).first()
    if message is None:
        return None
    delivery_rows = conn.execute(
        select(deliveries)
        .where(deliveries.c.message_id == message_id)
        .order_by(deliveries.c.channel, deliveries.c.recipient)
    ).all()
    ids = [d.id for d in delivery_rows]
    per_delivery: dict[str, list[Any]] = {i: [] for i in ids}
    if ids:
        for a in conn.execute(
            select(attempts)
            .where(attempts.c.delivery_id.in_(ids))
            .order_by(attempts.c.delivery_id, attempts.c.number, attempts.c.id)
        ):
            per_delivery[a.delivery_id].append(a)
    subjects = [f"message:{message_id}", *(f"delivery:{i}" for i in ids)]
    # Channel-wide actions (re-drive, pause, resume) taken since the message arrived may have
    # moved its deliveries too; they are shown as such.
    channels = sorted({f"channel:{d.channel}" for d in delivery_rows})
    action_rows = conn.execute(
        select(audit_entries)
        .where(
            or_(
                audit_entries.c.subject.in_(subjects),
                and_(
                    audit_entries.c.subject.in_(channels),
                    audit_entries.c.at >= message.received_at,
                ),
            )
        )
        .order_by(audit_entries.c.seq)
        .limit(MAX_ACTIONS)
    ).all()
    views = [_delivery_view(d, per_delivery[d.id]) for d in delivery_rows]
    actions = [_action_view(a) for a in action_rows]
    replies = reply_summaries(conn, message_id)
    notified = message_notifications(conn, message_id)
    signature = signature_view(conn, message_id)
    timeline = _events(message, views, actions, replies) + notification_timeline(notified)
    timeline += _signature_events(signature)
    return {
        "message_id": message.id,
        "trace_id": message.trace_id,
        "traceparent": message.traceparent,
        "status": derive_message_status([d["state"] for d in views]).value,
        "sender": {"country": message.sender_country, "agency": message.sender_agency},
        "kind": message.kind,
        "priority": message.priority,
        "received_at": _iso(message.received_at),
        "content_purged": message.body_ciphertext is None,
        "signature": signature,
        "deliveries": views,
        "actions": actions,
        "replies": replies,
        "notifications": notified,
        "events": sorted(timeline, key=lambda e: e["at"] or ""),
    }
