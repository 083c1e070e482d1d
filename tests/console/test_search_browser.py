"""Real headless Chromium: the search box in the header finds a message by each key an
operator may hold, and a value that names nothing gets the console's own answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from gateway.store.tables import attempts
from tests.console.test_browser import (
    LAPTOP,
    chromium,
    pytestmark,  # noqa: F401  (browser and slow marks; skipped without Chromium)
    running,
    screenshots,  # noqa: F401  (fixture)
    sign_in,
    wait_state,
)
from tests.telemetry.helpers import message_from
from tests.telemetry.world import World, world_on


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(sqlite_url, tmp_path) as w:
        yield w


async def find(page: Page, text: str) -> None:
    box = page.get_by_role("search", name="Find a message")
    await box.get_by_label("Message id, delivery id, trace id or case reference").fill(text)
    await box.get_by_role("button", name="Find").click()


async def test_the_search_box_finds_a_message_by_each_key(
    world: World,
    screenshots: Path,  # noqa: F811
) -> None:
    body = message_from("rs-cyrillic-case-europol-selec.json")
    answer = await world.submit(body)
    await world.submit(message_from("me-early-warning-alert.json"))
    message_id = body["message_id"]
    delivery = answer["deliveries"][0]
    async with running(world) as base, chromium() as browser:
        await wait_state(world, message_id, delivery["channel"], "delivered")
        attempt_trace = world.context.store.read_sync(
            lambda conn: conn.execute(
                select(attempts.c.trace_id).where(attempts.c.delivery_id == delivery["id"])
            ).scalar_one()
        )
        assert attempt_trace == answer["trace_id"]  # one trace per message, attempts included
        page = await browser.new_page(viewport=LAPTOP)
        await sign_in(page, base, world.tokens.operator)
        keys = {
            "message id": message_id,
            "delivery id": delivery["id"],
            "trace id": answer["trace_id"],
            "case reference": "kto-214/25",
        }
        for key, text in keys.items():
            await page.goto(f"{base}/console/")
            await find(page, text)
            heading = page.get_by_role("heading", name=f"Message {message_id}")
            await expect(heading, key).to_be_visible()
            if key == "delivery id":
                assert page.url.endswith(f"#d-{delivery['id']}"), key

        await find(page, "KTO-000/00")
        await expect(page.get_by_role("heading", name="Search")).to_be_visible()
        await expect(page.get_by_test_id("no-match")).to_contain_text("Nothing you may see")
        assert "KTO-000" not in await page.content()
        assert "KTO-000" not in page.url
        await page.screenshot(path=str(screenshots / "console-search.png"))

        # a bad id in an address gets the console's own page
        response = await page.goto(f"{base}/console/messages/not-an-id")
        assert response is not None
        assert response.status == 400
        await expect(page.get_by_role("heading", name="Not understood")).to_be_visible()
