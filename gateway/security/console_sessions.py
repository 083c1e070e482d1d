"""Console sessions kept server-side, so that signing out ends a session for good.

The cookie carries a random session id; the table keeps only its hash, with the token, the
expiry and when the session was ended. A session is live while its row is not ended or expired
and its token is live; who may sign in at all is the permission table's ``SIGN_IN`` row, which
the console checks.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Connection, delete, select, update

from gateway.security.identity import Identity
from gateway.security.tokens import identity_for_token_id
from gateway.store.tables import console_sessions, utcnow


def _row_id(session_id: str) -> str:
    """What the table keeps: a hash, so its rows alone cannot be turned into cookies."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def start_session(conn: Connection, token_id: str, *, lifetime_s: float) -> str:
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
            expires_at=now + timedelta(seconds=lifetime_s),
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
    """The identity behind a live session of a live token; else None."""
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
