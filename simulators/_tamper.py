"""The ``tamper`` fault: one byte of a payload changed on its way, for the signature to catch."""

from __future__ import annotations

import re

__all__ = ["tampered"]

# A letter or digit that is content: just after a tag's end (XML) or a string's start (JSON).
_CONTENT_CHAR = re.compile(rb'(?:>|":")([A-Za-z0-9])')


def tampered(body: bytes) -> bytes:
    """``body`` with one content character changed; a SOAP envelope's is in its Body, so the
    document stays well-formed and only its signature can tell."""
    start = max(body.find(b"Body"), 0)
    match = _CONTENT_CHAR.search(body, start)
    if match is None:
        return body[:-1] + bytes([body[-1] ^ 1]) if body else body
    at = match.start(1)
    changed = b"1" if body[at : at + 1] != b"1" else b"2"
    return body[:at] + changed + body[at + 1 :]
