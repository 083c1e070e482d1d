"""Schema parity: every kind of refusal is in the published JSON Schema or in its rules list.

Each case breaks the valid base message in one way and names the violation the gateway gives.
A case marked ``schema`` must be refused by the published JSON Schema too (checked with the
``jsonschema`` library, formats on), at the field or above it; a case marked ``rules`` must be
accepted by the schema and named, with its code, by the published rules list. A last test
checks that the cases cover every violation type the gateway has.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from adapters.registry import load_registry
from gateway.intake import check_destinations
from gateway.intake.published import published_rules
from gateway.schema import MessageInvalid, canonical_json_schema, parse_message
from gateway.schema.errors import _FIXED_TEXT, OWN_TYPES
from gateway.schema.message import MAX_ATTACHMENT_BYTES

from .conftest import BASE, TODAY, encode

Doc = dict[str, Any]
REGISTRY = load_registry()
VALIDATOR = jsonschema.Draft202012Validator(
    canonical_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


@dataclass(frozen=True)
class Case:
    """One way to break the base message and the violation it gets."""

    id: str
    change: Callable[[Doc], Any]
    path: str
    type: str
    where: str  # "schema" or "rules"
    error: str = "invalid_message"


def put(path: str, value: Any) -> Callable[[Doc], None]:
    """Set the value at a dotted path (numbers index lists)."""

    def change(doc: Doc) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = doc
        for part in parents:
            node = node[part]
        node[last] = value

    return change


def drop(path: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node: Any = doc
        for part in parents:
            node = node[part]
        del node[last]

    return change


def both(*changes: Callable[[Doc], Any]) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        for one in changes:
            one(doc)

    return change


def _attachment(content: bytes, **overrides: Any) -> Callable[[Doc], None]:
    item = {
        "ref": "a1",
        "media_type": "application/octet-stream",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "content_base64": base64.b64encode(content).decode(),
    }
    return put("attachments", [{**item, **overrides}])


def _deep(doc: Doc) -> None:
    nested: Any = []
    for _ in range(40):
        nested = [nested]
    doc["colour"] = nested


_NAIVE = "2026-03-01T09:00:00"
_E0 = "$.events[0]"

SCHEMA_CASES = [
    Case("unknown-field", put("colour", "red"), "$.colour", "extra_forbidden", "schema"),
    Case(
        "unknown-nested",
        put("persons.0.nick", "x"),
        "$.persons[0].nick",
        "extra_forbidden",
        "schema",
    ),
    Case("missing", drop("subject"), "$.subject", "missing", "schema"),
    Case("enum", put("kind", "gossip"), "$.kind", "enum", "schema"),
    Case("literal", put("schema", "marri.exchange/2"), "$.schema", "literal_error", "schema"),
    Case("string-type", put("subject", 5), "$.subject", "string_type", "schema"),
    Case(
        "int-type", put("events.0.persons_count", [1]), f"{_E0}.persons_count", "int_type", "schema"
    ),
    Case(
        "int-parsing",
        put("events.0.persons_count", "many"),
        f"{_E0}.persons_count",
        "int_parsing",
        "schema",
    ),
    Case(
        "int-from-float",
        put("events.0.persons_count", 1.5),
        f"{_E0}.persons_count",
        "int_from_float",
        "schema",
    ),
    Case("float-type", put("locations.0.lat", [1]), "$.locations[0].lat", "float_type", "schema"),
    Case(
        "float-parsing",
        put("locations.0.lat", "north"),
        "$.locations[0].lat",
        "float_parsing",
        "schema",
    ),
    Case(
        "bool-type", put("persons.0.is_minor", [1]), "$.persons[0].is_minor", "bool_type", "schema"
    ),
    Case(
        "bool-parsing",
        put("persons.0.is_minor", "perhaps"),
        "$.persons[0].is_minor",
        "bool_parsing",
        "schema",
    ),
    Case("array-type", put("crime_areas", "other"), "$.crime_areas", "tuple_type", "schema"),
    Case("object-type", put("sender", "x"), "$.sender", "model_type", "schema"),
    Case(
        "map-type",
        put("statistics", {"by_nationality": "x"}),
        "$.statistics.by_nationality",
        "dict_type",
        "schema",
    ),
    Case("uuid-type", put("message_id", 5), "$.message_id", "uuid_type", "schema"),
    Case("uuid", put("message_id", "nope"), "$.message_id", "uuid_parsing", "schema"),
    Case(
        "date-type",
        put("documents.0.issued_on", [1]),
        "$.documents[0].issued_on",
        "date_type",
        "schema",
    ),
    Case(
        "date",
        put("documents.0.issued_on", "yesterday"),
        "$.documents[0].issued_on",
        "date_from_datetime_parsing",
        "schema",
    ),
    Case(
        "date-with-time",
        put("documents.0.issued_on", "2021-01-01T10:00:00"),
        "$.documents[0].issued_on",
        "date_from_datetime_inexact",
        "schema",
    ),
    Case(
        "date-not-real",
        put("documents.0.issued_on", "2021-02-29"),
        "$.documents[0].issued_on",
        "date_from_datetime_parsing",
        "schema",
    ),
    Case("too-short-text", put("subject", ""), "$.subject", "string_too_short", "schema"),
    Case("too-long-text", put("subject", "x" * 201), "$.subject", "string_too_long", "schema"),
    Case("too-few", put("crime_areas", []), "$.crime_areas", "too_short", "schema"),
    Case("too-many", put("purposes", ["investigation"] * 21), "$.purposes", "too_long", "schema"),
    Case(
        "below-minimum",
        put("events.0.persons_count", -1),
        f"{_E0}.persons_count",
        "greater_than_equal",
        "schema",
    ),
    Case(
        "above-maximum",
        put("locations.0.lat", 91),
        "$.locations[0].lat",
        "less_than_equal",
        "schema",
    ),
    Case(
        "pattern",
        put("sender.country", "al"),
        "$.sender.country",
        "string_pattern_mismatch",
        "schema",
    ),
    Case(
        "country-code",
        put("persons.0.nationalities", ["XX"]),
        "$.persons[0].nationalities[0]",
        "country_code",
        "schema",
    ),
    Case(
        "country-key",
        put("statistics", {"by_nationality": {"QQ": 1}}),
        "$.statistics.by_nationality.QQ",
        "country_code",
        "schema",
    ),
    Case(
        "partial-date",
        put("persons.0.birth_date", "2021-02-30"),
        "$.persons[0].birth_date",
        "partial_date",
        "schema",
    ),
    Case(
        "partial-month",
        put("persons.0.birth_date", "2021-13"),
        "$.persons[0].birth_date",
        "partial_date",
        "schema",
    ),
    Case(
        "leap-day",
        put("persons.0.birth_date", "2100-02-29"),
        "$.persons[0].birth_date",
        "partial_date",
        "schema",
    ),
    Case("timestamp", put("sent_at", "yesterday"), "$.sent_at", "timestamp", "schema"),
    Case(
        "timestamp-hour", put("sent_at", "2026-03-01T24:00:00Z"), "$.sent_at", "timestamp", "schema"
    ),
    Case(
        "timestamp-day", put("sent_at", "2026-02-30T10:00:00Z"), "$.sent_at", "timestamp", "schema"
    ),
    Case(
        "timestamp-offset",
        put("sent_at", "2026-03-01T10:00:00+00:60"),
        "$.sent_at",
        "timestamp",
        "schema",
    ),
    Case("naive-timestamp", put("sent_at", _NAIVE), "$.sent_at", "timezone_aware", "schema"),
    Case(
        "naive-at-time",
        put("events.0.at_time", _NAIVE),
        f"{_E0}.at_time",
        "timezone_aware",
        "schema",
    ),
    Case(
        "event-at",
        put("events.0.at", "Christmas"),
        f"{_E0}.at",
        "timestamp_or_partial_date",
        "schema",
    ),
    Case(
        "two-event-times",
        put("events.0.at_time", "2025-12-01T10:00:00Z"),
        f"{_E0}.at",
        "forbidden",
        "schema",
    ),
    Case("reply-unlinked", put("kind", "reply"), "$.in_reply_to", "missing", "schema"),
    Case(
        "link-not-reply",
        put("in_reply_to", "6f1c2b9e-1111-4a2b-9c3d-0e1f2a3b4c5d"),
        "$.in_reply_to",
        "forbidden",
        "schema",
    ),
    Case(
        "restriction-unexplained",
        put("handling.restriction", "other"),
        "$.handling.restriction_text",
        "missing",
        "schema",
    ),
    Case(
        "restriction-text-alone",
        put("handling.restriction_text", "ask"),
        "$.handling.restriction_text",
        "forbidden",
        "schema",
    ),
    Case(
        "name-empty",
        put("persons.0.names", [{"script": "Latn"}]),
        "$.persons[0].names[0].given",
        "name_empty",
        "schema",
    ),
    Case(
        "name-null",
        put("persons.0.names", [{"given": None}]),
        "$.persons[0].names[0].given",
        "name_empty",
        "schema",
    ),
    Case(
        "coordinates",
        drop("locations.0.lon"),
        "$.locations[0].lon",
        "coordinates_incomplete",
        "schema",
    ),
    Case(
        "coordinates-null",
        put("locations.0.lat", None),
        "$.locations[0].lat",
        "coordinates_incomplete",
        "schema",
    ),
    Case("control", put("subject", "a\u0007b"), "$.subject", "control_character", "schema"),
    Case(
        "control-free-text", put("summary", "a\u0000b"), "$.summary", "control_character", "schema"
    ),
    Case(
        "bidi",
        put("persons.0.names.0.family", "a\u202eb"),
        "$.persons[0].names[0].family",
        "bidi_control",
        "schema",
    ),
    Case(
        "base64",
        put("attachments.0.content_base64", "AB=C"),
        "$.attachments[0].content_base64",
        "invalid_base64",
        "schema",
    ),
    Case(
        "base64-padding",
        put("attachments.0.content_base64", "ABC"),
        "$.attachments[0].content_base64",
        "invalid_base64",
        "schema",
    ),
    Case("too-deep", _deep, "$", "too_deep", "schema"),
]

RULE_CASES = [
    Case(
        "not-a-number",
        put("locations.0.lat", float("nan")),
        "$.locations[0].lat",
        "finite_number",
        "rules",
    ),
    Case(
        "retention-past",
        put("handling.retention_until", "2026-03-01"),
        "$.handling.retention_until",
        "not_in_future",
        "rules",
    ),
    Case(
        "channel-twice",
        put("destinations", [{"channel": "europol"}] * 2),
        "$.destinations[1].channel",
        "duplicate_channel",
        "rules",
    ),
    Case("ref-twice", put("vehicles.0.ref", "p1"), "$.vehicles[0].ref", "duplicate_ref", "rules"),
    Case(
        "reference-broken",
        put("links.0.to", "nobody"),
        "$.links[0].to",
        "broken_reference",
        "rules",
    ),
    Case(
        "reference-wrong-kind",
        put("documents.0.holder", "v1"),
        "$.documents[0].holder",
        "broken_reference",
        "rules",
    ),
    Case(
        "attachment-large",
        _attachment(b"x" * (MAX_ATTACHMENT_BYTES + 1), size=MAX_ATTACHMENT_BYTES),
        "$.attachments[0].content_base64",
        "too_large",
        "rules",
    ),
    Case(
        "attachment-size",
        _attachment(b"page", size=5),
        "$.attachments[0].size",
        "size_mismatch",
        "rules",
    ),
    Case(
        "attachment-hash",
        _attachment(b"page", sha256="0" * 64),
        "$.attachments[0].sha256",
        "hash_mismatch",
        "rules",
    ),
    Case(
        "channel-unknown",
        put("destinations", [{"channel": "carrier_pigeon"}]),
        "$.destinations[0].channel",
        "unknown_channel",
        "rules",
        "invalid_destination",
    ),
    Case(
        "product-unknown",
        put("destinations", [{"channel": "interpol", "product": "gossip"}]),
        "$.destinations[0].product",
        "unknown_product",
        "rules",
        "invalid_destination",
    ),
    Case(
        "recipients-missing",
        put("destinations", [{"channel": "pcc_see"}]),
        "$.destinations[0].to",
        "missing",
        "rules",
        "invalid_destination",
    ),
]

CASES = SCHEMA_CASES + RULE_CASES


def _broken(case: Case) -> Doc:
    doc = copy.deepcopy(BASE)
    case.change(doc)
    return doc


def _gateway_refusal(doc: Doc) -> tuple[str, set[tuple[str, str]]]:
    """The error code and the (path, type) pairs the gateway refuses ``doc`` with."""
    try:
        message = parse_message(encode(doc), today=TODAY)
    except MessageInvalid as exc:
        return "invalid_message", {(v.path, v.type) for v in exc.violations}
    problems = check_destinations(message, REGISTRY)
    return ("invalid_destination" if problems else "accepted"), {(v.path, v.type) for v in problems}


def _matches(pattern: str, path: str) -> bool:
    """A published rule's path (``[*]`` any index, ``<name>`` any field, ``<path>`` any path)."""
    regex = re.escape(pattern).replace(r"\[\*\]", r"\[\d+\]")
    regex = regex.replace(re.escape("<path>"), ".*").replace(re.escape("<list>"), r"\w+")
    regex = regex.replace(re.escape("<field>"), r"\w+(\[\d+\])?")
    return re.fullmatch(regex, path) is not None


def test_the_base_message_is_valid_for_both() -> None:
    assert _gateway_refusal(copy.deepcopy(BASE)) == ("accepted", set())
    assert list(VALIDATOR.iter_errors(BASE)) == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_refusal_is_in_the_schema_or_the_rules(case: Case) -> None:
    doc = _broken(case)
    error, found = _gateway_refusal(doc)
    assert error == case.error
    assert (case.path, case.type) in found, found
    schema_errors = list(VALIDATOR.iter_errors(doc))
    if case.where == "schema":
        # refused by the schema at the field, or above it (a conditional on its object)
        assert schema_errors, f"the published schema accepts a message refused with {case.type}"
        assert any(case.path.startswith(e.json_path) for e in schema_errors)
    else:
        assert schema_errors == [], "the schema refuses this: mark the case schema"
        rules = published_rules(REGISTRY, max_body_bytes=10**6)
        named = [r for r in rules if (r.error, r.violation) == (case.error, case.type)]
        assert any(_matches(r.path, case.path) for r in named), [r.id for r in named]


def test_a_body_that_is_not_json_is_named_by_the_rules() -> None:
    with pytest.raises(MessageInvalid) as info:
        parse_message(b'{"schema": "marri.exchange/1",', today=TODAY)
    assert [(v.path, v.type) for v in info.value.violations] == [("$", "invalid_json")]
    rules = published_rules(REGISTRY, max_body_bytes=10**6)
    assert ("invalid_message", "invalid_json", "$") in {
        (r.error, r.violation, r.path) for r in rules
    }


def test_a_top_level_that_is_no_object_is_refused_by_the_schema() -> None:
    with pytest.raises(MessageInvalid) as info:
        parse_message(b"[1, 2]", today=TODAY)
    assert [v.type for v in info.value.violations] == ["not_object"]
    assert list(VALIDATOR.iter_errors([1, 2]))


# Types of violation no JSON document can get, with why.
UNREACHABLE = {
    "string_unicode": "JSON text decodes to Unicode strings before validation",
    "model_attributes_type": "raised for Python objects, not for parsed JSON",
    "none_required": "no field of canonical v1 must be null",
    "json_invalid": "reported as invalid_json with line and column",
    "json_type": "the body is parsed as a whole; no field holds JSON text",
    "list_type": "every array of canonical v1 is a tuple (tuple_type)",
    "uuid_version": "any UUID version is accepted",
    "date_parsing": "JSON dates are read as datetimes first: date_from_datetime_parsing",
}


def test_the_cases_cover_every_violation_type() -> None:
    covered = {case.type for case in CASES} | {"invalid_json", "not_object"}
    known = (
        set(OWN_TYPES)
        | set(_FIXED_TEXT)
        | {
            "string_too_short",
            "string_too_long",
            "too_short",
            "too_long",
            "greater_than_equal",
            "less_than_equal",
            "enum",
            "literal_error",
            "string_pattern_mismatch",
            "unknown_channel",
            "unknown_product",
            "too_deep",
        }
    )
    assert known - covered - set(UNREACHABLE) == set()


#: Published rules whose refusals need the API (tokens, stored messages, headers, renders):
#: tests/api/test_schema_rules.py makes each happen (the signature's, with registered keys:
#: tests/security/test_sender_signatures.py).
API_RULES = {
    "json_media_type",
    "body_size",
    "sender_is_the_token",
    "renderable",
    "message_id_once",
    "sender_signature_verifies",
}


def test_every_published_rule_has_a_case() -> None:
    rules = published_rules(REGISTRY, max_body_bytes=10**6)
    pairs = {(c.error, c.type) for c in CASES} | {("invalid_message", "invalid_json")}
    untested = {r.id for r in rules if (r.error, r.violation) not in pairs}
    assert untested == API_RULES
    assert json.loads(json.dumps([r.as_dict() for r in rules]))  # plain JSON data
