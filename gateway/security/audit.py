"""Append-only audit log: each entry is hash-chained to the one before it.

An entry's hash covers its own fields and the previous entry's hash, so editing or deleting any
entry breaks the chain from that point on, which ``verify_chain`` reports.

Deleting the *last* entries leaves a shorter chain that is still consistent, so every append
also moves a chain head: the row with ``seq = 0`` (action ``chain.head``) holds the hash and
seq of the newest entry. It is the one row that changes; ``verify_chain`` checks it
against the walked chain, and counts the entries, so a log missing entries the head counted
is not intact. Every accepted message writes an entry, so an empty log beside stored
messages was emptied, not new. To catch a rewrite of the whole table, keep the head that
``marri-gateway audit verify`` prints somewhere else and pass it back with ``--expect-head``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text, update

from gateway.store.tables import audit_entries, messages, utcnow

GENESIS = "0" * 64
HEAD_SEQ = 0
HEAD_ACTION = "chain.head"
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


# Built once: appends run on every intake, and statement construction dominated their cost.
_HEAD_ROW = select(audit_entries.c.entry_hash, audit_entries.c.details_json).where(
    audit_entries.c.seq == HEAD_SEQ
)
_COUNT_ENTRIES = select(func.count()).where(audit_entries.c.seq != HEAD_SEQ)
_NEWEST_HASH = (
    select(audit_entries.c.entry_hash)
    .where(audit_entries.c.seq != HEAD_SEQ)
    .order_by(audit_entries.c.seq.desc())
    .limit(1)
)
_INSERT = audit_entries.insert()
_ANY_MESSAGE = select(messages.c.id).limit(1)
_MOVE_HEAD = (
    update(audit_entries)
    .where(audit_entries.c.seq == HEAD_SEQ)
    .values(
        at=bindparam("new_at"),
        details_json=bindparam("new_details"),
        entry_hash=bindparam("new_hash"),
    )
)


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
    prev_hash, entries = _chain_end(conn)
    # Microsecond precision survives both back ends, so the hash can be recomputed from the row.
    at = utcnow()
    details_json = json.dumps(details or {}, sort_keys=True, separators=(",", ":"))
    entry_hash = _entry_hash(prev_hash, at, actor, action, subject, reason, details_json)
    inserted = conn.execute(
        _INSERT,
        {
            "at": at,
            "actor": actor,
            "action": action,
            "subject": subject,
            "reason": reason,
            "details_json": details_json,
            "prev_hash": prev_hash,
            "entry_hash": entry_hash,
        },
    )
    primary_key = inserted.inserted_primary_key
    if primary_key is None:
        raise RuntimeError("the database did not return the new audit entry's seq")
    seq = int(primary_key[0])
    _move_head(conn, seq=seq, entries=entries + 1, entry_hash=entry_hash, at=at)
    return entry_hash


def _chain_end(conn: Connection) -> tuple[str, int]:
    """The newest entry's hash and how many entries there are, from the head row in one read
    (a log from before the head counted entries is counted once here)."""
    head = conn.execute(_HEAD_ROW).first()
    if head is not None:
        counted = json.loads(head.details_json).get("entries")
        if isinstance(counted, int):
            return head.entry_hash, counted
    newest = conn.execute(_NEWEST_HASH).scalar()
    return newest or GENESIS, int(conn.execute(_COUNT_ENTRIES).scalar_one())


@dataclass(frozen=True)
class ChainHead:
    """The newest entry as the head row records it."""

    seq: int
    entry_hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.entry_hash}"

    @classmethod
    def parse(cls, text: str) -> ChainHead:
        """Read a head written as ``SEQ:SHA256``; ValueError for anything else."""
        seq, _, digest = text.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise ValueError("a chain head is written SEQ:SHA256")
        return cls(int(seq), digest.lower())


def read_head(conn: Connection) -> ChainHead | None:
    """The newest entry's seq and hash as recorded, or None for an empty log."""
    return _read_head_row(conn)[0]


def _read_head_row(conn: Connection) -> tuple[ChainHead | None, int | None]:
    """The head and the entry count it records (None for a head written before it counted),
    from one read, so that both describe the same moment."""
    row = conn.execute(_HEAD_ROW).first()
    if row is None:
        return None, None
    details = json.loads(row.details_json)
    counted = details.get("entries")
    head = ChainHead(int(details["seq"]), row.entry_hash)
    return head, counted if isinstance(counted, int) else None


def _move_head(conn: Connection, *, seq: int, entries: int, entry_hash: str, at: datetime) -> None:
    """One UPDATE on the hot path; the head row is created by the first append."""
    details = _head_details(seq, entries)
    moved = conn.execute(_MOVE_HEAD, {"new_at": at, "new_details": details, "new_hash": entry_hash})
    if moved.rowcount == 0:
        conn.execute(
            audit_entries.insert().values(
                seq=HEAD_SEQ,
                at=at,
                actor="gateway",
                action=HEAD_ACTION,
                subject="audit:head",
                reason=None,
                details_json=details,
                prev_hash=GENESIS,
                entry_hash=entry_hash,
            )
        )


def _head_details(seq: int, entries: int) -> str:
    return json.dumps({"seq": seq, "entries": entries}, separators=(",", ":"))


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: entries checked and the first that fails."""

    entries: int
    first_bad_seq: int | None
    problem: str | None
    head: ChainHead | None = None

    @property
    def intact(self) -> bool:
        """True when no entry and no head failed the check."""
        return self.first_bad_seq is None


def verify_chain(conn: Connection, *, expect_head: ChainHead | None = None) -> ChainReport:
    """Walk the log in order, recompute every hash, then check the head (and a kept one)."""
    prev_hash = GENESIS
    count = 0
    last_seq = 0
    seen: dict[int, str] = {}
    rows = conn.execute(
        select(audit_entries)
        .where(audit_entries.c.seq != HEAD_SEQ)
        .order_by(audit_entries.c.seq)
        .execution_options(yield_per=1000)
    )
    for row in rows:
        count += 1
        if row.prev_hash != prev_hash:
            return ChainReport(count, row.seq, "an entry before this one was changed or removed")
        expected = _entry_hash(
            row.prev_hash, row.at, row.actor, row.action, row.subject, row.reason, row.details_json
        )
        if expected != row.entry_hash:
            return ChainReport(count, row.seq, "this entry was changed after it was written")
        prev_hash = row.entry_hash
        last_seq = row.seq
        if expect_head is not None and row.seq == expect_head.seq:
            seen[row.seq] = row.entry_hash
    head, counted = _read_head_row(conn)
    if head is None:
        if count:
            return ChainReport(count, HEAD_SEQ, "the chain head is missing")
        if conn.execute(_ANY_MESSAGE).first() is not None:
            # Every accepted message wrote an entry: an empty log beside messages was emptied.
            return ChainReport(0, HEAD_SEQ, "the log is empty but the database holds messages")
    elif head.seq > last_seq:
        return ChainReport(count, last_seq + 1, "entries after this point were removed")
    elif head.seq != last_seq or head.entry_hash != prev_hash:
        return ChainReport(count, HEAD_SEQ, "the chain head does not match the newest entry")
    elif counted is not None and counted != count:
        return ChainReport(
            count, HEAD_SEQ, f"the head counts {counted} entries but the log holds {count}"
        )
    if expect_head is not None and seen.get(expect_head.seq) != expect_head.entry_hash:
        return ChainReport(
            count, expect_head.seq, "the log no longer holds the head kept outside it"
        )
    return ChainReport(count, None, None, head)
