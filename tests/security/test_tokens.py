"""Token lifecycle: expiry and revocation shut a token out (API and certificate mapping alike);
``token list`` shows status and last use, never the token or its hash."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import typer
from sqlalchemy import update

from gateway.cli import security_cmd, token_cmd
from gateway.context import GatewayContext
from gateway.security.tokens import (
    hash_token,
    identity_for_token,
    identity_for_token_id,
    issue_token,
    revoke_token,
)
from gateway.store.engine import Store
from gateway.store.tables import api_tokens, utcnow
from tests.security.cli import run


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    yield store
    store.close()


def test_expired_and_revoked_tokens_stand_for_nobody(store: Store) -> None:
    live = store.write_sync(lambda c: issue_token(c, role="auditor", label="live"))
    expired = store.write_sync(
        lambda c: issue_token(
            c, role="auditor", label="old", expires_at=utcnow() - timedelta(seconds=1)
        )
    )
    revoked = store.write_sync(lambda c: issue_token(c, role="auditor", label="gone"))
    assert store.write_sync(lambda c: revoke_token(c, revoked.identity.token_id))
    assert not store.write_sync(lambda c: revoke_token(c, revoked.identity.token_id))
    for issued, alive in ((live, True), (expired, False), (revoked, False)):
        by_text = store.read_sync(lambda c, t=issued.token: identity_for_token(c, t))
        by_id = store.read_sync(lambda c, i=issued.identity.token_id: identity_for_token_id(c, i))
        assert (by_text is not None) is alive
        assert (by_id is not None) is alive


async def test_a_revoked_token_is_refused_once_the_cache_expires(
    client: httpx.AsyncClient, context: GatewayContext
) -> None:
    issued = context.store.write_sync(lambda c: issue_token(c, role="auditor", label="t"))
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert (await client.get("/v1/audit", headers=headers)).status_code == 200
    context.store.write_sync(lambda c: revoke_token(c, issued.identity.token_id))
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    transport.app.state.token_cache.clear()  # type: ignore[attr-defined]
    refused = await client.get("/v1/audit", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthenticated"


def test_token_list_shows_status_and_last_use_but_no_secret(
    store: Store, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = store.write_sync(lambda c: issue_token(c, role="operator", label="duty desk"))
    gone = store.write_sync(
        lambda c: issue_token(c, role="sender", label="old", country="ME", agency="Uprava policije")
    )
    store.write_sync(lambda c: revoke_token(c, gone.identity.token_id))
    store.write_sync(
        lambda c: c.execute(
            update(api_tokens)
            .where(api_tokens.c.id == live.identity.token_id)
            .values(last_used_at=utcnow())
        )
    )

    def register(app: typer.Typer) -> None:
        token_cmd.register(app)
        security_cmd.register(app)

    result = run(register, ["token", "list"], monkeypatch, db_url=db_url)
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.strip()}
    assert "live" in lines[live.identity.token_id]
    assert "never" not in lines[live.identity.token_id]
    assert "revoked" in lines[gone.identity.token_id]
    assert "ME" in lines[gone.identity.token_id]
    for issued in (live, gone):
        assert issued.token not in result.output
        assert hash_token(issued.token) not in result.output
