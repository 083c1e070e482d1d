"""Inbound limits: a rate limit per token and a deadline per request.

The body size cap lives where the body is read (``body.py``) and the JSON depth cap where it is
parsed (``gateway.schema``); these two need the whole request, so they sit here.

- ``RateLimiter`` (from ``gateway.security.ratelimit``, shared with the console's sign-in): a
  token bucket per API token, in memory and per process (``rate_limit_per_minute``). Several
  API replicas each allow that rate; put a shared limiter in the front proxy if the sum matters.
- ``RequestTimeoutMiddleware``: answers 503 when the app has not started its answer within
  ``request_timeout_s``. An intake write already handed to the store may still commit; the
  sender's retry with the same ``message_id`` then gets the original answer.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.security.ratelimit import RateLimiter, retry_after_header

__all__ = ["RateLimiter", "RequestTimeoutMiddleware", "retry_after_header"]


def _error_body(status: int, code: str, message: str) -> bytes:
    body = {"error": {"status": status, "code": code, "message": message, "violations": []}}
    return json.dumps(body).encode("utf-8")


class RequestTimeoutMiddleware:
    """503 (the stable error shape) for a request whose answer has not begun in time."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 503 when the app has not started its answer within the timeout."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            # Cancels the request in its own task: no extra task per request.
            async with asyncio.timeout(self.timeout_s):
                await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if started:
                # Part of the answer is out; the connection is closed by the server.
                raise
            body = _error_body(503, "timeout", "the request took too long; retry later")
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode("ascii")),
                        (b"retry-after", b"1"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
