"""Reading the audit log: pages in order, and a verification of its hash chain."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from gateway.security.audit import HEAD_SEQ, ChainReport, verify_chain
from gateway.security.identity import Identity
from gateway.services.permissions import Action, check
from gateway.store.engine import Store
from gateway.store.tables import audit_entries


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
