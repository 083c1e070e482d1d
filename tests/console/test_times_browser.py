"""Real headless Chromium in a far-off time zone: times read in the browser's zone with UTC on
hover, and the message list's days are that zone's days."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from tests.console.test_browser import (
    LAPTOP,
    chromium,
    pytestmark,  # noqa: F401  (browser and slow marks; skipped without Chromium)
    running,
    sign_in,
)
from tests.telemetry.helpers import message_from
from tests.telemetry.world import World, world_on


@pytest.fixture
async def world(sqlite_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(sqlite_url, tmp_path) as w:
        yield w


def zone_on_another_day(now: datetime) -> str:
    """A zone whose date differs from UTC's right now (UTC+14 late in the UTC day, UTC-11
    early in it), so that a filter in the wrong zone would miss."""
    for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        if now.astimezone(ZoneInfo(name)).date() != now.date():
            return name
    raise AssertionError("no zone on another day")  # pragma: no cover


def local_text(stamp: datetime, zone: str) -> str:
    local = stamp.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


async def test_times_show_in_the_browsers_zone_and_days_filter_in_it(world: World) -> None:
    body = message_from("me-early-warning-alert.json")
    await world.submit(body)
    status = await world.client.get(
        f"/v1/messages/{body['message_id']}", headers=world.auth(world.tokens.operator)
    )
    received = datetime.fromisoformat(status.json()["received_at"]).astimezone(UTC)
    zone = zone_on_another_day(received)
    local_day = received.astimezone(ZoneInfo(zone)).date().isoformat()
    utc_day = received.date().isoformat()

    async with running(world) as base, chromium() as browser:
        context = await browser.new_context(viewport=LAPTOP, timezone_id=zone)
        page = await context.new_page()
        await sign_in(page, base, world.tokens.operator)
        await page.goto(f"{base}/console/messages")
        row = page.get_by_role("row").filter(has_text=body["message_id"])
        shown = row.locator("time")
        await expect(shown).to_have_text(local_text(received, zone))
        await expect(shown).to_have_attribute("title", f"{received:%Y-%m-%d %H:%M:%S} UTC")

        filters = page.get_by_role("form", name="Filter messages")
        await expect(filters.locator("[data-zone-name]")).to_have_text(zone)
        for day, found in ((local_day, 1), (utc_day, 0)):
            await filters.get_by_label("Received from").fill(day)
            await filters.get_by_label("Received until").fill(day)
            await filters.get_by_role("button", name="Apply filters").click()
            link = page.get_by_role("link", name=body["message_id"])
            await expect(link).to_have_count(found)
        assert f"tz={zone.replace('/', '%2F')}" in page.url

        # the message page's times are local too, with UTC on hover
        await page.goto(f"{base}/console/messages/{body['message_id']}")
        received_at = page.locator("dd time").first
        await expect(received_at).to_have_text(local_text(received, zone))
        await context.close()
