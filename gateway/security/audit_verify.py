"""Checking the audit log: every entry's hash, the chain's version, the head and its signature.

The head row is read first and the entries are walked up to the seq it names, in one snapshot
where the back end allows it (PostgreSQL ``REPEATABLE READ``; a SQLite read transaction is
one): appends that commit while the walk runs are neither counted nor taken for a removal.
A head kept elsewhere is compared as a plain ``SEQ:SHA256`` (``expect_head``); a signed one
from ``audit export-head`` is checked against the gateway's public keys first (``cli``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from gateway.security.audit import (
    GENESIS,
    HEAD_SEQ,
    ChainHead,
    HeadRow,
    entry_hash_of,
    read_head_row,
)
from gateway.security.audit_keys import KEYED, installed_keys, verify_head
from gateway.security.signing_key import SigningKeys
from gateway.store.tables import audit_entries, messages

_ANY_MESSAGE = select(messages.c.id).limit(1)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: entries checked and the first that fails."""

    entries: int
    first_bad_seq: int | None
    problem: str | None
    head: ChainHead | None = None
    keyed: bool = False

    @property
    def intact(self) -> bool:
        """True when no entry and no head failed the check."""
        return self.first_bad_seq is None


@dataclass
class _Walk:
    """Where the walk has got to."""

    count: int = 0
    last_seq: int = 0
    prev_hash: str = GENESIS
    keyed: bool = False
    kept_hash: str | None = None


def _snapshot(conn: Connection) -> bool:
    """One snapshot for the whole check when the transaction has not begun yet."""
    if conn.dialect.name != "postgresql":
        return True
    if conn.in_transaction():
        return False
    conn.execution_options(isolation_level="REPEATABLE READ")
    return True


def _entry_problem(row: Any, walk: _Walk, keys: SigningKeys | None) -> str | None:
    if row.prev_hash != walk.prev_hash:
        return "an entry before this one was changed or removed"
    if row.chain_version == KEYED:
        if keys is None:
            return "this entry is keyed: checking it needs the gateway's signing key file"
        walk.keyed = True
    elif row.chain_version is not None:
        return f"unknown chain version {row.chain_version}"
    elif walk.keyed:
        return "an unkeyed entry follows keyed ones"
    fields = (row.actor, row.action, row.subject, row.reason, row.details_json)
    expected = entry_hash_of(keys if walk.keyed else None, row.prev_hash, row.at, fields)
    if expected != row.entry_hash:
        return "this entry was changed after it was written"
    return None


def _walk(
    conn: Connection, up_to: int | None, keys: SigningKeys | None, kept_seq: int | None
) -> _Walk | ChainReport:
    query = select(audit_entries).where(audit_entries.c.seq != HEAD_SEQ)
    if up_to is not None:
        query = query.where(audit_entries.c.seq <= up_to)
    walk = _Walk()
    rows = conn.execute(query.order_by(audit_entries.c.seq).execution_options(yield_per=1000))
    for row in rows:
        walk.count += 1
        problem = _entry_problem(row, walk, keys)
        if problem is not None:
            return ChainReport(walk.count, row.seq, problem)
        walk.prev_hash = row.entry_hash
        walk.last_seq = row.seq
        if row.seq == kept_seq:
            walk.kept_hash = row.entry_hash
    return walk


def _signature_problem(row: HeadRow, walk: _Walk, keys: SigningKeys | None) -> str | None:
    if row.signature is None:
        return "the keyed chain's head is not signed"
    if keys is None:
        return "checking the head's signature needs the gateway's signing key file"
    try:
        claims = verify_head(row.signature, keys.public_jwks())
    except ValueError as exc:
        return str(exc)
    if (claims["seq"], claims["hash"], claims.get("entries")) != (
        walk.last_seq,
        walk.prev_hash,
        walk.count,
    ):
        return "the head's signature is for another head"
    return None


def _head_problem(
    conn: Connection, row: HeadRow, walk: _Walk, keys: SigningKeys | None, *, strict: bool
) -> tuple[int, str] | None:
    head = row.head
    if head is None:
        if walk.count:
            return HEAD_SEQ, "the chain head is missing"
        if conn.execute(_ANY_MESSAGE).first() is not None:
            # Every accepted message wrote an entry: an empty log beside messages was emptied.
            return HEAD_SEQ, "the log is empty but the database holds messages"
        return None
    if head.seq > walk.last_seq:
        return walk.last_seq + 1, "entries after this point were removed"
    if head.seq != walk.last_seq or head.entry_hash != walk.prev_hash:
        return HEAD_SEQ, "the chain head does not match the newest entry"
    if row.counted is not None and row.counted != walk.count:
        return HEAD_SEQ, f"the head counts {row.counted} entries but the log holds {walk.count}"
    if strict and _beyond_head(conn, head.seq):
        return head.seq + 1, "entries after the head were added without moving it"
    if walk.keyed:
        problem = _signature_problem(row, walk, keys)
        if problem is not None:
            return HEAD_SEQ, problem
    return None


def _beyond_head(conn: Connection, seq: int) -> bool:
    query = select(audit_entries.c.seq).where(audit_entries.c.seq > seq).limit(1)
    return conn.execute(query).first() is not None


def verify_chain(conn: Connection, *, expect_head: ChainHead | None = None) -> ChainReport:
    """Read the head, walk the log up to it recomputing every hash, then check the head, its
    signature on a keyed chain, and a head kept outside the database."""
    strict = _snapshot(conn)
    keys = installed_keys()
    row = read_head_row(conn)
    up_to = row.head.seq if row.head is not None else None
    walked = _walk(conn, up_to, keys, expect_head.seq if expect_head else None)
    if isinstance(walked, ChainReport):
        return walked
    problem = _head_problem(conn, row, walked, keys, strict=strict)
    if problem is not None:
        return ChainReport(walked.count, problem[0], problem[1])
    if expect_head is not None and walked.kept_hash != expect_head.entry_hash:
        return ChainReport(
            walked.count, expect_head.seq, "the log no longer holds the head kept outside it"
        )
    return ChainReport(walked.count, None, None, row.head, walked.keyed)
