"""The console's forms are read only for a signed-in operator, and only up to a small cap.

The same ``BodyGuardMiddleware`` as the API's: a form posted without a live session is sent to
the sign-in page before its body is read; the sign-in form itself (which carries the token) is
only capped.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from gateway.console.web import LoginRequired, current_session, login_redirect, render
from gateway.errors import ErrorKind, GatewayError

# A console form is a CSRF token, a reason or a fact's source and a few fields.
FORM_BYTES = 64 * 1024
# Paths (inside the console) a form may be posted to without a session.
SIGN_IN_PATHS = frozenset({"/login"})


def _console_path(request: Request) -> str:
    path: str = request.scope.get("path", "")
    root: str = request.scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def admit_signed_in(request: Request) -> None:
    """The session of a form's sender, checked (and kept for the route) before the form is read."""
    if _console_path(request) in SIGN_IN_PATHS:
        return
    try:
        request.state.console_session = await current_session(request)
    except LoginRequired:
        raise GatewayError(ErrorKind.UNAUTHENTICATED, "login_required", "sign in first") from None


def form_cap(_: Request) -> int:
    """Every console form has the same small cap."""
    return FORM_BYTES


def refuse_form(request: Request, exc: GatewayError) -> Response:
    """No session: to the sign-in page, as any page does; too large: an error page."""
    if exc.kind is ErrorKind.UNAUTHENTICATED:
        return login_redirect(request)
    return render(request, "error.html", {"title": "Not done", "status": 413}, status_code=413)
