"""Reading stored answers: a message's replies (unsealed, for whoever may see the message) and
the answers that matched nothing (no content, for operators)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from gateway.exchange.receive import reply_aad
from gateway.store.crypto import Keyring
from gateway.store.tables import inbound_messages

__all__ = ["UNLISTED_LIMIT", "message_replies", "reply_summaries", "unmatched_answers"]

UNLISTED_LIMIT = 200


def _summary(row: Any) -> dict[str, Any]:
    """What can be shown without personal data: ids, channel, references, status, counts."""
    return {
        "inbound_id": row.id,
        "channel": row.channel,
        "channel_message_id": row.channel_message_id,
        "channel_reference": row.channel_reference,
        "in_reply_to": row.in_reply_to,
        "via": row.via,
        "status": row.status,
        "received_at": row.received_at.isoformat(),
        "message_id": row.message_id,
        "delivery_id": row.delivery_id,
        "unmapped_codes": row.unmapped_codes,
        # An unmatched answer's retention date; when its content (or its message's) was erased.
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
        "purged_at": row.purged_at.isoformat() if row.purged_at else None,
    }


def reply_summaries(conn: Connection, message_id: str) -> list[dict[str, Any]]:
    """The answers stored for ``message_id``, oldest first, without their content."""
    rows = conn.execute(
        select(inbound_messages)
        .where(inbound_messages.c.message_id == message_id)
        .order_by(inbound_messages.c.received_at, inbound_messages.c.id)
    ).all()
    return [_summary(row) for row in rows]


def message_replies(conn: Connection, keyring: Keyring, message_id: str) -> list[dict[str, Any]]:
    """The replies to ``message_id`` in canonical form, with the codes kept raw."""
    rows = conn.execute(
        select(inbound_messages)
        .where(inbound_messages.c.message_id == message_id)
        .order_by(inbound_messages.c.received_at, inbound_messages.c.id)
    ).all()
    out: list[dict[str, Any]] = []
    for row in rows:
        view = _summary(row)
        document: dict[str, Any] = {"message": None, "unmapped": [], "problems": []}
        if row.reply_ciphertext is not None and row.reply_key_id is not None:
            plain = keyring.decrypt(row.reply_key_id, row.reply_ciphertext, aad=reply_aad(row.id))
            document = json.loads(plain)
        view.update(
            reply=document["message"],
            unmapped=document["unmapped"],
            problems=document.get("problems", []),
        )
        out.append(view)
    return out


def unmatched_answers(conn: Connection, limit: int = UNLISTED_LIMIT) -> list[dict[str, Any]]:
    """Answers that matched no message (or could not be made canonical), newest first."""
    rows = conn.execute(
        select(inbound_messages)
        .where(inbound_messages.c.status != "matched")
        .order_by(inbound_messages.c.received_at.desc(), inbound_messages.c.id)
        .limit(limit)
    ).all()
    return [_summary(row) for row in rows]
