"""One JSON error shape for every refusal; no stack traces, no submitted values.

This is the only place that knows HTTP statuses: a ``GatewayError`` raised anywhere below
(services, intake, the stores) is answered with the status its kind maps to in ``STATUS``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from gateway.errors import ErrorKind, GatewayError
from gateway.schema import Violation

log = logging.getLogger("gateway.api")

STATUS: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.UNSUPPORTED_MEDIA: 415,
    ErrorKind.UNPROCESSABLE: 422,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.UNAVAILABLE: 503,
}


class HeaderedRefusal(GatewayError):
    """A refusal whose HTTP answer needs headers (``WWW-Authenticate``, ``Retry-After``)."""

    def __init__(self, kind: ErrorKind, code: str, message: str, headers: dict[str, str]) -> None:
        super().__init__(kind, code, message)
        self.headers = headers


def error_response(
    status: int,
    code: str,
    message: str,
    violations: Iterable[Violation] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The one JSON error body every refusal uses, so callers parse a single shape."""
    body: dict[str, Any] = {
        "error": {
            "status": status,
            "code": code,
            "message": message,
            "violations": [
                {"path": v.path, "type": v.type, "message": v.message} for v in violations
            ],
        }
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _loc_to_path(loc: Iterable[Any]) -> str:
    path = "$"
    for part in loc:
        if part in ("body", "query", "path", "header"):
            path = f"{part}:" if path == "$" else path
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def refusal_response(exc: GatewayError) -> JSONResponse:
    """A ``GatewayError`` as its HTTP answer (also for refusals made before routing)."""
    headers = exc.headers if isinstance(exc, HeaderedRefusal) else None
    return error_response(STATUS[exc.kind], exc.code, exc.message, exc.violations, headers)


# Codes for the HTTP errors the framework raises itself (routing, body parsing, the body cap).
HTTP_CODES = {
    400: "invalid_body",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def allowed_methods(request: Request) -> list[str]:
    """Every method the app serves on this path, HEAD with GET.

    A literal route (``/v1/messages/check``) speaks for its path alone, as the route table
    reads it: it is not also one of ``/v1/messages/{message_id}``."""
    path: str = request.scope.get("path", "")
    root: str = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    by_template: dict[str, set[str]] = {}
    for route in iter_route_contexts(request.app.routes):
        if route.path and route.methods and compile_path(route.path)[0].match(path):
            by_template.setdefault(route.path, set()).update(route.methods)
    literal = by_template.get(path)
    methods = literal if literal is not None else set().union(*by_template.values())
    return sorted(methods)


def _method_answer(request: Request) -> JSONResponse | Response:
    """405 with an ``Allow`` naming every method of the path; OPTIONS answers 204 with it."""
    allow = ", ".join([*allowed_methods(request), "OPTIONS"])
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow})
    return error_response(
        405, "method_not_allowed", "this method is not served here", headers={"Allow": allow}
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map every GatewayError and request error to that body, with the status its kind has."""

    @app.exception_handler(GatewayError)
    async def _refusal(_: Request, exc: GatewayError) -> JSONResponse:
        return refusal_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        violations = [
            Violation(_loc_to_path(err.get("loc", ())), str(err.get("type", "invalid")), "invalid")
            for err in exc.errors()
        ]
        return error_response(422, "invalid_request", "the request is not valid", violations)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse | Response:
        if exc.status_code == 405:
            return _method_answer(request)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 400:
            detail = "the body is not valid UTF-8 JSON"
        headers = dict(exc.headers) if exc.headers else None
        return error_response(exc.status_code, code, detail, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # The class name only: exception texts may carry data from the message.
        log.error("unexpected error in request handling: %s", type(exc).__name__)
        return error_response(500, "internal_error", "the gateway could not handle this request")
