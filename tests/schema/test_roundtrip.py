"""Any message the models can hold survives JSON: dump by alias, parse, get an equal model."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import jsonschema  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.schema import CanonicalMessage, canonical_json_schema, parse_message
from gateway.schema import codes as c

TODAY = date(2020, 1, 1)
COUNTRIES = st.sampled_from(sorted(c.COUNTRY_CODES))
# What the schema holds as text: no control characters; names and references also no
# bidirectional overrides, free text keeps tab and line breaks.
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters=_BIDI),
    min_size=1,
    max_size=30,
)
FREE_TEXT = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n\r"),
    min_size=1,
    max_size=200,
)
OFFSETS = st.sampled_from(
    [UTC] + [timezone(timedelta(minutes=m)) for m in (-720, -330, -60, 60, 120, 345, 840)]
)
TIMESTAMPS = st.datetimes(
    min_value=datetime(1950, 1, 1), max_value=datetime(2099, 1, 1), timezones=OFFSETS
)
DATES = st.dates(min_value=date(1950, 1, 1), max_value=date(2099, 12, 31))
PARTIAL_DATES = DATES.flatmap(
    lambda d: st.sampled_from([d.isoformat(), d.isoformat()[:7], d.isoformat()[:4]])
)


def _event_time(field: str | None) -> st.SearchStrategy[dict[str, Any]]:
    """One of the three ways to say when an event happened, or none."""
    values = {"at": TIMESTAMPS | PARTIAL_DATES, "at_time": TIMESTAMPS, "at_date": PARTIAL_DATES}
    if field is None:
        return st.just({})
    return values[field].map(lambda value: {field: value})


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _codes(enum: type[StrEnum]) -> st.SearchStrategy[Any]:
    return st.sampled_from(list(enum))


@st.composite
def _names(draw: st.DrawFn) -> dict[str, Any]:
    name: dict[str, Any] = {
        "given": draw(_optional(TEXT)),
        "script": draw(_codes(c.Script)),
        "kind": draw(_codes(c.NameKind)),
    }
    name["family"] = draw(TEXT) if name["given"] is None else draw(_optional(TEXT))
    return name


@st.composite
def messages(draw: st.DrawFn) -> CanonicalMessage:
    refs = iter(f"r{i}" for i in range(1000))
    persons = [
        {
            "ref": next(refs),
            "role": draw(_codes(c.PersonRole)),
            "names": draw(st.lists(_names(), min_size=1, max_size=3)),
            "sex": draw(_optional(_codes(c.Sex))),
            "birth_date": draw(_optional(PARTIAL_DATES)),
            "birth_place": draw(_optional(st.fixed_dictionaries({"country": COUNTRIES}))),
            "nationalities": draw(st.lists(COUNTRIES, max_size=2)),
            "is_minor": draw(_optional(st.booleans())),
            "special_categories": draw(st.lists(_codes(c.SpecialCategory), max_size=2)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    person_refs = [p["ref"] for p in persons]
    organisations = [
        {"ref": next(refs), "kind": draw(_codes(c.OrganisationKind)), "name": draw(TEXT)}
        for _ in range(draw(st.integers(0, 2)))
    ]
    locations = [
        {
            "ref": next(refs),
            "kind": draw(_codes(c.LocationKind)),
            "country": draw(_optional(COUNTRIES)),
            "lat": draw(st.floats(-90, 90)),
            "lon": draw(st.floats(-180, 180)),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    documents = [
        {
            "ref": next(refs),
            "type": draw(_codes(c.DocumentType)),
            "number": draw(_optional(TEXT)),
            "issued_on": draw(_optional(DATES)),
            "status": draw(_optional(_codes(c.DocumentStatus))),
            "holder": draw(_optional(st.sampled_from(person_refs))) if person_refs else None,
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    vehicles = [
        {
            "ref": next(refs),
            "type": draw(_codes(c.VehicleType)),
            "registration": draw(_optional(TEXT)),
            "registration_country": draw(_optional(COUNTRIES)),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    owners = person_refs + [o["ref"] for o in organisations]
    communications = [
        {
            "ref": next(refs),
            "kind": draw(_codes(c.CommunicationKind)),
            "value": draw(TEXT),
            "owner": draw(_optional(st.sampled_from(owners))) if owners else None,
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    so_far = owners + [x["ref"] for x in (*locations, *documents, *vehicles, *communications)]
    location_refs = [loc["ref"] for loc in locations]
    events = [
        {
            "ref": next(refs),
            "kind": draw(_codes(c.EventKind)),
            **draw(st.sampled_from(["at", "at_time", "at_date", None]).flatmap(_event_time)),
            "location": draw(_optional(st.sampled_from(location_refs))) if location_refs else None,
            "involved": draw(st.lists(st.sampled_from(so_far), max_size=3)) if so_far else [],
            "persons_count": draw(_optional(st.integers(0, 500))),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    contents = draw(st.lists(st.binary(max_size=64), max_size=2))
    attachments = [
        {
            "ref": next(refs),
            "media_type": "application/octet-stream",
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "content_base64": base64.b64encode(content).decode(),
        }
        for content in contents
    ]
    every_ref = so_far + [x["ref"] for x in (*events, *attachments)]
    links = (
        [
            {
                "from": draw(st.sampled_from(every_ref)),
                "to": draw(st.sampled_from(every_ref)),
                "kind": draw(_codes(c.LinkKind)),
            }
            for _ in range(draw(st.integers(0, 3)))
        ]
        if every_ref
        else []
    )
    channels = draw(
        st.lists(
            st.sampled_from(["europol", "interpol", "frontex", "selec", "pcc_see", "any_channel"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    destinations = [
        {
            "channel": channel,
            "to": draw(st.lists(COUNTRIES, max_size=3)),
        }
        for channel in channels
    ]
    kind = draw(_codes(c.Kind))
    restriction = draw(_codes(c.Restriction))
    statistics = draw(
        _optional(
            st.fixed_dictionaries(
                {"persons_intercepted": st.integers(0, 1000)},
                optional={"by_nationality": st.dictionaries(COUNTRIES, st.integers(0, 99))},
            )
        )
    )
    return CanonicalMessage.model_validate(
        {
            "schema": "marri.exchange/1",
            "message_id": draw(st.uuids()),
            "sent_at": draw(TIMESTAMPS),
            "sender": {"country": draw(COUNTRIES), "agency": draw(TEXT)},
            "kind": kind,
            "in_reply_to": draw(st.uuids()) if kind is c.Kind.reply else None,
            "priority": draw(_codes(c.Priority)),
            "subject": draw(TEXT),
            "summary": draw(_optional(FREE_TEXT)),
            "crime_areas": draw(st.lists(_codes(c.CrimeArea), min_size=1, max_size=3)),
            "purposes": draw(st.lists(_codes(c.Purpose), min_size=1, max_size=3)),
            "legal_basis": [{"instrument": draw(_codes(c.Instrument)), "article": "5"}],
            "handling": {
                "classification": draw(_codes(c.Classification)),
                "restriction": restriction,
                "restriction_text": draw(TEXT) if restriction is c.Restriction.other else None,
                "retention_until": draw(_optional(st.dates(min_value=date(2020, 1, 2)))),
            },
            "evaluation": draw(
                _optional(
                    st.fixed_dictionaries(
                        {
                            "source": _codes(c.SourceReliability),
                            "information": _codes(c.InformationAccuracy),
                        }
                    )
                )
            ),
            "destinations": destinations,
            "persons": persons,
            "documents": documents,
            "vehicles": vehicles,
            "locations": locations,
            "organisations": organisations,
            "communications": communications,
            "events": events,
            "links": links,
            "route": draw(
                st.lists(
                    st.fixed_dictionaries({"country": COUNTRIES, "role": _codes(c.RouteRole)}),
                    max_size=3,
                )
            ),
            "statistics": statistics,
            "attachments": attachments,
        },
        context={"today": TODAY},
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_any_message_round_trips_through_json(message: CanonicalMessage) -> None:
    raw = message.model_dump_json(by_alias=True).encode()
    assert parse_message(raw, today=TODAY) == message


@settings(max_examples=30, deadline=None)
@given(messages())
def test_round_trip_without_nulls(message: CanonicalMessage) -> None:
    raw = message.model_dump_json(exclude_none=True).encode()  # wire names are the default
    assert parse_message(raw, today=TODAY) == message


SCHEMA_VALIDATOR = jsonschema.Draft202012Validator(
    canonical_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages(), st.booleans())
def test_the_published_schema_accepts_every_message_the_models_hold(
    message: CanonicalMessage, nulls: bool
) -> None:
    """The models and the published schema cannot drift apart unnoticed in this direction."""
    document = json.loads(message.model_dump_json(by_alias=True, exclude_none=not nulls))
    errors = [(e.json_path, e.validator) for e in SCHEMA_VALIDATOR.iter_errors(document)]
    assert errors == []
