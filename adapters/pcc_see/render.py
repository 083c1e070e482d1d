"""Canonical message → pcc-see-1.0 XML for ONE receiving party (pure; lxml builders).

Each payload names the Convention article(s) relied on (``legal_basis`` entries with instrument
``pcc_see``), the sender's deletion deadline (Art 31(4)(b), ``handling.retention_until``), and
the sending and receiving national central units (Art 4(3)).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from adapters._codes import CodeTable
from adapters._names import UnsupportedScript, latin_parts, person_country
from adapters.errors import RenderError

PROFILE = "pcc-see-1.0"
NAMESPACE = "urn:marri:gateway:pcc-see:1.0"
INSTRUMENT = "pcc_see"
_NSMAP: dict[Any, str] = {None: NAMESPACE}  # default namespace, no prefix

Msg = Mapping[str, Any]

# Entity list → (wrapper, element, fields sent as <Field name=...>, code list of its type).
_ENTITIES: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    (
        "documents",
        "Documents",
        "Document",
        ("number", "issuing_country", "issued_on", "valid_until", "status", "holder"),
        "document_type",
    ),
    (
        "vehicles",
        "Vehicles",
        "Vehicle",
        ("make", "model", "colour", "registration", "registration_country", "vin"),
        "vehicle_type",
    ),
    (
        "locations",
        "Locations",
        "Location",
        ("country", "place", "address", "lat", "lon"),
        "location_kind",
    ),
    ("organisations", "Organisations", "Organisation", ("name", "country"), "organisation_kind"),
    ("communications", "Communications", "Communication", ("value", "owner"), "communication_kind"),
)
_COUNTRY_FIELDS = frozenset({"issuing_country", "registration_country", "country"})


def node(tag: str, *children: etree._Element | str, **attributes: str) -> etree._Element:
    """One element of the profile's namespace built with lxml: text or child elements."""
    element = etree.Element(f"{{{NAMESPACE}}}{tag}", attributes, nsmap=_NSMAP)
    for child in children:
        if isinstance(child, str):
            element.text = child
        else:
            element.append(child)
    return element


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
    persons, person_problems = _persons(message, codes)
    problems.extend(person_problems)
    if problems:
        raise RenderError("pcc_see: message cannot be expressed in pcc-see-1.0", problems)

    sender = message["sender"]
    unit = sender.get("unit")
    children: list[Any] = [
        node("MessageId", message["message_id"]),
        node("SentAt", message["sent_at"]),
    ]
    children.append(node("MessageType", _code(codes, "kind", message["kind"])))
    _optional(children, "InReplyTo", message.get("in_reply_to"))
    children.append(node("Priority", _code(codes, "priority", _effective_priority(message))))
    sender_party = [
        node("Country", _country(codes, sender["country"])),
        node("CentralUnit", central_unit(sender["country"])),
    ]
    sender_party.append(
        node("Authority", f"{sender['agency']} / {unit}" if unit else sender["agency"])
    )
    children.append(node("Sender", *sender_party))
    children.append(
        node(
            "Recipient",
            node("Country", _country(codes, recipient)),
            node("CentralUnit", central_unit(recipient)),
        )
    )
    children.append(_legal_basis(message))
    children.append(_handling(handling, codes))
    children.append(node("Subject", message["subject"]))
    _optional(children, "Summary", message.get("summary"))
    children.append(
        _codes_element("CrimeAreas", codes.values("crime_area", message["crime_areas"]))
    )
    exploitation = codes.values("exploitation_type", message.get("exploitation_types", []))
    if exploitation:
        children.append(_codes_element("ExploitationTypes", exploitation))
    children.append(_codes_element("Purposes", codes.values("purpose", message["purposes"])))
    if message.get("evaluation"):
        children.append(node("Evaluation", **message["evaluation"]))
    case = message.get("case") or {}
    case_children: list[Any] = []
    for key, tag in (
        ("reference", "Reference"),
        ("operation", "Operation"),
        ("opened_on", "OpenedOn"),
    ):
        _optional(case_children, tag, case.get(key))
    if case_children:
        children.append(node("Case", *case_children))
    if persons:
        children.append(node("Persons", *persons))
    for key, wrapper, tag, fields, code_list in _ENTITIES:
        items = [_entity(tag, item, fields, code_list, codes) for item in message.get(key, [])]
        if items:
            children.append(node(wrapper, *items))
    children.extend(_events_links_route_statistics(message, codes))
    return node("PccSeeMessage", *children, profile=PROFILE)


def _legal_basis(message: Msg) -> etree._Element:
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


def _handling(handling: Msg, codes: CodeTable) -> etree._Element:
    children: list[Any] = [
        node("Classification", _code(codes, "classification", handling["classification"])),
        node("Restriction", _code(codes, "restriction", handling.get("restriction", "none"))),
    ]
    _optional(children, "RestrictionText", handling.get("restriction_text"))
    children.append(
        node("OnwardTransfer", str(handling.get("onward_transfer", "with_consent")).upper())
    )
    _optional(children, "DeletionDeadline", handling.get("retention_until"))
    return node("Handling", *children)


def _persons(message: Msg, codes: CodeTable) -> tuple[list[etree._Element], list[tuple[str, str]]]:
    out: list[etree._Element] = []
    problems: list[tuple[str, str]] = []
    for index, person in enumerate(message.get("persons", [])):
        country = person_country(person, message["sender"]["country"])
        try:
            names = _names(person["names"], country, codes)
        except UnsupportedScript:
            problems.append(
                (f"$.persons[{index}].names", "no Latin form: add a latin_transcription name")
            )
            continue
        children: list[Any] = list(names)
        if person.get("sex"):
            children.append(node("Sex", _code(codes, "sex", person["sex"])))
        _optional(children, "BirthDate", person.get("birth_date"))
        birth = person.get("birth_place") or {}
        if birth.get("country"):
            children.append(node("BirthCountry", _country(codes, birth["country"])))
        _optional(children, "BirthPlace", birth.get("place"))
        children.extend(
            node("Nationality", c) for c in codes.values("country", person.get("nationalities", []))
        )
        if person.get("is_minor") is not None:
            children.append(node("Minor", "true" if person["is_minor"] else "false"))
        _optional(children, "Description", person.get("description"))
        children.extend(
            node("SpecialCategory", c)
            for c in codes.values("special_category", person.get("special_categories", []))
        )
        out.append(
            node(
                "Person",
                *children,
                ref=person["ref"],
                role=_code(codes, "person_role", person["role"]),
            )
        )
    return out, problems


def _names(names: list[Msg], country: str | None, codes: CodeTable) -> list[etree._Element]:
    """Each name in Latin; a name in another script is followed by its original."""
    transcription = next((n for n in names if n.get("kind") == "latin_transcription"), None)
    named = [n for n in names if n.get("kind") != "latin_transcription"] or [
        transcription or names[0]
    ]
    main = next((n for n in named if n.get("kind", "primary") == "primary"), named[0])
    out: list[etree._Element] = []
    for name in named:
        kind = _code(codes, "name_kind", str(name.get("kind", "primary")))
        given, family = latin_parts(name, country, transcription if name is main else None)
        script = str(name.get("script", "Latn"))
        latin = _name(family, given, kind, "Latn")
        if script != "Latn":
            latin.set("latinOf", script)
        out.append(latin)
        if script != "Latn":
            out.append(_name(name.get("family"), name.get("given"), kind, script))
    return out


def _name(family: str | None, given: str | None, kind: str, script: str) -> etree._Element:
    children: list[Any] = []
    _optional(children, "FamilyName", family)
    _optional(children, "GivenName", given)
    return node("Name", *children, kind=kind, script=script)


def _entity(
    tag: str, item: Msg, fields: tuple[str, ...], code_list: str, codes: CodeTable
) -> etree._Element:
    children: list[Any] = []
    for field in fields:
        value = item.get(field)
        if value is None or value == "":
            continue
        if field in _COUNTRY_FIELDS:
            value = _country(codes, value)
        elif field == "status":
            value = _code(codes, "document_status", value)
        elif isinstance(value, float):
            value = format(value, ".6f").rstrip("0").rstrip(".")
        children.append(node("Field", str(value), name=field))
    type_key = "type" if "type" in item else "kind"
    return node(tag, *children, ref=item["ref"], type=_code(codes, code_list, item[type_key]))


def _events_links_route_statistics(message: Msg, codes: CodeTable) -> list[etree._Element]:
    out: list[etree._Element] = []
    events = []
    for event in message.get("events", []):
        children: list[Any] = []
        _optional(children, "At", event.get("at"))
        _optional(children, "Location", event.get("location"))
        children.extend(node("Involved", ref) for ref in event.get("involved", []))
        _optional(children, "PersonsCount", event.get("persons_count"))
        _optional(children, "Description", event.get("description"))
        events.append(
            node(
                "Event", *children, ref=event["ref"], type=_code(codes, "event_kind", event["kind"])
            )
        )
    if events:
        out.append(node("Events", *events))
    links = [
        node(
            "Link",
            **{
                "from": link["from"],
                "to": link["to"],
                "type": _code(codes, "link_kind", link["kind"]),
            },
        )
        for link in message.get("links", [])
    ]
    if links:
        out.append(node("Links", *links))
    route = [
        node(
            "Step",
            role=_code(codes, "route_role", s["role"]),
            country=_country(codes, s["country"]),
        )
        for s in message.get("route", [])
    ]
    if route:
        out.append(node("Route", *route))
    stats = message.get("statistics") or {}
    stat_children: list[Any] = []
    for key, tag in (
        ("persons_intercepted", "PersonsIntercepted"),
        ("victims_identified", "VictimsIdentified"),
        ("suspects_arrested", "SuspectsArrested"),
    ):
        _optional(stat_children, tag, stats.get(key))
    for country, count in sorted((stats.get("by_nationality") or {}).items()):
        stat_children.append(
            node("Nationality", country=_country(codes, country), count=str(count))
        )
    if stat_children:
        out.append(node("Statistics", *stat_children))
    return out


def _codes_element(tag: str, values: list[str]) -> etree._Element:
    return node(tag, *[node("Code", v) for v in values])


def _code(codes: CodeTable, list_name: str, code: str) -> str:
    value = codes.value(list_name, code)
    if value is None:  # the pcc_see table sends every code; a gap is a mapping bug
        raise RenderError(
            f"pcc_see: code list {list_name} does not send a code", [("$", list_name)]
        )
    return value


def _country(codes: CodeTable, code: str) -> str:
    return _code(codes, "country", code)


def _effective_priority(message: Msg) -> str:
    priority = str(message.get("priority", "routine"))
    return "urgent" if message["kind"] == "alert" and priority == "routine" else priority


def _optional(children: list[Any], tag: str, value: Any) -> None:
    if value is not None and value != "":
        children.append(node(tag, str(value)))
