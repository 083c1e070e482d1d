"""Canonical message → frontex-event-1.0 ``EventReport`` (pure; no clock, no randomness).

An event report never names a person: persons become counts by nationality (Reg. 2019/1896
Art 89), and only vessel and aircraft identifications are carried.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from lxml import etree

from adapters._codes import CodeTable
from adapters._names import romanised
from adapters.frontex.common import (
    PROFILE,
    Msg,
    Node,
    country_code,
    decimal,
    effective_priority,
    node,
    optional,
    report_head,
)
from gateway.schema.entities import event_when

_CRAFT_TYPES = {"VESSEL", "AIRCRAFT"}


def render_event_report(message: Msg, codes: CodeTable) -> etree._Element:
    """Event types, time, place, confidence, impact, and persons as counts only."""
    children: list[Any] = [
        *report_head(message, codes),
        node("ImpactLevel", str(codes.value("priority", effective_priority(message)))),
    ]
    optional(children, "Description", message.get("summary"))
    events = [_event(event, message, codes) for event in message.get("events", [])]
    if events:
        children.append(node("Events", *events))
    route = [
        node(
            "Step",
            role=str(codes.value("route_role", step["role"])),
            country=country_code(codes, step["country"]),
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
    return node("EventReport", *children, profile=PROFILE).build()


def _event(event: Msg, message: Msg, codes: CodeTable) -> Node:
    children: list[Any] = []
    optional(children, "Time", event_when(event))
    location = _location(event.get("location"), message, codes)
    if location is not None:
        children.append(location)
    if event.get("persons_count") is not None:
        children.append(node("PersonsCount", str(event["persons_count"])))
    optional(children, "Description", event.get("description"))
    return node(
        "Event", *children, ref=event["ref"], type=str(codes.value("event_kind", event["kind"]))
    )


def _location(ref: str | None, message: Msg, codes: CodeTable) -> Node | None:
    found = next((loc for loc in message.get("locations", []) if loc["ref"] == ref), None)
    if ref is None or found is None:
        return None
    children: list[Any] = []
    if found.get("country"):
        children.append(node("Country", country_code(codes, found["country"])))
    if found.get("place"):  # place names go to Frontex in Latin script
        children.append(node("Place", romanised(found["place"], found.get("country"))))
    if found.get("lat") is not None:
        children.append(node("Latitude", decimal(found["lat"])))
        children.append(node("Longitude", decimal(found["lon"])))
    return node("Location", *children, kind=str(codes.value("location_kind", found["kind"])))


def _persons_counts(message: Msg, codes: CodeTable) -> Node | None:
    """Counts from the sender's statistics, else from the persons, else from the events."""
    stats = message.get("statistics") or {}
    by_nationality: Counter[str] = Counter()
    unknown = 0
    if stats.get("by_nationality"):
        basis = "statistics"
        for country, count in stats["by_nationality"].items():
            by_nationality[country_code(codes, country)] += int(count)
        # Intercepted persons whose nationality the sender did not break down.
        unknown = max(0, int(stats.get("persons_intercepted") or 0) - sum(by_nationality.values()))
    elif message.get("persons"):
        basis = "persons"
        for person in message["persons"]:
            nationalities = person.get("nationalities") or []
            if nationalities:
                by_nationality[country_code(codes, nationalities[0])] += 1
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


def _statistics(stats: Msg) -> Node | None:
    children: list[Any] = []
    for key, tag in (
        ("persons_intercepted", "PersonsIntercepted"),
        ("victims_identified", "VictimsIdentified"),
        ("suspects_arrested", "SuspectsArrested"),
    ):
        if stats.get(key) is not None:
            children.append(node(tag, str(stats[key])))
    return node("Statistics", *children) if children else None


def _craft(message: Msg, codes: CodeTable) -> Node | None:
    """Vessel and aircraft identification, the one personal datum Art 89 lets through."""
    found: list[Any] = []
    for vehicle in message.get("vehicles", []):
        craft_type = codes.value("vehicle_type", vehicle["type"])
        ident = vehicle.get("registration") or vehicle.get("vin")
        if craft_type in _CRAFT_TYPES and ident:
            element = node("Identification", ident, type=str(craft_type))
            if vehicle.get("registration_country"):
                element.set("country", country_code(codes, vehicle["registration_country"]))
            found.append(element)
    return node("Craft", *found) if found else None
