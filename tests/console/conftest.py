"""Console tests reuse the end-to-end gateway (API, worker, simulators)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.telemetry.world import World, world_on


@pytest.fixture
async def world(db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(db_url, tmp_path) as w:
        yield w
