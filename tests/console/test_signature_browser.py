"""Real headless Chromium: the console's message page says who signed a signed message, and
that an unsigned one is not signed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from tests.console.test_browser import (
    LAPTOP,
    chromium,
    pytestmark,  # noqa: F401  (browser and slow marks; skipped without Chromium)
    running,
    sign_in,
)
from tests.security.signing import HEADER, register
from tests.telemetry.helpers import message_from
from tests.telemetry.world import World, world_on


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(sqlite_url, tmp_path) as w:
        yield w


async def _submit_signed(world: World, message: dict[str, Any], signature: str | None) -> None:
    body = json.dumps(message).encode()
    headers = {
        **world.auth(world.tokens.sender("ME")),
        "Content-Type": "application/json",
        **({HEADER: signature} if signature else {}),
    }
    response = await world.client.post("/v1/messages", content=body, headers=headers)
    assert response.status_code == 202, response.text


async def test_the_message_page_shows_who_signed_it(world: World) -> None:
    signed = message_from("me-early-warning-alert.json")
    agency = signed["sender"]["agency"]
    key = register(world.context, "ME", agency, kid="mup-2027-01", alg="EdDSA")
    await _submit_signed(world, signed, key.sign(json.dumps(signed).encode()))
    unsigned = message_from("me-early-warning-alert.json")
    await _submit_signed(world, unsigned, None)

    async with running(world) as base, chromium() as browser:
        page = await browser.new_page(viewport=LAPTOP)
        await sign_in(page, base, world.tokens.operator)
        await page.goto(f"{base}/console/messages/{signed['message_id']}")
        shown = page.get_by_test_id("signature")
        await expect(shown).to_contain_text(f"signed by ME · {agency} key mup-2027-01 (EdDSA)")
        await page.goto(f"{base}/console/messages/{unsigned['message_id']}")
        await expect(page.get_by_test_id("signature")).to_have_text("not signed")
