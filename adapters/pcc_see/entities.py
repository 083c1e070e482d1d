"""The entities of a pcc-see-1.0 message: persons with their names, documents, vehicles,
locations, organisations, communication identifiers, events, links, route and statistics."""

from __future__ import annotations

from typing import Any

from adapters._codes import CodeTable
from adapters._names import UnsupportedScript, latin_parts, person_country
from adapters.pcc_see.common import Msg, Node, channel_code, country_code, node, optional
from gateway.schema.entities import event_when

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


def entity_sections(message: Msg, codes: CodeTable) -> list[Node]:
    """``<Documents>`` ... ``<Communications>``, each present only when it has entries."""
    sections: list[Node] = []
    for key, wrapper, tag, fields, code_list in _ENTITIES:
        items = [_entity(tag, item, fields, code_list, codes) for item in message.get(key, [])]
        if items:
            sections.append(node(wrapper, *items))
    return sections


def persons_elements(message: Msg, codes: CodeTable) -> tuple[list[Node], list[tuple[str, str]]]:
    """Every person, names in Latin then original; names with no Latin form as problems."""
    out: list[Node] = []
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
            children.append(node("Sex", channel_code(codes, "sex", person["sex"])))
        optional(children, "BirthDate", person.get("birth_date"))
        birth = person.get("birth_place") or {}
        if birth.get("country"):
            children.append(node("BirthCountry", country_code(codes, birth["country"])))
        optional(children, "BirthPlace", birth.get("place"))
        children.extend(
            node("Nationality", c) for c in codes.values("country", person.get("nationalities", []))
        )
        if person.get("is_minor") is not None:
            children.append(node("Minor", "true" if person["is_minor"] else "false"))
        optional(children, "Description", person.get("description"))
        children.extend(
            node("SpecialCategory", c)
            for c in codes.values("special_category", person.get("special_categories", []))
        )
        out.append(
            node(
                "Person",
                *children,
                ref=person["ref"],
                role=channel_code(codes, "person_role", person["role"]),
            )
        )
    return out, problems


def _names(names: list[Msg], country: str | None, codes: CodeTable) -> list[Node]:
    """Each name in Latin; a name in another script is followed by its original."""
    transcription = next((n for n in names if n.get("kind") == "latin_transcription"), None)
    named = [n for n in names if n.get("kind") != "latin_transcription"] or [
        transcription or names[0]
    ]
    main = next((n for n in named if n.get("kind", "primary") == "primary"), named[0])
    out: list[Node] = []
    for name in named:
        kind = channel_code(codes, "name_kind", str(name.get("kind", "primary")))
        given, family = latin_parts(name, country, transcription if name is main else None)
        script = str(name.get("script", "Latn"))
        latin = _name(family, given, kind, "Latn")
        if script != "Latn":
            latin.set("latinOf", script)
        out.append(latin)
        if script != "Latn":
            out.append(_name(name.get("family"), name.get("given"), kind, script))
    return out


def _name(family: str | None, given: str | None, kind: str, script: str) -> Node:
    children: list[Any] = []
    optional(children, "FamilyName", family)
    optional(children, "GivenName", given)
    return node("Name", *children, kind=kind, script=script)


def _entity(tag: str, item: Msg, fields: tuple[str, ...], code_list: str, codes: CodeTable) -> Node:
    children: list[Any] = []
    for field in fields:
        value = item.get(field)
        if value is None or value == "":
            continue
        if field in _COUNTRY_FIELDS:
            value = country_code(codes, value)
        elif field == "status":
            value = channel_code(codes, "document_status", value)
        elif isinstance(value, float):
            value = format(value, ".6f").rstrip("0").rstrip(".")
        children.append(node("Field", str(value), name=field))
    type_key = "type" if "type" in item else "kind"
    return node(
        tag, *children, ref=item["ref"], type=channel_code(codes, code_list, item[type_key])
    )


def events_links_route_statistics(message: Msg, codes: CodeTable) -> list[Node]:
    """The sections after the entities, each present only when it has entries."""
    out: list[Node] = []
    events = []
    for event in message.get("events", []):
        children: list[Any] = []
        optional(children, "At", event_when(event))
        optional(children, "Location", event.get("location"))
        children.extend(node("Involved", ref) for ref in event.get("involved", []))
        optional(children, "PersonsCount", event.get("persons_count"))
        optional(children, "Description", event.get("description"))
        events.append(
            node(
                "Event",
                *children,
                ref=event["ref"],
                type=channel_code(codes, "event_kind", event["kind"]),
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
                "type": channel_code(codes, "link_kind", link["kind"]),
            },
        )
        for link in message.get("links", [])
    ]
    if links:
        out.append(node("Links", *links))
    route = [
        node(
            "Step",
            role=channel_code(codes, "route_role", s["role"]),
            country=country_code(codes, s["country"]),
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
        optional(stat_children, tag, stats.get(key))
    for country, count in sorted((stats.get("by_nationality") or {}).items()):
        stat_children.append(
            node("Nationality", country=country_code(codes, country), count=str(count))
        )
    if stat_children:
        out.append(node("Statistics", *stat_children))
    return out
