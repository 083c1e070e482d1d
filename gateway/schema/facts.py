"""Facts derived once per message, for rule expressions that should stay one line long.

Minors are read protectively: a partial birth date stands for its latest possible day, so a
person who could be under 18 on the day the message was sent counts as a minor. An explicit
``is_minor`` always wins. A person with neither is not counted (nothing suggests a minor).
"""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from gateway.schema.codes import PersonRole, VehicleType
from gateway.schema.message import CanonicalMessage, Person

ADULT_AGE = 18
_CRAFT = frozenset({VehicleType.boat, VehicleType.aircraft})


@dataclass(frozen=True)
class DerivedFacts:
    """Named predicates about a message; ``as_dict`` is what the CEL engine sees as ``facts``."""

    has_personal_data: bool
    persons_by_role: dict[str, int]
    has_minors: bool
    has_special_categories: bool
    person_count: int
    roles: list[str]
    has_documents: bool
    has_communications: bool
    has_vehicle_registrations: bool
    has_only_boat_or_aircraft_ids: bool
    countries: list[str]

    def as_dict(self) -> dict[str, Any]:
        """The facts as plain values, for audit records and the check report."""
        return asdict(self)


def latest_birth_day(birth_date: str) -> date:
    """The last day a partial birth date can stand for (``1990`` → 1990-12-31)."""
    parts = [int(part) for part in birth_date.split("-")]
    year = parts[0]
    month = parts[1] if len(parts) > 1 else 12
    day = parts[2] if len(parts) > 2 else calendar.monthrange(year, month)[1]
    return date(year, month, day)


def adult_from(birth_day: date) -> date:
    """The 18th birthday; someone born on 29 February comes of age on 1 March."""
    year = birth_day.year + ADULT_AGE
    if birth_day.month == 2 and birth_day.day == 29 and not calendar.isleap(year):
        return date(year, 3, 1)
    return birth_day.replace(year=year)


def person_is_minor(person: Person, on: date) -> bool:
    """Whether ``person`` is, or could be, under 18 on ``on``."""
    if person.is_minor is not None:
        return person.is_minor
    if person.birth_date is None:
        return False
    return on < adult_from(latest_birth_day(person.birth_date))


def _countries(message: CanonicalMessage) -> list[str]:
    found = {message.sender.country}
    for destination in message.destinations:
        found.update(destination.to)
    for person in message.persons:
        found.update(person.nationalities)
        if person.birth_place is not None and person.birth_place.country is not None:
            found.add(person.birth_place.country)
    found.update(d.issuing_country for d in message.documents if d.issuing_country)
    found.update(v.registration_country for v in message.vehicles if v.registration_country)
    found.update(loc.country for loc in message.locations if loc.country)
    found.update(org.country for org in message.organisations if org.country)
    found.update(step.country for step in message.route)
    if message.statistics is not None:
        found.update(message.statistics.by_nationality)
    return sorted(found)


def derive_facts(message: CanonicalMessage) -> DerivedFacts:
    """Compute the facts once; pure, so the same message always gives the same facts."""
    by_role = {role.value: 0 for role in PersonRole}
    for person in message.persons:
        by_role[person.role.value] += 1
    identified_vehicles = [v for v in message.vehicles if v.registration or v.vin]
    road_ids = any(v.type not in _CRAFT for v in identified_vehicles)
    document_numbers = any(d.number for d in message.documents)
    other_personal = bool(message.persons) or document_numbers or bool(message.communications)
    on = message.sent_at.date()
    return DerivedFacts(
        has_personal_data=other_personal or bool(identified_vehicles),
        persons_by_role=by_role,
        has_minors=any(person_is_minor(p, on) for p in message.persons),
        has_special_categories=any(p.special_categories for p in message.persons),
        person_count=len(message.persons),
        roles=sorted({p.role.value for p in message.persons}),
        has_documents=bool(message.documents),
        has_communications=bool(message.communications),
        has_vehicle_registrations=road_ids,
        has_only_boat_or_aircraft_ids=bool(identified_vehicles)
        and not road_ids
        and not other_personal,
        countries=_countries(message),
    )
