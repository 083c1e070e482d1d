"""OpenTelemetry for the gateway: provider set-up, span helpers and the attribute allow-list."""

from gateway.telemetry.attributes import ALLOWED, allowed_attribute, safe_attributes
from gateway.telemetry.logs import configure_logging, log_event
from gateway.telemetry.setup import configure_tracing, install_memory_exporter, tracer
from gateway.telemetry.spans import (
    AttemptSpan,
    attempt_span,
    current_traceparent,
    format_traceparent,
    http_server_span,
    intake_span,
    mark_error,
    parse_traceparent,
    record_planned,
    set_attributes,
    stage_span,
)

__all__ = [
    "ALLOWED",
    "AttemptSpan",
    "allowed_attribute",
    "attempt_span",
    "configure_logging",
    "configure_tracing",
    "current_traceparent",
    "format_traceparent",
    "http_server_span",
    "install_memory_exporter",
    "intake_span",
    "log_event",
    "mark_error",
    "parse_traceparent",
    "record_planned",
    "safe_attributes",
    "set_attributes",
    "stage_span",
    "tracer",
]
