"""Hypothesis strategies for valid canonical messages (raw JSON objects) aimed at one channel.

``canonical_messages(channel, products, recipients_needed)`` draws messages that pass
``CanonicalMessage.model_validate(raw, context={"today": TODAY})``: refs are unique, every
reference resolves, replies carry ``in_reply_to``, restriction ``other`` carries its text.
Texts mix Latin, Cyrillic and Greek and run up to the field limits; dates may be partial;
every optional field may be missing.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from hypothesis import strategies as st

from gateway.schema import codes

TODAY = date(2026, 1, 1)
_COUNTRIES = ("AL", "BA", "ME", "MK", "RS", "BG", "GR", "HU", "RO", "TR", "MD", "IT", "DE", "AT")
_ALPHABETS = {
    "Latn": "abcdefghijklmnopqrstuvwxyzčćđšžëç",
    "Cyrl": "абвгдђежзијклљмнњопрстћуфхцчџшѓѕќ",
    "Grek": "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώ",
}


def _enum(enum_type: Any) -> st.SearchStrategy[str]:
    return st.sampled_from([member.value for member in enum_type])


def _word(script: str, max_size: int = 24) -> st.SearchStrategy[str]:
    return st.text(alphabet=_ALPHABETS[script], min_size=1, max_size=max_size).map(str.title)


_ANY_TEXT_ALPHABET = "".join(_ALPHABETS.values()) + "ABCXYZ 0123456789.,;:-'\"&<>/"


def _text(max_size: int) -> st.SearchStrategy[str]:
    short = st.text(alphabet=_ANY_TEXT_ALPHABET, min_size=1, max_size=min(max_size, 80))
    long = st.just(("Ђорђе Αλέξης <&> " * (max_size // 17 + 1))[:max_size])
    return st.one_of(short, long).filter(lambda s: s.strip() != "")


def _partial_date() -> st.SearchStrategy[str]:
    full = st.dates(min_value=date(1940, 1, 1), max_value=date(2025, 12, 31))
    return st.one_of(
        full.map(lambda d: d.isoformat()),
        full.map(lambda d: d.isoformat()[:7]),
        full.map(lambda d: d.isoformat()[:4]),
    )


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def _event_time() -> st.SearchStrategy[dict[str, str]]:
    """When an event happened, in any of the three fields canonical v1 takes, or not at all."""
    days = st.dates(min_value=date(2015, 1, 1), max_value=date(2025, 12, 31))
    return st.one_of(
        st.just({}),
        _partial_date().map(lambda value: {"at_date": value}),
        days.map(lambda d: {"at_time": f"{d.isoformat()}T06:40:00+01:00"}),
        _partial_date().map(lambda value: {"at": value}),  # deprecated, still accepted
    )


def _drop_none(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if value is not None and value != []}


@st.composite
def _name(draw: st.DrawFn) -> dict[str, Any]:
    script = draw(st.sampled_from(["Latn", "Cyrl", "Grek"]))
    given = draw(_optional(_word(script)))
    family = draw(_word(script)) if given is None else draw(_optional(_word(script)))
    return _drop_none(
        {
            "given": given,
            "family": family,
            "script": script,
            "kind": draw(st.sampled_from(["primary", "alias", "maiden"])),
        }
    )


@st.composite
def _person(draw: st.DrawFn, ref: str) -> dict[str, Any]:
    return _drop_none(
        {
            "ref": ref,
            "role": draw(_enum(codes.PersonRole)),
            "names": draw(st.lists(_name(), min_size=1, max_size=3)),
            "sex": draw(_optional(_enum(codes.Sex))),
            "birth_date": draw(_optional(_partial_date())),
            "birth_place": draw(
                _optional(
                    st.fixed_dictionaries(
                        {"country": st.sampled_from(_COUNTRIES), "place": _word("Latn")}
                    )
                )
            ),
            "nationalities": draw(st.lists(st.sampled_from(_COUNTRIES), max_size=2, unique=True)),
            "description": draw(_optional(_text(20_000))),
        }
    )


@st.composite
def canonical_messages(
    draw: st.DrawFn, channel: str, products: tuple[str, ...], recipients_needed: bool = True
) -> dict[str, Any]:
    """One valid canonical message (raw JSON object) for ``channel``."""
    kind = draw(_enum(codes.Kind))
    restriction = draw(_enum(codes.Restriction))
    persons = [draw(_person(f"p{i}")) for i in range(draw(st.integers(0, 3)))]
    documents = [
        _drop_none(
            {
                "ref": f"d{i}",
                "type": draw(_enum(codes.DocumentType)),
                "number": draw(_optional(st.from_regex(r"[A-Z]{2}[0-9]{6,9}", fullmatch=True))),
                "issuing_country": draw(_optional(st.sampled_from(_COUNTRIES))),
                "valid_until": draw(
                    _optional(st.dates(date(2020, 1, 1), date(2035, 1, 1)).map(date.isoformat))
                ),
                "status": draw(_optional(_enum(codes.DocumentStatus))),
                "holder": draw(st.sampled_from([p["ref"] for p in persons])) if persons else None,
            }
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    locations = [
        _drop_none(
            {
                "ref": f"l{i}",
                "kind": draw(_enum(codes.LocationKind)),
                "country": draw(_optional(st.sampled_from(_COUNTRIES))),
                "place": draw(_optional(_word("Latn"))),
            }
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    vehicles = [
        _drop_none(
            {
                "ref": f"v{i}",
                "type": draw(_enum(codes.VehicleType)),
                "make": draw(_optional(_word("Latn"))),
                "registration": draw(
                    _optional(st.from_regex(r"[A-Z]{2} [0-9]{3} [A-Z]{2}", fullmatch=True))
                ),
                "registration_country": draw(_optional(st.sampled_from(_COUNTRIES))),
            }
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    organisations = [
        _drop_none(
            {
                "ref": f"o{i}",
                "kind": draw(_enum(codes.OrganisationKind)),
                "name": draw(_optional(_text(200))),
                "country": draw(_optional(st.sampled_from(_COUNTRIES))),
            }
        )
        for i in range(draw(st.integers(0, 1)))
    ]
    owners = [p["ref"] for p in persons] + [o["ref"] for o in organisations]
    communications = [
        _drop_none(
            {
                "ref": f"c{i}",
                "kind": draw(_enum(codes.CommunicationKind)),
                "value": draw(st.from_regex(r"\+3816[0-9]{7}", fullmatch=True)),
                "owner": draw(st.sampled_from(owners)) if owners else None,
            }
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    refs = (
        [p["ref"] for p in persons]
        + [d["ref"] for d in documents]
        + [v["ref"] for v in vehicles]
        + [o["ref"] for o in organisations]
    )
    events = [
        _drop_none(
            {
                "ref": f"e{i}",
                "kind": draw(_enum(codes.EventKind)),
                **draw(_event_time()),
                "location": locations[0]["ref"] if locations else None,
                "involved": refs[:2],
                "persons_count": draw(_optional(st.integers(0, 500))),
            }
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    links = (
        [{"from": refs[0], "to": refs[-1], "kind": draw(_enum(codes.LinkKind))}]
        if len(refs) >= 2
        else []
    )
    destination: dict[str, Any] = {"channel": channel, "product": draw(st.sampled_from(products))}
    if recipients_needed:
        destination["to"] = draw(
            st.lists(
                st.sampled_from(["AL", "BA", "ME", "MK", "RS"]), min_size=1, max_size=3, unique=True
            )
        )
    handling = _drop_none(
        {
            "classification": draw(_enum(codes.Classification)),
            "restriction": restriction,
            "restriction_text": draw(_text(2000)) if restriction == "other" else None,
            "onward_transfer": draw(_enum(codes.OnwardTransfer)),
            "retention_until": draw(
                _optional(st.dates(date(2026, 6, 1), date(2030, 12, 31)).map(date.isoformat))
            ),
        }
    )
    message = {
        "schema": "marri.exchange/1",
        "message_id": str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)),
        "sent_at": "2026-01-01T10:00:00+01:00",
        "sender": {
            "country": draw(st.sampled_from(["AL", "BA", "ME", "MK", "RS"])),
            "agency": "Police",
        },
        "kind": kind,
        "priority": draw(_enum(codes.Priority)),
        "subject": draw(_text(200)),
        "summary": draw(_optional(_text(20_000))),
        "crime_areas": draw(st.lists(_enum(codes.CrimeArea), min_size=1, max_size=3, unique=True)),
        "exploitation_types": draw(
            st.lists(_enum(codes.ExploitationType), max_size=2, unique=True)
        ),
        "purposes": draw(st.lists(_enum(codes.Purpose), min_size=1, max_size=3, unique=True)),
        "legal_basis": [{"instrument": draw(_enum(codes.Instrument)), "article": "6"}],
        "handling": handling,
        "evaluation": draw(
            _optional(
                st.fixed_dictionaries(
                    {
                        "source": _enum(codes.SourceReliability),
                        "information": _enum(codes.InformationAccuracy),
                    }
                )
            )
        ),
        "destinations": [destination],
        "persons": persons,
        "documents": documents,
        "vehicles": vehicles,
        "organisations": organisations,
        "communications": communications,
        "locations": locations,
        "events": events,
        "links": links,
        "route": draw(
            st.lists(
                st.fixed_dictionaries(
                    {"country": st.sampled_from(_COUNTRIES), "role": _enum(codes.RouteRole)}
                ),
                max_size=3,
            )
        ),
    }
    if draw(st.booleans()):
        message["case"] = _drop_none(
            {
                "reference": draw(
                    _optional(st.from_regex(r"[A-Z]{2}-[0-9]{4}/[0-9]{2}", fullmatch=True))
                ),
                "operation": draw(_optional(_word("Latn"))),
                "opened_on": draw(
                    _optional(st.dates(date(2020, 1, 1), date(2025, 12, 31)).map(date.isoformat))
                ),
            }
        )
    if draw(st.booleans()):
        message["statistics"] = _drop_none(
            {
                "persons_intercepted": draw(_optional(st.integers(0, 10_000))),
                "victims_identified": draw(_optional(st.integers(0, 500))),
                "by_nationality": draw(
                    st.dictionaries(st.sampled_from(_COUNTRIES), st.integers(0, 900), max_size=3)
                )
                or None,
            }
        )
    if kind == "reply":
        message["in_reply_to"] = str(uuid.UUID(int=draw(st.integers(0, 2**64)), version=4))
    return _drop_none(message)
