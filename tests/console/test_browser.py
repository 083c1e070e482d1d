"""Real headless Chromium against the gateway on a real port: an operator finds a failed
delivery, re-drives it and sees it delivered; a scoped operator cannot open another country's
message. With MARRI_UPDATE_SCREENSHOTS=1 the run also refreshes the screenshots in docs/img/
(otherwise they go to the test's temporary folder)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from gateway.api.app import create_app
from simulators import Fault
from tests.conftest import ROOT
from tests.telemetry.helpers import message_from, scoped_operator
from tests.telemetry.world import LiveServer, World, world_on

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DOCS_IMG = ROOT / "docs" / "img"
LAPTOP = {"width": 1366, "height": 860}

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"browser tests need Chromium at {CHROMIUM}")
    pytestmark.append(pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}"))


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(sqlite_url, tmp_path) as w:
        yield w


@asynccontextmanager
async def running(world: World) -> AsyncIterator[str]:
    """The gateway on a real port with its delivery worker running."""
    task = asyncio.create_task(world.worker.run(grace_s=2))
    try:
        with LiveServer(create_app(world.context)) as server:
            yield server.url
    finally:
        world.worker.stop()
        await task


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in(page: Page, base: str, token: str) -> None:
    await page.goto(f"{base}/console/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("Token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Channels")).to_be_visible()


async def wait_state(world: World, message_id: str, channel: str, state: str) -> None:
    for _ in range(200):
        view = await world.trace(message_id)
        if any(d["channel"] == channel and d["state"] == state for d in view["deliveries"]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{channel} never reached {state}")


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = DOCS_IMG if os.environ.get("MARRI_UPDATE_SCREENSHOTS") == "1" else tmp_path / "img"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_operator_redrives_a_dead_letter_and_sees_it_delivered(
    world: World, screenshots: Path
) -> None:
    failing = message_from("xk-europol-information.json")
    world.sims.simulator("frontex").inject(Fault("status", status=400))
    for example in ("me-early-warning-alert.json", "rs-cyrillic-case-europol-selec.json"):
        await world.submit(message_from(example))
    async with running(world) as base, chromium() as browser:
        await world.submit(failing)
        await wait_state(world, failing["message_id"], "frontex", "failed")
        page = await browser.new_page(viewport=LAPTOP)
        await page.goto(f"{base}/console/login")
        await page.screenshot(path=str(screenshots / "console-login.png"))
        await sign_in(page, base, world.tokens.operator)
        # keyboard: the first Tab stop is the skip link, and it is visible when focused
        await page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        await expect(skip).to_be_focused()
        await expect(skip).to_be_in_viewport()
        await page.keyboard.press("Enter")
        await expect(page.locator("main")).to_be_focused()

        # find the dead letter from the overview
        await page.get_by_role("link", name="1 Failed (dead letter) on frontex").click()
        await expect(page.get_by_role("heading", name="Messages")).to_be_visible()
        await expect(page.get_by_label("Channel")).to_have_value("frontex")
        await expect(page.get_by_label("Delivery state")).to_have_value("failed")
        await page.screenshot(path=str(screenshots / "console-messages.png"))
        await page.get_by_role("link", name=failing["message_id"]).click()
        await expect(page.get_by_test_id("state-frontex")).to_have_text("Failed (dead letter)")

        # re-drive it with the keyboard: reason field, then the button
        reason = page.get_by_label("Reason to redrive the frontex delivery")
        await reason.focus()
        await page.keyboard.type("destination fixed its schema check")
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("button", name="Re-drive frontex")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_contain_text("Done: redrive")

        for _ in range(100):
            if await page.get_by_test_id("state-frontex").inner_text() == "Delivered":
                break
            await asyncio.sleep(0.1)
            await page.reload()
        await expect(page.get_by_test_id("state-frontex")).to_have_text("Delivered")
        trace_id = (await world.trace(failing["message_id"]))["trace_id"]
        await expect(page.get_by_test_id("trace-id")).to_have_text(trace_id)
        timeline = page.locator("ol.timeline")
        await expect(timeline).to_contain_text("PermanentError")
        await expect(timeline).to_contain_text("delivery.redrive by operator:")
        await page.screenshot(path=str(screenshots / "console-message.png"), full_page=True)

    view = await world.trace(failing["message_id"])
    frontex = next(d for d in view["deliveries"] if d["channel"] == "frontex")
    assert [a["error_class"] for a in frontex["attempts"]] == ["PermanentError", None]
    (action,) = [a for a in view["actions"] if a["action"] == "delivery.redrive"]
    assert action["reason"] == "destination fixed its schema check"


async def test_scoped_operator_cannot_open_another_countrys_message(world: World) -> None:
    montenegrin = message_from("me-early-warning-alert.json")
    serbian = message_from("rs-cyrillic-case-europol-selec.json")
    await world.submit(montenegrin)
    await world.submit(serbian)
    serbia_only = scoped_operator(world.context.store, ("RS",))
    async with running(world) as base, chromium() as browser:
        page = await browser.new_page(viewport=LAPTOP)
        await sign_in(page, base, serbia_only)
        await page.get_by_role("link", name="Messages", exact=True).click()
        await expect(page.get_by_role("link", name=serbian["message_id"])).to_be_visible()
        await expect(page.get_by_role("link", name=montenegrin["message_id"])).to_have_count(0)

        response = await page.goto(f"{base}/console/messages/{montenegrin['message_id']}")
        assert response is not None
        assert response.status == 404
        await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        assert montenegrin["message_id"] not in await page.content()

        # the same page for its own country's message opens
        await page.goto(f"{base}/console/messages/{serbian['message_id']}")
        await expect(page.get_by_test_id("message-status")).to_be_visible()
        assert re.search(r"[0-9a-f]{32}", await page.get_by_test_id("trace-id").inner_text())


async def test_only_an_approver_is_offered_release_and_releases(world: World) -> None:
    body = message_from("me-early-warning-alert.json")
    answer = await world.submit(body)
    held = next(d for d in answer["deliveries"] if d["state"] == "held")
    channel = held["channel"]
    async with running(world) as base, chromium() as browser:
        page = await browser.new_page(viewport=LAPTOP)
        await sign_in(page, base, world.tokens.admin)
        await page.goto(f"{base}/console/messages/{body['message_id']}")
        await expect(page.get_by_test_id(f"state-{channel}").first).to_have_text("Held for review")
        # admins run the gateway; releasing a transfer is the approvers' decision alone
        await expect(page.get_by_role("button", name=f"Release {channel}")).to_have_count(0)
        await expect(page.get_by_role("button", name=f"Cancel {channel}").first).to_be_visible()

        await page.context.clear_cookies()
        await sign_in(page, base, world.tokens.approver)
        await page.goto(f"{base}/console/messages/{body['message_id']}")
        await expect(page.get_by_role("button", name=f"Cancel {channel}")).to_have_count(0)
        form = page.locator(f"form[action$='/deliveries/{held['id']}/release']")
        await form.get_by_label(f"Reason to release the {channel} delivery").fill(
            "legal basis confirmed"
        )
        await form.get_by_role("button", name=f"Release {channel}").click()
        await expect(page.get_by_role("status")).to_contain_text("Done: release")
    view = await world.trace(body["message_id"])
    (entry,) = [a for a in view["actions"] if a["action"] == "delivery.release"]
    assert entry["actor"].startswith("approver:")
