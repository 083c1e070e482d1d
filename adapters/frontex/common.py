"""What both frontex-event-1.0 documents share: namespace, element builder, report header.

This is the gateway's own profile modelled on public facts (Reg. (EU) 2019/1896 Arts 87-90;
Impl. Reg. (EU) 2021/581 Arts 9, 16, 17), not an official Frontex, EUROSUR or JORA format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters._codes import CodeTable
from adapters._tree import ElementFactory, ElementSpec

PROFILE = "frontex-event-1.0"
NAMESPACE = "urn:marri:gateway:frontex:1.0"
_SOURCE_RANK = {"A": 0, "B": 1, "C": 2, "X": 3}

Msg = Mapping[str, Any]


Node = ElementSpec
node = ElementFactory(NAMESPACE)
optional = node.optional


def confidence_level(evaluation: Mapping[str, str] | None) -> str:
    """Impl. Reg. 2021/581 Art 16 confidence from the 4x4 evaluation: the two ranks summed."""
    if not evaluation:
        return "not_assessed"
    score = _SOURCE_RANK[evaluation["source"]] + int(evaluation["information"]) - 1
    return "high" if score <= 1 else "medium" if score <= 3 else "low"


def report_head(message: Msg, codes: CodeTable) -> list[Any]:
    """Header, subject, event types and confidence: the start of both documents."""
    evaluation = message.get("evaluation")
    confidence = node("ConfidenceLevel", confidence_level(evaluation))
    if evaluation:
        confidence.set("sourceReliability", evaluation["source"])
        confidence.set("informationAccuracy", evaluation["information"])
    return [
        header(message, codes),
        node("Subject", message["subject"]),
        node(
            "EventTypes",
            *[node("EventType", v) for v in codes.values("crime_area", message["crime_areas"])],
        ),
        confidence,
    ]


def header(message: Msg, codes: CodeTable) -> Node:
    """Who reports, handling, purposes (Art 87(2): the provider states them) and legal basis."""
    sender = message["sender"]
    handling = message["handling"]
    unit = sender.get("unit")
    children: list[Any] = [
        node("ReportId", message["message_id"]),
        node("ReportedAt", message["sent_at"]),
        node("ReportingCountry", country_code(codes, sender["country"])),
        node("ReportingAuthority", f"{sender['agency']} / {unit}" if unit else sender["agency"]),
        node("MessageType", str(codes.value("kind", message["kind"]))),
    ]
    optional(children, "InReplyTo", message.get("in_reply_to"))
    children.append(
        node("Classification", str(codes.value("classification", handling["classification"])))
    )
    children.append(
        node("Restriction", str(codes.value("restriction", handling.get("restriction", "none"))))
    )
    optional(children, "RestrictionText", handling.get("restriction_text"))
    children.append(
        node("OnwardTransfer", str(handling.get("onward_transfer", "with_consent")).upper())
    )
    optional(children, "RetentionUntil", handling.get("retention_until"))
    children.extend(node("Purpose", v) for v in codes.values("purpose", message["purposes"]))
    for basis in message["legal_basis"]:
        element = node("LegalBasis", instrument=basis["instrument"])
        if basis.get("article"):
            element.set("article", basis["article"])
        children.append(element)
    return node("Header", *children)


def effective_priority(message: Msg) -> str:
    """An alert is at least urgent, whatever priority was sent."""
    priority = str(message.get("priority", "routine"))
    return "urgent" if message["kind"] == "alert" and priority == "routine" else priority


def country_code(codes: CodeTable, code: str) -> str:
    """The channel's country code (every canonical country is mapped for Frontex)."""
    value = codes.value("country", code)
    return value if value is not None else code


def decimal(value: float) -> str:
    """Coordinates as xs:decimal text, without float noise or trailing zeros."""
    return format(value, ".6f").rstrip("0").rstrip(".")
