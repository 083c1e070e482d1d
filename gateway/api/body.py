"""Reading a request body safely: the caller first, then a size cap, then the parse.

FastAPI reads and parses a route's body before its dependencies run, so the checks that must
come first sit in front of the router, in ``BodyGuardMiddleware``. For a request that may carry
a body it

1. admits the caller (``admit``: the API's token, role, rate limit and tenancy, a channel's
   credential, or the console's session) without reading a byte of the body;
2. refuses a declared ``Content-Length`` past the route's cap (``cap_for``) with 413;
3. lets the app read the body through a counter that stops at the cap (413), so a body sent
   without a length, or longer than it said, is never held past the cap either.

An unauthenticated body of any size thus gets 401 from the headers alone; the server reads at
most what its HTTP layer buffers before it answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import ErrorKind, GatewayError

# Methods whose requests FastAPI reads a body for; other requests' bodies are never read.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Admit = Callable[[Request], Awaitable[None]]
CapFor = Callable[[Request], int]
Refuse = Callable[[Request, GatewayError], Response]


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` once the bytes read pass the cap; the app answers 413.

    An HTTP exception, not a ``GatewayError``: FastAPI lets only those through its body
    parsing unchanged."""

    def __init__(self, cap: int) -> None:
        super().__init__(413, f"the body exceeds {cap} bytes")


def too_large(cap: int) -> GatewayError:
    """The refusal of a body past ``cap`` bytes."""
    return GatewayError(ErrorKind.TOO_LARGE, "payload_too_large", f"the body exceeds {cap} bytes")


class BodyGuardMiddleware:
    """Admit, cap, then let the app parse: see the module docstring."""

    def __init__(self, app: ASGIApp, *, admit: Admit, cap_for: CapFor, refuse: Refuse) -> None:
        self.app = app
        self.admit = admit
        self.cap_for = cap_for
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse from the headers when the caller or the declared size is wrong; else serve
        with a counting ``receive``."""
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            await self.admit(request)
            cap = self.cap_for(request)
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > cap:
                raise too_large(cap)
        except GatewayError as exc:
            await self.refuse(request, exc)(scope, receive, send)
            return
        await self.app(scope, _counting(receive, cap), send)


def _counting(receive: Receive, cap: int) -> Receive:
    read = 0

    async def counted() -> Message:
        nonlocal read
        message = await receive()
        if message["type"] == "http.request":
            read += len(message.get("body", b""))
            if read > cap:
                raise BodyTooLarge(cap)
        return message

    return counted


async def read_capped(request: Request, max_bytes: int) -> bytes:
    """The raw body, refused (413) past ``max_bytes`` without holding more than that."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json_body(request: Request, max_bytes: int) -> bytes:
    """The raw body of a JSON request; 415 for another type, 413 past ``max_bytes``."""
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise GatewayError(
            ErrorKind.UNSUPPORTED_MEDIA,
            "unsupported_media_type",
            "send the message as application/json",
        )
    return await read_capped(request, max_bytes)
