"""A hold lifted by a fact change is told as ``delivery.released`` (by the gateway), in the
transaction that queues it; a hold that stays tells nothing new. The example is an alert, so
its events rank first."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from gateway.context import GatewayContext
from gateway.events.outbox import ALERT_RANK
from gateway.store.tables import events
from tests.api.helpers import auth
from tests.conftest import Tokens
from tests.store.test_facts_workflow import (
    INSTRUMENT,
    SOURCE,
    europol_message,
    legal_token,
    send,
)


async def test_a_lifted_hold_is_told_as_released(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    legal, _officer = legal_token(context)
    withdrawn = await client.post(
        f"/v1/facts/{INSTRUMENT}/ME/withdraw", json={"source": "none yet"}, headers=auth(legal)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    lifted = await send(client, tokens, europol_message("trafficking_in_human_beings"))
    kept = await send(client, tokens, europol_message("money_laundering"))
    confirmed = await client.post(
        f"/v1/facts/{INSTRUMENT}/ME/confirm", json={"source": SOURCE}, headers=auth(legal)
    )
    assert confirmed.json()["released"] == [lifted["id"]]

    page = (await client.get("/v1/inbox", headers=auth(tokens.sender("ME")))).json()["items"]
    told = [(e["type"], e["data"]["delivery_id"]) for e in page]
    assert told == [
        ("delivery.held", lifted["id"]),
        ("delivery.held", kept["id"]),
        ("delivery.released", lifted["id"]),
    ]
    assert page[-1]["data"]["released_by"] == "gateway"
    assert page[-1]["data"]["state"] == "queued"
    ranks = context.store.read_sync(
        lambda conn: conn.execute(select(events.c.priority_rank)).scalars().all()
    )
    assert set(ranks) == {ALERT_RANK}
