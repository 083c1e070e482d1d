"""Canonical message → pcc-see-1.0 XML for ONE receiving party (pure; lxml builders).

Each payload names the Convention article(s) relied on (``legal_basis`` entries with instrument
``pcc_see``), the sender's deletion deadline (Art 31(4)(b), ``handling.retention_until``), and
the sending and receiving national central units (Art 4(3)).
"""

from __future__ import annotations

import copy
from typing import Any

from lxml import etree

from adapters._codes import CodeTable
from adapters.errors import RenderError
from adapters.pcc_see.common import (
    NAMESPACE,
    PROFILE,
    Msg,
    Node,
    channel_code,
    codes_element,
    country_code,
    effective_priority,
    node,
    optional,
)
from adapters.pcc_see.entities import (
    entity_sections,
    events_links_route_statistics,
    persons_elements,
)

INSTRUMENT = "pcc_see"
_RECIPIENT = f"{{{NAMESPACE}}}Recipient"


def central_unit(country: str) -> str:
    """The gateway's addressing key for a party's national central unit (Art 4(3))."""
    return f"PCCSEE-NCU-{country}"


def has_personal_data(message: Msg) -> bool:
    """Persons, document numbers, communication values, vehicle plates or VINs."""
    return bool(
        message.get("persons")
        or message.get("communications")
        or any(d.get("number") for d in message.get("documents", []))
        or any(v.get("registration") or v.get("vin") for v in message.get("vehicles", []))
    )


def render_message(message: Msg, recipient: str, codes: CodeTable) -> etree._Element:
    """The message for ``recipient``; ``RenderError`` when article or deadline is missing."""
    problems: list[tuple[str, str]] = []
    articles = [b.get("article") for b in message["legal_basis"] if b["instrument"] == INSTRUMENT]
    if not articles:
        problems.append(
            ("$.legal_basis", "name the PCC SEE article relied on (instrument pcc_see)")
        )
    elif not all(articles):
        problems.append(("$.legal_basis", "a pcc_see legal basis needs its article"))
    handling = message["handling"]
    if has_personal_data(message) and not handling.get("retention_until"):
        problems.append(
            ("$.handling.retention_until", "Art 31(4)(b): personal data needs a deletion deadline")
        )
    persons, person_problems = persons_elements(message, codes)
    problems.extend(person_problems)
    if problems:
        raise RenderError("pcc_see: message cannot be expressed in pcc-see-1.0", problems)

    sender = message["sender"]
    unit = sender.get("unit")
    children: list[Any] = [
        node("MessageId", message["message_id"]),
        node("SentAt", message["sent_at"]),
    ]
    children.append(node("MessageType", channel_code(codes, "kind", message["kind"])))
    optional(children, "InReplyTo", message.get("in_reply_to"))
    children.append(node("Priority", channel_code(codes, "priority", effective_priority(message))))
    sender_party = [
        node("Country", country_code(codes, sender["country"])),
        node("CentralUnit", central_unit(sender["country"])),
    ]
    sender_party.append(
        node("Authority", f"{sender['agency']} / {unit}" if unit else sender["agency"])
    )
    children.append(node("Sender", *sender_party))
    children.append(
        node(
            "Recipient",
            node("Country", country_code(codes, recipient)),
            node("CentralUnit", central_unit(recipient)),
        )
    )
    children.append(_legal_basis(message))
    children.append(_handling(handling, codes))
    children.append(node("Subject", message["subject"]))
    optional(children, "Summary", message.get("summary"))
    children.append(codes_element("CrimeAreas", codes.values("crime_area", message["crime_areas"])))
    exploitation = codes.values("exploitation_type", message.get("exploitation_types", []))
    if exploitation:
        children.append(codes_element("ExploitationTypes", exploitation))
    children.append(codes_element("Purposes", codes.values("purpose", message["purposes"])))
    if message.get("evaluation"):
        children.append(node("Evaluation", **message["evaluation"]))
    case = message.get("case") or {}
    case_children: list[Any] = []
    for key, tag in (
        ("reference", "Reference"),
        ("operation", "Operation"),
        ("opened_on", "OpenedOn"),
    ):
        optional(case_children, tag, case.get(key))
    if case_children:
        children.append(node("Case", *case_children))
    if persons:
        children.append(node("Persons", *persons))
    children.extend(entity_sections(message, codes))
    children.extend(events_links_route_statistics(message, codes))
    return node("PccSeeMessage", *children, profile=PROFILE).build()


def readdressed(tree: etree._Element, recipient: str, codes: CodeTable) -> etree._Element:
    """A copy of a rendered message, for ``recipient``: what ``render_message`` would build."""
    copied = copy.deepcopy(tree)
    holder = copied.find(_RECIPIENT)
    if holder is None:
        raise ValueError("not a rendered pcc-see-1.0 message")
    country, central = holder
    country.text = country_code(codes, recipient)
    central.text = central_unit(recipient)
    return copied


def _legal_basis(message: Msg) -> Node:
    children: list[Any] = [
        node("Article", b["article"])
        for b in message["legal_basis"]
        if b["instrument"] == INSTRUMENT
    ]
    for basis in message["legal_basis"]:
        if basis["instrument"] != INSTRUMENT:
            other = node("OtherBasis", instrument=basis["instrument"])
            if basis.get("article"):
                other.set("article", basis["article"])
            children.append(other)
    return node("LegalBasis", *children, convention="PCC SEE")


def _handling(handling: Msg, codes: CodeTable) -> Node:
    children: list[Any] = [
        node("Classification", channel_code(codes, "classification", handling["classification"])),
        node(
            "Restriction", channel_code(codes, "restriction", handling.get("restriction", "none"))
        ),
    ]
    optional(children, "RestrictionText", handling.get("restriction_text"))
    children.append(
        node("OnwardTransfer", str(handling.get("onward_transfer", "with_consent")).upper())
    )
    optional(children, "DeletionDeadline", handling.get("retention_until"))
    return node("Handling", *children)
