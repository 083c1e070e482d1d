"""Find a message from whatever an operator holds: its id, a delivery's id, a trace id (the
intake's or an attempt's), or the sender's case reference.

A case reference may be personal data, so it is never stored in clear: intake keeps its keyed
hash (``gateway.security.lookup``) and a search compares hashes. What was typed is never
logged, stored or repeated back. Tenancy is the same as for reading a message: another
country's message is simply not found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, Connection, select

from gateway.security.identity import Identity
from gateway.security.lookup import case_reference_lookups
from gateway.services.permissions import Action, can_see_country, check
from gateway.store.crypto import Keyring
from gateway.store.engine import Store
from gateway.store.tables import attempts, deliveries, messages

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_QUERY = 200
MAX_HITS = 50


@dataclass(frozen=True)
class Hit:
    """A message found, what matched (``message id``, ``delivery id``, ``trace id``, ``case
    reference``) and, for a delivery or attempt, which delivery."""

    message_id: str
    matched: str
    received_at: datetime
    sender_country: str
    delivery_id: str | None = None


def kinds_of(text: str) -> set[str]:
    """What the typed text may be: ``uuid`` and ``trace`` (32 hexadecimal digits are both), or
    else a ``reference``."""
    kinds = set()
    if TRACE_ID.match(text.lower()):
        kinds.add("trace")
    try:
        UUID(text)
        kinds.add("uuid")
    except ValueError:
        pass
    return kinds or {"reference"}


class MessageSearch:
    """The one search box of the console (and ``GET /v1/search``)."""

    def __init__(self, store: Store, keyring: Keyring) -> None:
        self._store = store
        self._keyring = keyring

    async def find(self, identity: Identity, text: str) -> list[Hit]:
        """The caller's messages that ``text`` names, newest first."""
        check(identity, Action.READ_MESSAGES)
        typed = text.strip()
        if not typed or len(typed) > MAX_QUERY:
            return []
        kinds = kinds_of(typed)
        hashes = case_reference_lookups(self._keyring, typed) if "reference" in kinds else []
        hits = await self._store.read(
            lambda conn: [hit for kind in sorted(kinds) for hit in _hits(conn, kind, typed, hashes)]
        )
        # One hit per message: the message itself before a delivery or attempt of it (when
        # attempts share the message's trace, a trace id names the whole message).
        first: dict[str, Hit] = {}
        for hit in hits:
            first.setdefault(hit.message_id, hit)
        visible = [h for h in first.values() if can_see_country(identity, h.sender_country)]
        visible.sort(key=lambda h: (h.received_at, h.message_id), reverse=True)
        return visible[:MAX_HITS]


def _hits(conn: Connection, kind: str, typed: str, hashes: list[str]) -> list[Hit]:
    base = select(messages.c.id, messages.c.received_at, messages.c.sender_country)
    if kind == "reference":
        rows = conn.execute(base.where(messages.c.case_ref_hash.in_(hashes)).limit(MAX_HITS))
        return [Hit(r.id, "case reference", r.received_at, r.sender_country) for r in rows]
    if kind == "uuid":
        key = str(UUID(typed))
        found = [
            Hit(r.id, "message id", r.received_at, r.sender_country)
            for r in conn.execute(base.where(messages.c.id == key))
        ]
        return found + _via_deliveries(conn, deliveries.c.id == key, "delivery id")
    trace = typed.lower()
    found = [
        Hit(r.id, "trace id", r.received_at, r.sender_country)
        for r in conn.execute(base.where(messages.c.trace_id == trace).limit(MAX_HITS))
    ]
    attempted = deliveries.c.id.in_(
        select(attempts.c.delivery_id).where(attempts.c.trace_id == trace)
    )
    return found + _via_deliveries(conn, attempted, "trace id of an attempt")


def _via_deliveries(conn: Connection, where: ColumnElement[bool], matched: str) -> list[Hit]:
    rows = conn.execute(
        select(
            deliveries.c.id.label("delivery_id"),
            messages.c.id,
            messages.c.received_at,
            messages.c.sender_country,
        )
        .select_from(deliveries.join(messages, deliveries.c.message_id == messages.c.id))
        .where(where)
        .limit(MAX_HITS)
    )
    return [Hit(r.id, matched, r.received_at, r.sender_country, r.delivery_id) for r in rows]
