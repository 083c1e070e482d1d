"""Span capture: one in-memory exporter on the process's provider, emptied around each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.telemetry import install_memory_exporter
from tests.telemetry.world import World, world_on

_EXPORTER: list[InMemorySpanExporter] = []


def session_exporter() -> InMemorySpanExporter:
    # The global provider can be set once per process, so the exporter is added once too.
    if not _EXPORTER:
        _EXPORTER.append(install_memory_exporter())
    return _EXPORTER[0]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = session_exporter()
    exporter.clear()
    yield exporter
    exporter.clear()


@pytest.fixture
async def world(db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(db_url, tmp_path) as w:
        yield w
