"""Why a destination refused: its own error code and text, scrubbed before anything keeps them.

A destination's error text may quote what it was sent ("no record for Zorica ..."), or name
what it holds itself. The excerpt the attempts table keeps is the destination's words with
``[…]`` in place of:

- every word of the values this delivery sent (its payload's JSON strings, XML text and
  attributes), common short words apart;
- every word with a digit in it (dates, document, phone and case numbers), e-mail addresses
  and quoted spans;
- every word with a capital letter (names are written so), unless it is a short acronym
  (SOAP, XML) or one of the usual words of an error message (``Invalid``, ``Missing``, ...);

cut to ``MAX_TEXT`` characters. A code is kept only when it has the shape of a code and shares
no word with what was sent. docs/console.md states the rules for operators.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from adapters._xml import XmlError, parse_xml
from adapters.errors import RemoteError

MAX_TEXT = 200
REDACTED = "[…]"
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/-]{0,63}$")
_WORD = re.compile(r"\w+", re.UNICODE)
# Straight, guillemet and curly quotes (the curly ones written as escapes).
_QUOTED = re.compile("'[^']*'|\"[^\"]*\"|«[^»]*»|\u201c[^\u201d]*\u201d|\u2018[^\u2019]*\u2019")
_EMAIL = re.compile(r"\S+@\S+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_SPACE = re.compile(r"\s+")
_RUN = re.compile(r"\[…\](?:[-./:+\s]*\[…\])+")  # "[…]-[…]-[…]" reads as one "[…]"
MAX_ACRONYM = 5
# Short words a payload's free text and an error message share; never personal on their own.
COMMON = frozenset(
    (
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "in",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "the",
        "to",
        "was",
        "with",
    )
)
# Capitalised words an error message starts with or names its parts by.
ERROR_WORDS = frozenset(
    (
        "accepted",
        "attribute",
        "bad",
        "check",
        "client",
        "code",
        "conflict",
        "content",
        "denied",
        "duplicate",
        "element",
        "envelope",
        "error",
        "evaluation",
        "expected",
        "failed",
        "field",
        "format",
        "forbidden",
        "found",
        "handling",
        "header",
        "internal",
        "invalid",
        "malformed",
        "message",
        "missing",
        "not",
        "no",
        "payload",
        "policy",
        "record",
        "reference",
        "rejected",
        "request",
        "required",
        "schema",
        "server",
        "service",
        "the",
        "this",
        "timeout",
        "too",
        "unavailable",
        "unauthorized",
        "unknown",
        "unsupported",
        "validation",
        "value",
        "version",
    )
)


@dataclass(frozen=True)
class RemoteDetail:
    """The destination's error as kept: a code and a scrubbed, bounded text."""

    code: str | None
    text: str | None


def _values_of_json(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():  # keys are the profile's field names, not values
            yield from _values_of_json(value)
    elif isinstance(node, list):
        for value in node:
            yield from _values_of_json(value)


def sent_words(body: bytes, content_type: str | None) -> frozenset[str]:
    """Every word of the values a payload carries (case-folded); its raw text when it is
    neither JSON nor XML that parses, so nothing sent escapes the scrub."""
    values: list[str]
    kind = (content_type or "").lower()
    try:
        if "json" in kind:
            values = list(_values_of_json(json.loads(body)))
        elif "xml" in kind:
            root = parse_xml(body, max_bytes=max(len(body), 1))
            values = [str(t) for t in root.itertext()]
            values += [str(v) for element in root.iter() for v in element.attrib.values()]
        else:
            values = [body.decode("utf-8", "replace")]
    except (ValueError, XmlError, RecursionError):
        values = [body.decode("utf-8", "replace")]
    return frozenset(w.casefold() for text in values for w in _WORD.findall(text))


def _kept(word: str, sent: frozenset[str]) -> bool:
    folded = word.casefold()
    if any(ch.isdigit() for ch in word):
        return False
    if folded in sent and folded not in COMMON:
        return False
    if word.islower():
        return True
    if word.isupper() and (len(word) <= MAX_ACRONYM or "_" in word):
        return True  # an acronym or a code (SOAP, E_REFERENCE)
    return folded in ERROR_WORDS


def _scrub_word(match: re.Match[str], sent: frozenset[str]) -> str:
    word = match.group(0)
    return word if _kept(word, sent) else REDACTED


def scrub_text(text: str, sent: frozenset[str]) -> str | None:
    """The text without anything sent, digits, addresses or quotes; bounded."""
    cleaned = _CONTROL.sub(" ", text)
    cleaned = _QUOTED.sub(REDACTED, cleaned)
    cleaned = _EMAIL.sub(REDACTED, cleaned)
    cleaned = _WORD.sub(lambda m: _scrub_word(m, sent), cleaned)
    cleaned = _RUN.sub(REDACTED, _SPACE.sub(" ", cleaned)).strip()
    if not cleaned or cleaned == REDACTED:
        return None
    if len(cleaned) > MAX_TEXT:
        cleaned = cleaned[: MAX_TEXT - 1].rstrip() + "…"
    return cleaned


def scrub_code(code: str, sent: frozenset[str]) -> str | None:
    """The code when it has a code's shape and shares no word with what was sent."""
    if _CODE.match(code) is None:
        return None
    if any(w.casefold() in sent for w in _WORD.findall(code.replace("_", " "))):
        return None
    return code


def remote_detail(
    remote: RemoteError | None, body: bytes | None, content_type: str | None
) -> RemoteDetail | None:
    """What is kept of the destination's error for this payload; None when nothing is left,
    and None without the payload (nothing to scrub against, so nothing is kept)."""
    if remote is None or body is None:
        return None
    sent = sent_words(body, content_type)
    code = scrub_code(remote.code, sent) if remote.code else None
    text = scrub_text(remote.text, sent) if remote.text else None
    if code is None and text is None:
        return None
    return RemoteDetail(code, text)
