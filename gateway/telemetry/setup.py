"""Tracer provider set-up: once per process, OTLP export only when an endpoint is configured.

The global provider can be set only once per process, so ``configure_tracing`` is idempotent and
every helper calls it lazily: the API, a worker started alone and the tests all end up with the
same SDK provider. Without ``OTEL_EXPORTER_OTLP_ENDPOINT`` spans are still made (their ids are
stored with messages and attempts) but exported nowhere.
"""

from __future__ import annotations

import os
import threading

from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.telemetry.export import AllowListProcessor

SERVICE_NAME = "marri-gateway"
_lock = threading.Lock()


def otlp_configured() -> bool:
    """True when an OTLP endpoint is set; without one spans are not exported."""
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure_tracing() -> TracerProvider:
    """The process's SDK tracer provider, created on first call."""
    with _lock:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            return current
        provider = TracerProvider(
            resource=Resource.create(
                {"service.name": os.environ.get("OTEL_SERVICE_NAME", SERVICE_NAME)}
            )
        )
        if otlp_configured():
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            add_processor(provider, BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
        return provider


def add_processor(provider: TracerProvider, processor: SpanProcessor) -> None:
    """Attach a processor behind the allow-list."""
    provider.add_span_processor(AllowListProcessor(processor))


def install_memory_exporter() -> InMemorySpanExporter:
    """An in-memory exporter on the process provider (tests and the sandbox); allow-listed."""
    exporter = InMemorySpanExporter()
    add_processor(configure_tracing(), SimpleSpanProcessor(exporter))
    return exporter


# FastAPI's own telemetry stays off in every app: the gateway makes its own spans (the intake
# SERVER span and its stages, attributes through the allow-list) and would otherwise get a second,
# unconnected server span per request plus one span per dependency; FastAPI's log records of
# validation failures carry the request body, which may hold personal data. Measured: the
# per-dependency spans alone cost about 7 % of the API's CPU under intake load.
FRAMEWORK_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

_TRACERS: list[trace.Tracer] = []


def tracer() -> trace.Tracer:
    """The gateway's tracer, made once (making one per span costs more than the span)."""
    if not _TRACERS:
        _TRACERS.append(configure_tracing().get_tracer("gateway"))
    return _TRACERS[0]
