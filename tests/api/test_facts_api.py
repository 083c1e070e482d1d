"""The facts routes: who may read and change facts, and a clear answer for every bad request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.context import GatewayContext
from gateway.security.tokens import issue_token
from gateway.services.permissions import PERMISSIONS, Action
from tests.api.helpers import auth
from tests.conftest import Tokens

CONFIRM = "/v1/facts/interpol_members/ME/confirm"
SOURCE = {"source": "https://www.interpol.int/Who-we-are/Member-countries: Montenegro"}


def role_tokens(context: GatewayContext, tokens: Tokens) -> dict[str, str]:
    legal = context.store.write_sync(
        lambda conn: issue_token(conn, role="legal", label="test legal officer")
    ).token
    return {
        "sender": tokens.sender("ME"),
        "operator": tokens.operator,
        "approver": tokens.approver,
        "auditor": tokens.auditor,
        "admin": tokens.admin,
        "legal": legal,
    }


async def test_only_legal_officers_change_facts_and_staff_read_them(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    readers = PERMISSIONS[Action.READ_FACTS].roles
    for role, token in role_tokens(context, tokens).items():
        listed = await client.get("/v1/facts", headers=auth(token))
        assert listed.status_code == (200 if role in readers else 403), (role, listed.text)
        changes: list[tuple[str, str, dict[str, Any]]] = [
            ("POST", CONFIRM, SOURCE),
            ("POST", "/v1/facts/interpol_members/ME/withdraw", SOURCE),
            ("PUT", "/v1/facts/interpol_members/ME", SOURCE),
        ]
        for method, path, body in changes:
            answer = await client.request(method, path, json=body, headers=auth(token))
            expected = 200 if role == "legal" else 403
            assert answer.status_code == expected, (role, method, path, answer.text)
    without = await client.get("/v1/facts")
    assert without.status_code == 401


async def test_listing_shows_the_change_and_who_made_it(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    legal = role_tokens(context, tokens)["legal"]
    changed = await client.put(
        "/v1/facts/interpol_members/ME",
        json={"source": "member list", "since": "2006-09-28", "note": "joined after independence"},
        headers=auth(legal),
    )
    assert changed.status_code == 200, changed.text
    listed = await client.get(
        "/v1/facts", params={"instrument": "interpol_members"}, headers=auth(legal)
    )
    [me] = [f for f in listed.json() if f["country"] == "ME"]
    assert (me["since"], me["confirmed"], me["source"]) == ("2006-09-28", True, "member list")
    assert (me["changed_by"], me["change_seq"]) == ("legal", changed.json()["change_seq"])
    unconfirmed = await client.get("/v1/facts", params={"unconfirmed": "true"}, headers=auth(legal))
    assert all(not f["confirmed"] for f in unconfirmed.json())
    assert not any(
        (f["instrument"], f["country"]) == ("interpol_members", "ME") for f in unconfirmed.json()
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", CONFIRM, {}, 422, "invalid_request"),
        ("POST", CONFIRM, {"source": "   "}, 422, "invalid_request"),
        ("POST", "/v1/facts/no_such_instrument/ME/confirm", SOURCE, 404, "not_found"),
        ("POST", "/v1/facts/interpol_members/me/confirm", SOURCE, 422, "invalid_request"),
        # The instrument does not list the country: confirm has nothing to confirm.
        ("POST", "/v1/facts/interpol_members/FR/confirm", SOURCE, 404, "not_found"),
        (
            "PUT",
            "/v1/facts/interpol_members/FR",
            {**SOURCE, "since": "2020-01-01", "until": "2019-01-01"},
            422,
            "invalid_fact",
        ),
        ("PUT", "/v1/facts/interpol_members/FR", {**SOURCE, "since": "soon"}, 422, None),
        ("GET", "/v1/facts?instrument=no_such_instrument", None, 404, "not_found"),
    ],
)
async def test_bad_requests_get_a_clear_error_and_change_nothing(
    client: httpx.AsyncClient,
    context: GatewayContext,
    tokens: Tokens,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
    code: str | None,
) -> None:
    legal = role_tokens(context, tokens)["legal"]
    before = context.policy.engine_at
    version = context.store.read_sync(lambda conn: before(conn).parties.facts_version)
    answer = await client.request(method, path, json=body, headers=auth(legal))
    assert answer.status_code == status, answer.text
    if code is not None:
        assert answer.json()["error"]["code"] == code
    after = context.store.read_sync(lambda conn: before(conn).parties.facts_version)
    assert after == version
