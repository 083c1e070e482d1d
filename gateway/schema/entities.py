"""The entities a message carries (persons, documents, vehicles, places...), linked by ``ref``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import combinations
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from gateway.schema.base import MAX_ENTITIES, FrozenModel, given, raise_field_errors
from gateway.schema.codes import (
    CommunicationKind,
    CountryCode,
    DocumentStatus,
    DocumentType,
    EventKind,
    LinkKind,
    LocationKind,
    NameKind,
    OrganisationKind,
    PersonRole,
    RouteRole,
    Script,
    Sex,
    SpecialCategory,
    VehicleType,
)
from gateway.schema.types import (
    Count,
    Date,
    EventTime,
    LongText,
    PartialDate,
    Ref,
    ShortText,
    Text,
    Timestamp,
)


class PersonName(FrozenModel):
    """One written form of a person's name."""

    # if/then, not anyOf: client generators read an object's anyOf as a union of its branches
    model_config = ConfigDict(
        json_schema_extra={"if": {"not": given("given")}, "then": given("family")}
    )

    given: ShortText | None = None
    family: ShortText | None = None
    script: Script = Script.Latn
    kind: NameKind = NameKind.primary

    @model_validator(mode="after")
    def _some_name(self) -> PersonName:
        if self.given is None and self.family is None:
            raise_field_errors(
                "PersonName", [(("given",), "name_empty", "give a given or a family name")]
            )
        return self


class BirthPlace(FrozenModel):
    """Where a person was born; either part may be unknown."""

    country: CountryCode | None = None
    place: ShortText | None = None


class Person(FrozenModel):
    """A person in the case; ``special_categories`` marks Art. 30-type data in the record."""

    ref: Ref
    role: PersonRole
    names: tuple[PersonName, ...] = Field(min_length=1, max_length=50)
    sex: Sex | None = None
    birth_date: PartialDate | None = None
    birth_place: BirthPlace | None = None
    nationalities: tuple[CountryCode, ...] = Field(default=(), max_length=10)
    is_minor: bool | None = None
    description: LongText | None = None
    special_categories: tuple[SpecialCategory, ...] = ()


class Document(FrozenModel):
    """An identity or travel document, ``holder`` naming the person it belongs to."""

    ref: Ref
    type: DocumentType
    number: ShortText | None = None
    issuing_country: CountryCode | None = None
    issued_on: Date | None = None
    valid_until: Date | None = None
    status: DocumentStatus | None = None
    holder: Ref | None = None


class Vehicle(FrozenModel):
    """A vehicle, boat or aircraft; registration and VIN identify it."""

    ref: Ref
    type: VehicleType
    make: ShortText | None = None
    model: ShortText | None = None
    colour: ShortText | None = None
    registration: ShortText | None = None
    registration_country: CountryCode | None = None
    vin: ShortText | None = None


class Location(FrozenModel):
    """A place; coordinates are given as a pair or not at all."""

    model_config = ConfigDict(
        json_schema_extra={
            "dependentRequired": {"lat": ["lon"], "lon": ["lat"]},
            "allOf": [
                {"if": given("lat"), "then": given("lon")},
                {"if": given("lon"), "then": given("lat")},
            ],
        }
    )

    ref: Ref
    kind: LocationKind
    country: CountryCode | None = None
    place: ShortText | None = None
    address: Text | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _both_coordinates(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            missing = "lat" if self.lat is None else "lon"
            raise_field_errors(
                "Location",
                [((missing,), "coordinates_incomplete", "lat and lon are given together")],
            )
        return self


class Organisation(FrozenModel):
    """A company, group or other body in the case."""

    ref: Ref
    kind: OrganisationKind
    name: ShortText | None = None
    country: CountryCode | None = None


class Communication(FrozenModel):
    """A phone number, address, account or profile, ``owner`` naming whose it is."""

    ref: Ref
    kind: CommunicationKind
    value: Text  # a profile URL can be long
    owner: Ref | None = None


#: The fields that say when an event happened; a message gives at most one of them.
EVENT_TIME_FIELDS = ("at_time", "at_date", "at")


def event_when(event: Mapping[str, Any]) -> Any:
    """``Event.when`` for an event as JSON data (what dict-reading renders hold)."""
    return next((event[name] for name in EVENT_TIME_FIELDS if event.get(name) is not None), None)


class Event(FrozenModel):
    """Something that happened, with where, when and which entities took part.

    When it happened is ``at_time`` (a timestamp with an offset) or ``at_date`` (a partial
    date), at most one of them; each has one type, so clients generated from the schema keep
    it as sent. ``at`` (either kind in one string) is deprecated, still accepted in v1.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "not": {"anyOf": [given(*pair) for pair in combinations(EVENT_TIME_FIELDS, 2)]}
        }
    )

    ref: Ref
    kind: EventKind
    at_time: Timestamp | None = None
    at_date: PartialDate | None = None
    at: EventTime | None = Field(
        default=None,
        description="deprecated: send at_time or at_date; a timestamp or a partial date",
        json_schema_extra={"deprecated": True},
    )
    location: Ref | None = None
    involved: tuple[Ref, ...] = Field(default=(), max_length=MAX_ENTITIES)
    persons_count: Count | None = None
    description: LongText | None = None

    @property
    def when(self) -> datetime | str | None:
        """When it happened: a timestamp, a partial date, or unknown."""
        if self.at_time is not None:
            return self.at_time
        return self.at_date if self.at_date is not None else self.at

    @model_validator(mode="after")
    def _one_time(self) -> Event:
        given = [name for name in EVENT_TIME_FIELDS if getattr(self, name) is not None]
        raise_field_errors(
            "Event",
            [
                ((name,), "forbidden", "give one of at_time, at_date and at, not several")
                for name in given[1:]
            ],
        )
        return self


class Link(FrozenModel):
    """A typed edge between two entities, ``from`` → ``to``."""

    from_: Ref = Field(alias="from")
    to: Ref
    kind: LinkKind


class RouteStep(FrozenModel):
    """One country on the route, in its role (origin, transit, destination)."""

    country: CountryCode
    role: RouteRole
