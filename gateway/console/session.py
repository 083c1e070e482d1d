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
from datetime import timedelta

from sqlalchemy import Connection, delete, select, update

from gateway.security.identity import Identity
from gateway.store.crypto import Keyring
from gateway.store.tables import api_tokens, console_sessions, utcnow

COOKIE = "marri_console"
LOGIN_COOKIE = "marri_console_login"
SESSION_SECONDS = 8 * 3600
CONSOLE_ROLES = ("operator", "approver", "auditor", "admin")


def session_key(keyring: Keyring) -> bytes:
    """A signing key for console cookies, derived from the active storage key (HKDF-like)."""
    material = keyring.keys[keyring.active_id]
    return hmac.new(material, b"marri-console-session-v1", hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, payload: dict[str, object]) -> str:
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
    identity: Identity
    csrf: str
    session_id: str


def new_session_cookie(key: bytes, token_id: str, session_id: str) -> str:
    return sign(
        key,
        {
            "tid": token_id,
            "sid": session_id,
            "csrf": secrets.token_urlsafe(24),
            "exp": time.time() + SESSION_SECONDS,
        },
    )


def _row_id(session_id: str) -> str:
    """What the table keeps: a hash, so its rows alone cannot be turned into cookies."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def start_session(conn: Connection, token_id: str) -> str:
    """Record a new session for the token; returns the id the cookie carries.

    Sessions that have expired are removed here, so the table holds about one row per live
    sign-in.
    """
    now = utcnow()
    conn.execute(delete(console_sessions).where(console_sessions.c.expires_at < now))
    session_id = secrets.token_urlsafe(32)
    conn.execute(
        console_sessions.insert().values(
            id=_row_id(session_id),
            token_id=token_id,
            created_at=now,
            expires_at=now + timedelta(seconds=SESSION_SECONDS),
            ended_at=None,
        )
    )
    return session_id


def end_session(conn: Connection, session_id: str) -> None:
    """Sign out: the session's cookie, and every copy of it, is refused from now on."""
    conn.execute(
        update(console_sessions)
        .where(console_sessions.c.id == _row_id(session_id), console_sessions.c.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def identity_for_session(conn: Connection, session_id: str, token_id: str) -> Identity | None:
    """The identity behind a live session of a live console-capable token; else None."""
    live = conn.execute(
        select(console_sessions.c.id).where(
            console_sessions.c.id == _row_id(session_id),
            console_sessions.c.token_id == token_id,
            console_sessions.c.ended_at.is_(None),
            console_sessions.c.expires_at > utcnow(),
        )
    ).first()
    if live is None:
        return None
    return identity_for_token_id(conn, token_id)


def new_login_cookie(key: bytes) -> tuple[str, str]:
    """A short-lived pre-sign-in cookie carrying the login form's CSRF value."""
    csrf = secrets.token_urlsafe(24)
    return sign(key, {"login": csrf, "exp": time.time() + 900}), csrf


def identity_for_token_id(conn: Connection, token_id: str) -> Identity | None:
    """The identity of a live console-capable token, by id."""
    row = conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
    if row is None or row.revoked_at is not None or row.role not in CONSOLE_ROLES:
        return None
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return Identity(
        token_id=row.id,
        role=row.role,
        label=row.label,
        country=row.country,
        agency=row.agency,
        scope_countries=tuple(json.loads(row.scope_countries)),
    )


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected, given or "")
