"""Canonical message → frontex-event-1.0 ``OperationalPersonalData`` (pure).

Carries the persons the code table sends (suspects, with victims and witnesses as a supplement,
Reg. 2019/1896 Art 90) and their linked documents, vehicles and communication identifiers.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from adapters._codes import CodeTable
from adapters._names import UnsupportedScript, latin_parts, person_country, romanised
from adapters.errors import RenderError
from adapters.frontex.common import PROFILE, Msg, Node, country_code, node, optional, report_head


def render_operational_personal_data(message: Msg, codes: CodeTable) -> etree._Element:
    """Persons the code table sends, with their linked identifiers (Art 90)."""
    persons, problems = _persons(message, codes)
    # Rule frontex.art90_suspect_required denies such a message before it is rendered.
    if not any(p.get("role") == "SUSPECT" for p in persons):
        problems.append(("$.persons", "operational_personal_data needs a person with role suspect"))
    if problems:
        raise RenderError(
            "frontex: message cannot be expressed as operational_personal_data", problems
        )
    children: list[Any] = list(report_head(message, codes))
    optional(children, "Description", message.get("summary"))
    children.append(node("Persons", *persons))
    # Identifiers held by a person who is not sent (e.g. a missing person) stay behind too.
    withheld = {p["ref"] for p in message.get("persons", [])} - {p.get("ref") for p in persons}
    for wrapper, builder, key, owner in (
        ("Documents", _document, "documents", "holder"),
        ("Vehicles", _vehicle, "vehicles", None),
        ("Communications", _communication, "communications", "owner"),
    ):
        items = [
            builder(item, codes)
            for item in message.get(key, [])
            if owner is None or item.get(owner) not in withheld
        ]
        if items:
            children.append(node(wrapper, *items))
    return node("OperationalPersonalData", *children, profile=PROFILE).build()


def _persons(message: Msg, codes: CodeTable) -> tuple[list[Node], list[tuple[str, str]]]:
    out: list[Node] = []
    problems: list[tuple[str, str]] = []
    sender_country = message["sender"]["country"]
    for index, person in enumerate(message.get("persons", [])):
        role = codes.value("person_role", person["role"])
        if role is None:
            continue  # the code table says this role never goes to Frontex
        try:
            names = _person_names(person, person_country(person, sender_country), codes)
        except UnsupportedScript:
            problems.append(
                (f"$.persons[{index}].names", "no Latin form: add a latin_transcription name")
            )
            continue
        children: list[Any] = list(names)
        if person.get("sex"):
            children.append(node("Sex", str(codes.value("sex", person["sex"]))))
        optional(children, "BirthDate", person.get("birth_date"))
        birth = person.get("birth_place") or {}
        if birth.get("country"):
            children.append(node("BirthCountry", country_code(codes, birth["country"])))
        if birth.get("place"):
            children.append(node("BirthPlace", romanised(birth["place"], birth.get("country"))))
        children.extend(
            node("Nationality", c) for c in codes.values("country", person.get("nationalities", []))
        )
        if person.get("is_minor") is not None:
            children.append(node("Minor", "true" if person["is_minor"] else "false"))
        out.append(node("Person", *children, ref=person["ref"], role=str(role)))
    return out, problems


def _person_names(person: Msg, country: str | None, codes: CodeTable) -> list[Node]:
    """Main name in Latin, its original script if any, then the other names in Latin."""
    names = person["names"]
    transcription = next((n for n in names if n.get("kind") == "latin_transcription"), None)
    named = [n for n in names if n.get("kind") != "latin_transcription"] or [
        transcription or names[0]
    ]
    main = next((n for n in named if n.get("kind", "primary") == "primary"), named[0])
    given, family = latin_parts(main, country, transcription)
    out = [
        _name(
            "Name",
            family,
            given,
            str(codes.value("name_kind", main.get("kind", "primary"))),
            "Latn",
        )
    ]
    if main.get("script", "Latn") != "Latn":
        kind = str(codes.value("name_kind", main.get("kind", "primary")))
        out.append(
            _name("OriginalName", main.get("family"), main.get("given"), kind, str(main["script"]))
        )
    for other in named:
        if other is not main:
            o_given, o_family = latin_parts(other, country)
            kind = str(codes.value("name_kind", other.get("kind", "primary")))
            out.append(_name("OtherName", o_family, o_given, kind, "Latn"))
    return out


def _name(tag: str, family: str | None, given: str | None, kind: str, script: str) -> Node:
    children: list[Any] = []
    optional(children, "FamilyName", family)
    optional(children, "GivenName", given)
    return node(tag, *children, kind=kind, script=script)


def _document(doc: Msg, codes: CodeTable) -> Node:
    children: list[Any] = []
    optional(children, "Number", doc.get("number"))
    if doc.get("issuing_country"):
        children.append(node("IssuingCountry", country_code(codes, doc["issuing_country"])))
    optional(children, "ValidUntil", doc.get("valid_until"))
    element = node(
        "Document", *children, ref=doc["ref"], type=str(codes.value("document_type", doc["type"]))
    )
    if doc.get("status"):
        element.set("status", str(codes.value("document_status", doc["status"])))
    if doc.get("holder"):
        element.set("holder", doc["holder"])
    return element


def _vehicle(vehicle: Msg, codes: CodeTable) -> Node:
    children: list[Any] = []
    if vehicle.get("registration"):
        registration = node("Registration", vehicle["registration"])
        if vehicle.get("registration_country"):
            registration.set("country", country_code(codes, vehicle["registration_country"]))
        children.append(registration)
    for key, tag in (("vin", "VIN"), ("make", "Make"), ("model", "Model"), ("colour", "Colour")):
        optional(children, tag, vehicle.get(key))
    return node(
        "Vehicle",
        *children,
        ref=vehicle["ref"],
        type=str(codes.value("vehicle_type", vehicle["type"])),
    )


def _communication(comm: Msg, codes: CodeTable) -> Node:
    element = node(
        "Communication",
        comm["value"],
        ref=comm["ref"],
        kind=str(codes.value("communication_kind", comm["kind"])),
    )
    if comm.get("owner"):
        element.set("owner", comm["owner"])
    return element
