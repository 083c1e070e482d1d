"""Scalar types of the canonical message: partial dates, timestamps, refs and bounded text.

Timestamps are RFC 3339 strings with an offset; a naive timestamp is refused because the
sender's clock zone cannot be guessed. Partial dates (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``)
stay strings so that what the sender did not know is never made up, but they must name a real
calendar date. Custom errors carry their own text and never the value that failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

PARTIAL_DATE_PATTERN = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-5][0-9])?$"  # RFC 3339: offset minutes to 59 (Python takes 60)
)
REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"

# The same rules as exact patterns for the published JSON Schema: real calendar dates (leap
# years included), hours to 23, seconds to 59 and an offset, as the checks below accept them,
# so a validator or a generated client refuses what the gateway refuses.
_YEAR = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP_YEAR = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_DATE = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
_OFFSET = "(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
EXACT_DATE_PATTERN = f"^{_DATE}$"
EXACT_PARTIAL_DATE_PATTERN = f"^(?:{_YEAR}|{_YEAR}-(?:0[1-9]|1[0-2])|{_DATE})$"
EXACT_TIMESTAMP_PATTERN = f"^{_DATE}[Tt]{_TIME}{_OFFSET}$"

_PARTIAL_DATE = re.compile(PARTIAL_DATE_PATTERN)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


def _check_partial_date(value: str) -> str:
    """Refuse partial dates that name no real day, month or year (``2021-02-30``, ``2021-13``)."""
    parts = value.split("-")
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else 1
    day = int(parts[2]) if len(parts) > 2 else 1
    try:
        date(year, month, day)
    except ValueError:
        raise PydanticCustomError(
            "partial_date", "must be a real date written YYYY, YYYY-MM or YYYY-MM-DD"
        ) from None
    return value


PartialDate = Annotated[
    str,
    StringConstraints(pattern=PARTIAL_DATE_PATTERN),
    AfterValidator(_check_partial_date),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": EXACT_PARTIAL_DATE_PATTERN,
            "description": "partial date: YYYY, YYYY-MM or YYYY-MM-DD, naming a real date",
        }
    ),
]
"""``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, naming a real date."""


def _timestamp_error() -> PydanticCustomError:
    return PydanticCustomError(
        "timestamp", "must be an RFC 3339 timestamp such as 2026-03-01T10:15:00+01:00"
    )


def _naive_error() -> PydanticCustomError:
    return PydanticCustomError("timezone_aware", "must carry a UTC offset (Z or +hh:mm)")


def _parse_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and _TIMESTAMP.match(value):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _timestamp_error() from None
    else:
        raise _timestamp_error()
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _naive_error()
    return parsed


def _serialise_timestamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


_TIMESTAMP_JSON_SCHEMA: dict[str, Any] = {
    "type": "string",
    "format": "date-time",
    "pattern": EXACT_TIMESTAMP_PATTERN,
    "description": "RFC 3339 timestamp with an offset (Z or +hh:mm)",
}

Timestamp = Annotated[
    datetime,
    PlainValidator(_parse_timestamp, json_schema_input_type=str),
    PlainSerializer(_serialise_timestamp, return_type=str, when_used="json"),
    WithJsonSchema(_TIMESTAMP_JSON_SCHEMA),
]
"""An offset-carrying RFC 3339 timestamp (naive ones are refused)."""


def _parse_event_time(value: Any) -> datetime | str:
    if isinstance(value, str) and _PARTIAL_DATE.match(value):
        return _check_partial_date(value)
    if isinstance(value, datetime | str):
        try:
            return _parse_timestamp(value)
        except PydanticCustomError as exc:
            if exc.type == "timezone_aware":
                raise
    raise PydanticCustomError(
        "timestamp_or_partial_date",
        "must be an RFC 3339 timestamp with an offset or a partial date YYYY[-MM[-DD]]",
    )


def _serialise_event_time(value: datetime | str) -> str:
    return _serialise_timestamp(value) if isinstance(value, datetime) else value


EventTime = Annotated[
    datetime | str,
    PlainValidator(_parse_event_time, json_schema_input_type=str),
    PlainSerializer(_serialise_event_time, return_type=str, when_used="json"),
    # One string type, no format: a client generated from the schema keeps it as sent
    # instead of turning a partial date into a naive timestamp.
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"{EXACT_TIMESTAMP_PATTERN}|{EXACT_PARTIAL_DATE_PATTERN}",
            "description": "when it happened: a timestamp, or a partial date when less is known",
        }
    ),
]
"""A timestamp when the moment is known, else a partial date."""

Date = Annotated[
    date,
    WithJsonSchema({"type": "string", "format": "date", "pattern": EXACT_DATE_PATTERN}),
]
"""A calendar date ``YYYY-MM-DD``."""

Ref = Annotated[str, StringConstraints(pattern=REF_PATTERN)]
"""A message-local identifier of an entity; safe to quote in errors and logs."""

# Control characters (Unicode category Cc: C0, DEL and C1). Free text keeps tab and line
# breaks; bidirectional embeddings, overrides and isolates could make a name or reference read
# differently from what it holds. Zero-width (non-)joiners are not touched: scripts need them.
_CONTROLS = r"\u0000-\u001f\u007f-\u009f"
_FREE_TEXT_CONTROLS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
_BIDI_CONTROLS = r"\u202a-\u202e\u2066-\u2069"
LINE_PATTERN = f"^[^{_CONTROLS}{_BIDI_CONTROLS}]*$"
FREE_TEXT_PATTERN = f"^[^{_FREE_TEXT_CONTROLS}]*$"
_ANY_CONTROL = re.compile(f"[{_CONTROLS}]")
_FREE_TEXT_CONTROL = re.compile(f"[{_FREE_TEXT_CONTROLS}]")
_BIDI_CONTROL = re.compile(f"[{_BIDI_CONTROLS}]")


@dataclass(frozen=True)
class _JsonSchemaPattern:
    """Puts a check done in Python into the exported JSON Schema, so senders see it too."""

    pattern: str

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        if "pattern" in schema:  # both patterns must hold
            schema.setdefault("allOf", []).append({"pattern": self.pattern})
        else:
            schema["pattern"] = self.pattern
        return schema


def _check_line(value: str) -> str:
    """A name, number or reference: one line, no controls, no bidirectional overrides."""
    if _ANY_CONTROL.search(value):
        raise PydanticCustomError("control_character", "must not contain control characters")
    if _BIDI_CONTROL.search(value):
        raise PydanticCustomError(
            "bidi_control",
            "must not contain bidirectional embedding, override or isolate characters",
        )
    return value


def _check_free_text(value: str) -> str:
    if _FREE_TEXT_CONTROL.search(value):
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters other than tab and line breaks",
        )
    return value


LINE = (AfterValidator(_check_line), _JsonSchemaPattern(LINE_PATTERN))
"""Metadata for a single-line string type (``Annotated[str, ..., *LINE]``)."""
FREE_TEXT = (AfterValidator(_check_free_text), _JsonSchemaPattern(FREE_TEXT_PATTERN))

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200), *LINE]
"""Names, numbers, references, the subject: one line."""
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000), *FREE_TEXT]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=20_000), *FREE_TEXT]
Count = Annotated[int, Field(ge=0, le=10_000_000)]
