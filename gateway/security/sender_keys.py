"""Sender agencies' public signing keys: a JWK set per country and agency, in the store.

A national system signs its messages with a private key it alone holds; the gateway keeps only
the public half and refuses a private one. A key verifies signatures between ``not_before``
and ``not_after`` while it is not revoked, so rotation overlaps: register the next key, move
the national system to it, then revoke the old one (or let it lapse). Keys are never deleted:
a stored signature keeps naming the key that verified it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwk
from joserfc.errors import JoseError
from sqlalchemy import Connection, select, update

from gateway.store.signature_tables import sender_keys

# RFC 7518 ES256 (P-256) and RFC 8037 EdDSA (Ed25519): the key type each algorithm needs.
KEY_TYPES: dict[str, tuple[str, str]] = {"ES256": ("EC", "P-256"), "EdDSA": ("OKP", "Ed25519")}
ALGORITHMS = tuple(KEY_TYPES)
KID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Members of a public EC or OKP key (RFC 7518 6.2.1, RFC 8037 2); anything else is dropped.
_PUBLIC_MEMBERS = ("kty", "crv", "x", "y")
# Private members of any key type: a JWK carrying one is refused outright, never stored.
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k", "oth")


class SenderKeyError(ValueError):
    """A key that cannot be registered or changed; ``code`` is what API clients match on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SenderKey:
    """One registered public key of one sender agency."""

    id: str
    country: str
    agency: str
    kid: str
    alg: str
    jwk: Mapping[str, str]
    thumbprint: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    created_at: datetime
    created_by: str

    def status(self, now: datetime) -> str:
        """``valid``, ``revoked``, ``expired`` or ``not_yet_valid`` at ``now``."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return "revoked"
        if now < self.not_before:
            return "not_yet_valid"
        if now >= self.not_after:
            return "expired"
        return "valid"

    def public_jwk(self) -> dict[str, str]:
        """The key as a JWK set member: its public members with ``kid``, ``alg`` and ``use``."""
        return {**self.jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def as_dict(self, now: datetime) -> dict[str, Any]:
        """What the API and the CLI show of a key."""
        return {
            "id": self.id,
            "country": self.country,
            "agency": self.agency,
            "kid": self.kid,
            "alg": self.alg,
            "thumbprint": self.thumbprint,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
            "status": self.status(now),
            "jwk": self.public_jwk(),
        }


@dataclass(frozen=True)
class PublicKey:
    """A checked public JWK, ready to store: its members, algorithm, kid and thumbprint."""

    members: dict[str, str]
    alg: str
    kid: str
    thumbprint: str


def _refuse(code: str, message: str) -> SenderKeyError:
    return SenderKeyError(code, message)


def check_public_jwk(data: object, *, alg: str | None = None, kid: str | None = None) -> PublicKey:
    """The public key in ``data`` (a JWK object), with the algorithm and kid it is registered
    under; ``alg`` and ``kid`` default to the JWK's own members."""
    if not isinstance(data, Mapping):
        raise _refuse("invalid_key", "the key must be a JWK object")
    if any(member in data for member in _PRIVATE_MEMBERS):
        raise _refuse(
            "private_key_refused",
            "this is a private key; register only the public key and keep the private one",
        )
    chosen_alg = alg or data.get("alg")
    if chosen_alg not in KEY_TYPES:
        raise _refuse("algorithm_refused", f"alg must be one of {', '.join(ALGORITHMS)}")
    if data.get("alg") not in (None, chosen_alg):
        raise _refuse("algorithm_refused", "the JWK's alg differs from the one asked for")
    kty, crv = KEY_TYPES[chosen_alg]
    if data.get("kty") != kty or data.get("crv") != crv:
        raise _refuse("key_type_mismatch", f"{chosen_alg} needs a {kty} key on curve {crv}")
    chosen_kid = kid or data.get("kid")
    if not isinstance(chosen_kid, str) or not KID_PATTERN.match(chosen_kid):
        raise _refuse("invalid_kid", "kid must be 1-64 letters, digits, '.', '_' or '-'")
    if data.get("kid") not in (None, chosen_kid):
        raise _refuse("invalid_kid", "the JWK's kid differs from the one asked for")
    members = {m: data[m] for m in _PUBLIC_MEMBERS if m in data}
    if not all(isinstance(v, str) for v in members.values()):
        raise _refuse("invalid_key", "the key's members must be strings")
    try:
        key = jwk.import_key(members)
    except (JoseError, ValueError, TypeError):
        raise _refuse("invalid_key", "the key is not a valid public key for its curve") from None
    return PublicKey(members, chosen_alg, chosen_kid, key.thumbprint())


def _key(row: Any) -> SenderKey:
    return SenderKey(
        id=row.id,
        country=row.country,
        agency=row.agency,
        kid=row.kid,
        alg=row.alg,
        jwk=json.loads(row.jwk_json),
        thumbprint=row.thumbprint,
        not_before=row.not_before,
        not_after=row.not_after,
        revoked_at=row.revoked_at,
        created_at=row.created_at,
        created_by=row.created_by,
    )


@dataclass(frozen=True)
class NewSenderKey:
    """A key to register for one agency, with its validity."""

    country: str
    agency: str
    key: PublicKey
    not_before: datetime
    not_after: datetime


def add_sender_key(conn: Connection, new: NewSenderKey, *, actor: str, now: datetime) -> SenderKey:
    """Register the key; a kid the agency already has, or a key registered anywhere, is refused."""
    if new.not_after <= new.not_before:
        raise _refuse("invalid_validity", "not_after must be later than not_before")
    if new.not_after <= now:
        raise _refuse("invalid_validity", "not_after is already past")
    taken = conn.execute(
        select(sender_keys.c.id).where(
            sender_keys.c.country == new.country,
            sender_keys.c.agency == new.agency,
            sender_keys.c.kid == new.key.kid,
        )
    ).first()
    if taken is not None:
        raise _refuse("kid_taken", "this agency already has a key with that kid; choose another")
    twin = conn.execute(
        select(sender_keys.c.id).where(sender_keys.c.thumbprint == new.key.thumbprint)
    ).first()
    if twin is not None:
        # One key, one agency: the same key under two agencies would let one sign as the other.
        raise _refuse("key_already_registered", "this public key is already registered")
    row = {
        "id": str(uuid.uuid4()),
        "country": new.country,
        "agency": new.agency,
        "kid": new.key.kid,
        "alg": new.key.alg,
        "jwk_json": json.dumps(new.key.members, sort_keys=True),
        "thumbprint": new.key.thumbprint,
        "not_before": new.not_before,
        "not_after": new.not_after,
        "revoked_at": None,
        "created_at": now,
        "created_by": actor,
    }
    conn.execute(sender_keys.insert(), row)
    return _key(conn.execute(select(sender_keys).where(sender_keys.c.id == row["id"])).one())


def list_sender_keys(
    conn: Connection, *, countries: tuple[str, ...] | None = None, agency: str | None = None
) -> list[SenderKey]:
    """Keys of the given countries (None: every country), optionally of one agency only."""
    query = select(sender_keys).order_by(
        sender_keys.c.country, sender_keys.c.agency, sender_keys.c.not_before, sender_keys.c.kid
    )
    if countries is not None:
        query = query.where(sender_keys.c.country.in_(countries))
    if agency is not None:
        query = query.where(sender_keys.c.agency == agency)
    return [_key(row) for row in conn.execute(query)]


def get_sender_key(conn: Connection, key_id: str) -> SenderKey | None:
    """The key with our id ``key_id``, or None."""
    row = conn.execute(select(sender_keys).where(sender_keys.c.id == key_id)).first()
    return None if row is None else _key(row)


def find_signing_key(conn: Connection, country: str, agency: str, kid: str) -> SenderKey | None:
    """The agency's key named ``kid`` (whatever its status), or None: another agency's kid is
    not looked at, so no agency can sign with a key registered for someone else."""
    row = conn.execute(
        select(sender_keys).where(
            sender_keys.c.country == country,
            sender_keys.c.agency == agency,
            sender_keys.c.kid == kid,
        )
    ).first()
    return None if row is None else _key(row)


def revoke_sender_key(conn: Connection, key_id: str, *, now: datetime) -> bool:
    """Revoke from now on; False when the key is unknown or was revoked already."""
    result = conn.execute(
        update(sender_keys)
        .where(sender_keys.c.id == key_id, sender_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return result.rowcount == 1


def jwk_set(keys: list[SenderKey], now: datetime) -> dict[str, list[dict[str, str]]]:
    """The keys that verify signatures at ``now``, as an RFC 7517 JWK set."""
    return {"keys": [k.public_jwk() for k in keys if k.status(now) == "valid"]}
