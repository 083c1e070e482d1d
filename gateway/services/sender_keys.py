"""Managing sender agencies' signing keys, for the API and the command line alike.

Only a country's own admin (a token issued for that country) lists, registers or revokes its
agencies' keys: whoever registers a key decides who may sign as that agency. Each change is
audited in its transaction; another country's key answers like a missing one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from gateway.errors import ErrorKind, GatewayError
from gateway.security.audit import append_audit
from gateway.security.identity import Identity
from gateway.security.sender_keys import (
    NewSenderKey,
    SenderKey,
    SenderKeyError,
    add_sender_key,
    check_public_jwk,
    get_sender_key,
    list_sender_keys,
    revoke_sender_key,
)
from gateway.services.permissions import (
    Action,
    check,
    check_country,
    named_countries,
)
from gateway.store.engine import Store
from gateway.store.tables import utcnow

DEFAULT_VALIDITY = timedelta(days=365)
_CONFLICTS = frozenset({"kid_taken", "key_already_registered"})


@dataclass(frozen=True)
class KeyRequest:
    """A key to register: whose, the public JWK, and when it may verify."""

    country: str
    agency: str
    jwk: Mapping[str, Any]
    alg: str | None = None
    kid: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None


def _as_refusal(exc: SenderKeyError) -> GatewayError:
    kind = ErrorKind.CONFLICT if exc.code in _CONFLICTS else ErrorKind.UNPROCESSABLE
    return GatewayError(kind, exc.code, exc.message)


def _audited(key: SenderKey) -> dict[str, Any]:
    return {
        "country": key.country,
        "agency": key.agency,
        "kid": key.kid,
        "alg": key.alg,
        "thumbprint": key.thumbprint,
        "not_before": key.not_before.isoformat(),
        "not_after": key.not_after.isoformat(),
    }


def register_key(conn: Connection, request: KeyRequest, *, actor: str, now: datetime) -> SenderKey:
    """Check and store the key, and audit it, in the caller's transaction."""
    try:
        public = check_public_jwk(request.jwk, alg=request.alg, kid=request.kid)
        not_before = request.not_before or now
        new = NewSenderKey(
            country=request.country.upper(),
            agency=request.agency,
            key=public,
            not_before=not_before,
            not_after=request.not_after or not_before + DEFAULT_VALIDITY,
        )
        key = add_sender_key(conn, new, actor=actor, now=now)
    except SenderKeyError as exc:
        raise _as_refusal(exc) from None
    append_audit(
        conn,
        actor=actor,
        action="sender_key.added",
        subject=f"sender_key:{key.id}",
        details=_audited(key),
    )
    return key


def revoke_key(
    conn: Connection, key: SenderKey, *, actor: str, reason: str | None, now: datetime
) -> SenderKey:
    """Revoke the key from ``now`` and audit it; a key revoked already is a conflict."""
    if not revoke_sender_key(conn, key.id, now=now):
        raise GatewayError(ErrorKind.CONFLICT, "already_revoked", "this key is revoked already")
    append_audit(
        conn,
        actor=actor,
        action="sender_key.revoked",
        subject=f"sender_key:{key.id}",
        reason=reason,
        details=_audited(key),
    )
    revoked = get_sender_key(conn, key.id)
    assert revoked is not None
    return revoked


class SenderKeyAdmin:
    """A country admin's view of its agencies' signing keys."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._clock = clock

    def _countries(self, identity: Identity, country: str | None) -> tuple[str, ...]:
        if country is not None:
            check_country(identity, Action.MANAGE_SENDER_KEYS, country)
            return (country,)
        check(identity, Action.MANAGE_SENDER_KEYS)
        named = named_countries(identity)
        if not named:
            check_country(identity, Action.MANAGE_SENDER_KEYS, "")  # raises: no country named
        return named

    async def keys(
        self, identity: Identity, *, country: str | None = None, agency: str | None = None
    ) -> list[dict[str, Any]]:
        """Keys of the caller's countries (or of one of them), each with its status now."""
        countries = self._countries(identity, country)
        found = await self._store.read(
            lambda conn: list_sender_keys(conn, countries=countries, agency=agency)
        )
        now = self._clock()
        return [k.as_dict(now) for k in found]

    async def add(self, identity: Identity, request: KeyRequest) -> dict[str, Any]:
        """Register a key for an agency of one of the caller's countries."""
        check_country(identity, Action.MANAGE_SENDER_KEYS, request.country.upper())
        now = self._clock()
        key = await self._store.write(
            lambda conn: register_key(conn, request, actor=identity.actor, now=now)
        )
        return key.as_dict(now)

    async def revoke(
        self, identity: Identity, key_id: str, *, reason: str | None = None
    ) -> dict[str, Any]:
        """Revoke one of the caller's countries' keys at once; any other key is not found."""
        check(identity, Action.MANAGE_SENDER_KEYS)
        now = self._clock()

        def revoke(conn: Connection) -> SenderKey:
            key = get_sender_key(conn, key_id)
            if key is None or key.country not in named_countries(identity):
                raise GatewayError(ErrorKind.NOT_FOUND, "not_found", "no such sender key")
            return revoke_key(conn, key, actor=identity.actor, reason=reason, now=now)

        revoked = await self._store.write(revoke)
        return revoked.as_dict(now)
