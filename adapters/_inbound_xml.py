"""Answers in XML: the reply layout the XML channels' inbound profiles share, read and written.

Each channel declares its own namespace and root element in its own versioned XSD
(``adapters/<channel>/schema/*-reply-1.0.xsd`` and the like); the children are the same::

    MessageId  InReplyTo?  Reference?  FromCountry?  FromAgency?  Sent?  Subject  Text?
    Restriction?  Classification?
    Person*   (Role? Sex? Nationality* BirthDate? Name+ (@script, Given?, Family?))

Reading goes through the hardened parser (``_xml.parse_xml``) and the channel's XSD before any
value is taken; errors become ``InboundError`` naming rules and paths only. Writing is what the
channel simulators and the contract kit use to produce realistic answers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from lxml import etree

from adapters._soap import SOAP_ENV, envelope, envelope_tree_problems
from adapters._xml import UnsafeXmlError, XmlError, check_size, load_xsd, parse_xml, xsd_problems
from adapters.inbound import InboundError, InboundMessage, InboundName, InboundPerson

__all__ = [
    "parse_plain_reply",
    "parse_soap_reply",
    "read_reply",
    "reply_element",
    "soap_reply",
]


def parse_checked(body: bytes, max_bytes: int) -> etree._Element:
    """The parsed tree, or ``InboundError`` (too large, unsafe or not well-formed)."""
    try:
        check_size(body, max_bytes)
    except UnsafeXmlError as exc:
        raise InboundError("too_large", str(exc)) from None
    try:
        return parse_xml(body, max_bytes=max_bytes)
    except XmlError as exc:
        raise InboundError("malformed", str(exc)) from None


def _refuse_problems(problems: list[str]) -> None:
    if problems:
        raise InboundError("schema_invalid", "the answer does not match its schema", problems)


def parse_soap_reply(
    body: bytes, channel: str, root: etree.QName, xsd: Path, max_bytes: int
) -> InboundMessage:
    """A SOAP 1.1 envelope whose body is one ``root`` element valid against ``xsd``."""
    tree = parse_checked(body, max_bytes)
    _refuse_problems(envelope_tree_problems(tree, root, xsd))
    element = tree.find(f"{{{SOAP_ENV}}}Body/{root.text}")
    assert element is not None  # the check above found exactly this child
    return read_reply(element, root.namespace or "", channel)


def parse_plain_reply(
    body: bytes, channel: str, root: etree.QName, xsd: Path, max_bytes: int
) -> InboundMessage:
    """A plain XML document whose root is ``root`` and which ``xsd`` accepts."""
    tree = parse_checked(body, max_bytes)
    if tree.tag != root.text:
        raise InboundError("schema_invalid", "the answer does not match its schema",
                           [f"/: root is not {root.localname}"])  # fmt: skip
    _refuse_problems(xsd_problems(load_xsd(xsd), tree))
    return read_reply(tree, root.namespace or "", channel)


def read_reply(element: etree._Element, ns: str, channel: str) -> InboundMessage:
    """The answer in an element already checked against its schema."""

    def text(parent: etree._Element, name: str) -> str | None:
        found = parent.find(f"{{{ns}}}{name}")
        return found.text if found is not None and found.text is not None else None

    sent = text(element, "Sent")
    codes = {
        list_name: value
        for list_name, value in (
            ("restriction", text(element, "Restriction")),
            ("classification", text(element, "Classification")),
        )
        if value is not None
    }
    persons = []
    for person in element.findall(f"{{{ns}}}Person"):
        names = tuple(
            InboundName(
                given=text(name, "Given"),
                family=text(name, "Family"),
                script=name.get("script", "Latn"),
            )
            for name in person.findall(f"{{{ns}}}Name")
        )
        persons.append(
            InboundPerson(
                names=names,
                role=text(person, "Role"),
                sex=text(person, "Sex"),
                nationalities=tuple(
                    n.text for n in person.findall(f"{{{ns}}}Nationality") if n.text
                ),
                birth_date=text(person, "BirthDate"),
            )
        )
    return InboundMessage(
        channel=channel,
        channel_message_id=text(element, "MessageId") or "",
        subject=text(element, "Subject") or "",
        in_reply_to=text(element, "InReplyTo"),
        channel_reference=text(element, "Reference"),
        from_country=text(element, "FromCountry"),
        from_agency=text(element, "FromAgency"),
        sent_at=datetime.fromisoformat(sent) if sent else None,
        text=text(element, "Text"),
        codes=codes,
        persons=tuple(persons),
    )


def reply_element(root: etree.QName, answer: InboundMessage) -> etree._Element:
    """``answer`` written in the shared layout under ``root`` (simulators, contract kit)."""
    ns = root.namespace or ""
    element = etree.Element(root.text, nsmap={None: ns})  # type: ignore[dict-item]
    add: Callable[[etree._Element, str, str | None], None] = _adder(ns)
    add(element, "MessageId", answer.channel_message_id)
    add(element, "InReplyTo", answer.in_reply_to)
    add(element, "Reference", answer.channel_reference)
    add(element, "FromCountry", answer.from_country)
    add(element, "FromAgency", answer.from_agency)
    add(element, "Sent", answer.sent_at.isoformat() if answer.sent_at else None)
    add(element, "Subject", answer.subject)
    add(element, "Text", answer.text)
    add(element, "Restriction", answer.codes.get("restriction"))
    add(element, "Classification", answer.codes.get("classification"))
    for person in answer.persons:
        node = etree.SubElement(element, f"{{{ns}}}Person")
        add(node, "Role", person.role)
        add(node, "Sex", person.sex)
        for nationality in person.nationalities:
            add(node, "Nationality", nationality)
        add(node, "BirthDate", person.birth_date)
        for name in person.names:
            name_node = etree.SubElement(node, f"{{{ns}}}Name", script=name.script)
            add(name_node, "Given", name.given)
            add(name_node, "Family", name.family)
    return element


def soap_reply(root: etree.QName, answer: InboundMessage) -> etree._Element:
    """``reply_element`` inside a SOAP 1.1 envelope."""
    return envelope(reply_element(root, answer))


def _adder(ns: str) -> Callable[[etree._Element, str, str | None], None]:
    def add(parent: etree._Element, name: str, value: str | None) -> None:
        if value is not None:
            etree.SubElement(parent, f"{{{ns}}}{name}").text = value

    return add
