"""Canonical message → frontex-event-1.0 XML (pure; lxml builders; no clock, no randomness).

``event_report`` never names a person: persons become counts by nationality (Reg. 2019/1896
Art 89), and only vessel and aircraft identifications are carried. ``operational_personal_data``
carries the persons the code table sends (suspects, with victims and witnesses as a supplement,
Art 90) and their linked documents, vehicles and communication identifiers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from lxml import etree

from adapters._codes import CodeTable
from adapters._names import UnsupportedScript, latin_parts, person_country, romanised
from adapters.errors import RenderError

PROFILE = "frontex-event-1.0"
NAMESPACE = "urn:marri:gateway:frontex:1.0"
_NSMAP: dict[Any, str] = {None: NAMESPACE}  # default namespace, no prefix


def node(tag: str, *children: etree._Element | str, **attributes: str) -> etree._Element:
    """One element of the profile's namespace built with lxml: text or child elements."""
    element = etree.Element(f"{{{NAMESPACE}}}{tag}", attributes, nsmap=_NSMAP)
    for child in children:
        if isinstance(child, str):
            element.text = child
        else:
            element.append(child)
    return element


_SOURCE_RANK = {"A": 0, "B": 1, "C": 2, "X": 3}
_CRAFT_TYPES = {"VESSEL", "AIRCRAFT"}

Msg = Mapping[str, Any]


def confidence_level(evaluation: Mapping[str, str] | None) -> str:
    """Impl. Reg. 2021/581 Art 16 confidence from the 4x4 evaluation: the two ranks summed."""
    if not evaluation:
        return "not_assessed"
    score = _SOURCE_RANK[evaluation["source"]] + int(evaluation["information"]) - 1
    return "high" if score <= 1 else "medium" if score <= 3 else "low"


def render_event_report(message: Msg, codes: CodeTable) -> etree._Element:
    """Event types, time, place, confidence, impact, and persons as counts only."""
    children: list[Any] = [
        *_report_head(message, codes),
        node("ImpactLevel", str(codes.value("priority", _effective_priority(message)))),
    ]
    _optional(children, "Description", message.get("summary"))
    events = [_event(event, message, codes) for event in message.get("events", [])]
    if events:
        children.append(node("Events", *events))
    route = [
        node(
            "Step",
            role=str(codes.value("route_role", step["role"])),
            country=_country(codes, step["country"]),
        )
        for step in message.get("route", [])
    ]
    if route:
        children.append(node("Route", *route))
    counts = _persons_counts(message, codes)
    if counts is not None:
        children.append(counts)
    stats = _statistics(message.get("statistics") or {})
    if stats is not None:
        children.append(stats)
    craft = _craft(message, codes)
    if craft is not None:
        children.append(craft)
    return node("EventReport", *children, profile=PROFILE)


def render_operational_personal_data(message: Msg, codes: CodeTable) -> etree._Element:
    """Persons the code table sends, with their linked identifiers (Art 90)."""
    persons, problems = _persons(message, codes)
    if not any(p.get("role") == "SUSPECT" for p in persons):
        problems.append(("$.persons", "operational_personal_data needs a person with role suspect"))
    if problems:
        raise RenderError(
            "frontex: message cannot be expressed as operational_personal_data", problems
        )
    children: list[Any] = list(_report_head(message, codes))
    _optional(children, "Description", message.get("summary"))
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
    return node("OperationalPersonalData", *children, profile=PROFILE)


def _report_head(message: Msg, codes: CodeTable) -> list[Any]:
    evaluation = message.get("evaluation")
    confidence = node("ConfidenceLevel", confidence_level(evaluation))
    if evaluation:
        confidence.set("sourceReliability", evaluation["source"])
        confidence.set("informationAccuracy", evaluation["information"])
    return [
        _header(message, codes),
        node("Subject", message["subject"]),
        node(
            "EventTypes",
            *[node("EventType", v) for v in codes.values("crime_area", message["crime_areas"])],
        ),
        confidence,
    ]


def _header(message: Msg, codes: CodeTable) -> etree._Element:
    sender = message["sender"]
    handling = message["handling"]
    unit = sender.get("unit")
    children: list[Any] = [
        node("ReportId", message["message_id"]),
        node("ReportedAt", message["sent_at"]),
        node("ReportingCountry", _country(codes, sender["country"])),
        node("ReportingAuthority", f"{sender['agency']} / {unit}" if unit else sender["agency"]),
        node("MessageType", str(codes.value("kind", message["kind"]))),
    ]
    _optional(children, "InReplyTo", message.get("in_reply_to"))
    children.append(
        node("Classification", str(codes.value("classification", handling["classification"])))
    )
    children.append(
        node("Restriction", str(codes.value("restriction", handling.get("restriction", "none"))))
    )
    _optional(children, "RestrictionText", handling.get("restriction_text"))
    children.append(
        node("OnwardTransfer", str(handling.get("onward_transfer", "with_consent")).upper())
    )
    _optional(children, "RetentionUntil", handling.get("retention_until"))
    children.extend(node("Purpose", v) for v in codes.values("purpose", message["purposes"]))
    for basis in message["legal_basis"]:
        element = node("LegalBasis", instrument=basis["instrument"])
        if basis.get("article"):
            element.set("article", basis["article"])
        children.append(element)
    return node("Header", *children)


def _event(event: Msg, message: Msg, codes: CodeTable) -> etree._Element:
    children: list[Any] = []
    _optional(children, "Time", event.get("at"))
    location = _location(event.get("location"), message, codes)
    if location is not None:
        children.append(location)
    if event.get("persons_count") is not None:
        children.append(node("PersonsCount", str(event["persons_count"])))
    _optional(children, "Description", event.get("description"))
    return node(
        "Event", *children, ref=event["ref"], type=str(codes.value("event_kind", event["kind"]))
    )


def _location(ref: str | None, message: Msg, codes: CodeTable) -> etree._Element | None:
    found = next((loc for loc in message.get("locations", []) if loc["ref"] == ref), None)
    if ref is None or found is None:
        return None
    children: list[Any] = []
    if found.get("country"):
        children.append(node("Country", _country(codes, found["country"])))
    if found.get("place"):  # place names go to Frontex in Latin script
        children.append(node("Place", romanised(found["place"], found.get("country"))))
    if found.get("lat") is not None:
        children.append(node("Latitude", _decimal(found["lat"])))
        children.append(node("Longitude", _decimal(found["lon"])))
    return node("Location", *children, kind=str(codes.value("location_kind", found["kind"])))


def _persons_counts(message: Msg, codes: CodeTable) -> etree._Element | None:
    """Counts from the sender's statistics, else from the persons, else from the events."""
    stats = message.get("statistics") or {}
    by_nationality: Counter[str] = Counter()
    unknown = 0
    if stats.get("by_nationality"):
        basis = "statistics"
        for country, count in stats["by_nationality"].items():
            by_nationality[_country(codes, country)] += int(count)
        # Intercepted persons whose nationality the sender did not break down.
        unknown = max(0, int(stats.get("persons_intercepted") or 0) - sum(by_nationality.values()))
    elif message.get("persons"):
        basis = "persons"
        for person in message["persons"]:
            nationalities = person.get("nationalities") or []
            if nationalities:
                by_nationality[_country(codes, nationalities[0])] += 1
            else:
                unknown += 1
    else:
        counted = [e["persons_count"] for e in message.get("events", []) if e.get("persons_count")]
        if not counted and stats.get("persons_intercepted") is None:
            return None
        basis = "events" if counted else "statistics"
        unknown = sum(counted) if counted else int(stats["persons_intercepted"])
    children: list[Any] = [
        node("Nationality", country=country, count=str(count))
        for country, count in sorted(by_nationality.items())
    ]
    if unknown:
        children.append(node("UnknownNationality", str(unknown)))
    total = sum(by_nationality.values()) + unknown
    return node("PersonsCounts", *children, total=str(total), basis=basis)


def _statistics(stats: Msg) -> etree._Element | None:
    children: list[Any] = []
    for key, tag in (
        ("persons_intercepted", "PersonsIntercepted"),
        ("victims_identified", "VictimsIdentified"),
        ("suspects_arrested", "SuspectsArrested"),
    ):
        if stats.get(key) is not None:
            children.append(node(tag, str(stats[key])))
    return node("Statistics", *children) if children else None


def _craft(message: Msg, codes: CodeTable) -> etree._Element | None:
    """Vessel and aircraft identification, the one personal datum Art 89 lets through."""
    found: list[Any] = []
    for vehicle in message.get("vehicles", []):
        craft_type = codes.value("vehicle_type", vehicle["type"])
        ident = vehicle.get("registration") or vehicle.get("vin")
        if craft_type in _CRAFT_TYPES and ident:
            element = node("Identification", ident, type=str(craft_type))
            if vehicle.get("registration_country"):
                element.set("country", _country(codes, vehicle["registration_country"]))
            found.append(element)
    return node("Craft", *found) if found else None


def _persons(message: Msg, codes: CodeTable) -> tuple[list[etree._Element], list[tuple[str, str]]]:
    out: list[etree._Element] = []
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
        _optional(children, "BirthDate", person.get("birth_date"))
        birth = person.get("birth_place") or {}
        if birth.get("country"):
            children.append(node("BirthCountry", _country(codes, birth["country"])))
        if birth.get("place"):
            children.append(node("BirthPlace", romanised(birth["place"], birth.get("country"))))
        children.extend(
            node("Nationality", c) for c in codes.values("country", person.get("nationalities", []))
        )
        if person.get("is_minor") is not None:
            children.append(node("Minor", "true" if person["is_minor"] else "false"))
        out.append(node("Person", *children, ref=person["ref"], role=str(role)))
    return out, problems


def _person_names(person: Msg, country: str | None, codes: CodeTable) -> list[etree._Element]:
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


def _name(
    tag: str, family: str | None, given: str | None, kind: str, script: str
) -> etree._Element:
    children: list[Any] = []
    _optional(children, "FamilyName", family)
    _optional(children, "GivenName", given)
    return node(tag, *children, kind=kind, script=script)


def _document(doc: Msg, codes: CodeTable) -> etree._Element:
    children: list[Any] = []
    _optional(children, "Number", doc.get("number"))
    if doc.get("issuing_country"):
        children.append(node("IssuingCountry", _country(codes, doc["issuing_country"])))
    _optional(children, "ValidUntil", doc.get("valid_until"))
    element = node(
        "Document", *children, ref=doc["ref"], type=str(codes.value("document_type", doc["type"]))
    )
    if doc.get("status"):
        element.set("status", str(codes.value("document_status", doc["status"])))
    if doc.get("holder"):
        element.set("holder", doc["holder"])
    return element


def _vehicle(vehicle: Msg, codes: CodeTable) -> etree._Element:
    children: list[Any] = []
    if vehicle.get("registration"):
        registration = node("Registration", vehicle["registration"])
        if vehicle.get("registration_country"):
            registration.set("country", _country(codes, vehicle["registration_country"]))
        children.append(registration)
    for key, tag in (("vin", "VIN"), ("make", "Make"), ("model", "Model"), ("colour", "Colour")):
        _optional(children, tag, vehicle.get(key))
    return node(
        "Vehicle",
        *children,
        ref=vehicle["ref"],
        type=str(codes.value("vehicle_type", vehicle["type"])),
    )


def _communication(comm: Msg, codes: CodeTable) -> etree._Element:
    element = node(
        "Communication",
        comm["value"],
        ref=comm["ref"],
        kind=str(codes.value("communication_kind", comm["kind"])),
    )
    if comm.get("owner"):
        element.set("owner", comm["owner"])
    return element


def _effective_priority(message: Msg) -> str:
    priority = str(message.get("priority", "routine"))
    return "urgent" if message["kind"] == "alert" and priority == "routine" else priority


def _country(codes: CodeTable, code: str) -> str:
    value = codes.value("country", code)
    return value if value is not None else code


def _decimal(value: float) -> str:
    return format(value, ".6f").rstrip("0").rstrip(".")


def _optional(children: list[Any], tag: str, value: Any) -> None:
    if value is not None and value != "":
        children.append(node(tag, str(value)))
