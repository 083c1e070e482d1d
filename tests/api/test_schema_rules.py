"""GET /v1/schema/rules: public, this gateway's channels, and true to what the API answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.context import GatewayContext
from tests.api.helpers import auth, dumps, variant
from tests.conftest import Tokens, make_settings

pytestmark = pytest.mark.asyncio

MAX_BODY = 200_000


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path, max_body_bytes=MAX_BODY)


async def _rules(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await client.get("/v1/schema/rules")  # no token: public like /v1/schema
    assert response.status_code == 200
    body = response.json()
    assert body["schema"] == "marri.exchange/1"
    return {rule["id"]: rule for rule in body["rules"]}


async def test_the_rules_name_this_gateways_channels(
    client: httpx.AsyncClient, context: GatewayContext
) -> None:
    rules = await _rules(client)
    names = context.registry.names()
    assert rules["channel_registered"]["values"] == {"channels": names}
    products = rules["product_offered"]["values"]["products"]
    assert products == {n: list(context.registry.get(n).products) for n in names}
    needing = [n for n in names if context.registry.get(n).needs_recipients]
    assert rules["recipients_given"]["values"] == {"channels": needing}
    assert rules["body_size"]["values"] == {"max_body_bytes": MAX_BODY}
    assert all(
        set(rule) >= {"error", "status", "violation", "path", "description"}
        for rule in rules.values()
    )


def _arabic_name() -> bytes:
    data = variant()
    data["persons"][0]["names"] = [{"given": "\u0645\u062d\u0645\u062f", "script": "Arab"}]
    return dumps(data)


def _path_regex(pattern: str) -> str:
    regex = re.escape(pattern).replace(r"\[\*\]", r"\[\d+\]")
    return regex.replace(re.escape("<path>"), ".*")


async def _refusal(client: httpx.AsyncClient, tokens: Tokens, rule_id: str) -> httpx.Response:
    """Make the API refuse a message the way ``rule_id`` says."""
    headers = auth(tokens.sender("AL"))
    if rule_id == "json_media_type":
        headers["Content-Type"] = "text/plain"
        return await client.post("/v1/messages", content=dumps(variant()), headers=headers)
    if rule_id == "body_size":
        data = variant(summary="x" * MAX_BODY)
        return await client.post("/v1/messages", content=dumps(data), headers=headers)
    if rule_id == "sender_is_the_token":
        headers = auth(tokens.sender("RS"))
        return await client.post("/v1/messages", content=dumps(variant()), headers=headers)
    if rule_id == "renderable":
        return await client.post("/v1/messages", content=_arabic_name(), headers=headers)
    if rule_id == "channel_registered":
        data = variant(destinations=[{"channel": "carrier_pigeon"}])
        return await client.post("/v1/messages", content=dumps(data), headers=headers)
    assert rule_id == "message_id_once"
    first = variant()
    accepted = await client.post("/v1/messages", content=dumps(first), headers=headers)
    assert accepted.status_code == 202
    changed = {**first, "subject": "Another subject"}
    return await client.post("/v1/messages", content=dumps(changed), headers=headers)


@pytest.mark.parametrize(
    "rule_id",
    [
        "json_media_type",
        "body_size",
        "sender_is_the_token",
        "renderable",
        "message_id_once",
        "channel_registered",
    ],
)
async def test_each_rule_is_what_the_api_answers(
    client: httpx.AsyncClient, tokens: Tokens, rule_id: str
) -> None:
    rule = (await _rules(client))[rule_id]
    response = await _refusal(client, tokens, rule_id)
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (rule["status"], rule["error"])
    if rule["violation"] is not None:
        matching = [
            v
            for v in error["violations"]
            if v["type"] == rule["violation"] and re.fullmatch(_path_regex(rule["path"]), v["path"])
        ]
        assert matching, error["violations"]
