"""Reading a delivery's signed evidence: for callers who may read its message, in its country."""

from __future__ import annotations

import json
from typing import Any

from joserfc.jws import extract_compact
from sqlalchemy import Connection, select

from gateway.errors import ErrorKind, GatewayError
from gateway.security.evidence import evidence_of
from gateway.security.identity import Identity
from gateway.services.permissions import Action, can_see_country, check
from gateway.store.engine import Store
from gateway.store.tables import deliveries, messages


def _sender_country(conn: Connection, delivery_id: str) -> str | None:
    query = (
        select(messages.c.sender_country)
        .join(deliveries, deliveries.c.message_id == messages.c.id)
        .where(deliveries.c.id == delivery_id)
    )
    return conn.execute(query).scalar()


class EvidenceReads:
    """A delivery's evidence records, under the same permission row as the message reads."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def of_delivery(self, identity: Identity, delivery_id: str) -> dict[str, Any]:
        """The delivery's records, oldest first; another country's delivery is a missing one."""
        check(identity, Action.READ_MESSAGES)

        def read(conn: Connection) -> tuple[str | None, list[tuple[str, str, Any]]]:
            return _sender_country(conn, delivery_id), evidence_of(conn, delivery_id)

        country, records = await self._store.read(read)
        if country is None or not can_see_country(identity, country):
            raise GatewayError(ErrorKind.NOT_FOUND, "not_found", "no such delivery")
        return {
            "delivery_id": delivery_id,
            "records": [
                {
                    "key_id": key_id,
                    "jws": token,
                    "record": json.loads(extract_compact(token.encode("ascii")).payload),
                    "stored_at": stored_at.isoformat(),
                }
                for key_id, token, stored_at in records
            ],
        }
