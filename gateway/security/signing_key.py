"""The gateway's own signing key: what signs payloads, evidence records and audit heads.

An EC P-256 key (ES256), kept in its own key file (``MARRI_SIGNING_KEY_FILE``, mode 0600,
JSON) beside the sealing keys and handled the same way: created on a first start or by
``keys signing init``, never over data that needs the lost one, refused when group or world
may read it. Rotation adds a new active key and keeps the old ones, whose public halves stay
in the published JWK set (``GET /v1/keys/signing``) so that what they signed still verifies.

The file also holds the audit chain key: 32 random bytes the keyed audit chain's HMAC uses
(``gateway/security/audit.py``). It is made with the file and never rotated with the signing
key, so the whole chain is checked with one key, held by whoever holds the signing key.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey
from sqlalchemy import Connection, inspect, select

from adapters.base import PayloadSigner
from gateway.store.crypto import KeyringError
from gateway.store.engine import Store
from gateway.store.signature_tables import evidence
from gateway.store.tables import audit_entries

JWS_ALGORITHM = "ES256"
# Group or others may neither read nor write the key file.
_PRIVATE_MODE_BITS = 0o077


class SigningKeyError(KeyringError):
    """The signing key file is missing, unreadable, corrupt or too open; one line naming it
    (a ``KeyringError``, so that a process refuses to start on it as on the sealing keys)."""


@dataclass(frozen=True)
class SigningKey:
    """One key pair of the set, with its id and when it was made."""

    key_id: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    created_at: str

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK naming its id, use and algorithm."""
        jwk = ECKey.import_key(self.private_key.public_key()).as_dict(private=False)
        return {**jwk, "kid": self.key_id, "use": "sig", "alg": JWS_ALGORITHM}

    def jose_key(self) -> ECKey:
        """The private key as joserfc signs with it."""
        return ECKey.import_key(self.private_key)


def _new_key() -> SigningKey:
    now = datetime.now(UTC)
    key_id = f"gw-{now:%Y%m%d}-{secrets.token_hex(4)}"
    return SigningKey(key_id, ec.generate_private_key(ec.SECP256R1()), now.isoformat())


@dataclass(frozen=True)
class SigningKeys:
    """Every signing key the gateway has had, the active one, and the audit chain key."""

    active_id: str
    keys: dict[str, SigningKey]
    chain_key: bytes = field(repr=False)

    @property
    def active(self) -> SigningKey:
        """The key that signs from now on."""
        return self.keys[self.active_id]

    def signer(self) -> PayloadSigner:
        """The active key as the adapters' ``sign`` takes it."""
        return PayloadSigner(self.active_id, self.active.private_key)

    def public_jwks(self) -> dict[str, Any]:
        """The JWK set to publish: every key's public half, newest first."""
        ordered = sorted(self.keys.values(), key=lambda k: k.created_at, reverse=True)
        return {"keys": [key.public_jwk() for key in ordered]}

    def with_new_active_key(self) -> SigningKeys:
        """A new active key; the old ones stay, so what they signed still verifies."""
        fresh = _new_key()
        return SigningKeys(fresh.key_id, {**self.keys, fresh.key_id: fresh}, self.chain_key)

    @classmethod
    def generate(cls) -> SigningKeys:
        """A first key and a fresh audit chain key."""
        first = _new_key()
        return cls(first.key_id, {first.key_id: first}, secrets.token_bytes(32))

    def to_json(self) -> str:
        """The file's text: private keys as JWKs (base64url), the chain key in base64."""
        return json.dumps(
            {
                "active": self.active_id,
                "chain_key": base64.b64encode(self.chain_key).decode("ascii"),
                "keys": [
                    {
                        "created_at": key.created_at,
                        "jwk": {**key.jose_key().as_dict(private=True), "kid": key.key_id},
                    }
                    for key in self.keys.values()
                ],
            },
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> SigningKeys:
        """Read the file's text; ValueError (no key material in it) when it is not one."""
        try:
            raw = json.loads(text)
            keys: dict[str, SigningKey] = {}
            for entry in raw["keys"]:
                jwk = dict(entry["jwk"])
                key_id = str(jwk["kid"])
                private = ECKey.import_key(jwk).private_key
                if not isinstance(private, ec.EllipticCurvePrivateKey):
                    raise ValueError("a key without its private half")
                keys[key_id] = SigningKey(key_id, private, str(entry["created_at"]))
            chain_key = base64.b64decode(raw["chain_key"], validate=True)
            active = str(raw["active"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"not a signing key file ({type(exc).__name__})") from None
        if active not in keys or len(chain_key) != 32:
            raise ValueError("the active key or the audit chain key is missing")
        return cls(active, keys, chain_key)


def _write_private(text: str, path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def save_signing_keys(keys: SigningKeys, path: Path) -> None:
    """Replace the key file atomically, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _write_private(keys.to_json(), tmp)
    os.replace(tmp, path)


def create_signing_keys(path: Path) -> SigningKeys:
    """Write a new key file; when another process was first, read the one it wrote."""
    keys = SigningKeys.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        _write_private(keys.to_json(), tmp)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return read_signing_keys(path)
    finally:
        tmp.unlink(missing_ok=True)
    return keys


def read_signing_keys(path: Path) -> SigningKeys:
    """Read an existing key file; every problem is one ``SigningKeyError`` line naming it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise SigningKeyError(f"the signing key file {path} does not exist") from None
    except OSError as exc:
        raise SigningKeyError(
            f"the signing key file {path} cannot be read: {exc.strerror}"
        ) from None
    if mode & _PRIVATE_MODE_BITS:
        raise SigningKeyError(
            f"the signing key file {path} has mode {mode:04o}, so others may read or change "
            f"it; make it private with 'chmod 600 {path}'"
        )
    try:
        return SigningKeys.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SigningKeyError(f"the signing key file {path} cannot be read") from exc
    except ValueError as exc:
        raise SigningKeyError(f"the signing key file {path} is corrupt: {exc}") from None


def signed_data_key_ids(conn: Connection) -> list[str]:
    """What stored rows need the signing key file for: the key ids of evidence records, and
    ``audit-chain`` when the audit log is keyed (none on a store not yet migrated)."""
    if not inspect(conn).has_table(evidence.name):
        return []
    needed = set(conn.execute(select(evidence.c.key_id).distinct()).scalars())
    keyed = select(audit_entries.c.seq).where(audit_entries.c.chain_version.is_not(None))
    if conn.execute(keyed.limit(1)).first() is not None:
        needed.add("audit-chain")
    return sorted(needed)


def open_signing_keys(path: Path, store: Store) -> SigningKeys:
    """The signing keys a serving process needs; the file is created only when no stored row
    was signed or keyed with a key from it (a fresh key could not vouch for those)."""
    if path.exists():
        return read_signing_keys(path)
    needed = store.read_sync(signed_data_key_ids)
    if needed:
        raise SigningKeyError(
            f"the signing key file {path} does not exist, but the database holds records "
            f"signed or keyed with {', '.join(needed)}: restore that file"
        )
    return create_signing_keys(path)
