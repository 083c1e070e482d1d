"""reply.received: an answer matched to a message is told to the sending country in the
transaction that stores it, with where to fetch it and none of its content; an unmatched
answer tells nobody; a repeat of the answer tells nothing new."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from tests.api.helpers import auth
from tests.conftest import Tokens, make_settings
from tests.exchange.test_inbound_endpoint import (
    CREDENTIAL,
    INBOUND,
    channel_auth,
    reply_to,
    sent_message,
)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    channels = {"pcc_see": {"url": "http://127.0.0.1:9/", "inbound_token": CREDENTIAL}}
    return make_settings(db_url, tmp_path, channels=channels, worker_enabled=False)


async def test_a_matched_reply_is_told_to_its_sender(
    client: httpx.AsyncClient, context: Any, tokens: Tokens
) -> None:
    accepted = await sent_message(client, tokens)
    message_id = accepted["message_id"]
    _, body = reply_to(context, message_id)
    first = await client.post(INBOUND, content=body, headers=channel_auth())
    assert first.status_code == 202, first.text
    again = await client.post(INBOUND, content=body, headers=channel_auth())
    assert again.status_code == 200
    _, stray = reply_to(context, None)
    assert (await client.post(INBOUND, content=stray, headers=channel_auth())).json()[
        "status"
    ] == "unmatched"

    page = (await client.get("/v1/inbox", headers=auth(tokens.sender("AL")))).json()["items"]
    replies = [e for e in page if e["type"] == "reply.received"]
    assert len(replies) == 1
    data = replies[0]["data"]
    assert data["message_id"] == message_id
    assert data["href"] == f"/v1/messages/{message_id}/replies"
    assert data["channel"] == "pcc_see"
    assert data["delivery_id"] == accepted["deliveries"][0]["id"]
    fetched = await client.get(data["href"], headers=auth(tokens.sender("AL")))
    assert fetched.status_code == 200
    assert data["reply_id"] in fetched.text
    assert "Петровић" not in str(replies[0])  # the reply's content stays behind the href
    for country in ("MK", "BA"):
        other = await client.get("/v1/inbox", headers=auth(tokens.sender(country)))
        assert [e for e in other.json()["items"] if e["type"] == "reply.received"] == []
