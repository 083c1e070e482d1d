"""Inbound limits: a rate limit per token and a deadline per request.

The body size cap lives where the body is read (``body.py``) and the JSON depth cap where it is
parsed (``gateway.schema``); these two need the whole request, so they sit here.

- ``RateLimiter``: a token bucket per API token, in memory and per process
  (``rate_limit_per_minute``). Several API replicas each allow that rate; put a shared limiter in
  the front proxy if the sum matters.
- ``RequestTimeoutMiddleware``: answers 503 when the app has not started its answer within
  ``request_timeout_s``. An intake write already handed to the store may still commit; the
  sender's retry with the same ``message_id`` then gets the original answer.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by token id: ``per_minute`` requests, bursts up to the same number."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(max(per_minute, 1))
        self.refill_per_s = self.capacity / 60.0
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, key: str, *, now: float | None = None) -> float:
        """Take one request from ``key``'s bucket: 0.0 when allowed, else seconds to wait."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        bucket.tokens = min(
            self.capacity, bucket.tokens + (now - bucket.updated) * self.refill_per_s
        )
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.refill_per_s


def retry_after_header(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))


def _error_body(status: int, code: str, message: str) -> bytes:
    body = {"error": {"status": status, "code": code, "message": message, "violations": []}}
    return json.dumps(body).encode("utf-8")


class RequestTimeoutMiddleware:
    """503 (the stable error shape) for a request whose answer has not begun in time."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
