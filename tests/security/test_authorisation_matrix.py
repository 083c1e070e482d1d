"""Every endpoint, every role, in and out of scope: allowed, 401, 403 or 404, and never
another country's data. Routes are enumerated from the app, so new endpoints are covered."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount, Route

from gateway.api.app import create_app
from gateway.context import GatewayContext
from gateway.security.policy_table import (
    PUBLIC_DOC_PATHS,
    ROUTE_POLICIES,
    SELF_AUTHENTICATING_MOUNTS,
    RoutePolicy,
    policy_for,
)
from gateway.security.tokens import issue_token
from tests.api.helpers import dumps, example, variant
from tests.conftest import Tokens


@dataclass(frozen=True)
class Caller:
    name: str
    token: str | None
    role: str | None
    sees_al: bool  # may this caller see a message sent by Albania?
    regional: bool = False  # does it see every country?


def api_routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """(method, path template, route) for every endpoint the app serves."""
    found: list[tuple[str, str, Any]] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        for method in sorted(context.methods or {"*"}):
            if method == "HEAD":
                continue
            found.append((method, context.path, route))
    return found


def test_every_route_has_a_row_in_the_authorisation_table(context: GatewayContext) -> None:
    app = create_app(context)
    missing = []
    for method, path, route in api_routes(app):
        if isinstance(route, APIRoute):
            if policy_for(method, path) is None:
                missing.append(f"{method} {path}")
        elif isinstance(route, Mount):
            if path not in SELF_AUTHENTICATING_MOUNTS:
                missing.append(f"mount {path}")
        elif isinstance(route, Route):
            if path not in PUBLIC_DOC_PATHS:
                missing.append(f"{method} {path}")
        else:
            missing.append(f"{type(route).__name__} {path}")
    assert missing == [], "add these to gateway/security/policy_table.py"
    served = {(m, p) for m, p, r in api_routes(app) if isinstance(r, APIRoute)}
    stale = sorted(f"{m} {p}" for m, p in ROUTE_POLICIES if (m, p) not in served)
    assert stale == [], "rows for endpoints the app does not serve"


async def test_a_route_without_a_row_is_refused_for_every_role(
    context: GatewayContext, tokens: Tokens
) -> None:
    app = create_app(context)

    @app.get("/v1/not-in-the-table")
    async def unlisted() -> dict[str, str]:
        return {"secret": "x"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        for token in (tokens.admin, tokens.operator, tokens.sender("AL"), tokens.auditor):
            response = await http.get(
                "/v1/not-in-the-table", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 403
            assert "secret" not in response.text


async def _callers(context: GatewayContext, tokens: Tokens) -> list[Caller]:
    def issue(role: str, scope: tuple[str, ...]) -> str:
        return context.store.write_sync(
            lambda conn: issue_token(conn, role=role, label=f"matrix {role}", scope_countries=scope)
        ).token

    return [
        Caller("anonymous", None, None, False),
        Caller("sender-AL", tokens.sender("AL"), "sender", True),
        Caller("sender-RS", tokens.sender("RS"), "sender", False),
        Caller("operator-regional", tokens.operator, "operator", True, regional=True),
        Caller("operator-AL", issue("operator", ("AL",)), "operator", True),
        Caller("operator-RS", issue("operator", ("RS", "ME")), "operator", False),
        Caller("approver-regional", tokens.approver, "approver", True, regional=True),
        Caller("approver-BA", issue("approver", ("BA",)), "approver", False),
        Caller("auditor", tokens.auditor, "auditor", True, regional=True),
        Caller("admin", tokens.admin, "admin", True, regional=True),
    ]


def _concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), "x"), path)


async def test_role_and_scope_matrix(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    message = variant("al-victim-identification-pcc-see.json")
    accepted = await client.post(
        "/v1/messages",
        content=dumps(message),
        headers={
            "Authorization": f"Bearer {tokens.sender('AL')}",
            "Content-Type": "application/json",
        },
    )
    assert accepted.status_code == 202, accepted.text
    ids = {
        "message_id": accepted.json()["message_id"],
        "delivery_id": accepted.json()["deliveries"][0]["id"],
        "channel": "pcc_see",
    }
    app = create_app(context)
    callers = await _callers(context, tokens)
    checked = 0
    for method, template, route in api_routes(app):
        if not isinstance(route, APIRoute):
            continue
        policy: RoutePolicy | None = policy_for(method, template)
        assert policy is not None
        url = _concrete(template, ids)
        for caller in callers:
            headers = {"Content-Type": "application/json"}
            if caller.token:
                headers["Authorization"] = f"Bearer {caller.token}"
            body = (
                dumps(variant("al-victim-identification-pcc-see.json"))
                if method == "POST"
                else None
            )
            response = await client.request(method, url, headers=headers, content=body)
            checked += 1
            where = f"{method} {template} as {caller.name}: {response.status_code}"
            assert response.status_code < 500, where
            code = _error_code(response)
            if policy.public:
                assert response.status_code not in (401, 403), where
                continue
            if policy.scope == "channel":
                # Only the channel's own credential opens it: no API token does.
                assert response.status_code == 401, where
                assert code in ("inbound_not_configured", "bad_channel_credential"), where
                continue
            if caller.token is None:
                assert response.status_code == 401, where
                continue
            if caller.role not in policy.roles:
                assert response.status_code == 403, where
                assert code == "forbidden", where
                continue
            if policy.scope == "regional" and not caller.regional:
                assert response.status_code == 403, where
                continue
            assert code not in ("unauthenticated", "forbidden"), where
            if policy.scope in ("message", "delivery"):
                if caller.sees_al:
                    # Actions may answer 409 (wrong state) or 422; never "not found".
                    assert response.status_code != 404, where
                    if method == "GET":
                        assert response.status_code == 200, where
                        assert ids[f"{policy.scope}_id"] in response.text, where
                else:
                    assert response.status_code == 404, where
                    assert ids["message_id"] not in response.text, where
                    assert ids["delivery_id"] not in response.text, where
            if policy.scope == "filtered" and response.status_code == 200:
                _assert_only_visible(response.json(), caller, ids["message_id"], where)
    assert checked >= len(callers) * 10


def _error_code(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        code = data["error"].get("code")
        return code if isinstance(code, str) else None
    return None


def _assert_only_visible(data: Any, caller: Caller, message_id: str, where: str) -> None:
    text = str(data)
    if caller.sees_al:
        return
    assert message_id not in text, where


async def test_lists_never_show_another_countrys_messages(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    sent: dict[str, str] = {}
    for name in ("al-victim-identification-pcc-see.json", "rs-cyrillic-case-europol-selec.json"):
        data = variant(name)
        country = data["sender"]["country"]
        response = await client.post(
            "/v1/messages",
            content=dumps(data),
            headers={
                "Authorization": f"Bearer {tokens.sender(country)}",
                "Content-Type": "application/json",
            },
        )
        assert response.status_code == 202, response.text
        sent[country] = data["message_id"]
    for country, own in sent.items():
        listing = await client.get(
            "/v1/messages", headers={"Authorization": f"Bearer {tokens.sender(country)}"}
        )
        assert listing.status_code == 200
        ids = {item["message_id"] for item in listing.json()["items"]}
        assert ids == {own}
        for other_country, other in sent.items():
            if other_country != country:
                one = await client.get(
                    f"/v1/messages/{other}",
                    headers={"Authorization": f"Bearer {tokens.sender(country)}"},
                )
                assert one.status_code == 404
    assert example()["sender"]["country"] == "AL"
