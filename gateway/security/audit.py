"""Append-only audit log: each entry is hash-chained to the one before it.

An entry's hash covers its own fields and the previous entry's hash, so editing or deleting any
entry breaks the chain from that point on, which ``verify_chain`` reports.

Deleting the *last* entries leaves a shorter chain that is still consistent, so every append
also moves a chain head: the row with ``seq = 0`` (action ``chain.head``) holds the hash and
seq of the newest entry. It is the one row that changes; ``verify_chain`` checks it
against the walked chain, and counts the entries, so a log missing entries the head counted
is not intact. Every accepted message writes an entry, so an empty log beside stored
messages was emptied, not new. To catch a rewrite of the whole table, keep the head that
``marri-gateway audit verify`` prints somewhere else and pass it back with ``--expect-head``,
or better a signed one from ``audit export-head`` (``--signed-head``).

A process holding the gateway's key file keys the chain (version 2, ``audit_keys``): each hash
is an HMAC under the chain key and the head row is signed, so rewriting the log needs the key.
Entries written before stay version 1 and still verify.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, text, update

from gateway.security.audit_keys import (
    KEYED,
    AuditKeyMissing,
    entry_material,
    head_claims,
    installed_keys,
    keyed_hash,
    plain_hash,
    sign_head,
)
from gateway.security.signing_key import SigningKeys
from gateway.store.tables import audit_entries, utcnow
from gateway.telemetry.logs import log_event

log = logging.getLogger("gateway.audit")

GENESIS = "0" * 64
HEAD_SEQ = 0
HEAD_ACTION = "chain.head"
# Serialises appends on PostgreSQL so that concurrent writers extend one chain.
_PG_LOCK_KEY = 0x4D415252


def entry_hash_of(
    keys: SigningKeys | None,
    prev_hash: str,
    at: datetime,
    fields: tuple[str, str, str, str | None, str],
) -> str:
    """Version 2 (keyed) with ``keys``, else version 1."""
    material = entry_material(prev_hash, at, fields)
    return plain_hash(material) if keys is None else keyed_hash(keys.chain_key, material)


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
    prev_hash, entries, keyed = _chain_end(conn)
    keys = installed_keys()
    if keyed and keys is None:
        raise AuditKeyMissing(
            "the audit chain is keyed, but this process has not loaded the signing key file"
        )
    # Microsecond precision survives both back ends, so the hash can be recomputed from the row.
    at = utcnow()
    details_json = json.dumps(details or {}, sort_keys=True, separators=(",", ":"))
    entry_hash = entry_hash_of(keys, prev_hash, at, (actor, action, subject, reason, details_json))
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
            "chain_version": None if keys is None else KEYED,
        },
    )
    primary_key = inserted.inserted_primary_key
    if primary_key is None:
        raise RuntimeError("the database did not return the new audit entry's seq")
    seq = int(primary_key[0])
    head = _head_details(keys, seq=seq, entries=entries + 1, entry_hash=entry_hash, at=at)
    _move_head(conn, details=head, entry_hash=entry_hash, at=at)
    # The line is written with the entry, inside its transaction: the action and what it was
    # about, never the actor's label or the reason (people write free text there).
    log_event(
        log, logging.INFO, "audit.appended", **{"marri.action": action, "marri.subject": subject}
    )
    return entry_hash


def _chain_end(conn: Connection) -> tuple[str, int, bool]:
    """The newest entry's hash, how many entries there are and whether the chain is keyed,
    from the head row in one read (a log from before the head counted entries is counted
    once here)."""
    head = conn.execute(_HEAD_ROW).first()
    if head is not None:
        details = json.loads(head.details_json)
        counted = details.get("entries")
        if isinstance(counted, int):
            return head.entry_hash, counted, details.get("chain") == KEYED
    newest = conn.execute(_NEWEST_HASH).scalar()
    return newest or GENESIS, int(conn.execute(_COUNT_ENTRIES).scalar_one()), False


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
    return read_head_row(conn).head


@dataclass(frozen=True)
class HeadRow:
    """The head row as read: the head, the count it records (None before heads counted) and
    its signature (None on an unkeyed chain)."""

    head: ChainHead | None
    counted: int | None = None
    signature: str | None = None


def read_head_row(conn: Connection) -> HeadRow:
    """The head row, from one read, so that its parts describe the same moment."""
    row = conn.execute(_HEAD_ROW).first()
    if row is None:
        return HeadRow(None)
    details = json.loads(row.details_json)
    counted = details.get("entries")
    signature = details.get("signature")
    return HeadRow(
        ChainHead(int(details["seq"]), row.entry_hash),
        counted if isinstance(counted, int) else None,
        signature if isinstance(signature, str) else None,
    )


def _move_head(conn: Connection, *, details: str, entry_hash: str, at: datetime) -> None:
    """One UPDATE on the hot path; the head row is created by the first append."""
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


def _head_details(
    keys: SigningKeys | None, *, seq: int, entries: int, entry_hash: str, at: datetime
) -> str:
    """The head row's details: seq and count, and on a keyed chain the gateway's signature."""
    details: dict[str, Any] = {"seq": seq, "entries": entries}
    if keys is not None:
        details["chain"] = KEYED
        details["signature"] = sign_head(keys, head_claims(seq, entries, entry_hash, at))
    return json.dumps(details, separators=(",", ":"))
