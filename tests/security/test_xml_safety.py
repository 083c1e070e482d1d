"""Hostile XML goes nowhere: every parse uses the hardened parser, which refuses or defuses
XXE, entity expansion, deep nesting and oversized input."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters._xml import UnsafeXmlError, XmlError, parse_xml

ROOT = Path(__file__).resolve().parents[2]
HARDENED = ROOT / "adapters" / "_xml.py"
SECRET_FILE_MARKER = "root:x:0:0"

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"""
XXE_NETWORK = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:9/leak">]><r>&x;</r>"""
PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>"""
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)
EXTERNAL_DTD = b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><r/>'


@pytest.mark.parametrize(
    "document",
    [XXE_FILE, XXE_NETWORK, PARAMETER_ENTITY, BILLION_LAUGHS, EXTERNAL_DTD],
    ids=["xxe-file", "xxe-network", "parameter-entity", "billion-laughs", "external-dtd"],
)
def test_documents_with_a_doctype_are_refused_before_parsing(document: bytes) -> None:
    with pytest.raises(UnsafeXmlError):
        parse_xml(document)


def test_deep_nesting_is_refused() -> None:
    depth = 100_000
    document = b"<a>" * depth + b"</a>" * depth
    with pytest.raises(XmlError):
        parse_xml(document)


def test_oversized_input_is_refused_before_parsing() -> None:
    document = b"<r>" + b"x" * 2048 + b"</r>"
    with pytest.raises(UnsafeXmlError):
        parse_xml(document, max_bytes=1024)


def test_error_texts_carry_no_content() -> None:
    with pytest.raises(XmlError) as caught:
        parse_xml(b"<r><name>Ivan Petrovic</name><broken></r>")
    assert "Ivan" not in str(caught.value)


hostile_fragments = st.sampled_from(
    [
        b"<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>",
        b"<!doctype r>",
        b"<!ENTITY x 'y'>",
        b"&x;",
        b"&lol9;",
        b"<![CDATA[",
        b"]]>",
        b"<?xml-stylesheet href='http://127.0.0.1:9/'?>",
        b"<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' href='/etc/passwd'/>",
        b"\x00",
        b"\xff\xfe",
        b"<a>" * 300,
        b"</a>",
        b"x" * 5000,
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.lists(hostile_fragments, max_size=4),
    text=st.binary(max_size=200),
    suffix=st.lists(hostile_fragments, max_size=4),
)
def test_fuzzed_hostile_documents_never_leak_or_crash(
    prefix: list[bytes], text: bytes, suffix: list[bytes]
) -> None:
    document = (
        b"<?xml version='1.0'?>" + b"".join(prefix) + b"<r>" + text + b"</r>" + b"".join(suffix)
    )
    try:
        root = parse_xml(document, max_bytes=64 * 1024)
    except XmlError:
        return  # refused: the only other allowed outcome
    content = "".join(root.itertext())
    assert SECRET_FILE_MARKER not in content
    assert root.getroottree().docinfo.doctype in ("", None)


@settings(max_examples=50, deadline=None)
@given(size=st.integers(min_value=1, max_value=4))
def test_huge_text_nodes_are_bounded_by_the_size_cap(size: int) -> None:
    cap = 256 * 1024
    document = b"<r>" + b"A" * (cap * size) + b"</r>"
    with pytest.raises(UnsafeXmlError):
        parse_xml(document, max_bytes=cap)


# Calls that parse XML; only the hardened module may make them.
PARSING_CALLS = {"fromstring", "parse", "XML", "XMLParser", "iterparse", "fromstringlist"}
XML_MODULES = {"etree", "lxml", "ElementTree", "ET", "minidom", "pulldom", "sax", "expat"}


def _parse_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if node.func.attr in PARSING_CALLS and owner_name in XML_MODULES:
                found.append(
                    f"{path.relative_to(ROOT)}:{node.lineno} {owner_name}.{node.func.attr}"
                )
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and (node.module.startswith("xml.") or node.module == "lxml.etree")
        ):
            names = {alias.name for alias in node.names}
            if names & PARSING_CALLS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {sorted(names)}")
    return found


def test_no_xml_is_parsed_outside_the_hardened_module() -> None:
    offenders: list[str] = []
    for package in ("gateway", "adapters"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == HARDENED:
                continue
            offenders.extend(_parse_calls(path))
    assert offenders == [], "parse XML only through adapters._xml.parse_xml"


def test_the_scan_itself_finds_a_direct_parse() -> None:
    sample = ROOT / "adapters" / "_xml.py"
    assert any("etree.fromstring" in hit for hit in _parse_calls(sample))
