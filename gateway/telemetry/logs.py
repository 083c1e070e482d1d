"""Structured logs: one JSON object per line, with the trace and span id of the moment.

``serve``, ``sandbox`` and ``worker`` configure logging here alike, so a log collector gets the
same shape from every process and an operator can go from any line to its trace. The fields of
an event line (``log_event``) pass the same allow-list as span attributes; a free-text line of
a library (uvicorn's start-up, say) is kept as its message, which our code never fills with
submitted values.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

from gateway.telemetry.attributes import safe_attributes

EVENT = "marri_event"
FIELDS = "marri_fields"
# Libraries whose debug lines quote what they handle (signxml logs the canonicalised payload).
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "uvicorn.access": logging.WARNING,
    "signxml": logging.WARNING,
}


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is written, not when it was made (a
    test runner or a daemoniser may swap the stream and close the old one)."""

    @property
    def stream(self) -> Any:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """The stream is always the current standard error."""


class JsonLineFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, event or message, fields, trace ids."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's line; exception texts are left out (they may quote data), the class
        is kept."""
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        event = getattr(record, EVENT, None)
        if event is not None:
            line["event"] = event
            line.update(getattr(record, FIELDS, {}))
        else:
            line["message"] = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            line["error.type"] = record.exc_info[0].__name__
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid and "trace_id" not in line:
            line["trace_id"] = f"{span_context.trace_id:032x}"
            line["span_id"] = f"{span_context.span_id:016x}"
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str | None = None) -> None:
    """JSON lines on stderr for the whole process (``MARRI_LOG_LEVEL``, default info).

    Replaces any handler installed before, so a second call (tests, ``sandbox`` calling
    ``serve``'s set-up) leaves one handler, not two.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(JsonLineFormatter())
    root.addHandler(handler)
    root.setLevel((level or os.environ.get("MARRI_LOG_LEVEL") or "INFO").upper())
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    # uvicorn's own loggers propagate to the root handler instead of printing their own way.
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def log_event(logger: logging.Logger, level: int, event: str, **attributes: Any) -> None:
    """An event line with allow-listed fields (a text line ``event k=v`` for plain handlers)."""
    if not logger.isEnabledFor(level):
        return
    fields = safe_attributes(attributes)
    # Taken now, not when a handler formats the record (a queued handler formats it later).
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        fields["trace_id"] = f"{span_context.trace_id:032x}"
        fields["span_id"] = f"{span_context.span_id:016x}"
    text = " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
    logger.log(level, "%s %s", event, text, extra={EVENT: event, FIELDS: fields})
