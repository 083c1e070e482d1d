"""Sign-in and sign-out: the token is posted once, checked, and replaced by a session cookie.

Sign-in attempts are throttled per client address and per token prefix (token buckets, as the
API's rate limit, ``console_signin_per_minute`` each): guessing from one address, or at one
token from many, gets 429 with ``Retry-After`` before any token is looked up. Signing out ends
the session's row, so the cookie is refused even where a copy of it was kept.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from gateway.console.session import (
    COOKIE,
    LOGIN_COOKIE,
    SESSION_SECONDS,
    Session,
    csrf_matches,
    new_login_cookie,
    new_session_cookie,
    verify,
)
from gateway.console.web import check_csrf, context_of, current_session, render
from gateway.security.console_sessions import end_session, start_session
from gateway.security.identity import Identity
from gateway.security.ratelimit import RateLimiter, retry_after_header
from gateway.security.tokens import TOKEN_PREFIX, identity_for_token
from gateway.services.permissions import Action, may

# How much of a posted token keys its throttle: the public prefix and a few characters more,
# enough to tell tokens apart, never enough to matter if the table were read.
THROTTLED_TOKEN_CHARS = len(TOKEN_PREFIX) + 6

router = APIRouter()


# Where a sign-in without a ``next`` lands: the first of these pages the role may read.
_LANDINGS = (
    (Action.READ_CHANNELS, "/"),
    (Action.READ_MESSAGES, "/messages"),
    (Action.READ_FACTS, "/facts"),
)


def _first_page(identity: Identity) -> str:
    """The channel overview, else the messages, else the facts (a legal officer reads no
    messages): never a page the role would be refused."""
    return next((page for action, page in _LANDINGS if may(identity, action)), "/messages")


def _safe_next(prefix: str, target: str | None) -> str:
    """Only a path inside the console: never an open redirect."""
    if target and target.startswith(prefix + "/") and "//" not in target and "\\" not in target:
        return target
    return prefix + "/"


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=request.app.state.prefix,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _throttles(request: Request) -> tuple[RateLimiter, RateLimiter]:
    """The sign-in buckets of this console (per process), by address and by token prefix."""
    state = request.app.state
    if not hasattr(state, "signin_throttles"):
        per_minute = context_of(request).settings.console_signin_per_minute
        state.signin_throttles = (RateLimiter(per_minute), RateLimiter(per_minute))
    throttles: tuple[RateLimiter, RateLimiter] = state.signin_throttles
    return throttles


def _signin_wait(request: Request, token: str) -> float:
    """Seconds to wait before this attempt may be tried; 0.0 to go ahead.

    The address is charged first; an attempt it refuses does not use the prefix's bucket, so
    one noisy address cannot lock a token out for everyone else.
    """
    by_address, by_prefix = _throttles(request)
    address = request.client.host if request.client else "unknown"
    wait = by_address.acquire(address)
    if wait:
        return wait
    prefix = token.strip()[:THROTTLED_TOKEN_CHARS].encode("utf-8", "replace")
    return by_prefix.acquire(hashlib.sha256(prefix).hexdigest())


def _login_page(request: Request, next_url: str, error: str | None, status: int) -> Response:
    cookie, csrf = new_login_cookie(request.app.state.session_key)
    response = render(
        request,
        "login.html",
        {"title": "Sign in", "csrf": csrf, "next": next_url, "error": error},
        status_code=status,
    )
    _cookie(response, request, LOGIN_COOKIE, cookie, 900)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in page; ``next`` is kept only when it points inside the console."""
    return _login_page(request, _safe_next(request.app.state.prefix, next), None, 200)


@router.post("/login")
async def login(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Sign in with an API token: the cookie names a server-side session, never the token."""
    prefix = request.app.state.prefix
    wait = _signin_wait(request, token)
    if wait:
        response = _login_page(
            request, _safe_next(prefix, next), "Too many sign-in attempts; wait and try again.", 429
        )
        response.headers["Retry-After"] = retry_after_header(wait)
        return response
    pre = verify(request.app.state.session_key, request.cookies.get(LOGIN_COOKIE))
    expected = pre.get("login") if pre else None
    if not isinstance(expected, str) or not csrf_matches(expected, csrf):
        return _login_page(request, _safe_next(prefix, next), "The form expired; try again.", 400)
    context = context_of(request)
    identity = await context.store.read(lambda conn: identity_for_token(conn, token.strip()))
    if identity is None or not may(identity, Action.SIGN_IN):
        # One message for unknown, revoked and non-console tokens alike.
        return _login_page(
            request, _safe_next(prefix, next), "This token cannot sign in to the console.", 401
        )
    session_id = await context.store.write(
        lambda conn: start_session(conn, identity.token_id, lifetime_s=SESSION_SECONDS)
    )
    response = Response(status_code=303)
    landing = _safe_next(prefix, next)
    if landing == prefix + "/":
        landing = prefix + _first_page(identity)
    response.headers["Location"] = landing
    _cookie(
        response,
        request,
        COOKIE,
        new_session_cookie(request.app.state.session_key, identity.token_id, session_id),
        SESSION_SECONDS,
    )
    response.delete_cookie(LOGIN_COOKIE, path=prefix)
    return response


@router.post("/logout")
async def logout(
    request: Request,
    session: Annotated[Session, Depends(current_session)],
    csrf: Annotated[str, Form(max_length=100)],
) -> Response:
    """Sign out: the session is ended on the server, so a copied cookie stops working too."""
    check_csrf(session, csrf)
    await context_of(request).store.write(lambda conn: end_session(conn, session.session_id))
    prefix = request.app.state.prefix
    response = Response(status_code=303)
    response.headers["Location"] = f"{prefix}/login"
    response.delete_cookie(COOKIE, path=prefix)
    return response
