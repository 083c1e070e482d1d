"""Bytes in, ``CanonicalMessage`` out, or ``MessageInvalid`` listing every violation.

The happy path is one ``model_validate_json`` call (pydantic's Rust JSON parser). Only when it
fails do we parse again with the standard library: for the line and column of a syntax error,
and to run the message-wide rules that pydantic skips once a field is broken, so the sender
learns about every problem at once.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from pydantic import ValidationError

from gateway.schema.errors import MessageInvalid, Violation, json_path, violations_from_error
from gateway.schema.message import CanonicalMessage
from gateway.schema.rules import message_rule_problems

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")

#: How deep a valid message can nest: message → persons → person → names → name.
SCHEMA_DEPTH = 5


def nesting_depth(raw: bytes) -> int:
    """How deep arrays and objects nest (a flat object is 1), without building the document."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for char in brackets:
        if char in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _invalid_json(text: str) -> Violation:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        return Violation("$", "invalid_json", f"not valid JSON: {exc.msg} at {where}")
    except RecursionError:
        return Violation("$", "too_deep", "JSON nests too deeply")
    return Violation(
        "$", "invalid_json", "not valid JSON: a number, literal or escape outside RFC 8259"
    )


def _refuse(violation: Violation) -> MessageInvalid:
    return MessageInvalid([violation])


def parse_message(
    raw: bytes, *, today: date | None = None, max_depth: int = 32
) -> CanonicalMessage:
    """Validate ``raw`` as canonical v1; ``today`` fixes the date retention is checked against.

    A valid message nests at most ``SCHEMA_DEPTH`` levels (unknown fields are refused), so the
    depth scan only runs up front when ``max_depth`` is tighter than that, and otherwise only
    on the failure path, to name the real problem.
    """
    if max_depth < SCHEMA_DEPTH:
        _refuse_deep(raw, max_depth)
    context = {"today": today} if today is not None else None
    try:
        return CanonicalMessage.model_validate_json(
            raw, context=context, by_alias=True, by_name=False
        )
    except ValidationError as exc:
        failure = exc
    text = _decode(raw)
    _refuse_deep(raw, max_depth)
    errors = failure.errors(include_url=False, include_input=False)
    if any(error["type"] == "json_invalid" for error in errors):
        raise _refuse(_invalid_json(text))
    if any(error["type"] == "model_type" and not error["loc"] for error in errors):
        raise _refuse(Violation("$", "not_object", "the message must be a JSON object"))
    raise MessageInvalid(_all_violations(failure, text))


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        where = f"invalid byte at offset {exc.start}"
        raise _refuse(Violation("$", "invalid_json", f"not UTF-8: {where}")) from None


def _refuse_deep(raw: bytes, max_depth: int) -> None:
    if nesting_depth(raw) > max_depth:
        raise _refuse(Violation("$", "too_deep", f"JSON nests deeper than {max_depth} levels"))


def _all_violations(exc: ValidationError, text: str) -> list[Violation]:
    """Field violations plus the message-wide ones pydantic did not get to run."""
    violations = violations_from_error(exc)
    seen = {(v.path, v.type) for v in violations}
    document: Any = json.loads(text)
    for loc, kind, message in message_rule_problems(document):
        path = json_path(loc)
        if (path, kind) not in seen:
            seen.add((path, kind))
            violations.append(Violation(path, kind, message))
    return violations
