"""Reading a destination's own error out of its answer: SOAP fault code and string, or the
code and message of a JSON error body, as a ``RemoteError``.

Only small answers are read (an error body is short; a large one is no error text), XML only
through the hardened parser. What comes out is the destination's unscrubbed words: adapters
attach it to the error they raise and never log it.
"""

from __future__ import annotations

import json
from typing import Any

from adapters._xml import XmlError, parse_xml
from adapters.errors import RemoteError

MAX_ERROR_BODY = 16 * 1024
_SOAP_ENVELOPES = (
    "http://schemas.xmlsoap.org/soap/envelope/",
    "http://www.w3.org/2003/05/soap-envelope",
)
# Where common JSON error bodies keep their code and their text, tried in this order:
# {"error": {"code", "message"}}, {"code", "message"}, RFC 9457 problem details, OAuth.
_CODE_KEYS = ("code", "error_code", "type", "error")
_TEXT_KEYS = ("message", "detail", "title", "error_description", "description")


def remote_error_of(body: bytes, content_type: str | None) -> RemoteError | None:
    """The destination's error code and text, or None when the body holds neither."""
    if not body or len(body) > MAX_ERROR_BODY:
        return None
    kind = (content_type or "").lower()
    stripped = body.lstrip()
    if "json" in kind or stripped[:1] in (b"{", b"["):
        return _json_error(body)
    if "xml" in kind or stripped[:1] == b"<":
        return _soap_fault(body)
    return None


def _json_error(body: bytes) -> RemoteError | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    inner = document.get("error")
    if isinstance(inner, dict):
        return _from_mapping(inner)
    if isinstance(inner, str) and not any(k in document for k in _CODE_KEYS[:2]):
        # {"error": "invalid_request", "error_description": "..."} (OAuth), or a bare text
        text = _first_text(document, _TEXT_KEYS)
        return RemoteError.bounded(inner, text) if text else RemoteError.bounded(None, inner)
    return _from_mapping(document)


def _from_mapping(mapping: dict[str, Any]) -> RemoteError | None:
    code = mapping.get("code") or mapping.get("error_code") or mapping.get("type")
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)
    return RemoteError.bounded(code, _first_text(mapping, _TEXT_KEYS))


def _first_text(mapping: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _soap_fault(body: bytes) -> RemoteError | None:
    try:
        root = parse_xml(body, max_bytes=MAX_ERROR_BODY)
    except XmlError:
        return None
    for namespace in _SOAP_ENVELOPES:
        fault = root.find(f"{{{namespace}}}Body/{{{namespace}}}Fault")
        if fault is None:
            continue
        if namespace == _SOAP_ENVELOPES[0]:
            return RemoteError.bounded(fault.findtext("faultcode"), fault.findtext("faultstring"))
        code = fault.findtext(f"{{{namespace}}}Code/{{{namespace}}}Value")
        text = fault.findtext(f"{{{namespace}}}Reason/{{{namespace}}}Text")
        return RemoteError.bounded(code, text)
    return None
