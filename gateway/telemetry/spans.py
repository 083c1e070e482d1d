"""Span helpers for the two halves of a message's life: intake and delivery attempts.

One message is one trace, so that the trace id an operator is shown opens every span of it in
any OTLP backend. Intake runs in the request's SERVER span (``POST /v1/messages``, HTTP
semantic conventions) with child spans for validation, each delivery's ``decide`` and
``render``, and the commit; its context is stored with the message as ``traceparent``. Each
delivery attempt is a PRODUCER span whose parent is that stored context, and a retry LINKS to
the attempt before it, so the chain of attempts reads both ways. The transport's CLIENT span is
the attempt's child and its ``traceparent`` is what the destination receives.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from gateway.telemetry.attributes import safe_attributes
from gateway.telemetry.setup import tracer

MESSAGING_SYSTEM = "marri"
PLANNED_EVENT = "planned"
# The reserved events an attempt span ends with, by the delivery's next state.
OUTCOME_EVENTS = {"delivered": "receipt", "retry_wait": "retry_scheduled", "failed": "dead_letter"}
_propagator = TraceContextTextMapPropagator()


def parse_traceparent(traceparent: str | None) -> trace.SpanContext | None:
    """The span context a W3C ``traceparent`` names, or None when absent or malformed."""
    if not traceparent:
        return None
    ctx = _propagator.extract({"traceparent": traceparent})
    span_context = trace.get_current_span(ctx).get_span_context()
    return span_context if span_context.is_valid else None


def format_traceparent(span_context: trace.SpanContext) -> str:
    """A W3C ``traceparent`` header value for the span context."""
    flags = int(span_context.trace_flags)
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{flags:02x}"


def current_traceparent() -> str | None:
    """The ``traceparent`` of the active span, or None when no valid span is active."""
    span_context = trace.get_current_span().get_span_context()
    return format_traceparent(span_context) if span_context.is_valid else None


def mark_error(span: trace.Span, error_class: str) -> None:
    """Error status and ``error.type`` by class name only: exception texts may hold data."""
    span.set_attribute("error.type", error_class)
    span.set_status(Status(StatusCode.ERROR, error_class))


@contextmanager
def _span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    context: Context | None = None,
    links: list[Link] | None = None,
    attributes: dict[str, Any] | None = None,
) -> Iterator[trace.Span]:
    with tracer().start_as_current_span(
        name,
        context=context,
        kind=kind,
        links=links,
        attributes=safe_attributes(attributes),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as exc:
            mark_error(span, type(exc).__name__)
            raise


def _context_of(traceparent: str | None) -> Context:
    """A context whose current span is the one ``traceparent`` names (empty when none)."""
    parent = parse_traceparent(traceparent)
    return trace.set_span_in_context(trace.NonRecordingSpan(parent)) if parent else Context()


@contextmanager
def http_server_span(method: str, route: str, traceparent: str | None) -> Iterator[trace.Span]:
    """The SERVER span of one request, named and described after the HTTP semantic
    conventions (low-cardinality route, never the URL's values); child of the caller's trace."""
    attributes = {"http.request.method": method, "http.route": route}
    with _span(
        f"{method} {route}",
        kind=SpanKind.SERVER,
        context=_context_of(traceparent),
        attributes=attributes,
    ) as span:
        yield span


@contextmanager
def intake_span(incoming_traceparent: str | None) -> Iterator[trace.Span]:
    """The span intake runs in: the request's SERVER span when the API opened one, else a
    SERVER span of its own (benchmarks and in-process callers), child of the caller's trace."""
    current = trace.get_current_span()
    if current.is_recording() and getattr(current, "kind", None) is SpanKind.SERVER:
        yield current
        return
    context = _context_of(incoming_traceparent)
    with _span("intake message", kind=SpanKind.SERVER, context=context) as span:
        yield span


@contextmanager
def stage_span(name: str, **attributes: Any) -> Iterator[trace.Span]:
    """A child span for one intake stage (validate, decide, render, commit)."""
    with _span(name, attributes=attributes) as span:
        yield span


def record_planned(**attributes: Any) -> None:
    """A ``planned`` event on the current (intake) span: one delivery decided and rendered."""
    trace.get_current_span().add_event(PLANNED_EVENT, safe_attributes(attributes))


def set_attributes(span: trace.Span, **attributes: Any) -> None:
    """Set attributes through the allow-list (None values are skipped)."""
    span.set_attributes(safe_attributes(attributes))


@dataclass
class AttemptSpan:
    """The span of one delivery attempt, with the ids the attempts row stores."""

    span: trace.Span

    @property
    def trace_id(self) -> str:
        """The span's trace id as 32 hex digits, as stored with the message."""
        return f"{self.span.get_span_context().trace_id:032x}"

    @property
    def span_id(self) -> str:
        """The span's id as 16 hex digits."""
        return f"{self.span.get_span_context().span_id:016x}"

    @property
    def traceparent(self) -> str:
        """The span's W3C ``traceparent``, to pass on to the next hop."""
        return format_traceparent(self.span.get_span_context())

    def record_outcome(
        self,
        state: str,
        *,
        error_class: str | None = None,
        http_status: int | None = None,
    ) -> None:
        """The attempt's result: the delivery's next state, the error class, the HTTP status,
        and the reserved event that names it (``receipt``, ``retry_scheduled``, ``dead_letter``).
        """
        set_attributes(
            self.span,
            **{"marri.delivery.state": state, "http.response.status_code": http_status},
        )
        event = OUTCOME_EVENTS.get(state)
        if event is not None:
            self.span.add_event(
                event,
                safe_attributes({"marri.delivery.state": state, "error.type": error_class}),
            )
        if error_class:
            mark_error(self.span, error_class)


@contextmanager
def attempt_span(
    *,
    channel: str,
    delivery_id: str,
    message_id: str,
    attempt: int,
    creation_traceparent: str | None,
    previous_traceparent: str | None = None,
    recipient: str | None = None,
) -> Iterator[AttemptSpan]:
    """A PRODUCER span, child of the intake context stored with the message, linked to the
    attempt before it (the worker's retry is its cause; the intake request is its parent)."""
    previous = parse_traceparent(previous_traceparent)
    links = [Link(previous)] if previous is not None else []
    attributes = {
        "messaging.system": MESSAGING_SYSTEM,
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
        "messaging.destination.name": channel,
        "messaging.message.id": delivery_id,
        "marri.channel": channel,
        "marri.delivery.id": delivery_id,
        "marri.message.id": message_id,
        "marri.attempt.number": attempt,
        "marri.recipient": recipient,
    }
    with _span(
        f"send {channel}",
        kind=SpanKind.PRODUCER,
        context=_context_of(creation_traceparent),
        links=links,
        attributes=attributes,
    ) as span:
        yield AttemptSpan(span)
