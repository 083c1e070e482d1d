"""Shared plumbing of the console: templates, the signed-in session, CSRF checks, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from gateway.console import flash
from gateway.console.session import COOKIE, Session, csrf_matches, verify
from gateway.console.sparkline import sparkline
from gateway.context import GatewayContext
from gateway.security.console_sessions import identity_for_session
from gateway.services.permissions import Action, may

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

STATE_LABELS = {
    "queued": "Queued",
    "sending": "Sending",
    "retry_wait": "Retrying",
    "delivered": "Delivered",
    "failed": "Failed (dead letter)",
    "unknown": "Outcome unknown",
    "cancelled": "Cancelled",
    "blocked": "Blocked by policy",
    "held": "Held for review",
    "in_progress": "In progress",
    "partial": "Partly delivered",
}


def _when(value: object) -> Markup | str:
    """A moment as ``<time>``: UTC in the page, the browser's zone once ``local-time.js`` ran,
    with UTC kept on hover."""
    if value is None:
        return "—"
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    stamp = stamp.astimezone(UTC)
    utc = stamp.strftime("%Y-%m-%d %H:%M:%S UTC")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        stamp.isoformat().replace("+00:00", "Z"), utc, utc
    )


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


templates.env.filters["when"] = _when
templates.env.filters["age"] = _age
templates.env.globals["spark"] = sparkline
templates.env.filters["combine_cursor"] = lambda query, cursor: {**query, "cursor": cursor}
templates.env.filters["combine_before"] = lambda query, seq: {**query, "before": seq}
SHORT_LABELS = {
    "retry_wait": "Retrying",
    "unknown": "Unknown",
    "failed": "Failed",
    "blocked": "Blocked",
}
templates.env.globals["short_label"] = lambda s: SHORT_LABELS.get(
    str(s), STATE_LABELS.get(str(s), str(s))
)
templates.env.globals["state_label"] = lambda s: STATE_LABELS.get(str(s), str(s))
templates.env.globals["can"] = lambda identity, action: may(identity, Action(action))


class LoginRequired(Exception):
    """No valid session: the handler answers with a redirect to the sign-in page."""


class NotFound(Exception):
    """Unknown, or outside the operator's countries: both answer the same 404 page."""


class Forbidden(Exception):
    """Signed in, but this role may not do this (or the CSRF check failed)."""


def context_of(request: Request) -> GatewayContext:
    """The process context the app was built with."""
    context: GatewayContext = request.app.state.context
    return context


async def current_session(request: Request) -> Session:
    """The signed-in operator; raises LoginRequired when the cookie is missing or stale.

    A form's session was checked before its body was read (``guard.admit_signed_in``)."""
    admitted = getattr(request.state, "console_session", None)
    if isinstance(admitted, Session):
        return admitted
    payload = verify(request.app.state.session_key, request.cookies.get(COOKIE))
    token_id = payload.get("tid") if payload else None
    session_id = payload.get("sid") if payload else None
    csrf = payload.get("csrf") if payload else None
    if not (isinstance(token_id, str) and isinstance(session_id, str) and isinstance(csrf, str)):
        raise LoginRequired
    context = context_of(request)
    identity = await context.store.read(
        lambda conn: identity_for_session(conn, session_id, token_id)
    )
    if identity is None or not may(identity, Action.SIGN_IN):
        raise LoginRequired
    return Session(identity=identity, csrf=csrf, session_id=session_id)


def check_csrf(session: Session, given: str | None) -> None:
    """Refuse a form whose CSRF token is not the session's."""
    if not csrf_matches(session.csrf, given):
        raise Forbidden


def render(
    request: Request,
    name: str,
    values: dict[str, Any],
    *,
    session: Session | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page from the templates, with the session's role and CSRF token when signed in."""
    banner = flash.taken(request)
    values = {"session": session, "prefix": request.app.state.prefix, "flash": banner, **values}
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if banner is not None:
        flash.clear(request, response)
    return response


def login_redirect(request: Request) -> Response:
    """Send to the sign-in page, coming back here after."""
    prefix = request.app.state.prefix
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = Response(status_code=303)
    response.headers["Location"] = f"{prefix}/login?next={quote(target, safe='')}"
    return response
