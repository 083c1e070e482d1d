"""Console sign-in: a signed, HttpOnly, SameSite=Strict session cookie and CSRF tokens.

The cookie names the token's id (never the token itself), a session id, a CSRF secret and an
expiry, signed with HMAC-SHA256 under a key derived from the gateway's keyring, so every replica
that shares the keyring accepts it. Each request re-reads the session's row and the token's: a
session signed out of (its row ended), or whose token is revoked or expired, ends at once, and
a copy of the cookie kept from before is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from gateway.security.identity import Identity

COOKIE = "marri_console"
LOGIN_COOKIE = "marri_console_login"
SESSION_SECONDS = 8 * 3600
# What the cookie-signing key is derived for (from the active storage key, HMAC-SHA256).
SESSION_KEY_PURPOSE = b"marri-console-session-v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, payload: dict[str, object]) -> str:
    """A cookie value ``body.mac``, HMAC-SHA256 over the JSON body."""
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    mac = _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{mac}"


def verify(key: bytes, value: str | None) -> dict[str, object] | None:
    """The signed payload when the signature holds and it has not expired; else None."""
    if not value or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    expected = _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        payload = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    expires = payload.get("exp")
    if not isinstance(expires, int | float) or expires < time.time():
        return None
    return payload


@dataclass(frozen=True)
class Session:
    """The signed-in caller, the CSRF token of the session, and its server-side id."""

    identity: Identity
    csrf: str
    session_id: str


def new_session_cookie(key: bytes, token_id: str, session_id: str) -> str:
    """A signed cookie for a new session, with a fresh CSRF token."""
    return sign(
        key,
        {
            "tid": token_id,
            "sid": session_id,
            "csrf": secrets.token_urlsafe(24),
            "exp": time.time() + SESSION_SECONDS,
        },
    )


def new_login_cookie(key: bytes) -> tuple[str, str]:
    """A short-lived pre-sign-in cookie carrying the login form's CSRF value."""
    csrf = secrets.token_urlsafe(24)
    return sign(key, {"login": csrf, "exp": time.time() + 900}), csrf


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    return bool(given) and hmac.compare_digest(expected, given or "")
