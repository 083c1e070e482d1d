"""Span capture: one in-memory exporter on the process's provider, collecting only while a test
that asked for it runs (the provider lives for the whole session, so the exporter does too)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.telemetry import configure_tracing
from gateway.telemetry.setup import add_processor
from tests.telemetry.world import World, world_on


class SwitchedExporter(SpanExporter):
    """Hands spans to an in-memory exporter only while ``collecting`` is set."""

    def __init__(self) -> None:
        self.memory = InMemorySpanExporter()
        self.collecting = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self.collecting:
            return self.memory.export(spans)
        return SpanExportResult.SUCCESS


_EXPORTER: list[SwitchedExporter] = []


def session_exporter() -> SwitchedExporter:
    # The global provider can be set once per process, so the exporter is added once too.
    if not _EXPORTER:
        exporter = SwitchedExporter()
        add_processor(configure_tracing(), SimpleSpanProcessor(exporter))
        _EXPORTER.append(exporter)
    return _EXPORTER[0]


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = session_exporter()
    exporter.memory.clear()
    exporter.collecting = True
    try:
        yield exporter.memory
    finally:
        exporter.collecting = False
        exporter.memory.clear()


@pytest.fixture
async def world(db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with world_on(db_url, tmp_path) as w:
        yield w
