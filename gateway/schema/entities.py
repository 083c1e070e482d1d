"""The entities a message carries (persons, documents, vehicles, places...), linked by ``ref``."""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from gateway.schema.base import MAX_ENTITIES, FrozenModel, raise_field_errors
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
    EventTime,
    LongText,
    PartialDate,
    Ref,
    ShortText,
    Text,
)


class PersonName(FrozenModel):
    """One written form of a person's name."""

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
    issued_on: date | None = None
    valid_until: date | None = None
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


class Event(FrozenModel):
    """Something that happened, with where, when and which entities took part."""

    ref: Ref
    kind: EventKind
    at: EventTime | None = None
    location: Ref | None = None
    involved: tuple[Ref, ...] = Field(default=(), max_length=MAX_ENTITIES)
    persons_count: Count | None = None
    description: LongText | None = None


class Link(FrozenModel):
    """A typed edge between two entities, ``from`` → ``to``."""

    from_: Ref = Field(alias="from")
    to: Ref
    kind: LinkKind


class RouteStep(FrozenModel):
    """One country on the route, in its role (origin, transit, destination)."""

    country: CountryCode
    role: RouteRole
