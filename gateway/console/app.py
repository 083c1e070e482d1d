"""The operator console: a server-rendered application mounted under ``/console``.

It signs operators in with their token (kept nowhere but the form post), then works only with a
signed session cookie; every change is a POST form carrying a CSRF token, and each calls the
same services as the API, audited the same way.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.api.body import BodyGuardMiddleware
from gateway.console import actions, audit, auth, facts, inbound, pages, redrive, search
from gateway.console.guard import admit_signed_in, form_cap, refuse_form
from gateway.console.session import SESSION_KEY_PURPOSE
from gateway.console.web import HERE, Forbidden, LoginRequired, NotFound, login_redirect, render
from gateway.context import GatewayContext
from gateway.errors import ErrorKind, GatewayError
from gateway.security.keys import derived_key
from gateway.telemetry.setup import FRAMEWORK_TELEMETRY

PREFIX = "/console"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
        "img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def create_console(context: GatewayContext, *, prefix: str = PREFIX) -> FastAPI:
    """The console as its own application (mount it at ``prefix``)."""
    console = FastAPI(
        docs_url=None, redoc_url=None, openapi_url=None, telemetry=FRAMEWORK_TELEMETRY
    )
    console.state.context = context
    console.state.prefix = prefix
    console.state.session_key = derived_key(context.keyring, SESSION_KEY_PURPOSE)
    console.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for router in (
        auth.router,
        pages.router,
        search.router,
        redrive.router,
        audit.router,
        actions.router,
        inbound.router,
        facts.router,
    ):
        console.include_router(router)

    console.add_middleware(
        BodyGuardMiddleware, admit=admit_signed_in, cap_for=form_cap, refuse=refuse_form
    )

    @console.middleware("http")
    async def _headers(request: Request, call_next: object) -> Response:
        response: Response = await call_next(request)  # type: ignore[operator]
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    _install_error_pages(console)
    return console


def _install_error_pages(console: FastAPI) -> None:
    """Every refusal and error answers one of the console's own pages, never the framework's
    JSON (which would repeat the input it could not read)."""

    @console.exception_handler(LoginRequired)
    async def _login(request: Request, _: LoginRequired) -> Response:
        return login_redirect(request)

    @console.exception_handler(NotFound)
    async def _not_found(request: Request, _: NotFound) -> HTMLResponse:
        return render(request, "error.html", {"title": "Not found", "status": 404}, status_code=404)

    @console.exception_handler(GatewayError)
    async def _refused(request: Request, exc: GatewayError) -> HTMLResponse:
        # Pages: another country's message is simply not there; a role refusal is a 403.
        if exc.kind is ErrorKind.NOT_FOUND:
            return await _not_found(request, NotFound())
        if exc.kind is ErrorKind.FORBIDDEN:
            return await _forbidden(request, Forbidden())
        return render(request, "error.html", {"title": "Not done", "status": 400}, status_code=400)

    @console.exception_handler(RequestValidationError)
    async def _not_understood(request: Request, _: RequestValidationError) -> HTMLResponse:
        # The console's own page, which never repeats what was sent (no JSON echo of input).
        values = {"title": "Not understood", "status": 400}
        return render(request, "error.html", values, status_code=400)

    @console.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        if exc.status_code == 404:
            return await _not_found(request, NotFound())
        values = {"title": "Not understood", "status": 400}
        return render(request, "error.html", values, status_code=exc.status_code)

    @console.exception_handler(Forbidden)
    async def _forbidden(request: Request, _: Forbidden) -> HTMLResponse:
        return render(
            request, "error.html", {"title": "Not allowed", "status": 403}, status_code=403
        )
