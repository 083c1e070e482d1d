"""What a message's events became: each notification to a subscriber with its attempts, for
the message's trace (API, CLI and console)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, select

from gateway.store.tables import events, notification_attempts, notifications, subscriptions


def message_notifications(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    """Every notification of the message's events, oldest event first, with its attempts."""
    rows = conn.execute(
        select(
            notifications.c.id,
            notifications.c.state,
            notifications.c.attempts,
            notifications.c.last_http_status,
            notifications.c.last_error,
            notifications.c.delivered_at,
            notifications.c.subscription_id,
            events.c.id.label("event_id"),
            events.c.type,
            events.c.seq,
            events.c.data_json,
            subscriptions.c.url,
        )
        .join(events, events.c.seq == notifications.c.event_seq)
        .join(subscriptions, subscriptions.c.id == notifications.c.subscription_id)
        .where(notifications.c.message_id == message_id)
        .order_by(events.c.seq, notifications.c.id)
    ).all()
    if not rows:
        return []
    tries: dict[str, list[dict[str, Any]]] = {r.id: [] for r in rows}
    for a in conn.execute(
        select(notification_attempts)
        .where(notification_attempts.c.notification_id.in_(list(tries)))
        .order_by(notification_attempts.c.notification_id, notification_attempts.c.number)
    ):
        tries[a.notification_id].append(
            {
                "number": a.number,
                "started_at": a.started_at.isoformat(),
                "ended_at": a.ended_at.isoformat(),
                "outcome": a.outcome,
                "error_class": a.error_class,
                "http_status": a.http_status,
                "duration_ms": a.duration_ms,
            }
        )
    return [
        {
            "webhook_id": r.id,
            "event_id": r.event_id,
            "event_type": r.type,
            "sequence": r.seq,
            "subscription_id": r.subscription_id,
            # The receiver's host only: paths may carry the subscriber's own tokens.
            "receiver": urlsplit(r.url).netloc,
            "state": r.state,
            "attempt_count": r.attempts,
            "last_http_status": r.last_http_status,
            "last_error_class": r.last_error,
            "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None,
            "attempts": tries[r.id],
        }
        for r in rows
    ]


def notification_timeline(notified: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Timeline entries (``type: notification``) for the message's trace."""
    out = []
    for n in notified:
        for a in n["attempts"]:
            parts = [a["outcome"]]
            if a["error_class"]:
                parts.append(a["error_class"])
            if a["http_status"] is not None:
                parts.append(f"HTTP {a['http_status']}")
            out.append(
                {
                    "at": a["started_at"],
                    "type": "notification",
                    "summary": f"{n['event_type']} to {n['receiver']} #{a['number']} "
                    + ", ".join(parts),
                    "delivery_id": None,
                    "channel": None,
                    "recipient": None,
                }
            )
    return out
