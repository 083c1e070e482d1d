"""Subscriptions and the inbox through the API, on SQLite and PostgreSQL: tenancy, clear
refusals, held deliveries told in intake's own transaction, and a cursor that resumes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from gateway.events.outbox import EventType, record_event
from gateway.store.tables import utcnow
from tests.api.helpers import auth, dumps, example
from tests.conftest import Tokens, example_paths


async def test_subscriptions_belong_to_the_sender_agency(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    al, ba = auth(tokens.sender("AL")), auth(tokens.sender("BA"))
    # A public address literal: accepted without asking DNS (test_egress.py covers names).
    body = {"url": "https://93.184.215.14/hook", "event_types": ["delivery.delivered"]}
    created = await client.post("/v1/subscriptions", json=body, headers=al)
    assert created.status_code == 201, created.text
    made = created.json()
    assert made["secret"].startswith("whsec_")
    assert made["country"] == "AL"

    listed = (await client.get("/v1/subscriptions", headers=al)).json()["items"]
    assert [s["id"] for s in listed] == [made["id"]]
    assert "secret" not in listed[0]
    assert (await client.get("/v1/subscriptions", headers=ba)).json()["items"] == []
    other = await client.delete(f"/v1/subscriptions/{made['id']}", headers=ba)
    assert other.status_code == 404
    staff = await client.get("/v1/subscriptions", headers=auth(tokens.operator))
    assert staff.status_code == 403

    refused = [
        {**body, "url": "ftp://93.184.215.14/hook"},
        {**body, "event_types": ["delivery.sent"]},
        {**body, "event_types": []},
        {**body, "secret": "whsec_tooshort"},
        {**body, "colour": "blue"},
    ]
    for bad in refused:
        answer = await client.post("/v1/subscriptions", json=bad, headers=al)
        assert answer.status_code == 422, (bad, answer.text)

    own = await client.post(
        "/v1/subscriptions", json={**body, "secret": "whsec_" + "A" * 44}, headers=al
    )
    assert own.json()["secret"] == "whsec_" + "A" * 44
    assert (await client.delete(f"/v1/subscriptions/{made['id']}", headers=al)).status_code == 204
    left = (await client.get("/v1/subscriptions", headers=al)).json()["items"]
    assert [s["id"] for s in left] == [own.json()["id"]]


async def test_held_deliveries_are_told_in_the_inbox(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    held: dict[str, set[str]] = {}
    for path in example_paths():
        data = example(path.name)
        data["message_id"] = str(uuid.uuid4())
        country = data["sender"]["country"]
        answer = await client.post(
            "/v1/messages", content=dumps(data), headers=auth(tokens.sender(country))
        )
        assert answer.status_code == 202, answer.text
        for delivery in answer.json()["deliveries"]:
            if delivery["state"] == "held":
                held.setdefault(country, set()).add(delivery["id"])
    assert held, "the examples should include a delivery held for review"
    for country in ("AL", "BA", "MK", "ME", "RS", "XK"):
        page = await client.get("/v1/inbox", headers=auth(tokens.sender(country)))
        assert page.status_code == 200
        items = page.json()["items"]
        assert {e["type"] for e in items} <= {"delivery.held"}
        assert {e["data"]["delivery_id"] for e in items} == held.get(country, set())
        for event in items:
            assert event["data"]["findings"], "a held delivery says which rules held it"
            assert set(event["data"]["findings"][0]) == {"rule", "cite", "outcome"}


def _record(context: Any, country: str, index: int) -> str:
    return context.store.write_sync(  # type: ignore[no-any-return]
        lambda conn: record_event(
            conn,
            type=EventType.DELIVERY_DELIVERED,
            country=country,
            agency=f"Test agency {country}",
            message_id=None,
            rank=3,
            data={"n": index},
            now=utcnow(),
        )
    )


async def test_inbox_cursor_reads_in_order_and_resumes(
    client: httpx.AsyncClient, tokens: Tokens, context: Any, settings: Any
) -> None:
    written: dict[str, list[str]] = {"AL": [], "BA": []}
    for index in range(11):
        country = "AL" if index % 3 else "BA"
        written[country].append(_record(context, country, index))

    al = auth(tokens.sender("AL"))
    seen: list[str] = []
    cursor = "0"
    for _ in range(10):
        page = (await client.get(f"/v1/inbox?after={cursor}&limit=3", headers=al)).json()
        if not page["items"]:
            assert page["next_cursor"] == cursor
            break
        seen += [e["id"] for e in page["items"]]
        sequence = [int(e["sequence"]) for e in page["items"]]
        assert sequence == sorted(sequence)
        assert sequence[0] > int(cursor)
        cursor = page["next_cursor"]
    assert seen == written["AL"]
    ba = (await client.get("/v1/inbox", headers=auth(tokens.sender("BA")))).json()["items"]
    assert [e["id"] for e in ba] == written["BA"]

    # A fresh process on the same store continues from the same cursor.
    from gateway.api.app import create_app
    from gateway.context import build_context

    later = _record(context, "AL", 99)
    restarted = build_context(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(restarted))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as http:
            page = (await http.get(f"/v1/inbox?after={cursor}", headers=al)).json()
    finally:
        restarted.close()
    assert [e["id"] for e in page["items"]] == [later]

    for bad in ("-1", "abc", "1" * 19):
        answer = await client.get(f"/v1/inbox?after={bad}", headers=al)
        assert answer.status_code == 422
    assert (await client.get("/v1/inbox", headers=auth(tokens.operator))).status_code == 403


async def test_release_and_reject_are_told_with_the_review(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    held: list[tuple[str, str]] = []
    for path in example_paths():
        for _ in range(2):
            data = example(path.name)
            data["message_id"] = str(uuid.uuid4())
            country = data["sender"]["country"]
            answer = await client.post(
                "/v1/messages", content=dumps(data), headers=auth(tokens.sender(country))
            )
            held += [
                (country, d["id"]) for d in answer.json()["deliveries"] if d["state"] == "held"
            ]
    assert len(held) >= 2
    released, rejected = held[0][1], held[-1][1]
    approver = auth(tokens.approver)
    for verb, delivery_id in (("release", released), ("reject", rejected)):
        answer = await client.post(
            f"/v1/deliveries/{delivery_id}/{verb}", json={"reason": "checked"}, headers=approver
        )
        assert answer.status_code == 200, answer.text
    # A refused action changes nothing and tells nothing.
    again = await client.post(
        f"/v1/deliveries/{released}/release", json={"reason": "twice"}, headers=approver
    )
    assert again.status_code == 409
    told: list[dict[str, Any]] = []
    for c in {c for c, _ in held}:
        page = await client.get("/v1/inbox?limit=500", headers=auth(tokens.sender(c)))
        told += page.json()["items"]
    reviews = [(e["type"], e["data"]["delivery_id"], e["data"]["state"]) for e in told]
    reviews = [r for r in reviews if r[0] != "delivery.held"]
    # Each country's inbox is in order; across countries only the set is defined.
    assert sorted(reviews) == [
        ("delivery.rejected", rejected, "cancelled"),
        ("delivery.released", released, "queued"),
    ]


async def test_a_subscription_hears_of_what_its_token_sent_whatever_agency_it_names(
    client: httpx.AsyncClient, tokens: Tokens, context: Any
) -> None:
    """Subscriptions belong to the token's agency; a national hub's token may send for a unit
    that names itself differently (the examples' agencies are not the test tokens')."""
    from sqlalchemy import select

    from gateway.store.tables import events, notifications

    body = {"url": "https://93.184.215.14/hook", "event_types": ["delivery.held"]}
    subscribed: dict[str, str] = {}
    held: dict[str, int] = {}
    for path in example_paths():
        data = example(path.name)
        country = data["sender"]["country"]
        assert not data["sender"]["agency"].startswith("Test agency")
        if country not in subscribed:
            made = await client.post(
                "/v1/subscriptions", json=body, headers=auth(tokens.sender(country))
            )
            assert made.status_code == 201, made.text
            subscribed[country] = made.json()["id"]
        data["message_id"] = str(uuid.uuid4())
        answer = await client.post(
            "/v1/messages", content=dumps(data), headers=auth(tokens.sender(country))
        )
        assert answer.status_code == 202, answer.text
        states = [d["state"] for d in answer.json()["deliveries"]]
        held[country] = held.get(country, 0) + states.count("held")
    assert sum(held.values()) > 0, "the examples should include a delivery held for review"

    def told(conn: Any) -> dict[str, int]:
        rows = conn.execute(
            select(notifications.c.subscription_id, events.c.agency).join(
                events, events.c.seq == notifications.c.event_seq
            )
        ).all()
        assert {r.agency for r in rows} <= {f"Test agency {c}" for c in subscribed}
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.subscription_id] = counts.get(row.subscription_id, 0) + 1
        return counts

    counts = context.store.read_sync(told)
    for country, subscription_id in subscribed.items():
        assert counts.get(subscription_id, 0) == held[country], country
