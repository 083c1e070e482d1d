"""Schema violations as the sender sees them: a JSON path, a short code and a value-free text.

Exception tree::

    MessageInvalid(Exception)   the message does not match canonical v1; carries every Violation

Pydantic's own messages may quote the input, and the input may be a name or a passport number.
So every text here is built from the error type and the schema's own context (limits, allowed
codes, patterns), never from the value that failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Violation:
    """One reason the message was refused, located by JSON path (``$.persons[0].role``)."""

    path: str
    type: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The violation as the API and CLI report it."""
        return {"path": self.path, "type": self.type, "message": self.message}


class MessageInvalid(Exception):
    """The message does not match canonical v1. ``violations`` lists every problem found."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations: list[Violation] = list(violations)
        count = len(self.violations)
        super().__init__(f"message invalid: {count} violation{'s' if count != 1 else ''}")

    def as_dict(self) -> dict[str, Any]:
        """The body of the 422 answer: every violation found."""
        return {"violations": [v.as_dict() for v in self.violations]}


def json_path(loc: Sequence[int | str]) -> str:
    """Render a pydantic location as a JSON path; odd keys are masked, as they are input too."""
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":
            continue
        elif _IDENTIFIER.match(part):
            path += f".{part}"
        else:
            path += "[*]"
    return path


# Our own error types (raised with PydanticCustomError); their texts never contain input.
OWN_TYPES = frozenset(
    {
        "country_code",
        "partial_date",
        "timestamp",
        "timezone_aware",
        "timestamp_or_partial_date",
        "missing",
        "forbidden",
        "not_in_future",
        "duplicate_channel",
        "duplicate_ref",
        "broken_reference",
        "invalid_base64",
        "size_mismatch",
        "too_large",
        "hash_mismatch",
        "name_empty",
        "coordinates_incomplete",
        "control_character",
        "bidi_control",
    }
)

_FIXED_TEXT = {
    "missing": "field required",
    "extra_forbidden": "unknown field; canonical v1 does not define it",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "list_type": "must be an array",
    "tuple_type": "must be an array",
    "string_type": "must be a string",
    "string_unicode": "must be a valid Unicode string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "uuid_type": "must be a UUID",
    "uuid_parsing": "must be a UUID",
    "uuid_version": "must be a UUID",
    "date_type": "must be a date YYYY-MM-DD",
    "date_parsing": "must be a date YYYY-MM-DD",
    "date_from_datetime_parsing": "must be a date YYYY-MM-DD",
    "date_from_datetime_inexact": "must be a date YYYY-MM-DD",
    "none_required": "must be null",
    "json_invalid": "not valid JSON",
    "json_type": "must be JSON",
}


def _describe(error_type: str, ctx: Mapping[str, Any]) -> str:
    if error_type in _FIXED_TEXT:
        return _FIXED_TEXT[error_type]
    limits = {
        "string_too_short": "must have at least {min_length} character(s)",
        "string_too_long": "must have at most {max_length} characters",
        "too_short": "must have at least {min_length} item(s)",
        "too_long": "must have at most {max_length} items",
        "greater_than": "must be greater than {gt}",
        "greater_than_equal": "must be at least {ge}",
        "less_than": "must be less than {lt}",
        "less_than_equal": "must be at most {le}",
        "enum": "must be one of {expected}",
        "literal_error": "must be {expected}",
        "string_pattern_mismatch": "must match {pattern}",
    }
    template = limits.get(error_type)
    if template is not None:
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            return "invalid value"
    return "invalid value"


def violations_from_error(exc: ValidationError) -> list[Violation]:
    """Translate a pydantic error into value-free violations, in pydantic's order.

    A variadic tuple whose every item failed also reports ``too_short`` (it counts the items
    that survived); that echo of the item errors is dropped.
    """
    errors = exc.errors(include_url=False, include_input=False)
    item_failures = {
        tuple(error["loc"][:index])
        for error in errors
        for index, part in enumerate(error["loc"])
        if isinstance(part, int)
    }
    found: list[Violation] = []
    for error in errors:
        error_type = error["type"]
        if error_type == "too_short" and tuple(error["loc"]) in item_failures:
            continue
        if error_type in OWN_TYPES:
            message = error["msg"]
        else:
            message = _describe(error_type, error.get("ctx") or {})
        found.append(Violation(json_path(error["loc"]), error_type, message))
    return found
