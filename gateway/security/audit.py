"""Append-only audit log: each entry is hash-chained to the one before it.

An entry's hash covers its own fields and the previous entry's hash, so editing or deleting any
entry breaks the chain from that point on, which ``verify_chain`` reports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text

from gateway.store.tables import audit_entries, utcnow

GENESIS = "0" * 64
# Serialises appends on PostgreSQL so that concurrent writers extend one chain.
_PG_LOCK_KEY = 0x4D415252


def _entry_hash(
    prev_hash: str,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    reason: str | None,
    details_json: str,
) -> str:
    material = json.dumps(
        [prev_hash, at.isoformat(), actor, action, subject, reason, details_json],
        ensure_ascii=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode("ascii")).hexdigest()


def append_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    subject: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> str:
    """Append one entry inside the caller's transaction; returns its hash.

    ``details`` must not hold personal data: ids, channels, outcomes, counts.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    prev = conn.execute(
        select(audit_entries.c.entry_hash).order_by(audit_entries.c.seq.desc()).limit(1)
    ).scalar()
    prev_hash = prev or GENESIS
    # Microsecond precision survives both back ends, so the hash can be recomputed from the row.
    at = utcnow()
    details_json = json.dumps(details or {}, sort_keys=True, separators=(",", ":"))
    entry_hash = _entry_hash(prev_hash, at, actor, action, subject, reason, details_json)
    conn.execute(
        audit_entries.insert().values(
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            reason=reason,
            details_json=details_json,
            prev_hash=prev_hash,
            entry_hash=entry_hash,
        )
    )
    return entry_hash


@dataclass(frozen=True)
class ChainReport:
    entries: int
    first_bad_seq: int | None
    problem: str | None

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


def verify_chain(conn: Connection) -> ChainReport:
    """Walk the log in order and recompute every hash."""
    prev_hash = GENESIS
    count = 0
    for row in conn.execute(select(audit_entries).order_by(audit_entries.c.seq)):
        count += 1
        if row.prev_hash != prev_hash:
            return ChainReport(count, row.seq, "an entry before this one was changed or removed")
        expected = _entry_hash(
            row.prev_hash, row.at, row.actor, row.action, row.subject, row.reason, row.details_json
        )
        if expected != row.entry_hash:
            return ChainReport(count, row.seq, "this entry was changed after it was written")
        prev_hash = row.entry_hash
    return ChainReport(count, None, None)
