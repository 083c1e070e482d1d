"""The one transaction that stores an accepted message, and the stored answer of a repeat."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from gateway.events.outbox import EventType, record_delivery_events
from gateway.intake.records import NewMessage
from gateway.security.audit import append_audit
from gateway.store.signature_tables import message_signatures
from gateway.store.states import DeliveryState
from gateway.store.tables import deliveries, messages
from gateway.store.wakeup import announce_new_deliveries


@dataclass(frozen=True)
class StoredAnswer:
    """What a message stored before was: its content hash and the answer it was given."""

    content_sha256: str
    response_json: str


def find_stored(conn: Connection, message_id: str) -> StoredAnswer | None:
    """The stored answer to ``message_id``, to replay it or to refuse a changed resend."""
    row = conn.execute(
        select(messages.c.content_sha256, messages.c.response_json).where(
            messages.c.id == message_id
        )
    ).first()
    return None if row is None else StoredAnswer(row.content_sha256, row.response_json)


def store_new(conn: Connection, record: NewMessage) -> None:
    """Insert everything in the caller's transaction.

    A message that is already there fails on its primary key (IntegrityError): the caller
    then reads the stored answer. Checking first would cost every new message a query.
    """
    conn.execute(messages.insert(), record.row())
    signature = record.signature_row()
    if signature is not None:
        conn.execute(message_signatures.insert(), signature)
    if record.deliveries:
        conn.execute(deliveries.insert(), [d.row() for d in record.deliveries])
        announce_new_deliveries(conn)
        held = [d.id for d in record.deliveries if d.state is DeliveryState.HELD]
        record_delivery_events(conn, EventType.DELIVERY_HELD, held, now=record.received_at)
    append_audit(conn, **record.audit())
