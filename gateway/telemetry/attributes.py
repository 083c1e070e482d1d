"""The attribute allow-list: the only span and log attributes that may leave the process.

Every key has a value shape. Names, document numbers, phone numbers and free text fit none of
them, so even a coding slip that puts a value under an allowed key is dropped rather than
exported. Keys not listed here are dropped too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_CHANNEL = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CODE = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
_CLASS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,99}$")
# An error class name, or an HTTP status code as the HTTP conventions give ``error.type``.
_ERROR_TYPE = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_.]{0,99}|[1-5][0-9]{2})$")
# A route template (``/v1/messages/{message_id}``), never a concrete path with values in it.
_ROUTE = re.compile(r"^/[a-z0-9_/{}.-]{0,200}$")
_HEX = re.compile(r"^[0-9a-f]{16,64}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$")
_METHOD = re.compile(r"^[A-Z]{3,7}$")
# What an audit entry is about: a kind and ids (``delivery:<uuid>``, ``fact:interpol:XK``).
_SUBJECT = re.compile(r"^[a-z]+(?::[A-Za-z0-9_.-]{1,64}){0,2}$")

_INT = "int"
_BOOL = "bool"

# key -> value shape (a pattern for strings, or "int"/"bool")
ALLOWED: dict[str, re.Pattern[str] | str] = {
    "marri.message.id": _UUID,
    "marri.delivery.id": _UUID,
    "marri.sender.country": _COUNTRY,
    "marri.recipient": _COUNTRY,
    "marri.channel": _CHANNEL,
    "marri.product": _CODE,
    "marri.decision.outcome": _CODE,
    "marri.decision.rules": _CODE,  # a sequence of rule ids
    "marri.delivery.state": _CODE,
    "marri.intake.outcome": _CODE,
    "marri.refusal.code": _CODE,
    "marri.violations": _INT,
    "marri.deliveries": _INT,
    "marri.attempt.number": _INT,
    "marri.payload.sha256": _HEX,
    "marri.payload.size": _INT,
    "marri.duplicate": _BOOL,
    "marri.action": _CODE,
    "marri.subject": _SUBJECT,
    "marri.worker.id": _HOST,
    "messaging.system": _CODE,
    "messaging.operation.type": _CODE,
    "messaging.operation.name": _CODE,
    "messaging.destination.name": _CHANNEL,
    "messaging.message.id": _UUID,
    "error.type": _ERROR_TYPE,
    "http.request.method": _METHOD,
    "http.route": _ROUTE,
    "http.response.status_code": _INT,
    "server.address": _HOST,
    "server.port": _INT,
}

# Span status descriptions may only be error class names (never exception texts).
STATUS_DESCRIPTION = _CLASS_NAME


def _fits(shape: re.Pattern[str] | str, value: Any) -> bool:
    if shape == _INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if shape == _BOOL:
        return isinstance(value, bool)
    assert isinstance(shape, re.Pattern)
    if isinstance(value, str):
        return shape.match(value) is not None
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return all(isinstance(v, str) and shape.match(v) is not None for v in value)
    return False


def allowed_attribute(key: str, value: Any) -> bool:
    """Whether ``key=value`` may be exported."""
    shape = ALLOWED.get(key)
    return shape is not None and _fits(shape, value)


def safe_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Only the allowed keys whose values have the allowed shape; None values are skipped."""
    if not attributes:
        return {}
    out: dict[str, Any] = {}
    for key, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, tuple):
            value = list(value)
        if allowed_attribute(key, value):
            out[key] = value
    return out


def safe_status_description(description: str | None) -> str | None:
    """The status description only when it is one of the fixed safe texts, never free text."""
    if description is None or STATUS_DESCRIPTION.match(description) is None:
        return None
    return description
