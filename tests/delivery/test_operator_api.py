"""Operator actions and review over the API, on SQLite and PostgreSQL: roles, scope, state
transitions, audit entries, and the channel overview."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from gateway.config import BreakerPolicy
from gateway.context import GatewayContext
from gateway.delivery.breaker import record_channel_result
from gateway.security.tokens import issue_token
from gateway.store.tables import audit_entries, utcnow
from tests.conftest import Tokens
from tests.delivery._support import add_delivery, delivery_row


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(context: GatewayContext, role: str, **kwargs: Any) -> tuple[str, str]:
    issued = context.store.write_sync(
        lambda conn: issue_token(conn, role=role, label=f"test {role}", **kwargs)
    )
    return issued.token, issued.identity.token_id


def audit_for(context: GatewayContext, subject: str) -> list[Any]:
    return context.store.read_sync(
        lambda conn: conn.execute(
            select(audit_entries).where(audit_entries.c.subject == subject)
        ).all()
    )


def stored(context: GatewayContext, **kwargs: Any) -> str:
    kwargs.setdefault("channel", "interpol")
    return add_delivery(context.store, context.keyring, **kwargs)


def fail(context: GatewayContext, delivery_id: str) -> None:
    from sqlalchemy import update

    from gateway.store.tables import deliveries

    context.store.write_sync(
        lambda conn: conn.execute(
            update(deliveries)
            .where(deliveries.c.id == delivery_id)
            .values(state="failed", attempts=8, next_attempt_at=None)
        )
    )


async def test_retry_moves_a_dead_letter_back_to_the_queue_and_audits_it(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    delivery_id = stored(context)
    fail(context, delivery_id)
    answer = await client.post(
        f"/v1/deliveries/{delivery_id}/retry",
        json={"reason": "destination fixed its certificate"},
        headers=bearer(tokens.operator),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["previous_state"], body["state"]) == ("failed", "queued")
    row = delivery_row(context.store, delivery_id)
    assert (row.state, row.attempts) == ("queued", 0)
    assert row.next_attempt_at <= utcnow()
    [entry] = audit_for(context, f"delivery:{delivery_id}")
    assert (entry.action, entry.reason) == ("delivery.retry", "destination fixed its certificate")
    assert json.loads(entry.details_json)["from"] == "failed"
    again = await client.post(
        f"/v1/deliveries/{delivery_id}/retry", headers=bearer(tokens.operator)
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_state_transition"


async def test_cancel_and_its_refusals(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    delivery_id = stored(context)
    answer = await client.post(
        f"/v1/deliveries/{delivery_id}/cancel", headers=bearer(tokens.operator)
    )
    assert answer.status_code == 200
    assert delivery_row(context.store, delivery_id).state == "cancelled"
    assert (
        await client.post(f"/v1/deliveries/{delivery_id}/cancel", headers=bearer(tokens.operator))
    ).status_code == 409
    sender = await client.post(
        f"/v1/deliveries/{delivery_id}/cancel", headers=bearer(tokens.sender("AL"))
    )
    assert sender.status_code in (403, 404)
    assert delivery_row(context.store, delivery_id).state == "cancelled"


async def test_out_of_scope_operator_gets_404_and_changes_nothing(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    scoped, _ = issue(context, "operator", scope_countries=("RS",))
    delivery_id = stored(context, sender_country="AL")
    fail(context, delivery_id)
    answer = await client.post(f"/v1/deliveries/{delivery_id}/retry", headers=bearer(scoped))
    assert answer.status_code == 404
    assert delivery_row(context.store, delivery_id).state == "failed"
    # The scoped operator's redrive reaches only its own countries' dead letters.
    mine = stored(context, sender_country="RS")
    fail(context, mine)
    unexplained = await client.post("/v1/channels/interpol/redrive", headers=bearer(scoped))
    assert unexplained.status_code == 422  # a bulk re-drive says why
    assert unexplained.json()["error"]["code"] == "reason_required"
    assert delivery_row(context.store, mine).state == "failed"
    redrive = await client.post(
        "/v1/channels/interpol/redrive", json={"reason": "outage over"}, headers=bearer(scoped)
    )
    assert redrive.json() == {"channel": "interpol", "requeued": 1, "held": [], "blocked": []}
    assert delivery_row(context.store, mine).state == "queued"
    assert delivery_row(context.store, delivery_id).state == "failed"
    # Pausing a channel affects every country: not with a scoped token.
    pause = await client.post("/v1/channels/interpol/pause", headers=bearer(scoped))
    assert pause.status_code == 403


async def test_redrive_requeues_every_failed_delivery_of_the_channel(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    failed = [stored(context) for _ in range(3)]
    for delivery_id in failed:
        fail(context, delivery_id)
    other = stored(context, channel="europol")
    fail(context, other)
    answer = await client.post(
        "/v1/channels/interpol/redrive",
        json={"reason": "outage over"},
        headers=bearer(tokens.operator),
    )
    assert answer.status_code == 200
    assert answer.json()["requeued"] == 3
    assert {delivery_row(context.store, i).state for i in failed} == {"queued"}
    assert delivery_row(context.store, other).state == "failed"
    [entry] = audit_for(context, "channel:interpol")
    assert json.loads(entry.details_json)["requeued"] == 3
    unknown = await client.post("/v1/channels/nowhere/redrive", headers=bearer(tokens.operator))
    assert unknown.status_code == 404


async def test_pause_resume_and_channel_overview(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    stored(context)
    fail(context, stored(context))
    context.store.write_sync(
        lambda conn: record_channel_result(
            conn,
            "europol",
            success=False,
            policy=BreakerPolicy(failure_threshold=1, open_s=60),
            now=utcnow(),
        )
    )
    paused = await client.post(
        "/v1/channels/interpol/pause",
        json={"reason": "maintenance"},
        headers=bearer(tokens.operator),
    )
    assert paused.json() == {"channel": "interpol", "paused": True}
    overview = await client.get("/v1/channels", headers=bearer(tokens.operator))
    assert overview.status_code == 200
    channels = {c["channel"]: c for c in overview.json()["channels"]}
    assert channels["interpol"]["paused"] is True
    assert channels["interpol"]["counts"]["queued"] == 1
    assert channels["interpol"]["counts"]["failed"] == 1
    assert channels["interpol"]["oldest_due_age_s"] >= 0
    assert channels["europol"]["breaker_state"] == "open"
    assert channels["europol"]["oldest_due_age_s"] is None
    resumed = await client.post("/v1/channels/interpol/resume", headers=bearer(tokens.operator))
    assert resumed.json()["paused"] is False
    actions = [e.action for e in audit_for(context, "channel:interpol")]
    assert actions == ["channel.pause", "channel.resume"]
    refused = await client.get("/v1/channels", headers=bearer(tokens.sender("AL")))
    assert refused.status_code == 403


async def test_release_needs_an_approver_and_a_reason(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    delivery_id = stored(context, state="held")
    url = f"/v1/deliveries/{delivery_id}/release"
    assert (await client.post(url, headers=bearer(tokens.approver))).status_code == 422
    blank = await client.post(url, json={"reason": "  "}, headers=bearer(tokens.approver))
    assert blank.status_code == 422
    by_operator = await client.post(url, json={"reason": "ok"}, headers=bearer(tokens.operator))
    assert by_operator.status_code == 403
    assert delivery_row(context.store, delivery_id).state == "held"
    answer = await client.post(
        url, json={"reason": "Art. 83 conditions checked"}, headers=bearer(tokens.approver)
    )
    assert answer.status_code == 200, answer.text
    row = delivery_row(context.store, delivery_id)
    assert (row.state, row.review_reason) == ("queued", "Art. 83 conditions checked")
    assert row.review_actor.startswith("approver:")
    assert row.next_attempt_at <= utcnow()
    [entry] = audit_for(context, f"delivery:{delivery_id}")
    assert entry.action == "delivery.release"
    again = await client.post(url, json={"reason": "twice"}, headers=bearer(tokens.approver))
    assert again.status_code == 409


async def test_reject_cancels_and_the_sending_token_cannot_approve(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    approver, approver_id = issue(context, "approver")
    own = stored(context, state="held", token_id=approver_id)
    answer = await client.post(
        f"/v1/deliveries/{own}/release", json={"reason": "mine"}, headers=bearer(approver)
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "same_person"
    assert delivery_row(context.store, own).state == "held"
    other = stored(context, state="held")
    rejected = await client.post(
        f"/v1/deliveries/{other}/reject",
        json={"reason": "no valid warrant"},
        headers=bearer(approver),
    )
    assert rejected.status_code == 200
    assert delivery_row(context.store, other).state == "cancelled"
    assert [e.action for e in audit_for(context, f"delivery:{other}")] == ["delivery.reject"]


@pytest.mark.parametrize("path", ["retry", "cancel", "release", "reject"])
async def test_unknown_delivery_is_404(
    client: httpx.AsyncClient, tokens: Tokens, path: str
) -> None:
    token = tokens.approver if path in ("release", "reject") else tokens.operator
    answer = await client.post(
        f"/v1/deliveries/00000000-0000-4000-8000-000000000000/{path}",
        json={"reason": "x"},
        headers=bearer(token),
    )
    assert answer.status_code == 404


async def test_channel_counts_stay_within_the_operators_scope(
    client: httpx.AsyncClient, context: GatewayContext, tokens: Tokens
) -> None:
    scoped, _ = issue(context, "operator", scope_countries=("RS",))
    stored(context, sender_country="RS")
    for _ in range(3):
        stored(context, sender_country="AL")
    mine = await client.get("/v1/channels", headers=bearer(scoped))
    everyone = await client.get("/v1/channels", headers=bearer(tokens.operator))
    count = {
        name: {c["channel"]: c["counts"]["queued"] for c in answer.json()["channels"]}
        for name, answer in (("mine", mine), ("everyone", everyone))
    }
    assert count["mine"]["interpol"] == 1
    assert count["everyone"]["interpol"] == 4
