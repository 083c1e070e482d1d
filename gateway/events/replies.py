"""``reply.received``: a matched answer from a channel is told to the agency that sent the
original message, in the transaction that stores the answer (a reply hook of
``gateway.exchange``). The event says where to fetch the reply; it does not quote it."""

from __future__ import annotations

from sqlalchemy import Connection, select

from gateway.events.outbox import (
    EventType,
    event_rank,
    record_event,
    subscriber_agency,
    token_joined,
)
from gateway.exchange.hooks import ReplyStored, register_reply_hook
from gateway.store.states import PRIORITY_RANK
from gateway.store.tables import messages


def record_reply_event(conn: Connection, stored: ReplyStored) -> None:
    """Tell the original sender of a matched answer, in the storing transaction."""
    if stored.status != "matched" or stored.message_id is None:
        return  # an unmatched answer has nobody to tell yet; operators see it in their list
    original = conn.execute(
        select(
            messages.c.sender_country,
            subscriber_agency(),
            messages.c.kind,
            messages.c.priority,
        )
        .select_from(token_joined())
        .where(messages.c.id == stored.message_id)
    ).first()
    if original is None:
        return
    record_event(
        conn,
        type=EventType.REPLY_RECEIVED,
        country=original.sender_country,
        agency=original.subscriber_agency,
        message_id=stored.message_id,
        rank=event_rank(original.kind, PRIORITY_RANK.get(original.priority, 2)),
        data={
            "message_id": stored.message_id,
            "reply_id": stored.reply_id,
            "channel": stored.channel,
            "delivery_id": stored.delivery_id,
            "href": f"/v1/messages/{stored.message_id}/replies",
        },
        now=stored.received_at,
    )


def install() -> None:
    """Make every answer stored in this process tell its sender (idempotent)."""
    register_reply_hook(record_reply_event)
