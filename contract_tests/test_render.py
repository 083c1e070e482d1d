"""Rendering: golden bytes, determinism, schema-valid output for examples and generated messages,
partial dates, missing optional fields, long and non-Latin texts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.base import Adapter
from adapters.errors import RenderError
from adapters.registry import AdapterRegistry
from contract_tests import kit
from contract_tests.strategies import TODAY, canonical_messages
from gateway.schema.message import CanonicalMessage


def test_golden_payload_matches_byte_for_byte(
    golden_case: kit.GoldenCase, kit_registry: AdapterRegistry, refresh_golden: bool
) -> None:
    adapter = kit_registry.get(golden_case.channel)
    payload = kit.render_for_kit(adapter, golden_case.message(), golden_case.decision_overrides())
    expected_path = golden_case.payload_path(adapter)
    if refresh_golden:
        expected_path.write_bytes(payload.body)
    assert expected_path.is_file(), f"run: python -m contract_tests.refresh {golden_case.channel}"
    assert payload.body == expected_path.read_bytes(), (
        f"{golden_case.id}: render differs from {expected_path.name}; if intended, run "
        f"python -m contract_tests.refresh {golden_case.channel} and review the diff"
    )
    assert payload.content_type == adapter.content_type
    assert adapter.validate_payload(payload.body) == []


def test_render_is_deterministic(
    golden_case: kit.GoldenCase, kit_registry: AdapterRegistry
) -> None:
    adapter = kit_registry.get(golden_case.channel)
    overrides = golden_case.decision_overrides()
    first = kit.render_for_kit(adapter, golden_case.message(), overrides)
    second = kit.render_for_kit(adapter, golden_case.message(), overrides)
    assert first.body == second.body
    assert dict(first.headers) == dict(second.headers)


def test_every_example_naming_the_channel_renders_valid(
    example_path: tuple[str, Path], kit_registry: AdapterRegistry
) -> None:
    channel, path = example_path
    adapter = kit_registry.get(channel)
    payload = kit.render_for_kit(adapter, kit.load_message(path))
    assert payload.body
    assert adapter.validate_payload(payload.body) == []


def test_validate_payload_rejects_other_bytes(adapter: Adapter) -> None:
    for junk in (b"", b"not a payload", b"<x/>", b"{}", b'<?xml version="1.0"?><a>'):
        problems = adapter.validate_payload(junk)
        assert problems, f"{adapter.name} accepted {junk!r}"


def test_xml_channels_refuse_a_doctype_in_an_otherwise_valid_payload(
    golden_case: kit.GoldenCase, kit_registry: AdapterRegistry
) -> None:
    adapter = kit_registry.get(golden_case.channel)
    payload = kit.render_for_kit(adapter, golden_case.message(), golden_case.decision_overrides())
    if not payload.body.lstrip().startswith(b"<"):
        pytest.skip("JSON channel: no DTD to smuggle in")
    head, sep, rest = payload.body.partition(b"?>")
    hostile = head + sep + b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + rest
    assert adapter.validate_payload(hostile), "a DOCTYPE must never pass validation"


def _base_raw(adapter: Adapter, kit_roots: list[Path]) -> dict[str, Any]:
    case = kit.golden_cases([adapter.name], kit_roots)[0]
    raw: dict[str, Any] = json.loads((case.folder / "input.json").read_text(encoding="utf-8"))
    return raw


def _render_raw(adapter: Adapter, raw: dict[str, Any]) -> bytes:
    message = CanonicalMessage.model_validate(raw, context={"today": kit.CASE_TODAY})
    payload = kit.render_for_kit(adapter, message)
    assert adapter.validate_payload(payload.body) == []
    return payload.body


def test_missing_optional_fields(adapter: Adapter, kit_roots: list[Path]) -> None:
    raw = _base_raw(adapter, kit_roots)
    required = {
        "schema",
        "message_id",
        "sent_at",
        "sender",
        "kind",
        "subject",
        "crime_areas",
        "purposes",
        "legal_basis",
        "handling",
        "destinations",
        "in_reply_to",
    }
    minimal = {key: value for key, value in raw.items() if key in required}
    minimal["sender"] = {k: v for k, v in raw["sender"].items() if k in ("country", "agency")}
    minimal["handling"] = {"classification": raw["handling"]["classification"]}
    body = _render_raw(adapter, minimal)
    assert body != _render_raw(adapter, raw)


def test_partial_dates_long_and_non_latin_texts(adapter: Adapter, kit_roots: list[Path]) -> None:
    raw = _base_raw(adapter, kit_roots)
    long_text = ("Ђорђе Љубојевић — Αλέξανδρος Παπαδόπουλος <&> " * 500)[:20_000]
    raw["summary"] = long_text
    raw["subject"] = ("Трговина људима / Εμπορία ανθρώπων " * 10)[:200]
    bodies = []
    for birth_date in ("1990", "1990-04", "1990-04-17"):
        raw["persons"] = [
            {
                "ref": "p-long",
                "role": "victim",
                "names": [
                    {"given": "Ђорђе", "family": "Љубојевић", "script": "Cyrl"},
                    {"given": "Αλέξανδρος", "family": "Παπαδόπουλος", "script": "Grek"},
                ],
                "birth_date": birth_date,
                "description": long_text,
            }
        ]
        raw["documents"] = []
        raw["links"] = []
        raw["events"] = []
        raw["communications"] = []
        body = _render_raw(adapter, raw)
        bodies.append(body)
    carried = [
        date.encode() in body
        for date, body in zip(("1990", "1990-04", "1990-04-17"), bodies, strict=True)
    ]
    assert all(carried) or not any(carried[1:]), (
        "partial birth dates travel as given, or not at all"
    )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_generated_messages_render_valid_or_refuse_cleanly(
    adapter_product: tuple[Adapter, str], data: st.DataObject
) -> None:
    adapter, product = adapter_product
    raw = data.draw(canonical_messages(adapter.name, (product,)))
    message = CanonicalMessage.model_validate(raw, context={"today": TODAY})
    refusal: RenderError | None = None
    try:
        payload = kit.render_for_kit(adapter, message)
    except RenderError as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.violations, "a RenderError lists its violations"
        text = str(refusal) + repr(refusal.violations)
        for value in kit.personal_strings(message):
            assert value not in text
        return
    assert adapter.validate_payload(payload.body) == []
    assert payload.product == product
    assert kit.render_for_kit(adapter, message).body == payload.body
