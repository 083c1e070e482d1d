"""The one way the gateway reads and writes XML.

Every parse goes through ``parse_xml``: one hardened lxml parser (no entity resolution, no
network, no DTD loading, no huge trees), a size cap checked before parsing, and a refusal of any
DOCTYPE at all. Errors name the rule broken, never the content, because payloads and replies
carry personal data.

XSDs are loaded once per path (``load_xsd``); ``xsd_problems`` reports paths and rule text from
libxml2's error log with element values stripped. ``serialize`` gives the same bytes for the same
tree: UTF-8, an XML declaration, no pretty-printing.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path

from lxml import etree

__all__ = [
    "DEFAULT_MAX_XML_BYTES",
    "UnsafeXmlError",
    "XmlError",
    "check_size",
    "load_xsd",
    "parse_xml",
    "serialize",
    "xsd_problems",
]

DEFAULT_MAX_XML_BYTES = 10 * 1024 * 1024


class XmlError(ValueError):
    """Bytes that are not well-formed XML; the message names the line, not the content."""


class UnsafeXmlError(XmlError):
    """XML refused before or instead of parsing: a DOCTYPE, or more bytes than allowed."""


def _hardened_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        remove_comments=False,
    )


# lxml parsers are not safe to share across threads while parsing; one per thread is cheap.
_local = threading.local()


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _hardened_parser()
        _local.parser = parser
    return parser


_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


def check_size(data: bytes, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> None:
    """Refuse (``UnsafeXmlError``) more than ``max_bytes`` of XML, read or written."""
    if len(data) > max_bytes:
        raise UnsafeXmlError(f"XML of {len(data)} bytes exceeds the limit of {max_bytes} bytes")


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise ``XmlError``.

    The DOCTYPE check runs on the raw bytes (cheap, and catches internal subsets whose entities
    the parser would otherwise silently leave empty) and again on the parsed document.
    """
    check_size(data, max_bytes)
    if _DOCTYPE.search(data):
        raise UnsafeXmlError("XML with a DOCTYPE declaration is refused")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno is not None else 0
        raise XmlError(f"XML is not well-formed (line {line})") from exc
    doctype: str = getattr(root.getroottree().docinfo, "doctype", "") or ""
    if doctype:
        raise UnsafeXmlError("XML with a DOCTYPE declaration is refused")
    return root


# libxml2 schema compilation and an XMLSchema's error log are not safe to share between
# threads (simulators and API threads validate at the same time): one lock guards both.
_SCHEMA_LOCK = threading.RLock()


def load_xsd(path: Path | str) -> etree.XMLSchema:
    """Load (once) an XSD shipped with an adapter; imports resolve relative to the file."""
    with _SCHEMA_LOCK:
        return _load_xsd(path)


@lru_cache(maxsize=64)
def _load_xsd(path: Path | str) -> etree.XMLSchema:
    tree = etree.parse(str(Path(path).resolve()), parser=_hardened_parser())
    return etree.XMLSchema(tree)


# libxml2 quotes element values in its messages ("The value 'Ivan' is not accepted ..."). Keep
# the quoted names of elements, attributes and facets; replace every other quoted string.
_QUOTED = re.compile(r"(Element |attribute |facet |type )?'([^']*)'")


def _scrub(message: str) -> str:
    def keep_names(match: re.Match[str]) -> str:
        label = match.group(1)
        return match.group(0) if label else "'…'"

    return re.sub(r"\s+", " ", _QUOTED.sub(keep_names, message)).strip()


def xsd_problems(schema: etree.XMLSchema, tree: etree._Element | etree._ElementTree) -> list[str]:
    """What ``schema`` finds wrong with ``tree``: ``"<path>: <rule>"`` strings, no values."""
    with _SCHEMA_LOCK:
        if schema.validate(tree):
            return []
        entries: list[etree._LogEntry] = list(schema.error_log)  # type: ignore[call-overload]
    return [f"{e.path or f'line {e.line}'}: {_scrub(e.message)}" for e in entries]


def serialize(root: etree._Element) -> bytes:
    """Deterministic bytes: UTF-8 with declaration, exactly as built (no pretty-printing)."""
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=False)
