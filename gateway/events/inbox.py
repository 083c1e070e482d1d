"""The inbox: the same events as the webhooks, for systems that cannot take calls.

The cursor is the event's ``seq``, which only grows and is written in commit order (see
``outbox``), so ``after=<last seq seen>`` resumes exactly where a reader stopped, across
restarts of either side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from gateway.store.tables import events


@dataclass(frozen=True)
class StoredEvent:
    """An event as the outbox keeps it."""

    seq: int
    id: str
    type: str
    country: str
    agency: str
    message_id: str | None
    priority_rank: int
    data: dict[str, Any]
    occurred_at: datetime


def _of(row: Any) -> StoredEvent:
    return StoredEvent(
        row.seq,
        row.id,
        row.type,
        row.country,
        row.agency,
        row.message_id,
        row.priority_rank,
        json.loads(row.data_json),
        row.occurred_at,
    )


def read_inbox(conn: Connection, *, country: str, after: int, limit: int) -> list[StoredEvent]:
    """Events of one country after the cursor, oldest first."""
    rows = conn.execute(
        select(events)
        .where(events.c.country == country, events.c.seq > after)
        .order_by(events.c.seq)
        .limit(limit)
    ).all()
    return [_of(r) for r in rows]


def events_by_seq(conn: Connection, seqs: set[int]) -> dict[int, StoredEvent]:
    """The events with these sequence numbers (the notifier reads what it sends)."""
    if not seqs:
        return {}
    rows = conn.execute(select(events).where(events.c.seq.in_(sorted(seqs)))).all()
    return {r.seq: _of(r) for r in rows}
