"""One search box: message id, delivery id, trace id (intake's and an attempt's) and case
reference, within the caller's countries, with the case reference kept only as a keyed hash."""

from __future__ import annotations

from sqlalchemy import select, update

from gateway.store.tables import attempts, messages
from tests.console.signin import csrf_of, sign_in
from tests.telemetry.helpers import message_from, scoped_operator
from tests.telemetry.world import World

REFERENCE = "KTO-214/25"  # the Serbian example's case reference


async def _search(world: World, q: str) -> tuple[int, str, str]:
    """(status, where it led, the page) for the console's search box."""
    page = await world.client.get("/console/messages")
    answer = await world.client.post("/console/search", data={"csrf": csrf_of(page.text), "q": q})
    if answer.status_code == 303:
        return 303, answer.headers["location"], ""
    return answer.status_code, "", answer.text


async def test_each_key_finds_its_message(world: World) -> None:
    body = message_from("rs-cyrillic-case-europol-selec.json")
    answer = await world.submit(body)
    other = await world.submit(message_from("me-early-warning-alert.json"))
    await world.drain()
    message_id = body["message_id"]
    delivery_id = answer["deliveries"][0]["id"]
    attempt_trace = world.context.store.read_sync(
        lambda conn: conn.execute(
            select(attempts.c.trace_id).where(attempts.c.delivery_id == delivery_id)
        ).scalar_one()
    )
    await sign_in(world.client, world.tokens.operator)

    page = f"/console/messages/{message_id}"
    assert await _search(world, message_id.upper()) == (303, page, "")
    assert await _search(world, delivery_id) == (303, f"{page}#d-{delivery_id}", "")
    assert await _search(world, answer["trace_id"]) == (303, page, "")
    # attempts are spans of the message's trace: their trace id names the whole message
    assert attempt_trace == answer["trace_id"]
    # an attempt stored with a trace of its own (as before one trace per message) names its delivery
    own_trace = "0af7651916cd43dd8448eb211c80319c"
    world.context.store.write_sync(
        lambda conn: conn.execute(
            update(attempts).where(attempts.c.delivery_id == delivery_id).values(trace_id=own_trace)
        )
    )
    assert await _search(world, own_trace) == (303, f"{page}#d-{delivery_id}", "")
    # case and spacing of a reference do not matter
    assert await _search(world, REFERENCE) == (303, page, "")
    assert await _search(world, f"  {REFERENCE.lower()} ") == (303, page, "")
    assert other["message_id"] != message_id

    empty = await world.client.get("/console/search")
    assert empty.status_code == 200
    assert "Type a message id" in empty.text

    status, _, text = await _search(world, "KTO-999/99")
    assert status == 404
    assert "Nothing you may see matches" in text
    assert "KTO-999" not in text  # what was typed is not repeated


async def test_the_reference_is_stored_only_as_a_keyed_hash(world: World) -> None:
    body = message_from("rs-cyrillic-case-europol-selec.json")
    await world.submit(body)
    row = world.context.store.read_sync(
        lambda conn: conn.execute(select(messages).where(messages.c.id == body["message_id"])).one()
    )
    assert row.case_ref_hash is not None
    assert len(row.case_ref_hash) == 64
    assert REFERENCE not in str(tuple(row))
    # a plain SHA-256 of the reference is not what is stored: the hash is keyed
    import hashlib

    for text in (REFERENCE, REFERENCE.casefold()):
        assert hashlib.sha256(text.encode()).hexdigest() != row.case_ref_hash


async def test_search_keeps_to_the_callers_countries_in_api_and_console(world: World) -> None:
    body = message_from("rs-cyrillic-case-europol-selec.json")
    await world.submit(body)
    albania_only = scoped_operator(world.context.store, ("AL",))
    for token, found in ((world.tokens.operator, 1), (albania_only, 0)):
        api = await world.client.post(
            "/v1/search", json={"q": REFERENCE}, headers=world.auth(token)
        )
        assert api.status_code == 200
        assert [h["message_id"] for h in api.json()["hits"]] == [body["message_id"]] * found
        await sign_in(world.client, token)
        status, _, _ = await _search(world, body["message_id"])
        assert status == (303 if found else 404)
    legal = await world.client.post(
        "/v1/search", json={"q": REFERENCE}, headers=world.auth(world.tokens.sender("AL"))
    )
    assert legal.json()["hits"] == []  # a sender finds only its own country's messages


async def test_the_list_filters_by_recipient_in_api_and_console(world: World) -> None:
    to_mk = message_from("al-victim-identification-pcc-see.json")
    await world.submit(to_mk)
    elsewhere = message_from("xk-europol-information.json")
    await world.submit(elsewhere)
    await sign_in(world.client, world.tokens.operator)
    for recipient, shown in (("MK", True), ("HU", False)):
        page = await world.client.get("/console/messages", params={"recipient": recipient})
        api = await world.client.get(
            "/v1/messages",
            params={"recipient": recipient},
            headers=world.auth(world.tokens.operator),
        )
        ids = [m["message_id"] for m in api.json()["items"]]
        assert (to_mk["message_id"] in page.text) is shown
        assert elsewhere["message_id"] not in page.text
        assert ids == ([to_mk["message_id"]] if shown else [])
