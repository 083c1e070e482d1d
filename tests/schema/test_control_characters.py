"""Control characters are refused in every string (free text keeps tab and line breaks);
bidirectional overrides and isolates in names and references; joiners stay allowed."""

from __future__ import annotations

import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from gateway.schema import MessageInvalid, parse_message
from gateway.schema.jsonschema import canonical_json_schema

from .conftest import TODAY, encode, problems

# (path to the field as keys and indexes, its JSON path)
SINGLE_LINE_FIELDS = [
    (("subject",), "$.subject"),
    (("sender", "agency"), "$.sender.agency"),
    (("sender", "contact", "email"), "$.sender.contact.email"),
    (("legal_basis", 0, "article"), "$.legal_basis[0].article"),
    (("persons", 0, "names", 0, "given"), "$.persons[0].names[0].given"),
    (("persons", 1, "names", 0, "family"), "$.persons[1].names[0].family"),
    (("documents", 0, "number"), "$.documents[0].number"),
    (("vehicles", 0, "registration"), "$.vehicles[0].registration"),
    (("organisations", 0, "name"), "$.organisations[0].name"),
]
FREE_TEXT_FIELDS = [
    (("summary",), "$.summary"),
    (("persons", 0, "description"), "$.persons[0].description"),
    (("communications", 0, "value"), "$.communications[0].value"),
]
CONTROLS = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\x9f"]
LINE_BREAKS = ["\t", "\n", "\r\n"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
SECRET = "Zorica"


def put(doc: dict[str, Any], keys: tuple[str | int, ...], value: str) -> None:
    """Set a field; an address keeps its shape so that only the character is wrong."""
    if keys[-1] == "email":
        value += "@o.example"
    target: Any = doc
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value


def refusal(doc: dict[str, Any]) -> MessageInvalid:
    with pytest.raises(MessageInvalid) as info:
        parse_message(encode(doc), today=TODAY)
    return info.value


@pytest.mark.parametrize(("keys", "path"), SINGLE_LINE_FIELDS + FREE_TEXT_FIELDS)
@pytest.mark.parametrize("control", CONTROLS)
def test_a_control_character_is_refused_naming_the_field_not_the_value(
    doc: dict[str, Any], keys: tuple[str | int, ...], path: str, control: str
) -> None:
    put(doc, keys, f"{SECRET}{control}x")
    error = refusal(doc)
    # NEL is white space, which an address's own pattern refuses first.
    expected = "string_pattern_mismatch" if path.endswith("email") and control == "\x85" else None
    assert [(v.path, v.type) for v in error.violations] == [(path, expected or "control_character")]
    assert SECRET not in json.dumps(error.as_dict())


# An address's own pattern already refuses white space.
@pytest.mark.parametrize(("keys", "path"), [f for f in SINGLE_LINE_FIELDS if f[0][-1] != "email"])
@pytest.mark.parametrize("brk", LINE_BREAKS)
def test_names_and_references_are_one_line(
    doc: dict[str, Any], keys: tuple[str | int, ...], path: str, brk: str
) -> None:
    put(doc, keys, f"a{brk}b")
    assert problems(doc) == [(path, "control_character")]


@pytest.mark.parametrize(("keys", "path"), FREE_TEXT_FIELDS)
def test_free_text_keeps_tab_and_line_breaks(
    doc: dict[str, Any], keys: tuple[str | int, ...], path: str
) -> None:
    put(doc, keys, "first line\r\nsecond\tcolumn\nthird")
    assert problems(doc) == []


@pytest.mark.parametrize(("keys", "path"), SINGLE_LINE_FIELDS)
@pytest.mark.parametrize("mark", BIDI)
def test_bidirectional_overrides_are_refused_in_names_and_references(
    doc: dict[str, Any], keys: tuple[str | int, ...], path: str, mark: str
) -> None:
    put(doc, keys, f"{SECRET}{mark}fdp.exe")
    error = refusal(doc)
    assert [(v.path, v.type) for v in error.violations] == [(path, "bidi_control")]
    assert SECRET not in json.dumps(error.as_dict())


def test_free_text_may_carry_bidirectional_marks(doc: dict[str, Any]) -> None:
    doc["summary"] = "quoted \u2067\u05e9\u05dc\u05d5\u05dd\u2069 in a sentence"
    assert problems(doc) == []


@pytest.mark.parametrize(
    "name",
    [
        "\u0915\u094d\u200d\u0937",  # Devanagari: the joiner picks a half form
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: a non-joiner inside a word
        "\u05e9\u05dc\u05d5\u05dd",  # right-to-left script needs no override
        "Đorđe Šćepanović",
    ],
)
def test_scripts_keep_their_joiners(doc: dict[str, Any], name: str) -> None:
    doc["persons"][0]["names"][0]["given"] = name
    assert problems(doc) == []
    parsed = parse_message(encode(doc), today=TODAY)
    assert parsed.persons[0].names[0].given == name


@pytest.mark.parametrize(
    ("keys", "value", "valid"),
    [
        (("subject",), "a\x01b", False),
        (("subject",), "a\u202eb", False),
        (("subject",), "a\u200db", True),
        (("summary",), "a\r\n\tb", True),
        (("summary",), "a\x85b", False),
    ],
)
def test_the_exported_json_schema_says_the_same(
    doc: dict[str, Any], keys: tuple[str | int, ...], value: str, valid: bool
) -> None:
    put(doc, keys, value)
    validator = jsonschema.Draft202012Validator(canonical_json_schema())
    assert validator.is_valid(doc) is valid
    assert (problems(doc) == []) is valid
