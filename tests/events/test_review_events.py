"""Every change a person makes to a held (or newly held) delivery tells its sender, in the
transaction that makes it, on SQLite and PostgreSQL: a re-drive the day's rules send to review
is ``delivery.held``; an operator's cancel of a held delivery, and a release the rules of its
day refuse, are ``delivery.rejected``; a release that goes out is ``delivery.released``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from gateway.context import GatewayContext
from gateway.security.identity import Identity
from gateway.services.deliveries import DeliveryActions
from gateway.services.facts import FactEdit
from gateway.services.permissions import Role
from tests.api.helpers import auth
from tests.conftest import Tokens
from tests.store.test_facts_workflow import (
    INSTRUMENT,
    SOURCE,
    europol_message,
    give_up,
    legal_token,
    row,
    send,
)


async def told(client: httpx.AsyncClient, tokens: Tokens, delivery_id: str) -> list[Any]:
    """The types and states the sending country was told about one delivery, in order."""
    page = await client.get("/v1/inbox?limit=500", headers=auth(tokens.sender("ME")))
    assert page.status_code == 200, page.text
    return [
        (e["type"], e["data"]["state"])
        for e in page.json()["items"]
        if e["data"].get("delivery_id") == delivery_id
    ]


async def test_a_redrive_that_ends_held_tells_delivery_held(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    legal, _ = legal_token(context)
    await client.post(
        f"/v1/facts/{INSTRUMENT}/ME/confirm", json={"source": SOURCE}, headers=auth(legal)
    )
    sent = await send(client, tokens, europol_message("trafficking_in_human_beings"))
    assert sent["state"] == "queued"
    give_up(context, sent["id"])
    withdrawn = await client.post(
        f"/v1/facts/{INSTRUMENT}/ME/withdraw",
        json={"source": "no source states the agreement now"},
        headers=auth(legal),
    )
    assert withdrawn.status_code == 200, withdrawn.text

    answer = await client.post(
        "/v1/channels/europol/redrive", json={"reason": "back"}, headers=auth(tokens.operator)
    )

    assert answer.json()["held"] == [sent["id"]], answer.text
    assert row(context, sent["id"]).state == "held"
    assert await told(client, tokens, sent["id"]) == [("delivery.held", "held")]


async def test_an_operator_cancel_of_a_held_delivery_tells_delivery_rejected(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    legal, _ = legal_token(context)
    await client.post(
        f"/v1/facts/{INSTRUMENT}/ME/withdraw",
        json={"source": "no source yet states the agreement"},
        headers=auth(legal),
    )
    held = await send(client, tokens, europol_message("trafficking_in_human_beings"))
    second = await send(client, tokens, europol_message("money_laundering"))
    assert (held["state"], second["state"]) == ("held", "held")
    for delivery in (held, second):
        cancelled = await client.post(
            f"/v1/deliveries/{delivery['id']}/cancel",
            json={"reason": "sent by mistake"},
            headers=auth(tokens.operator),
        )
        assert cancelled.status_code == 200, cancelled.text
    for delivery in (held, second):
        assert await told(client, tokens, delivery["id"]) == [
            ("delivery.held", "held"),
            ("delivery.rejected", "cancelled"),
        ]


async def test_a_release_the_day_refuses_tells_delivery_rejected(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    _, officer = legal_token(context)
    ends = datetime.now(UTC).date() + timedelta(days=30)
    await context.facts.set(
        officer,
        INSTRUMENT,
        "ME",
        "agreement in force until its termination takes effect",
        FactEdit(party=True, since=date(2014, 12, 31), until=ends, confirmed=False),
    )
    held = await send(client, tokens, europol_message("trafficking_in_human_beings"))
    release_day = ends + timedelta(days=5)
    at = datetime(release_day.year, release_day.month, release_day.day, 9, tzinfo=UTC)
    later = DeliveryActions(
        context.store, context.settings, clock=lambda: at, reopen_for=context.reopener
    )
    reviewer = Identity(token_id="approver-test", role=Role.APPROVER, label="test approver")

    assert (await later.release(reviewer, held["id"], "reviewed")).state == "blocked"

    assert await told(client, tokens, held["id"]) == [
        ("delivery.held", "held"),
        ("delivery.rejected", "blocked"),
    ]
