"""parse_message: what it refuses before validation, and that it reports every violation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.schema import CanonicalMessage, MessageInvalid, parse_message
from gateway.schema.parse import SCHEMA_DEPTH, nesting_depth

from .conftest import TODAY, encode, problems


def _refusal(raw: bytes, **kwargs: Any) -> MessageInvalid:
    with pytest.raises(MessageInvalid) as caught:
        parse_message(raw, **kwargs)
    return caught.value


def test_returns_the_model(doc: dict[str, Any]) -> None:
    message = parse_message(encode(doc), today=TODAY)
    assert isinstance(message, CanonicalMessage)
    assert message.links[0].from_ == "p1"
    assert message.schema_ == "marri.exchange/1"


def test_dumps_use_wire_names(doc: dict[str, Any]) -> None:
    dumped = parse_message(encode(doc), today=TODAY).model_dump(mode="json")
    assert dumped["schema"] == "marri.exchange/1"
    assert dumped["links"][0]["from"] == "p1"
    assert "schema_" not in dumped
    assert "from_" not in dumped["links"][0]


def test_invalid_json_names_line_and_column() -> None:
    refusal = _refusal(b'{\n  "schema": "marri.exchange/1",\n  "kind": ,\n}')
    [violation] = refusal.violations
    assert (violation.path, violation.type) == ("$", "invalid_json")
    assert "line 3 column 11" in violation.message


def test_not_utf8_is_invalid_json(doc: dict[str, Any]) -> None:
    raw = encode(doc).replace(b'"Ana"', b'"An\xe9"')
    [violation] = _refusal(raw).violations
    assert (violation.path, violation.type) == ("$", "invalid_json")
    assert "UTF-8" in violation.message


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null"])
def test_top_level_must_be_an_object(raw: bytes) -> None:
    [violation] = _refusal(raw).violations
    assert (violation.path, violation.type) == ("$", "not_object")


def test_too_deep_is_refused_before_validation(doc: dict[str, Any]) -> None:
    nested: Any = 1
    for _ in range(32):
        nested = [nested]
    doc["summary"] = nested  # depth 33: root object + 32 arrays
    [violation] = _refusal(encode(doc)).violations
    assert (violation.path, violation.type) == ("$", "too_deep")
    doc["summary"] = nested[0]  # depth 32: within the limit, fails only as a wrong type
    assert problems(doc) == [("$.summary", "string_type")]


def test_tight_max_depth_refuses_even_a_valid_message(doc: dict[str, Any]) -> None:
    raw = encode(doc)
    assert nesting_depth(raw) == SCHEMA_DEPTH
    [violation] = _refusal(raw, today=TODAY, max_depth=SCHEMA_DEPTH - 1).violations
    assert violation.type == "too_deep"
    assert parse_message(raw, today=TODAY, max_depth=SCHEMA_DEPTH).subject == doc["subject"]


def test_depth_scan_ignores_brackets_in_strings() -> None:
    assert nesting_depth(b'{"a": "[[[{{{\\"[[[", "b": [{}]}') == 3


def test_lists_every_violation_at_once(doc: dict[str, Any]) -> None:
    doc["persons"][0]["role"] = "hostage"
    doc["persons"][1]["birth_date"] = "1990-02-30"
    doc["sender"]["country"] = "XX"
    del doc["subject"]
    doc["kind"] = "reply"
    doc["links"][1]["to"] = "ghost"
    doc["documents"][0]["ref"] = "p2"
    doc["destinations"].append({"channel": "europol"})
    assert sorted(problems(doc)) == sorted(
        [
            ("$.persons[0].role", "enum"),
            ("$.persons[1].birth_date", "partial_date"),
            ("$.sender.country", "country_code"),
            ("$.subject", "missing"),
            ("$.in_reply_to", "missing"),
            ("$.links[1].to", "broken_reference"),
            ("$.documents[0].ref", "duplicate_ref"),
            ("$.destinations[2].channel", "duplicate_channel"),
        ]
    )


def test_message_wide_rules_tolerate_broken_shapes(doc: dict[str, Any]) -> None:
    doc["persons"] = "not a list"
    doc["links"][0] = 7
    found = problems(doc)
    assert ("$.persons", "tuple_type") in found
    assert ("$.links[0]", "model_type") in found
    # references to the persons that could not be read are reported as broken, not crashed on
    assert ("$.documents[0].holder", "broken_reference") in found


@pytest.mark.parametrize(
    ("where", "path"),
    [
        ((), "$.colour"),
        (("sender",), "$.sender.colour"),
        (("handling",), "$.handling.colour"),
        (("persons", 0, "names", 0), "$.persons[0].names[0].colour"),
        (("destinations", 1), "$.destinations[1].colour"),
        (("attachments", 0), "$.attachments[0].colour"),
    ],
)
def test_unknown_fields_refused_at_every_depth(
    doc: dict[str, Any], where: tuple[str | int, ...], path: str
) -> None:
    target: Any = doc
    for step in where:
        target = target[step]
    target["colour"] = "red"
    assert problems(doc) == [(path, "extra_forbidden")]


def test_python_names_are_not_wire_names(doc: dict[str, Any]) -> None:
    doc["links"][0]["from_"] = doc["links"][0].pop("from")
    assert sorted(problems(doc)) == [
        ("$.links[0].from", "missing"),
        ("$.links[0].from_", "extra_forbidden"),
    ]


def test_schema_id_is_fixed(doc: dict[str, Any]) -> None:
    doc["schema"] = "marri.exchange/2"
    assert problems(doc) == [("$.schema", "literal_error")]


@pytest.mark.parametrize(
    ("field", "value"),
    [("crime_areas", []), ("purposes", []), ("legal_basis", []), ("destinations", [])],
)
def test_required_lists_need_one_item(doc: dict[str, Any], field: str, value: list[Any]) -> None:
    doc[field] = value
    assert problems(doc) == [(f"$.{field}", "too_short")]


def test_equal_json_gives_equal_models(doc: dict[str, Any]) -> None:
    first = parse_message(encode(doc), today=TODAY)
    second = parse_message(json.dumps(doc, indent=4).encode(), today=TODAY)
    assert first == second


def test_lone_surrogate_escape_is_invalid_json(doc: dict[str, Any]) -> None:
    raw = encode(doc).replace(b'"Test request"', b'"\\ud800 request"')
    [violation] = _refusal(raw, today=TODAY).violations
    assert (violation.path, violation.type) == ("$", "invalid_json")


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_numbers_refused(doc: dict[str, Any], number: bytes) -> None:
    raw = encode(doc).replace(b'"lat": 41.3', b'"lat": ' + number)
    assert [(v.path, v.type) for v in _refusal(raw, today=TODAY).violations] == [
        ("$.locations[0].lat", "finite_number")
    ]


def test_refusal_is_json_for_the_api(doc: dict[str, Any]) -> None:
    del doc["subject"]
    doc["kind"] = "gossip"
    refusal = _refusal(encode(doc), today=TODAY)
    assert str(refusal) == "message invalid: 2 violations"
    body = json.loads(json.dumps(refusal.as_dict()))
    assert {"path": "$.subject", "type": "missing", "message": "Field required"} in body[
        "violations"
    ]
    assert [v["path"] for v in body["violations"]] == ["$.kind", "$.subject"]
