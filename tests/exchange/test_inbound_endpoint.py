"""The push endpoint: only the channel's credential, bad bodies refused and not stored, unmatched
answers kept and listed, idempotency on the channel's message id, codes kept raw when unmapped."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from adapters.inbound import InboundMessage
from gateway.config import Settings
from gateway.retention import purge_due
from gateway.store.tables import inbound_messages, utcnow
from simulators import build_simulator
from simulators._answers import AnswerPlan, default_answer
from simulators._base import InboxEntry
from tests.api.helpers import auth, dumps, variant
from tests.conftest import Tokens, make_settings

CREDENTIAL = "pcc-see-channel-secret"
INBOUND = "/v1/channels/pcc_see/inbound"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    channels = {
        "pcc_see": {"url": "http://127.0.0.1:9/", "inbound_token": CREDENTIAL},
        "europol": {"url": "http://127.0.0.1:9/", "inbound_token": "europol-secret"},
    }
    return make_settings(db_url, tmp_path, channels=channels, worker_enabled=False)


def stored_answers(context: Any) -> int:
    count: int = context.store.read_sync(
        lambda conn: conn.execute(select(func.count()).select_from(inbound_messages)).scalar_one()
    )
    return count


async def sent_message(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    """The base example (AL to pcc_see, MK) accepted by intake; its 202 body."""
    answer = await client.post(
        "/v1/messages", content=dumps(variant()), headers=auth(tokens.sender("AL"))
    )
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    return body


def reply_to(context: Any, message_id: str | None, **options: str) -> tuple[InboundMessage, bytes]:
    """The pcc_see simulator's reply to ``message_id`` and its bytes."""
    simulator = build_simulator(context.registry.get("pcc_see"))
    payload = f"<MessageId>{message_id}</MessageId>" if message_id else "<x/>"
    entry = InboxEntry("PCC_SEE-REF", f"{message_id}:pcc_see:MK", None, None, {}, payload)
    answer = default_answer(simulator, entry, AnswerPlan(options=options))
    if message_id is not None:
        answer = replace(answer, in_reply_to=message_id)
    body, _ = simulator.answer_payload(answer)
    return answer, body


def channel_auth(credential: str = CREDENTIAL) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}", "Content-Type": "application/xml"}


async def test_a_pushed_answer_is_stored_correlated_and_idempotent(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    accepted = await sent_message(client, tokens)
    _, body = reply_to(context, accepted["message_id"])
    first = await client.post(INBOUND, content=body, headers=channel_auth())
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "matched"
    assert first.json()["delivery_id"] == accepted["deliveries"][0]["id"]
    again = await client.post(INBOUND, content=body, headers=channel_auth())
    assert again.status_code == 200
    assert again.json() == first.json()
    changed = body.replace(b"One person in your message", b"Two persons in your message")
    conflict = await client.post(INBOUND, content=changed, headers=channel_auth())
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "channel_message_id_conflict"
    assert stored_answers(context) == 1


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "bad_channel_credential"),
        ({"Authorization": "Bearer not-the-credential"}, "bad_channel_credential"),
        # The europol channel's credential does not open the pcc_see endpoint.
        ({"Authorization": "Bearer europol-secret"}, "bad_channel_credential"),
    ],
)
async def test_without_the_channels_own_credential_nothing_is_stored(
    client: httpx.AsyncClient, context: Any, tokens: Tokens, headers: dict[str, str], code: str
) -> None:
    accepted = await sent_message(client, tokens)
    _, body = reply_to(context, accepted["message_id"])
    answer = await client.post(
        INBOUND, content=body, headers={"Content-Type": "application/xml", **headers}
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == code
    assert stored_answers(context) == 0


async def test_a_senders_api_token_is_refused_on_the_inbound_endpoint(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    accepted = await sent_message(client, tokens)
    _, body = reply_to(context, accepted["message_id"])
    answer = await client.post(
        INBOUND,
        content=body,
        headers={**auth(tokens.sender("MK")), "Content-Type": "application/xml"},
    )
    assert answer.status_code == 401
    assert stored_answers(context) == 0


async def test_bad_bodies_get_a_clear_error_and_are_not_stored(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    accepted = await sent_message(client, tokens)
    _, good = reply_to(context, accepted["message_id"])
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + good.split(b"?>", 1)[1]
    no_subject = good.replace(b"<Subject>", b"<Sbj>").replace(b"</Subject>", b"</Sbj>")
    cases = [
        (good[: len(good) // 2], 400, "inbound_malformed"),
        (doctype, 400, "inbound_malformed"),
        (no_subject, 422, "inbound_schema_invalid"),
        (b"<Other xmlns='urn:x'/>", 422, "inbound_schema_invalid"),
        (good + b" " * 1_048_576, 413, "payload_too_large"),
    ]
    for body, status, code in cases:
        answer = await client.post(INBOUND, content=body, headers=channel_auth())
        assert answer.status_code == status, (code, answer.text)
        error = answer.json()["error"]
        assert error["code"] == code
        # The refusal names rules and paths, never what the answer said.
        assert "Петровић" not in answer.text
        assert "One person" not in answer.text
    schema_failure = await client.post(INBOUND, content=no_subject, headers=channel_auth())
    assert schema_failure.json()["error"]["violations"]
    wrong_type = await client.post(
        INBOUND, content=good, headers={**channel_auth(), "Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    assert stored_answers(context) == 0


async def test_only_push_channels_have_an_inbound_endpoint(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    for path in ("/v1/channels/interpol/inbound", "/v1/channels/nosuch/inbound"):
        answer = await client.post(path, content=b"<x/>", headers=channel_auth())
        assert answer.status_code == 404, path
    assert stored_answers(context) == 0


async def test_an_answer_matching_nothing_is_kept_flagged_and_listed(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    stray = str(uuid.uuid4())
    _, body = reply_to(context, stray, reference="PCC_SEE-UNKNOWN")
    answer = await client.post(INBOUND, content=body, headers=channel_auth())
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "unmatched"
    assert answer.json()["message_id"] is None
    listed = await client.get("/v1/inbound/unmatched", headers=auth(tokens.operator))
    assert listed.status_code == 200
    (row,) = listed.json()
    assert row["inbound_id"] == answer.json()["inbound_id"]
    assert row["in_reply_to"] == stray
    assert row["channel_reference"] == "PCC_SEE-UNKNOWN"
    senders = await client.get("/v1/inbound/unmatched", headers=auth(tokens.sender("AL")))
    assert senders.status_code == 403


async def test_a_code_without_a_canonical_value_is_kept_raw_and_flagged(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    accepted = await sent_message(client, tokens)
    _, body = reply_to(context, accepted["message_id"], sex="Q")
    answer = await client.post(INBOUND, content=body, headers=channel_auth())
    assert answer.status_code == 202, answer.text
    assert answer.json()["unmapped_codes"] == 1
    found = await client.get(
        f"/v1/messages/{accepted['message_id']}/replies", headers=auth(tokens.sender("AL"))
    )
    (reply,) = found.json()["replies"]
    assert reply["unmapped"] == [
        {
            "path": "$.persons[0].sex",
            "list": "sex",
            "value": "Q",
            "reason": "no canonical code maps to it",
        }
    ]
    (person,) = reply["reply"]["persons"]
    assert "sex" not in person
    # The rest of the person still came back mapped.
    assert person["nationalities"] == ["RS"]


async def test_a_reply_is_seen_by_its_senders_country_only(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    accepted = await sent_message(client, tokens)
    _, body = reply_to(context, accepted["message_id"])
    assert (await client.post(INBOUND, content=body, headers=channel_auth())).status_code == 202
    path = f"/v1/messages/{accepted['message_id']}/replies"
    own = await client.get(path, headers=auth(tokens.sender("AL")))
    assert own.status_code == 200
    assert len(own.json()["replies"]) == 1
    other = await client.get(path, headers=auth(tokens.sender("MK")))
    assert other.status_code == 404
    assert "Петровић" not in other.text


async def test_the_answer_is_sealed_at_rest(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    accepted = await sent_message(client, tokens)
    _, body = reply_to(context, accepted["message_id"])
    assert (await client.post(INBOUND, content=body, headers=channel_auth())).status_code == 202
    row = context.store.read_sync(lambda conn: conn.execute(select(inbound_messages)).one())
    stored = json.dumps([str(v) for v in row]).encode() + row.body_ciphertext + row.reply_ciphertext
    for plain in ("Петровић".encode(), b"Jovan", b"One person"):
        assert plain not in stored


async def test_answers_are_erased_with_the_message_they_answer(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    accepted = await sent_message(client, tokens)
    _, body = reply_to(context, accepted["message_id"])
    assert (await client.post(INBOUND, content=body, headers=channel_auth())).status_code == 202
    # Past the sender's retention_until: the message, and so its answers, must go.
    later = utcnow() + timedelta(days=3650)
    result = purge_due(context.store, now=later, days=1)
    assert accepted["message_id"] in result.purged
    row = context.store.read_sync(lambda conn: conn.execute(select(inbound_messages)).one())
    assert row.body_ciphertext is None
    assert row.reply_ciphertext is None
    assert row.channel_message_id  # what arrived, and when, stays provable
    found = await client.get(
        f"/v1/messages/{accepted['message_id']}/replies", headers=auth(tokens.sender("AL"))
    )
    (reply,) = found.json()["replies"]
    assert reply["reply"] is None
