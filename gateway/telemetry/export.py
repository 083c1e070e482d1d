"""The export boundary: every finished span passes the allow-list before any exporter sees it.

Spans come from our code and from the adapters' transport (which cannot import the gateway), so
the allow-list is enforced here, once, on the way out, rather than trusted at each call site.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import Status

from gateway.telemetry.attributes import safe_attributes, safe_status_description

# Events we emit on purpose; exception events (with messages and stack traces) never pass.
ALLOWED_EVENTS = frozenset({"planned", "retry_scheduled", "dead_letter", "receipt"})


def sanitised(span: ReadableSpan) -> ReadableSpan:
    """A copy of ``span`` holding only allowed attributes, events and status text."""
    events = [
        Event(e.name, safe_attributes(e.attributes), timestamp=e.timestamp)
        for e in span.events
        if e.name in ALLOWED_EVENTS
    ]
    links = list(span.links)
    status = Status(span.status.status_code, safe_status_description(span.status.description))
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=safe_attributes(span.attributes),
        events=events,
        links=[type(link)(link.context, safe_attributes(link.attributes)) for link in links],
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class AllowListProcessor(SpanProcessor):
    """Wraps a processor (batch to OTLP, simple to memory) and hands it sanitised spans."""

    def __init__(self, inner: SpanProcessor) -> None:
        self.inner = inner

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Passed on unchanged: a span holds nothing to sanitise yet when it starts."""
        self.inner.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        """Hand on a sanitised copy, so no personal data reaches the exporter."""
        self.inner.on_end(sanitised(span))

    def shutdown(self) -> None:
        """Shut the wrapped processor down."""
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped processor."""
        return self.inner.force_flush(timeout_millis)
