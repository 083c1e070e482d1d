"""Real headless Chromium, an on-call operator's round: the Channels page changes a count by
itself (no reload), a channel is paused and resumed, its connection tested, a filtered list's
dead letters re-driven after a confirmation with a reason, and an auditor reads that re-drive
on the audit page by the operator's label. Screenshots go to docs/img/ with
MARRI_UPDATE_SCREENSHOTS=1 (``make screenshots``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from simulators import Fault
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


async def test_the_channels_page_changes_a_count_by_itself(
    world: World,
    screenshots: Path,  # noqa: F811
) -> None:
    await world.submit(message_from("me-early-warning-alert.json"))
    async with running(world) as base, chromium() as browser:
        page = await browser.new_page(viewport=LAPTOP)
        await sign_in(page, base, world.tokens.operator)
        count = page.get_by_label("Delivered on europol", exact=False).first
        await expect(count).to_have_text("1", timeout=20_000)
        await page.evaluate("window.notReloaded = true")
        await world.submit(message_from("xk-europol-information.json"))
        await expect(count).to_have_text("2", timeout=20_000)
        assert await page.evaluate("window.notReloaded === true")  # the page was not reloaded
        await expect(page.get_by_test_id("delivered-rate-europol")).not_to_have_text("0.0")
        await expect(page.locator("svg.spark").first).to_be_visible()
        await page.screenshot(path=str(screenshots / "console-overview.png"), full_page=True)


async def test_operator_pauses_tests_and_redrives_with_a_reason_and_an_auditor_reads_it(
    world: World,
    screenshots: Path,  # noqa: F811
) -> None:
    world.sims.simulator("frontex").inject(*[Fault("status", status=400)] * 2)
    kosovo = message_from("xk-europol-information.json")
    macedonian = message_from("mk-smuggling-interception-frontex.json")
    async with running(world) as base, chromium() as browser:
        for body in (kosovo, macedonian):
            await world.submit(body)
            await wait_state(world, body["message_id"], "frontex", "failed")
        page = await browser.new_page(viewport=LAPTOP)
        await sign_in(page, base, world.tokens.operator)

        # pause and resume a channel
        await page.get_by_role("button", name="Pause selec").click()
        await expect(page.get_by_role("status")).to_contain_text("Done: paused selec")
        await expect(page.get_by_role("button", name="Resume selec")).to_be_visible()
        await page.get_by_role("button", name="Resume selec").click()
        await expect(page.get_by_role("status")).to_contain_text("Done: resumed selec")
        await expect(page.get_by_role("button", name="Pause selec")).to_be_visible()

        # test a connection
        await page.get_by_role("button", name="Test selec").click()
        await expect(page.get_by_role("status")).to_contain_text("selec answered in")

        # the failed list of one country, re-driven after a confirmation with a reason
        await page.get_by_role("link", name="Messages", exact=True).click()
        filters = page.get_by_role("form", name="Filter messages")
        await filters.get_by_label("Delivery state").select_option("failed")
        await filters.get_by_label("Sender country").select_option("XK")
        await filters.get_by_role("button", name="Apply filters").click()
        await page.get_by_role("link", name="Re-drive the dead letters of this list…").click()
        await expect(page.get_by_role("heading", name="Re-drive dead letters")).to_be_visible()
        await expect(page.get_by_test_id("redrive-count")).to_have_text("1")
        await page.screenshot(path=str(screenshots / "console-redrive.png"), full_page=True)
        confirm = page.get_by_role("form", name="Confirm the re-drive")
        await confirm.get_by_role("button", name="Re-drive 1 dead letters").click()
        # the reason is asked for before anything is done
        await expect(page.get_by_role("heading", name="Re-drive dead letters")).to_be_visible()
        assert await confirm.get_by_label("Reason (kept in the audit log)").evaluate(
            "field => !field.validity.valid"
        )
        await confirm.get_by_label("Reason (kept in the audit log)").fill("frontex schema fixed")
        await confirm.get_by_role("button", name="Re-drive 1 dead letters").click()
        await expect(page.get_by_role("status")).to_contain_text("requeued 1 dead letters")
        await wait_state(world, kosovo["message_id"], "frontex", "delivered")
        await wait_state(world, macedonian["message_id"], "frontex", "failed")

        # an auditor reads it, by the operator's label
        auditor = await browser.new_page(viewport=LAPTOP)
        await auditor.goto(f"{base}/console/login?next=/console/audit")
        await auditor.get_by_label("Token").fill(world.tokens.auditor)
        await auditor.get_by_role("button", name="Sign in").click()
        await expect(auditor.get_by_role("heading", name="Audit log")).to_be_visible()
        filters = auditor.get_by_role("form", name="Filter the audit log")
        await filters.get_by_label("Action").select_option("delivery.redrive")
        await filters.get_by_role("button", name="Apply filters").click()
        row = auditor.get_by_test_id("audit-entries").locator("tbody tr")
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("test operator")
        await expect(row).to_contain_text("frontex schema fixed")
        await expect(row).to_contain_text("deliveries:filtered")
        await filters.get_by_label("Action").select_option("")
        await filters.get_by_role("button", name="Apply filters").click()
        await auditor.screenshot(path=str(screenshots / "console-audit.png"))


async def test_the_remaining_pages_answer_and_are_pictured(
    world: World,
    screenshots: Path,  # noqa: F811
) -> None:
    body = message_from("me-early-warning-alert.json")
    answer = await world.submit(body)
    delivery = answer["deliveries"][0]
    async with running(world) as base, chromium() as browser:
        page = await browser.new_page(viewport=LAPTOP)
        await sign_in(page, base, world.tokens.admin)
        await page.get_by_role("link", name="Unmatched answers").click()
        await expect(page.get_by_role("heading", name="Unmatched answers")).to_be_visible()
        await page.screenshot(path=str(screenshots / "console-unmatched.png"))
        await page.goto(f"{base}/console/deliveries/{delivery['id']}/payload")
        heading = f"Payload to {delivery['channel']}"
        await expect(page.get_by_role("heading", name=heading)).to_be_visible()
        await page.screenshot(path=str(screenshots / "console-payload.png"))
        missing = "00000000-0000-4000-8000-000000000000"
        response = await page.goto(f"{base}/console/messages/{missing}")
        assert response is not None
        assert response.status == 404
        await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        await page.screenshot(path=str(screenshots / "console-not-found.png"))
