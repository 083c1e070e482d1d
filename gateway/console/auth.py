"""Sign-in and sign-out: the token is posted once, checked, and replaced by a session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from gateway.console.session import (
    CONSOLE_ROLES,
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
from gateway.security.tokens import identity_for_token

router = APIRouter()


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
    return _login_page(request, _safe_next(request.app.state.prefix, next), None, 200)


@router.post("/login")
async def login(
    request: Request,
    token: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    prefix = request.app.state.prefix
    pre = verify(request.app.state.session_key, request.cookies.get(LOGIN_COOKIE))
    expected = pre.get("login") if pre else None
    if not isinstance(expected, str) or not csrf_matches(expected, csrf):
        return _login_page(request, _safe_next(prefix, next), "The form expired; try again.", 400)
    context = context_of(request)
    identity = await context.store.read(lambda conn: identity_for_token(conn, token.strip()))
    if identity is None or identity.role not in CONSOLE_ROLES:
        # One message for unknown, revoked and non-console tokens alike.
        return _login_page(
            request, _safe_next(prefix, next), "This token cannot sign in to the console.", 401
        )
    response = Response(status_code=303)
    response.headers["Location"] = _safe_next(prefix, next)
    _cookie(
        response,
        request,
        COOKIE,
        new_session_cookie(request.app.state.session_key, identity.token_id),
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
    check_csrf(session, csrf)
    prefix = request.app.state.prefix
    response = Response(status_code=303)
    response.headers["Location"] = f"{prefix}/login"
    response.delete_cookie(COOKIE, path=prefix)
    return response
