"""Legal officers' fact changes in the database, and the policy engine that follows them.

Every process decides with ``LivePolicy.engine``; before deciding it compares the facts
version (the highest change number, read from the primary key's index: one row) with the one
its engine was built for, and rebuilds the engine from the shipped table and the stored
changes only when another process (or this one) changed a fact. So a confirmation takes
effect on the next decision everywhere, without a restart.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import Connection, func, select

from gateway.policy import PolicyEngine
from gateway.policy.overlay import FactAction, FactChange, apply_overlay
from gateway.policy.parties import PartyEntry
from gateway.store.engine import Store
from gateway.store.tables import fact_changes

_VERSION = select(func.coalesce(func.max(fact_changes.c.seq), 0))
_CHANGES = select(fact_changes).order_by(fact_changes.c.seq)


def facts_version(conn: Connection) -> int:
    """The newest fact change's number; 0 when the table is as the file says."""
    return int(conn.execute(_VERSION).scalar_one())


def stored_changes(conn: Connection) -> list[FactChange]:
    """Every stored fact change, oldest first, to lay over the file's facts."""
    return [
        FactChange(
            seq=int(row.seq),
            instrument=row.instrument,
            action=FactAction(row.action),
            entry=PartyEntry(
                row.country,
                bool(row.party),
                row.since,
                row.until,
                bool(row.confirmed),
                row.source,
                row.note,
            ),
            actor=row.actor,
            changed_at=row.changed_at,
        )
        for row in conn.execute(_CHANGES)
    ]


def insert_change(
    conn: Connection,
    *,
    instrument: str,
    action: FactAction,
    entry: PartyEntry,
    actor: str,
    at: datetime,
) -> int:
    """Store one change in the caller's transaction; returns its number (the new version)."""
    inserted = conn.execute(
        fact_changes.insert().values(
            instrument=instrument,
            country=entry.country,
            action=action.value,
            party=entry.party,
            since=entry.since,
            until=entry.until,
            confirmed=entry.confirmed,
            source=entry.source,
            note=entry.note,
            actor=actor,
            changed_at=at,
        )
    )
    key = inserted.inserted_primary_key
    if key is None:
        raise RuntimeError("the database did not return the new fact change's seq")
    return int(key[0])


class LivePolicy:
    """The shipped engine, and the one for the newest facts in the database."""

    def __init__(self, shipped: PolicyEngine) -> None:
        self.shipped = shipped
        self._engine = shipped
        self._lock = threading.Lock()

    @property
    def version(self) -> int:
        """The facts version the cached engine was built for."""
        return self._engine.parties.facts_version

    def engine_at(self, conn: Connection) -> PolicyEngine:
        """The engine for the facts as ``conn`` sees them (rebuilt only when they moved)."""
        version = facts_version(conn)
        engine = self._engine
        if engine.parties.facts_version == version:
            return engine
        with self._lock:
            if self._engine.parties.facts_version != version:
                table = apply_overlay(self.shipped.parties, stored_changes(conn))
                self._engine = self.shipped.with_parties(table)
            return self._engine

    async def engine(self, store: Store) -> PolicyEngine:
        """The engine for the newest facts, checked with one read before a decision."""
        return await store.read(self.engine_at)
