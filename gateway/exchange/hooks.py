"""What runs inside the transaction that stores an answer from a channel.

Events to national systems must not be lost between "answer stored" and "sender told", so
whatever announces a reply writes its row in the same transaction as the reply itself: register
a function with ``register_reply_hook``; ``on_reply_stored`` calls each one with the connection
of that transaction. A hook must not do network I/O, and an exception in it rolls the whole
answer back (the channel is then told to send it again), so hooks only write rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

__all__ = ["ReplyHook", "ReplyStored", "on_reply_stored", "register_reply_hook"]


@dataclass(frozen=True)
class ReplyStored:
    """One stored answer, without personal data: ids, channel, status and counts."""

    inbound_id: str
    channel: str
    channel_message_id: str
    status: str  # matched, unmatched or invalid
    received_at: datetime
    reply_id: str | None  # message_id of the canonical reply (None unless matched)
    message_id: str | None  # the original message it answers
    delivery_id: str | None
    sender_country: str | None  # whose reply it is (tenancy); None while unmatched
    unmapped_codes: int


ReplyHook = Callable[[Connection, ReplyStored], None]

_hooks: list[ReplyHook] = []


def register_reply_hook(hook: ReplyHook) -> None:
    """Add ``hook`` (once) to what runs when an answer is stored."""
    if hook not in _hooks:
        _hooks.append(hook)


def on_reply_stored(conn: Connection, stored: ReplyStored) -> None:
    """Run every registered hook in the storing transaction, in registration order."""
    for hook in list(_hooks):
        hook(conn, stored)
