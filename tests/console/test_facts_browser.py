"""Real headless Chromium: a legal officer confirms a fact on the facts page and the delivery
it alone held goes out; an approver reads the page but is offered no change."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from gateway.security.tokens import issue_token
from tests.console.test_browser import (
    DOCS_IMG,
    LAPTOP,
    chromium,
    pytestmark,  # noqa: F401  (browser and slow marks; skipped without Chromium)
    running,
    wait_state,
)
from tests.telemetry.helpers import message_from
from tests.telemetry.world import World, world_on

INSTRUMENT = "europol_operational_agreement"
SOURCE = "https://www.europol.europa.eu/partners-collaboration/agreements: Montenegro"


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(sqlite_url, tmp_path) as w:
        yield w


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = DOCS_IMG if os.environ.get("MARRI_UPDATE_SCREENSHOTS") == "1" else tmp_path / "img"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_legal_officer_confirms_a_fact_and_the_hold_it_made_is_lifted(
    world: World, screenshots: Path
) -> None:
    officer = world.context.store.write_sync(
        lambda conn: issue_token(conn, role="legal", label="legal officer")
    )
    await world.context.facts.withdraw(officer.identity, INSTRUMENT, "ME", "not yet sourced")
    held = message_from(
        "me-early-warning-alert.json",
        destinations=[{"channel": "europol"}],
        crime_areas=["trafficking_in_human_beings"],
    )
    answer = await world.submit(held)
    assert [d["state"] for d in answer["deliveries"]] == ["held"]

    async with running(world) as base, chromium() as browser:
        page = await browser.new_page(viewport=LAPTOP)
        await page.goto(f"{base}/console/login?next=/console/facts")
        await page.get_by_label("Token").fill(officer.token)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Facts")).to_be_visible()

        filters = page.get_by_role("form", name="Filter facts")
        await filters.get_by_label("Instrument").select_option(INSTRUMENT)
        await filters.get_by_label("Only unconfirmed").check()
        await filters.get_by_role("button", name="Apply filters").click()
        row = page.locator(f"#fact-{INSTRUMENT}-ME")
        await expect(row).to_contain_text("unconfirmed")
        await page.get_by_label(f"Source confirming {INSTRUMENT} ME").fill(SOURCE)
        await page.screenshot(path=str(screenshots / "console-facts.png"))
        await page.get_by_role("button", name=f"Confirm {INSTRUMENT} ME").click()

        await expect(page.get_by_role("status")).to_contain_text("1 held delivery(ies) released")
        await expect(row).to_contain_text("legal on")
        await expect(row).to_contain_text(SOURCE)
        await wait_state(world, held["message_id"], "europol", "delivered")

        approver = await browser.new_page(viewport=LAPTOP)
        await approver.goto(f"{base}/console/login?next=/console/facts")
        await approver.get_by_label("Token").fill(world.tokens.approver)
        await approver.get_by_role("button", name="Sign in").click()
        await expect(approver.get_by_role("heading", name="Facts")).to_be_visible()
        await expect(approver.locator(f"#fact-{INSTRUMENT}-ME")).to_contain_text("legal on")
        await expect(approver.get_by_role("button", name="Set fact")).to_have_count(0)
        withdraw = approver.get_by_role("button", name=f"Withdraw {INSTRUMENT} ME")
        await expect(withdraw).to_have_count(0)
