"""The audit chain's keys: the HMAC that makes recomputing it need the key, and signed heads.

Chain version 1 (``chain_version`` NULL) hashed each entry with plain SHA-256, so anyone who
could write the table could rewrite it and recompute every hash. Version 2 hashes with
HMAC-SHA-256 under the chain key held in the gateway's signing key file, and the head row
carries a JWS by the gateway's signing key. A process that holds the key file installs it once
at start (``install_chain_keys``); from then on every entry it appends is keyed. An old log
keeps its version 1 entries and still verifies; once keyed, an unkeyed entry after a keyed one
is a break, so nobody without the key can extend or rewrite the chain unnoticed.

``export_signed_head`` writes the head, signed, for keeping elsewhere; ``check_signed_head``
verifies such a copy against the gateway's public keys before the log is compared with it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway.security.signing_key import JWS_ALGORITHM, SigningKeys

KEYED = 2
SIGNED_HEAD_TYPE = "marri-audit-head+jws"


class AuditKeyMissing(RuntimeError):
    """A keyed chain met a process that holds no chain key (its key file was not loaded)."""


@dataclass
class _Installed:
    keys: SigningKeys | None = None


_installed = _Installed()


def install_chain_keys(keys: SigningKeys | None) -> None:
    """Key every later append of this process (None: back to unkeyed, for tests)."""
    _installed.keys = keys


def installed_keys() -> SigningKeys | None:
    """The signing keys this process keys and signs the chain with, if any."""
    return _installed.keys


def entry_material(
    prev_hash: str,
    at: datetime,
    fields: tuple[str, str, str, str | None, str],
) -> bytes:
    """The bytes an entry's hash covers: previous hash, time, actor, action, subject,
    reason and details, as one compact JSON array."""
    actor, action, subject, reason, details_json = fields
    return json.dumps(
        [prev_hash, at.isoformat(), actor, action, subject, reason, details_json],
        ensure_ascii=True,
        separators=(",", ":"),
    ).encode("ascii")


def keyed_hash(chain_key: bytes, material: bytes) -> str:
    """Version 2: HMAC-SHA-256 of an entry's material under the chain key."""
    return hmac.new(chain_key, material, hashlib.sha256).hexdigest()


def plain_hash(material: bytes) -> str:
    """Version 1: SHA-256 of an entry's material."""
    return hashlib.sha256(material).hexdigest()


def head_claims(seq: int, entries: int, entry_hash: str, at: datetime) -> dict[str, Any]:
    """What a signed head states: the newest entry, how many there are, and when."""
    return {"seq": seq, "entries": entries, "hash": entry_hash, "at": at.isoformat()}


def sign_head(keys: SigningKeys, claims: dict[str, Any]) -> str:
    """A compact JWS over ``claims`` by the active signing key."""
    payload = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode("ascii")
    header = {"alg": JWS_ALGORITHM, "kid": keys.active_id, "typ": SIGNED_HEAD_TYPE}
    return str(jws.serialize_compact(header, payload, keys.active.jose_key()))


def verify_head(token: str, jwks: dict[str, Any]) -> dict[str, Any]:
    """The claims of a signed head when its signature holds under ``jwks``; else ValueError."""
    try:
        keyset = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        signed = jws.deserialize_compact(token, keyset, algorithms=[JWS_ALGORITHM])
        claims = json.loads(signed.payload)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"the signed head does not verify ({type(exc).__name__})") from None
    if signed.headers().get("typ") != SIGNED_HEAD_TYPE or not isinstance(claims, dict):
        raise ValueError("not a signed audit head")
    if not isinstance(claims.get("seq"), int) or not isinstance(claims.get("hash"), str):
        raise ValueError("the signed head names no entry")
    return claims


def export_document(token: str, claims: dict[str, Any]) -> str:
    """The file ``audit export-head`` writes: the JWS, and its claims for people to read."""
    return json.dumps({"signed_head": token, "head": claims}, indent=2) + "\n"


def read_export(text: str) -> str:
    """The JWS in an exported head file; ValueError when the file is not one."""
    try:
        token = json.loads(text)["signed_head"]
    except (ValueError, KeyError, TypeError):
        raise ValueError("not an exported audit head (no signed_head)") from None
    if not isinstance(token, str):
        raise ValueError("not an exported audit head (no signed_head)")
    return token
