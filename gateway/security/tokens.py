"""API tokens: random, shown once, stored only as a SHA-256 hash, with expiry and revocation."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from gateway.security.identity import Identity
from gateway.services.permissions import ROLES, Role, bound_to_one_country
from gateway.store.tables import api_tokens, utcnow

# A public prefix that makes leaked tokens easy to spot, not a secret.
TOKEN_PREFIX = "mgw_"  # noqa: S105  # nosec B105


class TokenError(ValueError):
    """A token request that cannot be honoured (bad role, missing country, ...)."""


def hash_token(token: str) -> str:
    """The stored form of a token: only its hash is kept, so the database never holds it."""
    # Tokens carry 256 bits of randomness, so a plain hash is enough (no password stretching).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new token, shown once, with the identity it stands for."""

    token: str
    identity: Identity


def issue_token(
    conn: Connection,
    *,
    role: str,
    label: str,
    country: str | None = None,
    agency: str | None = None,
    scope_countries: tuple[str, ...] = (),
    expires_at: datetime | None = None,
) -> IssuedToken:
    """Create a token; the clear text is returned once and never stored."""
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if bound_to_one_country(role) and (not country or not agency):
        raise TokenError(f"a {role} token needs --country and --agency")
    country = country.upper() if country else None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = str(uuid.uuid4())
    conn.execute(
        api_tokens.insert().values(
            id=token_id,
            token_hash=hash_token(token),
            role=role,
            country=country,
            agency=agency,
            scope_countries=json.dumps(sorted(c.upper() for c in scope_countries)),
            label=label,
            created_at=utcnow(),
            expires_at=expires_at,
        )
    )
    identity = Identity(
        token_id=token_id,
        role=Role(role),
        label=label,
        country=country,
        agency=agency,
        scope_countries=tuple(sorted(c.upper() for c in scope_countries)),
    )
    return IssuedToken(token=token, identity=identity)


def identity_for_token(conn: Connection, token: str) -> Identity | None:
    """The identity of a live token, or None when unknown, revoked or expired."""
    row = conn.execute(
        select(api_tokens).where(api_tokens.c.token_hash == hash_token(token))
    ).first()
    return _live_identity(row)


def _live_identity(row: Any) -> Identity | None:
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return Identity(
        token_id=row.id,
        role=Role(row.role),
        label=row.label,
        country=row.country,
        agency=row.agency,
        scope_countries=tuple(json.loads(row.scope_countries)),
    )


def identity_for_token_id(conn: Connection, token_id: str) -> Identity | None:
    """The identity of a live token named by id (mutual TLS maps certificates to token ids)."""
    row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    return _live_identity(row)


def touch_token(conn: Connection, token_id: str) -> None:
    """Record when the token was last used, for listings and review."""
    conn.execute(
        update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=utcnow())
    )


def revoke_token(conn: Connection, token_id: str) -> bool:
    """Revoke a token from now on; False when it is unknown or was already revoked."""
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never the token or its hash."""

    id: str
    role: str
    label: str
    country: str | None
    agency: str | None
    scope_countries: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def status(self) -> str:
        """live, expired or revoked, as of now."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return "live"


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        role=row.role,
        label=row.label,
        country=row.country,
        agency=row.agency,
        scope_countries=tuple(json.loads(row.scope_countries)),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def list_tokens(conn: Connection) -> list[TokenInfo]:
    """Every token, oldest first, without its secret."""
    rows = conn.execute(select(api_tokens).order_by(api_tokens.c.created_at, api_tokens.c.id))
    return [_info(row) for row in rows]
