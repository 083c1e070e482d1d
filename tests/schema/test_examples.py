"""Every example validates, nests within the schema depth, and says what its name promises."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from gateway.schema import CanonicalMessage, canonical_json_schema, derive_facts, parse_message
from gateway.schema.codes import Kind
from gateway.schema.parse import SCHEMA_DEPTH, nesting_depth

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PATHS = sorted(EXAMPLES.glob("*.json"))


def _load(name: str) -> CanonicalMessage:
    return parse_message((EXAMPLES / name).read_bytes())


def test_the_promised_examples_exist() -> None:
    names = {path.name for path in PATHS}
    assert {
        "al-victim-identification-pcc-see.json",
        "al-yellow-notice-request.json",
        "mk-smuggling-interception-frontex.json",
        "rs-cyrillic-case-europol-selec.json",
        "me-early-warning-alert.json",
        "ba-reply.json",
        "xk-europol-information.json",
    } <= names
    listed = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in listed for name in names)


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_example_is_valid(path: Path) -> None:
    raw = path.read_bytes()
    message = parse_message(raw)
    assert nesting_depth(raw) <= SCHEMA_DEPTH
    assert message.sent_at.year == 2026
    assert message.handling.retention_until is not None
    assert 2028 <= message.handling.retention_until.year <= 2031
    assert path.stem.split("-")[0].upper() == message.sender.country
    # the published schema accepts the example as sent, formats checked, and as the model holds it
    validator = jsonschema.Draft202012Validator(
        canonical_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(json.loads(raw))
    validator.validate(message.model_dump(mode="json"))


def test_albanian_request_has_a_minor_victim_for_north_macedonia() -> None:
    message = _load("al-victim-identification-pcc-see.json")
    assert message.kind is Kind.request
    assert [(d.channel, d.to) for d in message.destinations] == [("pcc_see", ("MK",))]
    assert any(b.instrument == "pcc_see" and b.article == "5" for b in message.legal_basis)
    assert "victim_identification" in message.purposes
    facts = derive_facts(message)
    assert facts.has_minors
    assert facts.persons_by_role["victim"] >= 1


def test_serbian_case_carries_cyrillic_with_latin_transcriptions() -> None:
    message = _load("rs-cyrillic-case-europol-selec.json")
    cyrillic = "".join(
        (name.given or "") + (name.family or "")
        for person in message.persons
        for name in person.names
        if name.script == "Cyrl"
    )
    assert set("ЂЋЏЉЊ") <= set(cyrillic.upper())
    for person in message.persons:
        if any(name.script == "Cyrl" for name in person.names):
            assert any(name.kind == "latin_transcription" for name in person.names)
    assert message.evaluation is not None
    assert (message.evaluation.source, message.evaluation.information) == ("B", "2")


def test_alert_reaches_four_channels_at_urgent() -> None:
    message = _load("me-early-warning-alert.json")
    assert message.kind is Kind.alert
    assert {d.channel for d in message.destinations} == {"europol", "selec", "pcc_see", "interpol"}
    assert message.effective_priority == "urgent"


def test_reply_and_kosovo_examples() -> None:
    assert _load("ba-reply.json").in_reply_to is not None
    assert _load("xk-europol-information.json").sender.country == "XK"


def test_examples_stay_valid_until_their_retention_date() -> None:
    for path in PATHS:
        parse_message(path.read_bytes(), today=date(2027, 12, 31))
