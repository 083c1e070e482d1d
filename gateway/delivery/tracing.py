"""One span per delivery attempt, child of the message's trace, and the ``traceparent`` the
destination receives. Attributes are ids, channels and outcomes only."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import Span, SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_tracer = trace.get_tracer("gateway.delivery")
_propagator = TraceContextTextMapPropagator()


@dataclass(frozen=True)
class AttemptTrace:
    traceparent: str
    trace_id: str
    span_id: str
    span: Span


def _trace_id_of(traceparent: str | None) -> str:
    parts = (traceparent or "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32 and parts[1] != "0" * 32:
        return parts[1]
    return secrets.token_hex(16)


@contextmanager
def attempt_span(
    traceparent: str | None, attributes: dict[str, str | int]
) -> Iterator[AttemptTrace]:
    """A span for one attempt; without an SDK installed, fresh span ids in the message's trace."""
    parent = _propagator.extract({"traceparent": traceparent} if traceparent else {})
    with _tracer.start_as_current_span(
        "delivery.attempt", context=parent, kind=trace.SpanKind.CLIENT, attributes=attributes
    ) as span:
        context: SpanContext = span.get_span_context()
        if context.is_valid and span.is_recording():
            trace_id = format(context.trace_id, "032x")
            span_id = format(context.span_id, "016x")
            flags = int(context.trace_flags)
        else:
            trace_id = _trace_id_of(traceparent)
            span_id = secrets.token_hex(8)
            flags = int(TraceFlags.SAMPLED)
        yield AttemptTrace(f"00-{trace_id}-{span_id}-{flags:02x}", trace_id, span_id, span)
