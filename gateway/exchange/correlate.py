"""Which message and delivery an answer from a channel belongs to.

Every outbound payload carries our ``message_id`` (Europol ``OriginatorMessageId``, SELEC
``OriginatorReference``, PCC SEE and Frontex ``MessageId``/``ReportId``, Interpol
``message_id``), and channels echo it as the originator reference: that is looked up first, by
primary key. A channel that quotes only its own reference (the one its receipt gave for our
delivery) is matched against the receipt references of that channel's delivered deliveries
(``deliveries.receipt_reference``, indexed with the channel).
Among several deliveries of one message to a channel (one per recipient), the one to the
answering country wins.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, select

from gateway.store.tables import deliveries, messages

__all__ = ["Correlation", "correlate"]


@dataclass(frozen=True)
class Correlation:
    """The sent delivery an answer belongs to, and whose country is told of it."""

    message_id: str
    delivery_id: str
    sender_country: str


def _as_uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def correlate(
    conn: Connection,
    channel: str,
    references: list[str | None],
    answering_country: str | None,
) -> Correlation | None:
    """The delivery the first resolvable reference points to on ``channel``, or None."""
    columns = (deliveries.c.id, deliveries.c.message_id, deliveries.c.recipient,
               messages.c.sender_country)  # fmt: skip
    joined = deliveries.join(messages, deliveries.c.message_id == messages.c.id)
    for reference in references:
        if not reference:
            continue
        message_id = _as_uuid(reference)
        query = select(*columns).select_from(joined).where(deliveries.c.channel == channel)
        if message_id is not None:
            rows = conn.execute(query.where(deliveries.c.message_id == message_id)).all()
        else:
            # The receipt's reference, kept in its own column (indexed with the channel).
            rows = conn.execute(
                query.where(
                    deliveries.c.receipt_reference == reference,
                    deliveries.c.state == "delivered",
                ).limit(50)
            ).all()
        if not rows:
            continue
        chosen = next(
            (r for r in rows if r.recipient and r.recipient == answering_country), rows[0]
        )
        return Correlation(chosen.message_id, chosen.id, chosen.sender_country)
    return None
