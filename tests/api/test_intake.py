"""POST /v1/messages: accepted means stored; bad input is refused precisely and stores nothing."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.api.app import create_app
from gateway.context import GatewayContext, build_context
from gateway.store.crypto import message_aad
from gateway.store.tables import deliveries, messages
from tests.api.helpers import auth, dumps, example, row_counts, variant
from tests.conftest import Tokens, example_paths, make_settings

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
async def test_every_example_is_accepted_stored_and_sealed(
    path: Path, client: httpx.AsyncClient, tokens: Tokens, context: GatewayContext
) -> None:
    raw = path.read_bytes()  # noqa: ASYNC240 - a small local fixture file
    data = json.loads(raw)
    response = await client.post(
        "/v1/messages", content=raw, headers=auth(tokens.sender(data["sender"]["country"]))
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["message_id"] == data["message_id"]
    assert {d["channel"] for d in body["deliveries"]} == {
        d["channel"] for d in data["destinations"]
    }
    for delivery in body["deliveries"]:
        expected_state = {"deny": "blocked", "review": "held"}.get(
            delivery["decision"]["outcome"], "queued"
        )
        assert delivery["state"] == expected_state
    assert body["links"]["self"] == f"/v1/messages/{data['message_id']}"

    status = await client.get(
        body["links"]["self"], headers=auth(tokens.sender(data["sender"]["country"]))
    )
    assert status.status_code == 200
    assert {d["id"] for d in status.json()["deliveries"]} == {d["id"] for d in body["deliveries"]}

    row = context.store.read_sync(
        lambda c: c.execute(select(messages).where(messages.c.id == data["message_id"])).one()
    )
    assert data["subject"].encode() not in row.body_ciphertext
    plain = context.keyring.decrypt(
        row.body_key_id, row.body_ciphertext, aad=message_aad(data["message_id"])
    )
    assert plain == raw


def _mutate(change: Callable[[dict[str, Any]], None]) -> bytes:
    data = variant()
    change(data)
    return dumps(data)


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(data: dict[str, Any]) -> None:
        node: Any = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return apply


def _broken_link(data: dict[str, Any]) -> None:
    data["links"] = [{"from": data["persons"][0]["ref"], "to": "nobody-here", "kind": "uses"}]


BAD_INPUT = [
    # (case id, body, content type, status, error code, violation path, violation type)
    (
        "malformed-json",
        b'{"schema": "marri.exchange/1",',
        "application/json",
        422,
        "invalid_message",
        "$",
        "invalid_json",
    ),
    ("not-an-object", b"[1, 2]", "application/json", 422, "invalid_message", "$", None),
    (
        "unknown-top-field",
        _mutate(_set(["colour"], "blue")),
        "application/json",
        422,
        "invalid_message",
        "$.colour",
        "extra_forbidden",
    ),
    (
        "unknown-nested-field",
        _mutate(_set(["persons", 0, "nickname"], "x")),
        "application/json",
        422,
        "invalid_message",
        "$.persons[0].nickname",
        "extra_forbidden",
    ),
    (
        "broken-reference",
        _mutate(_broken_link),
        "application/json",
        422,
        "invalid_message",
        "$.links[0].to",
        "broken_reference",
    ),
    (
        "wrong-crime-area-code",
        _mutate(_set(["crime_areas"], ["piracy"])),
        "application/json",
        422,
        "invalid_message",
        "$.crime_areas[0]",
        None,
    ),
    (
        "wrong-country-code",
        _mutate(_set(["persons", 0, "nationalities"], ["XX"])),
        "application/json",
        422,
        "invalid_message",
        "$.persons[0].nationalities[0]",
        None,
    ),
    (
        "unknown-channel",
        _mutate(_set(["destinations"], [{"channel": "carrier_pigeon"}])),
        "application/json",
        422,
        "invalid_destination",
        "$.destinations[0].channel",
        "unknown_channel",
    ),
    (
        "recipients-missing",
        _mutate(_set(["destinations"], [{"channel": "selec"}])),
        "application/json",
        422,
        "invalid_destination",
        "$.destinations[0].to",
        "missing",
    ),
    (
        "wrong-content-type",
        dumps(variant()),
        "text/plain",
        415,
        "unsupported_media_type",
        None,
        None,
    ),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "path", "vtype"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
async def test_bad_input_is_refused_precisely_and_stores_nothing(
    client: httpx.AsyncClient,
    tokens: Tokens,
    context: GatewayContext,
    body: bytes,
    content_type: str,
    status: int,
    code: str,
    path: str | None,
    vtype: str | None,
) -> None:
    before = row_counts(context.store)
    headers = auth(tokens.sender("AL")) | {"Content-Type": content_type}
    response = await client.post("/v1/messages", content=body, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["status"] == status
    if path is not None:
        matching = [v for v in error["violations"] if v["path"] == path]
        assert matching, error["violations"]
        if vtype is not None:
            assert matching[0]["type"] == vtype
    assert row_counts(context.store) == before


async def test_every_violation_is_listed_not_just_the_first(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    data = variant()
    data["kind"] = "gossip"
    data["priority"] = "whenever"
    data["persons"][0]["role"] = "bystander"
    response = await client.post(
        "/v1/messages", content=dumps(data), headers=auth(tokens.sender("AL"))
    )
    assert response.status_code == 422
    paths = {v["path"] for v in response.json()["error"]["violations"]}
    assert {"$.kind", "$.priority", "$.persons[0].role"} <= paths


async def test_error_texts_do_not_echo_submitted_values(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    data = variant()
    data["persons"][0]["sex"] = "Zorica-Ristovska-Secret"
    data["persons"][0]["names"][0]["nickname"] = "Zorica-Ristovska-Secret"
    response = await client.post(
        "/v1/messages", content=dumps(data), headers=auth(tokens.sender("AL"))
    )
    assert response.status_code == 422
    assert "Zorica" not in response.text


async def test_a_control_character_is_a_422_naming_the_field(
    client: httpx.AsyncClient, tokens: Tokens, context: GatewayContext
) -> None:
    data = variant()
    data["subject"] = "Secret-Subject\u0001with a control character"
    before = row_counts(context.store)
    response = await client.post(
        "/v1/messages", content=dumps(data), headers=auth(tokens.sender("AL"))
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    # The schema refuses it before any channel tries to render it.
    assert error["code"] == "invalid_message"
    assert [(v["path"], v["type"]) for v in error["violations"]] == [
        ("$.subject", "control_character")
    ]
    assert "Secret-Subject" not in response.text
    assert row_counts(context.store) == before


async def test_sender_may_only_send_for_its_own_country(
    client: httpx.AsyncClient, tokens: Tokens, context: GatewayContext
) -> None:
    before = row_counts(context.store)
    response = await client.post(
        "/v1/messages", content=dumps(variant()), headers=auth(tokens.sender("RS"))
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "sender_country_mismatch"
    assert row_counts(context.store) == before


@pytest.mark.parametrize("token_kind", ["none", "unknown", "operator"])
async def test_only_sender_tokens_may_submit(
    client: httpx.AsyncClient, tokens: Tokens, context: GatewayContext, token_kind: str
) -> None:
    headers = {"Content-Type": "application/json"}
    if token_kind == "unknown":
        headers["Authorization"] = "Bearer mgw_not-a-real-token"
    elif token_kind == "operator":
        headers["Authorization"] = f"Bearer {tokens.operator}"
    before = row_counts(context.store)
    response = await client.post("/v1/messages", content=dumps(variant()), headers=headers)
    assert response.status_code == (403 if token_kind == "operator" else 401)
    assert row_counts(context.store) == before


async def test_oversize_body_is_refused_with_413(
    db_url: str, tmp_path: Path, tokens: Tokens
) -> None:
    context = build_context(make_settings(db_url, tmp_path, max_body_bytes=4096))
    try:
        app = create_app(context)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
        ) as http:
            data = variant()
            data["summary"] = "x" * 5000
            before = row_counts(context.store)
            response = await http.post(
                "/v1/messages", content=dumps(data), headers=auth(tokens.sender("AL"))
            )
            assert response.status_code == 413
            assert response.json()["error"]["code"] == "payload_too_large"
            assert row_counts(context.store) == before
    finally:
        context.close()


async def test_repeat_returns_the_original_answer_and_a_changed_repeat_is_409(
    client: httpx.AsyncClient, tokens: Tokens, context: GatewayContext
) -> None:
    data = variant()
    first = await client.post(
        "/v1/messages", content=dumps(data), headers=auth(tokens.sender("AL"))
    )
    assert first.status_code == 202
    # Same content, different key order and spacing: still the same message.
    reordered = json.dumps(dict(reversed(list(data.items()))), indent=2).encode()
    again = await client.post("/v1/messages", content=reordered, headers=auth(tokens.sender("AL")))
    assert again.status_code == 200
    assert again.json() == first.json()
    changed = copy.deepcopy(data)
    changed["subject"] = data["subject"] + " (amended)"
    conflict = await client.post(
        "/v1/messages", content=dumps(changed), headers=auth(tokens.sender("AL"))
    )
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "message_id_conflict"
    count = context.store.read_sync(
        lambda c: len(
            c.execute(select(messages.c.id).where(messages.c.id == data["message_id"])).all()
        )
    )
    assert count == 1


async def test_concurrent_duplicates_store_one_message_and_answer_alike(
    client: httpx.AsyncClient, tokens: Tokens, context: GatewayContext
) -> None:
    data = variant()
    body = dumps(data)
    responses = await asyncio.gather(
        *[
            client.post("/v1/messages", content=body, headers=auth(tokens.sender("AL")))
            for _ in range(8)
        ]
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 7 + [202]
    assert len({json.dumps(r.json(), sort_keys=True) for r in responses}) == 1
    stored = context.store.read_sync(
        lambda c: c.execute(
            select(deliveries.c.id).where(deliveries.c.message_id == data["message_id"])
        ).all()
    )
    assert len(stored) == len(responses[0].json()["deliveries"])


async def test_list_filters_pages_and_keeps_countries_apart(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    sent_al = []
    for _ in range(5):
        data = variant()
        response = await client.post(
            "/v1/messages", content=dumps(data), headers=auth(tokens.sender("AL"))
        )
        assert response.status_code == 202
        sent_al.append(data["message_id"])
    other = example("rs-cyrillic-case-europol-selec.json")
    response = await client.post(
        "/v1/messages", content=dumps(other), headers=auth(tokens.sender("RS"))
    )
    assert response.status_code == 202

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await client.get("/v1/messages", params=params, headers=auth(tokens.sender("AL")))
        assert page.status_code == 200
        seen += [item["message_id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(sent_al)  # all of AL's, none of RS's, no repeats

    regional = await client.get(
        "/v1/messages", params={"channel": "europol"}, headers=auth(tokens.operator)
    )
    assert [i["message_id"] for i in regional.json()["items"]] == [other["message_id"]]
    hidden = await client.get(
        f"/v1/messages/{other['message_id']}", headers=auth(tokens.sender("AL"))
    )
    assert hidden.status_code == 404
    bad = await client.get(
        "/v1/messages", params={"cursor": "not-a-cursor"}, headers=auth(tokens.operator)
    )
    assert bad.status_code == 400


async def test_schema_is_published(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/schema")
    assert response.status_code == 200
    schema = response.json()
    assert "message_id" in schema["properties"]
    assert "message_id" in schema["required"]
    openapi = (await client.get("/openapi.json")).json()
    body = openapi["paths"]["/v1/messages"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"] == "#/components/schemas/CanonicalMessage"
    assert openapi["components"]["schemas"]["CanonicalMessage"]["properties"].keys() == (
        schema["properties"].keys()
    )
