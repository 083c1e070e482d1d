"""Helpers for sender signature tests: key pairs, registered keys, detached JWS built by hand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import Any

from joserfc.jwk import ECKey, OKPKey
from sqlalchemy import update

from gateway.context import GatewayContext
from gateway.services.sender_keys import KeyRequest, register_key
from gateway.store.signature_tables import sender_keys
from gateway.store.tables import utcnow
from tests.conftest import EXAMPLES

HEADER = "Marri-Message-Signature"


def _example_signer() -> ModuleType:
    """examples/sign_message.py, the signer national developers start from."""
    spec = importlib.util.spec_from_file_location("sign_message", EXAMPLES / "sign_message.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


signer = _example_signer()


@dataclass(frozen=True)
class AgencyKey:
    """A key pair registered (or not) for one agency."""

    id: str
    kid: str
    alg: str
    private: dict[str, str]

    def sign(self, body: bytes) -> str:
        return str(signer.sign(body, self.private))


def new_pair(alg: str = "ES256", kid: str = "k1") -> tuple[dict[str, str], dict[str, str]]:
    private, public = signer.keygen(alg, kid)
    return dict(private), dict(public)


def register(
    context: GatewayContext,
    country: str,
    agency: str,
    *,
    kid: str = "k1",
    alg: str = "ES256",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> AgencyKey:
    private, public = new_pair(alg, kid)
    request = KeyRequest(
        country=country,
        agency=agency,
        jwk=public,
        not_before=not_before,
        not_after=not_after,
    )
    key = context.store.write_sync(
        lambda conn: register_key(conn, request, actor="test", now=utcnow())
    )
    return AgencyKey(key.id, kid, alg, private)


def expire(context: GatewayContext, key_id: str) -> None:
    """Move a key's end into the past (registration refuses a past end)."""
    past = utcnow() - timedelta(minutes=1)
    context.store.write_sync(
        lambda conn: conn.execute(
            update(sender_keys)
            .where(sender_keys.c.id == key_id)
            .values(not_before=past - timedelta(days=1), not_after=past)
        )
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hand_made(header: dict[str, Any], signature: bytes = b"") -> str:
    """A detached compact JWS with any protected header (to build hostile ones)."""
    return f"{b64url(json.dumps(header).encode())}..{b64url(signature)}"


def hs256_with_public_key(body: bytes, key: AgencyKey, public_jwk: dict[str, str]) -> str:
    """The classic confusion: an HMAC keyed with the public key the gateway holds."""
    header = {"alg": "HS256", "kid": key.kid, "b64": False, "crit": ["b64"]}
    head = b64url(json.dumps(header).encode())
    secret = json.dumps(public_jwk, sort_keys=True).encode()
    mac = hmac.new(secret, head.encode() + b"." + body, hashlib.sha256).digest()
    return f"{head}..{b64url(mac)}"


def unrelated_private(alg: str, kid: str) -> dict[str, str]:
    key = ECKey.generate_key("P-256") if alg == "ES256" else OKPKey.generate_key("Ed25519")
    return {**key.as_dict(private=True), "kid": kid, "alg": alg}
