"""Inbound limits: rate limit per token (429 + Retry-After), request deadline (503), JSON
depth (422), and the token's last use recorded without slowing requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.api.app import create_app
from gateway.api.limits import RateLimiter, RequestTimeoutMiddleware
from gateway.context import GatewayContext, build_context
from gateway.store.tables import api_tokens
from tests.conftest import Tokens, issue_tokens, make_settings


def test_the_bucket_allows_a_burst_then_refills_at_the_configured_rate() -> None:
    limiter = RateLimiter(per_minute=60)  # one per second
    assert all(limiter.acquire("t", now=100.0) == 0.0 for _ in range(60))
    wait = limiter.acquire("t", now=100.0)
    assert wait == pytest.approx(1.0)
    assert limiter.acquire("other", now=100.0) == 0.0
    assert limiter.acquire("t", now=100.5) == pytest.approx(0.5)
    assert limiter.acquire("t", now=101.1) == 0.0


Limited = tuple[httpx.AsyncClient, Tokens, GatewayContext]


@pytest.fixture
async def limited(
    sqlite_url: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Tokens, GatewayContext]]:
    context = build_context(make_settings(sqlite_url, tmp_path, rate_limit_per_minute=3))
    app = create_app(context)
    tokens = issue_tokens(context.store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http, tokens, context
    await app.state.last_use.drain()
    context.close()


async def test_a_token_past_its_rate_gets_429_with_retry_after(
    limited: Limited,
) -> None:
    http, tokens, _ = limited
    headers = {"Authorization": f"Bearer {tokens.sender('AL')}"}
    statuses = [(await http.get("/v1/messages", headers=headers)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = await http.get("/v1/messages", headers=headers)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    other = await http.get(
        "/v1/messages", headers={"Authorization": f"Bearer {tokens.sender('RS')}"}
    )
    assert other.status_code == 200


async def test_last_use_is_written_once_per_interval(
    limited: Limited,
) -> None:
    http, tokens, context = limited
    headers = {"Authorization": f"Bearer {tokens.auditor}"}

    def last_used() -> object:
        return context.store.read_sync(
            lambda conn: conn.execute(
                select(api_tokens.c.last_used_at).where(api_tokens.c.role == "auditor")
            ).scalar_one()
        )

    assert last_used() is None
    assert (await http.get("/v1/messages", headers=headers)).status_code == 200
    transport = http._transport
    assert isinstance(transport, httpx.ASGITransport)
    recorder = transport.app.state.last_use  # type: ignore[attr-defined]
    await recorder.drain()
    first = last_used()
    assert first is not None
    await asyncio.sleep(0.01)
    assert (await http.get("/v1/messages", headers=headers)).status_code == 200
    await recorder.drain()
    assert last_used() == first  # within the minute: no second write


async def test_a_request_past_the_deadline_gets_503_in_the_error_shape() -> None:
    async def slow(_: Request) -> JSONResponse:
        await asyncio.sleep(5)
        return JSONResponse({"late": True})

    async def fast(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = RequestTimeoutMiddleware(
        Starlette(routes=[Route("/slow", slow), Route("/fast", fast)]), timeout_s=0.2
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/slow")
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "timeout"
        assert (await http.get("/fast")).json() == {"ok": True}


async def test_json_nested_past_the_limit_is_refused(
    client: httpx.AsyncClient, tokens: Tokens, context: GatewayContext
) -> None:
    depth = context.settings.max_json_depth + 5
    body = b'{"a":' * depth + b"1" + b"}" * depth
    response = await client.post(
        "/v1/messages",
        content=body,
        headers={
            "Authorization": f"Bearer {tokens.sender('AL')}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 422
    assert any(v["type"] == "too_deep" for v in response.json()["error"]["violations"])
