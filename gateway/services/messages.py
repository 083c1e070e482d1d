"""Reading messages: the filtered list, one message's status, its trace, a stored payload.

Tenancy lives here for the API and the console alike: a caller sees only the messages of the
countries the permission table's reach gives it, and another country's message (or delivery)
answers exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from gateway.errors import ErrorKind, GatewayError
from gateway.security.audit import append_audit
from gateway.security.identity import Identity
from gateway.services.permissions import Action, can_see_country, check, visible_countries
from gateway.store.crypto import Keyring, payload_aad
from gateway.store.engine import Store
from gateway.store.queries import BadCursor, MessageFilter, list_messages, message_view
from gateway.store.tables import deliveries, messages
from gateway.telemetry.timeline import message_trace

MIN_READ_REASON = 5  # characters: enough to say why, short enough not to be a chore


@dataclass(frozen=True)
class StoredPayload:
    """A delivery's rendered payload as stored, and (once the read is audited) its text."""

    id: str  # the delivery's
    message_id: str
    channel: str
    state: str
    payload_sha256: str | None
    content_type: str | None
    body: str | None = None


def _not_found(what: str) -> GatewayError:
    return GatewayError(ErrorKind.NOT_FOUND, "not_found", f"no such {what}")


class MessageReads:
    """Read models of messages for the API and console, limited to the caller's countries."""

    def __init__(self, store: Store, keyring: Keyring) -> None:
        self._store = store
        self._keyring = keyring

    async def page(
        self,
        identity: Identity,
        *,
        state: str | None = None,
        channel: str | None = None,
        recipient: str | None = None,
        sender_country: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int,
        cursor: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first, within the caller's countries; the cursor continues a page."""
        check(identity, Action.READ_MESSAGES)
        flt = MessageFilter(
            state=state,
            channel=channel,
            recipient=recipient,
            sender_country=sender_country,
            since=since,
            until=until,
            visible_countries=visible_countries(identity),
        )
        try:
            return await self._store.read(
                lambda conn: list_messages(conn, flt, limit=limit, cursor=cursor)
            )
        except BadCursor:
            raise GatewayError(
                ErrorKind.INVALID, "bad_cursor", "the cursor is not one this API gave out"
            ) from None

    async def status(self, identity: Identity, message_id: str) -> dict[str, Any]:
        """A message's status and deliveries; another country's message is reported missing."""
        check(identity, Action.READ_MESSAGES)
        view = await self._store.read(lambda conn: message_view(conn, message_id))
        return self._visible(identity, view)

    async def trace(self, identity: Identity, message_id: str) -> dict[str, Any]:
        """A message's full trace; another country's message is reported missing."""
        check(identity, Action.READ_MESSAGES)
        view = await self._store.read(lambda conn: message_trace(conn, message_id))
        return self._visible(identity, view)

    async def message_of(self, identity: Identity, delivery_id: str) -> str:
        """The id of the message a delivery belongs to, for a caller who may see it."""
        check(identity, Action.READ_MESSAGES)
        return (await self._delivery(identity, delivery_id)).message_id

    async def payload(self, identity: Identity, delivery_id: str) -> StoredPayload:
        """What a payload read would show, without the payload itself."""
        check(identity, Action.READ_PAYLOAD)
        return await self._delivery(identity, delivery_id)

    async def _delivery(self, identity: Identity, delivery_id: str) -> StoredPayload:
        found = await self._store.read(lambda conn: _delivery_summary(conn, delivery_id))
        if found is None or not can_see_country(identity, found[1]):
            raise _not_found("delivery")
        return found[0]

    async def read_payload(
        self, identity: Identity, delivery_id: str, reason: str | None, *, via: str
    ) -> StoredPayload:
        """The payload in clear, after the read and its reason are in the audit log."""
        summary = await self.payload(identity, delivery_id)
        why = (reason or "").strip()
        if len(why) < MIN_READ_REASON:
            raise GatewayError(
                ErrorKind.UNPROCESSABLE,
                "reason_required",
                f"give the reason for reading this payload (at least {MIN_READ_REASON} characters)",
            )

        def audit_then_fetch(conn: Connection) -> tuple[str, bytes] | None:
            append_audit(
                conn,
                actor=identity.actor,
                action=Action.READ_PAYLOAD.value,
                subject=f"delivery:{delivery_id}",
                reason=why,
                details={
                    "message_id": summary.message_id,
                    "channel": summary.channel,
                    "payload_sha256": summary.payload_sha256,
                    "via": via,
                },
            )
            return _sealed_payload(conn, delivery_id)

        sealed = await self._store.write(audit_then_fetch)
        if sealed is None:
            return summary
        key_id, ciphertext = sealed
        body = self._keyring.decrypt(key_id, ciphertext, aad=payload_aad(delivery_id))
        return replace(summary, body=body.decode("utf-8", errors="replace"))

    @staticmethod
    def _visible(identity: Identity, view: dict[str, Any] | None) -> dict[str, Any]:
        if view is None or not can_see_country(identity, view["sender"]["country"]):
            raise _not_found("message")
        return view


def _delivery_summary(conn: Connection, delivery_id: str) -> tuple[StoredPayload, str] | None:
    row = conn.execute(
        select(
            deliveries.c.id,
            deliveries.c.message_id,
            deliveries.c.channel,
            deliveries.c.state,
            deliveries.c.payload_sha256,
            deliveries.c.content_type,
            messages.c.sender_country,
        )
        .select_from(deliveries.join(messages, deliveries.c.message_id == messages.c.id))
        .where(deliveries.c.id == delivery_id)
    ).first()
    if row is None:
        return None
    payload = StoredPayload(
        row.id, row.message_id, row.channel, row.state, row.payload_sha256, row.content_type
    )
    return payload, row.sender_country


def _sealed_payload(conn: Connection, delivery_id: str) -> tuple[str, bytes] | None:
    row = conn.execute(
        select(deliveries.c.payload_key_id, deliveries.c.payload_ciphertext).where(
            deliveries.c.id == delivery_id
        )
    ).first()
    if row is None or row.payload_key_id is None or row.payload_ciphertext is None:
        return None
    return row.payload_key_id, row.payload_ciphertext
