"""Reading the audit log: pages in order, the auditors' filtered view newest first, actors'
labels, and a verification of its hash chain."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, or_, select

from gateway.security.audit import HEAD_SEQ
from gateway.security.audit_verify import ChainReport, verify_chain
from gateway.security.identity import Identity
from gateway.services.permissions import Action, check
from gateway.store.engine import Store
from gateway.store.tables import api_tokens, audit_entries


class AuditReads:
    """Reading and verifying the audit log, for those the permission table lets."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def page(
        self,
        identity: Identity,
        *,
        after: int,
        limit: int,
        subject: str | None = None,
        action: str | None = None,
    ) -> dict[str, Any]:
        """Entries after ``after`` (by sequence number), oldest first, and where to go on."""
        check(identity, Action.READ_AUDIT)
        return await self._store.read(
            lambda conn: _page(conn, after=after, limit=limit, subject=subject, action=action)
        )

    async def recent(
        self, identity: Identity, which: AuditFilter, *, before: int | None, limit: int
    ) -> dict[str, Any]:
        """Entries that match, newest first, before sequence ``before``; each actor with the
        label of its token (``labels``), so that people read names they gave, not token ids."""
        check(identity, Action.READ_AUDIT)
        return await self._store.read(lambda conn: _recent(conn, which, before, limit))

    async def actions(self, identity: Identity) -> list[str]:
        """Every action the log holds, for the auditors' filter."""
        check(identity, Action.READ_AUDIT)
        return await self._store.read(
            lambda conn: sorted(
                str(a) for a in conn.execute(select(audit_entries.c.action).distinct()).scalars()
            )
        )

    async def labels(self, identity: Identity, actors: Iterable[str]) -> dict[str, str]:
        """Token labels of these actors, for staff (a sender sees the actors as they are)."""
        check(identity, Action.READ_CHANNELS)
        wanted = list(actors)
        return await self._store.read(lambda conn: actor_labels(conn, wanted))

    async def verify(self, identity: Identity) -> ChainReport:
        """Recompute the audit chain for a caller allowed to read the log."""
        check(identity, Action.READ_AUDIT)
        return await self._store.read(verify_chain)


def _page(
    conn: Connection,
    *,
    after: int,
    limit: int,
    subject: str | None,
    action: str | None,
) -> dict[str, Any]:
    query = select(audit_entries).where(audit_entries.c.seq > max(after, HEAD_SEQ))
    if subject is not None:
        query = query.where(audit_entries.c.subject == subject)
    if action is not None:
        query = query.where(audit_entries.c.action == action)
    rows = conn.execute(query.order_by(audit_entries.c.seq).limit(limit + 1)).all()
    items = [
        {
            "seq": r.seq,
            "at": r.at,
            "actor": r.actor,
            "action": r.action,
            "subject": r.subject,
            "reason": r.reason,
            "details": json.loads(r.details_json),
            "prev_hash": r.prev_hash,
            "entry_hash": r.entry_hash,
        }
        for r in rows[:limit]
    ]
    next_after = items[-1]["seq"] if len(rows) > limit else None
    return {"items": items, "next_after": next_after}


@dataclass(frozen=True)
class AuditFilter:
    """The auditors' filters: ``actor`` matches a token's label (any part, any case) or the
    actor as written; ``subject`` is a prefix (``delivery:``, ``channel:frontex``)."""

    actor: str | None = None
    action: str | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def token_of(actor: str) -> str | None:
    """The token id in an actor written ``role:token-id`` (None for cli, gateway, channels)."""
    role, _, token_id = actor.partition(":")
    return token_id if token_id and role and len(token_id) == 36 else None


def actor_labels(conn: Connection, actors: Iterable[str]) -> dict[str, str]:
    """actor → its token's label, for the actors that name a token."""
    by_token = {t: a for a in actors if (t := token_of(a)) is not None}
    if not by_token:
        return {}
    rows = conn.execute(
        select(api_tokens.c.id, api_tokens.c.label).where(api_tokens.c.id.in_(by_token))
    )
    return {by_token[r.id]: r.label for r in rows}


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(conn: Connection, which: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if which.actor:
        labelled = conn.execute(
            select(api_tokens.c.id, api_tokens.c.role).where(
                api_tokens.c.label.ilike(f"%{_escaped(which.actor)}%", escape="\\")
            )
        ).all()
        named = [f"{r.role}:{r.id}" for r in labelled]
        conditions.append(
            or_(audit_entries.c.actor == which.actor, audit_entries.c.actor.in_(named))
        )
    if which.action:
        conditions.append(audit_entries.c.action == which.action)
    if which.subject:
        prefix = f"{_escaped(which.subject)}%"
        conditions.append(audit_entries.c.subject.like(prefix, escape="\\"))
    if which.since:
        conditions.append(audit_entries.c.at >= which.since)
    if which.until:
        conditions.append(audit_entries.c.at < which.until)
    return conditions


def _recent(conn: Connection, which: AuditFilter, before: int | None, limit: int) -> dict[str, Any]:
    query = select(audit_entries).where(audit_entries.c.seq > HEAD_SEQ, *_conditions(conn, which))
    if before is not None:
        query = query.where(audit_entries.c.seq < before)
    rows = conn.execute(query.order_by(audit_entries.c.seq.desc()).limit(limit + 1)).all()
    items = [
        {
            "seq": r.seq,
            "at": r.at,
            "actor": r.actor,
            "action": r.action,
            "subject": r.subject,
            "reason": r.reason,
            "details": json.loads(r.details_json),
        }
        for r in rows[:limit]
    ]
    return {
        "items": items,
        "labels": actor_labels(conn, {i["actor"] for i in items}),
        "next_before": items[-1]["seq"] if len(rows) > limit else None,
    }
