"""Signing out ends the session on the server; sign-in is throttled per address and token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from gateway.api.app import create_app
from gateway.config import Settings
from gateway.context import GatewayContext
from gateway.security.tokens import identity_for_token, revoke_token
from gateway.store.tables import console_sessions
from tests.conftest import Tokens, make_settings
from tests.console.signin import csrf_of, sign_in

# Small, so that no attempt's bucket refills (one every 20 s) while a test runs.
LIMIT = 3

Client = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path, console_signin_per_minute=LIMIT)


@pytest.fixture
def app(context: GatewayContext) -> FastAPI:
    return create_app(context)


@pytest.fixture
def client_from(app: FastAPI) -> Client:
    """A browser at a given client address, all talking to the same gateway process."""

    @asynccontextmanager
    async def open_client(address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as c:
            yield c

    return open_client


async def sign_out(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/console/")
    assert page.status_code == 200
    return await client.post("/console/logout", data={"csrf": csrf_of(page.text)})


async def test_a_cookie_replayed_after_sign_out_is_refused(
    client_from: Client, tokens: Tokens, context: GatewayContext
) -> None:
    async with client_from("10.0.0.1") as browser, client_from("10.0.0.2") as elsewhere:
        assert (await sign_in(browser, tokens.operator)).status_code == 303
        assert (await sign_in(elsewhere, tokens.operator)).status_code == 303
        kept = browser.cookies["marri_console"]
        assert (await browser.get("/console/")).status_code == 200

        signed_out = await sign_out(browser)
        assert signed_out.status_code == 303
        assert signed_out.headers["location"] == "/console/login"

        browser.cookies.set("marri_console", kept, path="/console")
        replayed = await browser.get("/console/")
        assert replayed.status_code == 303
        assert replayed.headers["location"].startswith("/console/login")
        # The same token's other session is its own: it stays signed in.
        assert (await elsewhere.get("/console/")).status_code == 200

    ended = context.store.read_sync(
        lambda conn: conn.execute(
            select(func.count()).where(console_sessions.c.ended_at.is_not(None))
        ).scalar_one()
    )
    assert ended == 1


async def test_sessions_still_end_when_their_token_is_revoked(
    client_from: Client, tokens: Tokens, context: GatewayContext
) -> None:
    async with client_from("10.0.0.3") as browser:
        await sign_in(browser, tokens.approver)
        assert (await browser.get("/console/")).status_code == 200
        identity = context.store.read_sync(lambda conn: identity_for_token(conn, tokens.approver))
        assert identity is not None
        context.store.write_sync(lambda conn: revoke_token(conn, identity.token_id))
        assert (await browser.get("/console/")).status_code == 303


async def attempt(client: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await client.get("/console/login")
    return await client.post("/console/login", data={"token": token, "csrf": csrf_of(form.text)})


async def test_sign_in_is_throttled_per_client_address(client_from: Client, tokens: Tokens) -> None:
    async with client_from("192.0.2.7") as guesser, client_from("192.0.2.8") as colleague:
        for n in range(LIMIT):
            assert (await attempt(guesser, f"mgw_guess{n:04d}")).status_code == 401
        throttled = await attempt(guesser, "mgw_guess9999")
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        assert "Too many sign-in attempts" in throttled.text
        # Throttled means throttled: even the right token waits, from that address.
        assert (await attempt(guesser, tokens.operator)).status_code == 429
        # Another address is not held up by it.
        assert (await attempt(colleague, tokens.operator)).status_code == 303


async def test_sign_in_is_throttled_per_token_prefix_across_addresses(
    client_from: Client, tokens: Tokens
) -> None:
    target = tokens.auditor
    statuses = []
    for n in range(LIMIT + 1):
        async with client_from(f"198.51.100.{n + 1}") as browser:
            statuses.append((await attempt(browser, target[:12] + f"wrong{n}")).status_code)
    assert statuses == [401] * LIMIT + [429]
    async with client_from("198.51.100.200") as browser:
        assert (await attempt(browser, target)).status_code == 429
        # Tokens with another prefix go on being checked.
        assert (await attempt(browser, tokens.operator)).status_code == 303
