"""A sender agency's events: its webhook subscriptions and its country's inbox, each checked
against the permission table. Events are told to the sending agency, so only a token bound to
one country and agency has any."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from gateway.errors import ErrorKind, GatewayError
from gateway.events.cloudevent import as_json
from gateway.events.egress import EgressPolicy, EgressRefused, check_subscription_url
from gateway.events.inbox import read_inbox
from gateway.events.subscriptions import (
    Subscription,
    create_subscription,
    delete_subscription,
    list_subscriptions,
    new_secret,
)
from gateway.security.identity import Identity
from gateway.services.permissions import Action, check
from gateway.store.crypto import Keyring
from gateway.store.engine import Store
from gateway.store.tables import utcnow


def _agency_of(identity: Identity) -> tuple[str, str]:
    if identity.country is None or identity.agency is None:
        raise GatewayError(
            ErrorKind.FORBIDDEN, "forbidden", "this token is not bound to a country and agency"
        )
    return identity.country, identity.agency


class EventAccess:
    """A sender agency's subscriptions and inbox, behind the permission table."""

    def __init__(
        self,
        store: Store,
        keyring: Keyring,
        egress: EgressPolicy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._keyring = keyring
        self._egress = egress
        self._clock = clock

    async def subscribe(
        self, identity: Identity, *, url: str, event_types: list[str], secret: str | None
    ) -> tuple[Subscription, str]:
        """A new subscription of the caller's agency and its secret (shown this once); a URL
        the gateway would not call (``gateway/events/egress.py``) is refused."""
        check(identity, Action.SUBSCRIBE)
        country, agency = _agency_of(identity)
        try:
            await check_subscription_url(self._egress, url)
        except EgressRefused as exc:
            raise GatewayError(
                ErrorKind.UNPROCESSABLE,
                "webhook_url_refused",
                f"the gateway does not call this URL: {exc.reason}",
            ) from None
        chosen = secret or new_secret()
        now = self._clock()
        created = await self._store.write(
            lambda conn: create_subscription(
                conn,
                self._keyring,
                country=country,
                agency=agency,
                url=url,
                event_types=event_types,
                secret=chosen,
                now=now,
            )
        )
        return created, chosen

    async def subscriptions(self, identity: Identity) -> list[Subscription]:
        """The caller's agency's live subscriptions."""
        check(identity, Action.SUBSCRIBE)
        country, agency = _agency_of(identity)
        return await self._store.read(
            lambda conn: list_subscriptions(conn, country=country, agency=agency)
        )

    async def unsubscribe(self, identity: Identity, subscription_id: str) -> None:
        """End one of the caller's agency's subscriptions; not found for any other."""
        check(identity, Action.SUBSCRIBE)
        country, agency = _agency_of(identity)
        now = self._clock()
        ended = await self._store.write(
            lambda conn: delete_subscription(
                conn, subscription_id, country=country, agency=agency, now=now
            )
        )
        if not ended:
            raise GatewayError(
                ErrorKind.NOT_FOUND, "not_found", "no such subscription of this agency"
            )

    async def inbox(
        self, identity: Identity, *, after: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """The caller's country's events after the cursor as CloudEvents, and the next cursor."""
        check(identity, Action.READ_EVENTS)
        country, _agency = _agency_of(identity)
        found = await self._store.read(
            lambda conn: read_inbox(conn, country=country, after=after, limit=limit)
        )
        return [as_json(e) for e in found], (found[-1].seq if found else after)
