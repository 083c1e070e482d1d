"""Rule-pack changes are audited: at start-up each channel's pack hash is compared with the
last one recorded, and a changed (or first-seen) pack gets an audit entry.

Decisions already carry the pack hash they were made with; this entry says from when a pack
was in force, so a reviewer can tell which rules were live on any day.
"""

from __future__ import annotations

import json
from typing import Protocol

from sqlalchemy import Connection, select

from gateway.security.audit import append_audit
from gateway.store.tables import audit_entries

ACTION = "rules.pack_loaded"


class PackSource(Protocol):
    """What recording rule-pack changes needs of the engine."""

    def channels(self) -> list[str]:
        """The channels with a rule pack."""

    def pack_hash(self, channel: str) -> str:
        """SHA-256 of the channel's pack."""


def last_recorded_hash(conn: Connection, channel: str) -> str | None:
    """The pack hash last audited for the channel, to audit a change only when it differs."""
    details = conn.execute(
        select(audit_entries.c.details_json)
        .where(audit_entries.c.action == ACTION, audit_entries.c.subject == f"rules:{channel}")
        .order_by(audit_entries.c.seq.desc())
        .limit(1)
    ).scalar()
    if details is None:
        return None
    value = json.loads(details).get("sha256")
    return value if isinstance(value, str) else None


def record_rule_packs(conn: Connection, engine: PackSource, *, actor: str = "gateway") -> list[str]:
    """Audit every pack whose hash differs from the last recorded one; returns those channels."""
    changed: list[str] = []
    for channel in engine.channels():
        current = engine.pack_hash(channel)
        previous = last_recorded_hash(conn, channel)
        if previous == current:
            continue
        append_audit(
            conn,
            actor=actor,
            action=ACTION,
            subject=f"rules:{channel}",
            reason="first load" if previous is None else "the rule pack changed",
            details={"channel": channel, "sha256": current, "previous": previous},
        )
        changed.append(channel)
    return changed
