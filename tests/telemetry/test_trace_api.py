"""GET /v1/messages/{id}/trace: the timeline, and tenancy exactly as for the message itself."""

from __future__ import annotations

import uuid

from tests.telemetry.helpers import message_from, scoped_operator
from tests.telemetry.world import World


async def test_trace_shows_decisions_payloads_and_actions(world: World) -> None:
    body = message_from("me-early-warning-alert.json")
    answer = await world.submit(body, expect=202)
    held = next(d for d in answer["deliveries"] if d["state"] == "held")
    rejected = await world.client.post(
        f"/v1/deliveries/{held['id']}/reject",
        json={"reason": "no confirmed legal basis for this recipient"},
        headers=world.auth(world.tokens.approver),
    )
    assert rejected.status_code == 200, rejected.text

    view = await world.trace(body["message_id"])
    assert view["trace_id"] == answer["trace_id"]
    by_id = {d["id"]: d for d in view["deliveries"]}
    for sent in answer["deliveries"]:
        shown = by_id[sent["id"]]
        assert shown["decision"]["outcome"] == sent["decision"]["outcome"]
        assert shown["decision"]["findings"] == sent["decision"]["findings"]
        for finding in shown["decision"]["findings"]:
            assert finding["cite"]  # every finding names its instrument and article
        if "payload_sha256" in sent:
            assert shown["payload"]["sha256"] == sent["payload_sha256"]
            assert shown["payload"]["size"] == sent["payload_size"]
    assert by_id[held["id"]]["state"] == "cancelled"
    (action,) = [a for a in view["actions"] if a["action"] == "delivery.reject"]
    assert action["subject"] == f"delivery:{held['id']}"
    assert action["reason"] == "no confirmed legal basis for this recipient"
    assert [e for e in view["events"] if e["type"] == "action" and e["delivery_id"] == held["id"]]
    decisions = [e for e in view["events"] if e["type"] == "decision"]
    assert len(decisions) == len(answer["deliveries"])
    stamps = [e["at"] for e in view["events"]]
    assert stamps == sorted(stamps)


async def test_trace_tenancy_matches_the_message(world: World) -> None:
    body = message_from("me-early-warning-alert.json")
    await world.submit(body)
    path = f"/v1/messages/{body['message_id']}/trace"
    montenegro = scoped_operator(world.context.store, ("ME",))
    serbia = scoped_operator(world.context.store, ("RS", "BA"))

    for token, expected in (
        (world.tokens.sender("ME"), 200),
        (world.tokens.sender("RS"), 404),
        (montenegro, 200),
        (serbia, 404),
        (world.tokens.operator, 200),  # regional: every country
        (world.tokens.auditor, 200),
    ):
        response = await world.client.get(path, headers=world.auth(token))
        assert response.status_code == expected, (token, response.text)
        plain = await world.client.get(
            f"/v1/messages/{body['message_id']}", headers=world.auth(token)
        )
        assert plain.status_code == response.status_code
    hidden = await world.client.get(path, headers=world.auth(serbia))
    missing = await world.client.get(
        f"/v1/messages/{uuid.uuid4()}/trace", headers=world.auth(serbia)
    )
    assert hidden.json() == missing.json()
    assert (await world.client.get(path)).status_code == 401
