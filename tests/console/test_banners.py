"""Banners come only from the server's own signed flash, and a bad address answers the
console's own error page, never the framework's JSON repeating what was sent."""

from __future__ import annotations

import httpx

from gateway.console.flash import FLASH_COOKIE
from tests.console.signin import banner, csrf_of, sign_in
from tests.telemetry.helpers import message_from
from tests.telemetry.world import World

WORDS = "Your account is locked, call +000 to unlock"


async def test_text_in_the_url_is_never_shown_as_a_banner(world: World) -> None:
    body = message_from("me-early-warning-alert.json")
    await world.submit(body)
    await sign_in(world.client, world.tokens.operator)
    for path in ("/console/", f"/console/messages/{body['message_id']}", "/console/messages"):
        for key in ("notice", "problem"):
            page = await world.client.get(path, params={key: WORDS})
            assert page.status_code == 200
            assert "Your account is locked" not in page.text
            assert 'role="alert"' not in page.text
            assert 'role="status"' not in page.text


async def test_a_forged_flash_cookie_is_ignored_and_a_real_one_shows_once(world: World) -> None:
    await sign_in(world.client, world.tokens.operator)
    world.client.cookies.set(FLASH_COOKIE, "eyJmbGFzaCI6WyJub3RpY2UiXX0.forged", path="/console")
    page = await world.client.get("/console/")
    assert "data-flash" not in page.text
    world.client.cookies.delete(FLASH_COOKIE, path="/console")

    overview = await world.client.get("/console/")
    paused = await world.client.post(
        "/console/channels/selec/pause", data={"csrf": csrf_of(overview.text)}
    )
    assert paused.headers["location"] == "/console/"
    assert await banner(world.client, paused) == ("notice", "paused", "")
    again = await world.client.get("/console/")
    assert "data-flash" not in again.text  # shown once, then cleared


async def _bad(client: httpx.AsyncClient, path: str, status: int) -> str:
    page = await client.get(path)
    assert page.status_code == status, path
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>" in page.text
    return page.text


async def test_a_bad_id_gives_the_consoles_own_error_page(world: World) -> None:
    await sign_in(world.client, world.tokens.operator)
    odd = "not-a-uuid-<i>hello"
    text = await _bad(world.client, f"/console/messages/{odd}", 400)
    assert "Not understood" in text
    assert "hello" not in text
    assert "not-a-uuid" not in text
    text = await _bad(world.client, f"/console/deliveries/{odd}/payload", 400)
    assert "hello" not in text
    text = await _bad(world.client, "/console/no/such/page", 404)
    assert "Not found" in text
