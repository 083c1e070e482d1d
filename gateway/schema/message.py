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

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from gateway.schema.base import MAX_ENTITIES, FrozenModel, given_iff, raise_field_errors
from gateway.schema.codes import (
    CaseCharacter,
    Channel,
    Classification,
    CountryCode,
    CrimeArea,
    ExploitationType,
    InformationAccuracy,
    Instrument,
    Kind,
    OnwardTransfer,
    Priority,
    Purpose,
    Restriction,
    SourceReliability,
)
from gateway.schema.entities import (
    BirthPlace,
    Communication,
    Document,
    Event,
    Link,
    Location,
    Organisation,
    Person,
    PersonName,
    RouteStep,
    Vehicle,
)
from gateway.schema.rules import Problem, message_rule_problems
from gateway.schema.types import (
    LINE,
    Count,
    Date,
    LongText,
    Ref,
    ShortText,
    Text,
    Timestamp,
)

# The entity models live in entities.py; they are re-exported so imports from here still work.
__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "SCHEMA_ID",
    "Attachment",
    "BirthPlace",
    "CanonicalMessage",
    "Case",
    "Communication",
    "Contact",
    "Destination",
    "Document",
    "Evaluation",
    "Event",
    "Handling",
    "LegalBasis",
    "Link",
    "Location",
    "Organisation",
    "Person",
    "PersonName",
    "RouteStep",
    "Sender",
    "Statistics",
    "Vehicle",
    "Warrant",
]

SCHEMA_ID = "marri.exchange/1"
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

_Product = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
_Article = Annotated[str, Field(min_length=1, max_length=50), *LINE]
_Email = Annotated[str, Field(pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}$"), *LINE]
#: Standard base64 with its padding, as ``base64.b64decode(..., validate=True)`` reads it.
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_Phone = Annotated[str, Field(pattern=r"^\+?[0-9 ()./-]{3,32}$")]


# ---------------------------------------------------------------- envelope


class Contact(FrozenModel):
    """Who to call about the message."""

    name: ShortText | None = None
    email: _Email | None = None
    phone: _Phone | None = None


class Sender(FrozenModel):
    """The sending authority; ``country`` must match the token the message came with."""

    country: CountryCode
    agency: ShortText
    unit: ShortText | None = None
    contact: Contact | None = None


class Handling(FrozenModel):
    """Security and handling instructions that travel with the data."""

    model_config = ConfigDict(
        json_schema_extra=given_iff(
            {"required": ["restriction"], "properties": {"restriction": {"const": "other"}}},
            "restriction_text",
        )
    )

    classification: Classification
    restriction: Restriction = Restriction.none
    restriction_text: Text | None = None
    onward_transfer: OnwardTransfer = OnwardTransfer.with_consent
    retention_until: Date | None = None

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
            raise_field_errors(
                "Handling",
                [(("restriction_text",), "missing", "required when restriction is other")],
            )
        if self.restriction is not Restriction.other and self.restriction_text is not None:
            raise_field_errors(
                "Handling",
                [(("restriction_text",), "forbidden", "allowed only when restriction is other")],
            )
        return self


class Evaluation(FrozenModel):
    """Source reliability and information accuracy (4x4, Europol Art. 29)."""

    source: SourceReliability
    information: InformationAccuracy


class Warrant(FrozenModel):
    """The judicial decision behind a request, e.g. for an Interpol red notice (RPD Art. 83)."""

    issued_by: ShortText | None = None
    issued_on: Date | None = None
    reference: ShortText | None = None
    offence: Text | None = None
    max_penalty_years: float | None = Field(default=None, ge=0, le=100)
    judgment: bool | None = None


class Case(FrozenModel):
    """The national case the message belongs to."""

    reference: ShortText | None = None
    operation: ShortText | None = None
    opened_on: Date | None = None
    character: tuple[CaseCharacter, ...] = Field(
        default=(CaseCharacter.ordinary_law,), min_length=1
    )
    warrant: Warrant | None = None


class LegalBasis(FrozenModel):
    """The instrument and article the exchange rests on."""

    instrument: Instrument
    article: _Article | None = None


class Destination(FrozenModel):
    """One channel the message should reach; ``to`` names the parties for bilateral channels."""

    channel: Channel
    to: tuple[CountryCode, ...] = Field(default=(), max_length=50)
    product: _Product | None = None


class Statistics(FrozenModel):
    """Non-personal figures, for reports that must carry no personal data."""

    persons_intercepted: Count | None = None
    victims_identified: Count | None = None
    suspects_arrested: Count | None = None
    by_nationality: dict[CountryCode, Count] = Field(default_factory=dict, max_length=300)


class Attachment(FrozenModel):
    """A file carried inline; size and SHA-256 are checked against the decoded bytes."""

    ref: Ref
    media_type: str = Field(
        pattern=r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$"
    )
    filename: ShortText | None = None
    size: int = Field(ge=0, le=MAX_ATTACHMENT_BYTES)
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    # The pattern is for the published schema only: here the decoding check says what is wrong.
    content_base64: str = Field(
        max_length=(MAX_ATTACHMENT_BYTES // 3 + 1) * 4,
        json_schema_extra={"pattern": BASE64_PATTERN, "contentEncoding": "base64"},
    )

    @model_validator(mode="after")
    def _content_matches(self) -> Attachment:
        try:
            content = base64.b64decode(self.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise_field_errors(
                "Attachment", [(("content_base64",), "invalid_base64", "must be base64")]
            )
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
        raise_field_errors("Attachment", problems)
        return self


# ---------------------------------------------------------------- root


class CanonicalMessage(FrozenModel):
    """One message from a national system, to be checked and delivered per destination."""

    model_config = ConfigDict(
        json_schema_extra=given_iff(
            {"required": ["kind"], "properties": {"kind": {"const": "reply"}}}, "in_reply_to"
        )
    )

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
    persons: tuple[Person, ...] = Field(default=(), max_length=MAX_ENTITIES)
    documents: tuple[Document, ...] = Field(default=(), max_length=MAX_ENTITIES)
    vehicles: tuple[Vehicle, ...] = Field(default=(), max_length=MAX_ENTITIES)
    locations: tuple[Location, ...] = Field(default=(), max_length=MAX_ENTITIES)
    organisations: tuple[Organisation, ...] = Field(default=(), max_length=MAX_ENTITIES)
    communications: tuple[Communication, ...] = Field(default=(), max_length=MAX_ENTITIES)
    events: tuple[Event, ...] = Field(default=(), max_length=MAX_ENTITIES)
    links: tuple[Link, ...] = Field(default=(), max_length=MAX_ENTITIES)
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
        raise_field_errors("CanonicalMessage", message_rule_problems(self))
        return self
