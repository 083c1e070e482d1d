"""The hardened XML boundary: hostile input refused, problems without values, stable bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from adapters._xml import UnsafeXmlError, XmlError, load_xsd, parse_xml, serialize, xsd_problems

XSD = b"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t"
  xmlns="urn:t" elementFormDefault="qualified">
  <xs:element name="root"><xs:complexType><xs:sequence>
    <xs:element name="code"><xs:simpleType><xs:restriction base="xs:string">
      <xs:pattern value="[A-Z]{2}"/></xs:restriction></xs:simpleType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""


def test_plain_document_parses() -> None:
    root = parse_xml(b"<a><b>x</b></a>")
    assert root.findtext("b") == "x"


@pytest.mark.parametrize(
    "hostile",
    [
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        b'<!DOCTYPE a [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;">]><a>&l2;</a>',
        b'<!doctype a SYSTEM "http://127.0.0.1:1/x.dtd"><a/>',
    ],
)
def test_any_doctype_is_refused(hostile: bytes) -> None:
    with pytest.raises(UnsafeXmlError, match="DOCTYPE"):
        parse_xml(hostile)


def test_oversize_input_refused_before_parsing() -> None:
    with pytest.raises(UnsafeXmlError, match="exceeds"):
        parse_xml(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)


def test_malformed_error_does_not_echo_content() -> None:
    with pytest.raises(XmlError) as info:
        parse_xml(b"<a><name>Ivana Petrovic</a>")
    assert "Ivana" not in str(info.value)
    assert not isinstance(info.value, UnsafeXmlError)


def test_xsd_problems_name_path_and_rule_without_value(tmp_path: Path) -> None:
    xsd = tmp_path / "t.xsd"
    xsd.write_bytes(XSD)
    schema = load_xsd(xsd)
    assert load_xsd(xsd) is schema
    good = parse_xml(b'<root xmlns="urn:t"><code>RS</code></root>')
    assert xsd_problems(schema, good) == []
    bad = parse_xml(b'<root xmlns="urn:t"><code>Petrovic</code></root>')
    problems = xsd_problems(schema, bad)
    assert len(problems) == 1
    assert problems[0].startswith("/")
    assert "code" in problems[0]
    assert "pattern" in problems[0]
    assert "Petrovic" not in problems[0]


def test_serialize_is_stable_and_declares_utf8() -> None:
    root = etree.Element("a")
    etree.SubElement(root, "b").text = "Ђорђе"
    first = serialize(root)
    assert first.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert serialize(parse_xml(first)) == first
    assert "Ђорђе".encode() in first
