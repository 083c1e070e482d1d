"""Verifying a sender's detached JWS over the exact bytes of its message.

The signature travels in the ``Marri-Message-Signature`` request header as a JWS compact
serialization (RFC 7515) with a detached, unencoded payload (RFC 7797): ``header..signature``,
with ``b64: false`` and ``crit: ["b64"]`` in the protected header, so the signed bytes are the
request body as sent, not a re-serialisation of it. Only ES256 and EdDSA (Ed25519) are taken.

Every refusal is a ``GatewayError`` of kind ``UNAUTHENTICATED`` (HTTP 401) whose code says what
is wrong (``CODES``); the texts name no submitted value.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from joserfc import jwk, jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwa import JWSAlgModel
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry

from gateway.errors import ErrorKind, GatewayError
from gateway.security.sender_keys import ALGORITHMS, KEY_TYPES, KID_PATTERN, SenderKey

SIGNATURE_HEADER = "Marri-Message-Signature"
MAX_SIGNATURE_CHARS = 2048
# joserfc's own cap on the protected header; it also keeps JSON nesting far below recursion.
MAX_HEADER_CHARS = 512
# Protected header members a sender may use; a key or key URL inside the header is refused,
# since only the registered keys may verify.
ALLOWED_MEMBERS = frozenset({"alg", "kid", "b64", "crit", "typ", "cty"})
_COMPACT_DETACHED = re.compile(r"^([A-Za-z0-9_-]{4,})\.\.([A-Za-z0-9_-]*)$")

CODES: dict[str, str] = {
    "signature_required": "this gateway requires a signed message and none was sent",
    "signature_malformed": "the signature is not a compact JWS with a detached payload",
    "signature_algorithm_refused": f"the signature's alg must be one of {', '.join(ALGORITHMS)}",
    "signature_header_invalid": "the protected header lacks or misuses kid, b64 or crit",
    "signature_key_unknown": "no key with this kid is registered for the sending agency",
    "signature_key_revoked": "the signing key has been revoked",
    "signature_key_expired": "the signing key's validity has ended",
    "signature_key_not_yet_valid": "the signing key is not valid yet",
    "signature_invalid": "the signature does not match the message as received",
}


def refused(code: str, message: str | None = None) -> GatewayError:
    """A 401 refusal with one of ``CODES``."""
    return GatewayError(ErrorKind.UNAUTHENTICATED, code, message or CODES[code])


@dataclass(frozen=True)
class SignatureClaim:
    """A structurally sound detached JWS: which key it names, with which algorithm."""

    jws: str
    alg: str
    kid: str


@dataclass(frozen=True)
class VerifiedSignature:
    """A signature that verified: kept with the message, shown in its trace."""

    jws: str
    key_id: str
    country: str
    agency: str
    kid: str
    alg: str
    verified_at: datetime


def _protected_header(segment: str) -> dict[str, object]:
    if len(segment) > MAX_HEADER_CHARS:
        raise refused("signature_malformed")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        header = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise refused("signature_malformed") from None
    if not isinstance(header, dict):
        raise refused("signature_malformed")
    return header


def read_claim(value: str) -> SignatureClaim:
    """Check the header value's shape, algorithm and protected header, before any key is read."""
    value = value.strip()
    found = _COMPACT_DETACHED.match(value) if len(value) <= MAX_SIGNATURE_CHARS else None
    if found is None:
        raise refused("signature_malformed")
    header = _protected_header(found.group(1))
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise refused("signature_algorithm_refused")
    if header.get("b64") is not False:
        raise refused("signature_header_invalid", "the protected header must set b64 to false")
    crit = header.get("crit")
    if not isinstance(crit, list) or "b64" not in crit or any(c != "b64" for c in crit):
        raise refused("signature_header_invalid", 'the protected header must set crit ["b64"]')
    kid = header.get("kid")
    if not isinstance(kid, str) or not KID_PATTERN.match(kid):
        raise refused("signature_header_invalid", "the protected header must name its key (kid)")
    if not set(header) <= ALLOWED_MEMBERS:
        raise refused(
            "signature_header_invalid",
            f"the protected header may hold only {', '.join(sorted(ALLOWED_MEMBERS))}",
        )
    return SignatureClaim(jws=value, alg=alg, kid=kid)


class _SenderRegistry(JWSRegistry):
    """ES256 and EdDSA only, for payloads as large as the gateway takes.

    joserfc warns that RFC 9864 deprecates the name ``EdDSA`` because it does not say which
    curve; the key type check pins it to Ed25519, which is what the new name means."""

    def __init__(self, max_payload: int) -> None:
        super().__init__(algorithms=list(ALGORITHMS))
        self.max_payload_length = max_payload

    def get_alg(self, name: str) -> JWSAlgModel:
        """The algorithm model, for the two accepted names only."""
        if name not in ALGORITHMS:
            raise refused("signature_algorithm_refused")
        return self.algorithms[name]


def _usable(key: SenderKey | None, claim: SignatureClaim, now: datetime) -> SenderKey:
    if key is None:
        raise refused("signature_key_unknown")
    status = key.status(now)
    if status != "valid":
        raise refused(f"signature_key_{status}")
    if key.alg != claim.alg or KEY_TYPES[key.alg][0] != key.jwk.get("kty"):
        raise refused("signature_algorithm_refused", "the key is registered for another algorithm")
    return key


@lru_cache(maxsize=512)
def _public_key(members: tuple[tuple[str, str], ...]) -> Key:
    """Parsing a JWK into a key costs a third of a verification; registered keys repeat."""
    return jwk.import_key(dict(members))


def verify_claim(
    claim: SignatureClaim, key: SenderKey | None, body: bytes, *, now: datetime
) -> VerifiedSignature:
    """Verify over ``body`` exactly as received with the agency's key named by the claim."""
    usable = _usable(key, claim, now)
    registry = _SenderRegistry(max(len(body), 1))
    try:
        public = _public_key(tuple(sorted(usable.jwk.items())))
        jws.deserialize_compact(claim.jws, public, registry=registry, payload=body)
    except BadSignatureError:
        raise refused("signature_invalid") from None
    except (JoseError, ValueError, TypeError):
        raise refused("signature_malformed") from None
    return VerifiedSignature(
        jws=claim.jws,
        key_id=usable.id,
        country=usable.country,
        agency=usable.agency,
        kid=usable.kid,
        alg=usable.alg,
        verified_at=now,
    )
