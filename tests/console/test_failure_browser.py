"""Real headless Chromium: a failed delivery's page shows what the destination said, its own
error code and text, scrubbed of what was sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from simulators import Fault
from tests.console.test_browser import chromium, running, sign_in, wait_state
from tests.telemetry.helpers import message_from
from tests.telemetry.world import World

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if not Path("/usr/bin/chromium").exists():
    pytestmark.append(pytest.mark.skip(reason="no Chromium"))


async def test_the_failed_delivery_page_shows_the_destinations_error(world: World) -> None:
    body = message_from("al-yellow-notice-request.json")
    family = body["persons"][0]["names"][0]["family"]
    world.sims.simulator("interpol").inject(
        Fault(
            "status",
            status=422,
            code="WARRANT_UNVERIFIED",
            text=f"warrant reference check failed for {family}",
        )
    )
    answer = await world.submit(body)
    await world.release_held(answer)
    async with running(world) as base:
        await wait_state(world, body["message_id"], "interpol", "failed")
        async with chromium() as browser:
            page = await browser.new_page()
            await sign_in(page, base, world.tokens.operator)
            await page.goto(f"{base}/console/messages/{body['message_id']}")
            said = page.get_by_test_id("remote-interpol-1")
            await expect(said).to_have_text(
                "WARRANT_UNVERIFIED · warrant reference check failed for […]"
            )
            assert family not in await page.content()
