"""Subscriptions of a sender agency to its events: a URL, the event types, a signing secret.

The secret is sealed at rest under the subscription's id, like payloads, and is given back
only once, to the caller that created it.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from gateway.store.crypto import Keyring, subscription_aad
from gateway.store.tables import notifications, subscriptions

# The format's prefix, not a secret.
SECRET_PREFIX = "whsec_"  # noqa: S105  # nosec B105


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Subscription:
    """A subscription as listed (never with its secret)."""

    id: str
    country: str
    agency: str
    url: str
    event_types: tuple[str, ...]
    created_at: datetime

    def as_dict(self) -> dict[str, object]:
        """The API's view of it."""
        return {
            "id": self.id,
            "country": self.country,
            "agency": self.agency,
            "url": self.url,
            "event_types": list(self.event_types),
            "created_at": self.created_at.isoformat(),
        }


def create_subscription(
    conn: Connection,
    keyring: Keyring,
    *,
    country: str,
    agency: str,
    url: str,
    event_types: list[str],
    secret: str,
    now: datetime,
) -> Subscription:
    """Store a subscription with its secret sealed under its id."""
    subscription_id = str(uuid.uuid4())
    key_id, blob = keyring.encrypt(secret.encode(), aad=subscription_aad(subscription_id))
    conn.execute(
        subscriptions.insert().values(
            id=subscription_id,
            country=country,
            agency=agency,
            url=url,
            event_types_json=json.dumps(sorted(set(event_types))),
            secret_ciphertext=blob,
            secret_key_id=key_id,
            created_at=now,
        )
    )
    return Subscription(subscription_id, country, agency, url, tuple(sorted(set(event_types))), now)


def list_subscriptions(conn: Connection, *, country: str, agency: str) -> list[Subscription]:
    """One agency's live subscriptions, oldest first."""
    rows = conn.execute(
        select(subscriptions)
        .where(
            subscriptions.c.country == country,
            subscriptions.c.agency == agency,
            subscriptions.c.deleted_at.is_(None),
        )
        .order_by(subscriptions.c.created_at, subscriptions.c.id)
    ).all()
    return [
        Subscription(
            r.id, r.country, r.agency, r.url, tuple(json.loads(r.event_types_json)), r.created_at
        )
        for r in rows
    ]


def delete_subscription(
    conn: Connection, subscription_id: str, *, country: str, agency: str, now: datetime
) -> bool:
    """End a subscription of this agency; its notifications not yet sent are dropped (the
    inbox still has the events). False when there is no such live subscription."""
    result = conn.execute(
        update(subscriptions)
        .where(
            subscriptions.c.id == subscription_id,
            subscriptions.c.country == country,
            subscriptions.c.agency == agency,
            subscriptions.c.deleted_at.is_(None),
        )
        .values(deleted_at=now)
    )
    if result.rowcount == 0:
        return False
    conn.execute(
        update(notifications)
        .where(
            notifications.c.subscription_id == subscription_id,
            notifications.c.state.in_(["queued", "retry_wait"]),
        )
        .values(state="cancelled", next_attempt_at=None, updated_at=now)
    )
    return True


@dataclass(frozen=True)
class Target:
    """Where and how one notification is sent."""

    url: str
    secret: str


def load_targets(conn: Connection, keyring: Keyring, ids: set[str]) -> dict[str, Target]:
    """URL and opened secret per subscription id."""
    if not ids:
        return {}
    rows = conn.execute(
        select(
            subscriptions.c.id,
            subscriptions.c.url,
            subscriptions.c.secret_ciphertext,
            subscriptions.c.secret_key_id,
        ).where(subscriptions.c.id.in_(sorted(ids)))
    ).all()
    return {
        r.id: Target(
            r.url,
            keyring.decrypt(
                r.secret_key_id, r.secret_ciphertext, aad=subscription_aad(r.id)
            ).decode(),
        )
        for r in rows
    }
