"""The canonical message v1 as frozen pydantic models (field contract: SCHEMA.md).

Unknown fields are refused at every depth so that a typo cannot silently drop data. Rules that
tie fields of one object together live on that object's model; rules spanning the whole message
(refs, references, reply linkage, one entry per channel) live in ``rules.py`` and run from the
root model, so ``parse_message`` can also apply them when other fields are broken.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from gateway.schema.codes import (
    CaseCharacter,
    Channel,
    Classification,
    CommunicationKind,
    CountryCode,
    CrimeArea,
    DocumentStatus,
    DocumentType,
    EventKind,
    ExploitationType,
    InformationAccuracy,
    Instrument,
    Kind,
    LinkKind,
    LocationKind,
    NameKind,
    OnwardTransfer,
    OrganisationKind,
    PersonRole,
    Priority,
    Purpose,
    Restriction,
    RouteRole,
    Script,
    Sex,
    SourceReliability,
    SpecialCategory,
    VehicleType,
)
from gateway.schema.rules import Problem, message_rule_problems
from gateway.schema.types import (
    LINE,
    Count,
    EventTime,
    LongText,
    PartialDate,
    Ref,
    ShortText,
    Text,
    Timestamp,
)

SCHEMA_ID = "marri.exchange/1"
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

_ENTITIES = 1000  # generous cap per entity list; bounds the work one message can cause
_Product = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
_Article = Annotated[str, Field(min_length=1, max_length=50), *LINE]
_Email = Annotated[str, Field(pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}$"), *LINE]
_Phone = Annotated[str, Field(pattern=r"^\+?[0-9 ()./-]{3,32}$")]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        allow_inf_nan=False,
    )


def _field_errors(title: str, problems: list[Problem]) -> None:
    """Raise one error per problem, each at its own field, so paths point at the culprit."""
    if problems:
        raise ValidationError.from_exception_data(
            title,
            [
                InitErrorDetails(type=PydanticCustomError(kind, text), loc=loc, input=None)
                for loc, kind, text in problems
            ],
        )


# ---------------------------------------------------------------- envelope


class Contact(_Model):
    """Who to call about the message."""

    name: ShortText | None = None
    email: _Email | None = None
    phone: _Phone | None = None


class Sender(_Model):
    """The sending authority; ``country`` must match the token the message came with."""

    country: CountryCode
    agency: ShortText
    unit: ShortText | None = None
    contact: Contact | None = None


class Handling(_Model):
    """Security and handling instructions that travel with the data."""

    classification: Classification
    restriction: Restriction = Restriction.none
    restriction_text: Text | None = None
    onward_transfer: OnwardTransfer = OnwardTransfer.with_consent
    retention_until: date | None = None

    @field_validator("retention_until")
    @classmethod
    def _retention_in_future(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None:
            return value
        context = info.context if isinstance(info.context, dict) else {}
        today = context.get("today")
        if not isinstance(today, date):
            today = datetime.now(UTC).date()
        if value <= today:
            raise PydanticCustomError("not_in_future", "must be a date after today")
        return value

    @model_validator(mode="after")
    def _restriction_text_iff_other(self) -> Handling:
        if self.restriction is Restriction.other and self.restriction_text is None:
            _field_errors(
                "Handling",
                [(("restriction_text",), "missing", "required when restriction is other")],
            )
        if self.restriction is not Restriction.other and self.restriction_text is not None:
            _field_errors(
                "Handling",
                [(("restriction_text",), "forbidden", "allowed only when restriction is other")],
            )
        return self


class Evaluation(_Model):
    """Source reliability and information accuracy (4x4, Europol Art. 29)."""

    source: SourceReliability
    information: InformationAccuracy


class Warrant(_Model):
    """The judicial decision behind a request, e.g. for an Interpol red notice (RPD Art. 83)."""

    issued_by: ShortText | None = None
    issued_on: date | None = None
    reference: ShortText | None = None
    offence: Text | None = None
    max_penalty_years: float | None = Field(default=None, ge=0, le=100)
    judgment: bool | None = None


class Case(_Model):
    """The national case the message belongs to."""

    reference: ShortText | None = None
    operation: ShortText | None = None
    opened_on: date | None = None
    character: tuple[CaseCharacter, ...] = Field(
        default=(CaseCharacter.ordinary_law,), min_length=1
    )
    warrant: Warrant | None = None


class LegalBasis(_Model):
    """The instrument and article the exchange rests on."""

    instrument: Instrument
    article: _Article | None = None


class Destination(_Model):
    """One channel the message should reach; ``to`` names the parties for bilateral channels."""

    channel: Channel
    to: tuple[CountryCode, ...] = Field(default=(), max_length=50)
    product: _Product | None = None


# ---------------------------------------------------------------- entities


class PersonName(_Model):
    """One written form of a person's name."""

    given: ShortText | None = None
    family: ShortText | None = None
    script: Script = Script.Latn
    kind: NameKind = NameKind.primary

    @model_validator(mode="after")
    def _some_name(self) -> PersonName:
        if self.given is None and self.family is None:
            _field_errors(
                "PersonName", [(("given",), "name_empty", "give a given or a family name")]
            )
        return self


class BirthPlace(_Model):
    country: CountryCode | None = None
    place: ShortText | None = None


class Person(_Model):
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


class Document(_Model):
    ref: Ref
    type: DocumentType
    number: ShortText | None = None
    issuing_country: CountryCode | None = None
    issued_on: date | None = None
    valid_until: date | None = None
    status: DocumentStatus | None = None
    holder: Ref | None = None


class Vehicle(_Model):
    ref: Ref
    type: VehicleType
    make: ShortText | None = None
    model: ShortText | None = None
    colour: ShortText | None = None
    registration: ShortText | None = None
    registration_country: CountryCode | None = None
    vin: ShortText | None = None


class Location(_Model):
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
            _field_errors(
                "Location",
                [((missing,), "coordinates_incomplete", "lat and lon are given together")],
            )
        return self


class Organisation(_Model):
    ref: Ref
    kind: OrganisationKind
    name: ShortText | None = None
    country: CountryCode | None = None


class Communication(_Model):
    ref: Ref
    kind: CommunicationKind
    value: Text  # a profile URL can be long
    owner: Ref | None = None


class Event(_Model):
    ref: Ref
    kind: EventKind
    at: EventTime | None = None
    location: Ref | None = None
    involved: tuple[Ref, ...] = Field(default=(), max_length=_ENTITIES)
    persons_count: Count | None = None
    description: LongText | None = None


class Link(_Model):
    """A typed edge between two entities, ``from`` → ``to``."""

    from_: Ref = Field(alias="from")
    to: Ref
    kind: LinkKind


class RouteStep(_Model):
    country: CountryCode
    role: RouteRole


class Statistics(_Model):
    """Non-personal figures, for reports that must carry no personal data."""

    persons_intercepted: Count | None = None
    victims_identified: Count | None = None
    suspects_arrested: Count | None = None
    by_nationality: dict[CountryCode, Count] = Field(default_factory=dict, max_length=300)


class Attachment(_Model):
    """A file carried inline; size and SHA-256 are checked against the decoded bytes."""

    ref: Ref
    media_type: str = Field(
        pattern=r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$"
    )
    filename: ShortText | None = None
    size: int = Field(ge=0, le=MAX_ATTACHMENT_BYTES)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    content_base64: str = Field(max_length=(MAX_ATTACHMENT_BYTES // 3 + 1) * 4)

    @model_validator(mode="after")
    def _content_matches(self) -> Attachment:
        try:
            content = base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError):
            _field_errors("Attachment", [(("content_base64",), "invalid_base64", "must be base64")])
            return self
        problems: list[Problem] = []
        if len(content) > MAX_ATTACHMENT_BYTES:
            problems.append((("content_base64",), "too_large", "must decode to at most 10 MB"))
        if len(content) != self.size:
            problems.append(
                (("size",), "size_mismatch", "does not match the decoded content's size")
            )
        if hashlib.sha256(content).hexdigest() != self.sha256.lower():
            problems.append((("sha256",), "hash_mismatch", "does not match the decoded content"))
        _field_errors("Attachment", problems)
        return self


# ---------------------------------------------------------------- root


class CanonicalMessage(_Model):
    """One message from a national system, to be checked and delivered per destination."""

    schema_: Literal["marri.exchange/1"] = Field(alias="schema")
    message_id: UUID
    sent_at: Timestamp
    sender: Sender
    kind: Kind
    in_reply_to: UUID | None = None
    priority: Priority = Priority.routine
    subject: ShortText
    summary: LongText | None = None
    crime_areas: tuple[CrimeArea, ...] = Field(min_length=1, max_length=20)
    exploitation_types: tuple[ExploitationType, ...] = Field(default=(), max_length=20)
    purposes: tuple[Purpose, ...] = Field(min_length=1, max_length=20)
    legal_basis: tuple[LegalBasis, ...] = Field(min_length=1, max_length=20)
    handling: Handling
    evaluation: Evaluation | None = None
    case: Case | None = None
    destinations: tuple[Destination, ...] = Field(min_length=1, max_length=20)
    persons: tuple[Person, ...] = Field(default=(), max_length=_ENTITIES)
    documents: tuple[Document, ...] = Field(default=(), max_length=_ENTITIES)
    vehicles: tuple[Vehicle, ...] = Field(default=(), max_length=_ENTITIES)
    locations: tuple[Location, ...] = Field(default=(), max_length=_ENTITIES)
    organisations: tuple[Organisation, ...] = Field(default=(), max_length=_ENTITIES)
    communications: tuple[Communication, ...] = Field(default=(), max_length=_ENTITIES)
    events: tuple[Event, ...] = Field(default=(), max_length=_ENTITIES)
    links: tuple[Link, ...] = Field(default=(), max_length=_ENTITIES)
    route: tuple[RouteStep, ...] = Field(default=(), max_length=50)
    statistics: Statistics | None = None
    attachments: tuple[Attachment, ...] = Field(default=(), max_length=20)

    @property
    def effective_priority(self) -> Priority:
        """The priority to act on: an alert is at least urgent, whatever was sent."""
        if self.kind is Kind.alert and self.priority is Priority.routine:
            return Priority.urgent
        return self.priority

    @model_validator(mode="after")
    def _message_wide_rules(self) -> CanonicalMessage:
        _field_errors("CanonicalMessage", message_rule_problems(self))
        return self
