"""Country codes, partial dates and timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from gateway.schema import parse_message
from gateway.schema.codes import COUNTRY_CODES, ISO_3166_ALPHA2

from .conftest import TODAY, encode, problems


def test_iso_list_is_the_full_alpha2_set() -> None:
    assert len(ISO_3166_ALPHA2) == 249
    assert {"AL", "BA", "ME", "MK", "RS", "GR", "TR"} <= ISO_3166_ALPHA2
    assert "XK" not in ISO_3166_ALPHA2
    added = COUNTRY_CODES - ISO_3166_ALPHA2
    assert added == {"XK"}


def test_kosovo_is_accepted(doc: dict[str, Any]) -> None:
    doc["sender"]["country"] = "XK"
    doc["persons"][0]["nationalities"] = ["XK"]
    assert problems(doc) == []


@pytest.mark.parametrize(
    ("code", "kind"),
    [("XX", "country_code"), ("UK", "country_code"), ("al", "string_pattern_mismatch")],
)
def test_unknown_or_lower_case_codes_refused(doc: dict[str, Any], code: str, kind: str) -> None:
    doc["sender"]["country"] = code
    doc["destinations"][0]["to"] = ["MK", code]
    doc["route"][0]["country"] = code
    assert problems(doc) == [
        ("$.sender.country", kind),
        ("$.destinations[0].to[1]", kind),
        ("$.route[0].country", kind),
    ]


def test_statistics_keys_are_country_codes(doc: dict[str, Any]) -> None:
    doc["statistics"] = {"by_nationality": {"SY": 3, "XK": 1}}
    assert problems(doc) == []
    doc["statistics"]["by_nationality"]["XX"] = 2
    assert problems(doc) == [("$.statistics.by_nationality.XX", "country_code")]


@pytest.mark.parametrize("value", ["1990", "1990-02", "2000-02-29", "2024-12-31"])
def test_partial_dates_accepted(doc: dict[str, Any], value: str) -> None:
    doc["persons"][0]["birth_date"] = value
    assert problems(doc) == []
    assert parse_message(encode(doc), today=TODAY).persons[0].birth_date == value


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("2021-02-30", "partial_date"),
        ("2021-13", "partial_date"),
        ("2021-00", "partial_date"),
        ("1900-02-29", "partial_date"),
        ("0000", "partial_date"),
        ("21-01-01", "string_pattern_mismatch"),
        ("2021-1-5", "string_pattern_mismatch"),
        ("2021/01/05", "string_pattern_mismatch"),
    ],
)
def test_partial_dates_refused(doc: dict[str, Any], value: str, kind: str) -> None:
    doc["persons"][0]["birth_date"] = value
    assert problems(doc) == [("$.persons[0].birth_date", kind)]


@pytest.mark.parametrize(
    "value", ["2026-03-01T09:00:00Z", "2026-03-01T09:00:00.123+01:00", "2026-03-01t09:00:00-05:30"]
)
def test_timestamps_with_offset_accepted(doc: dict[str, Any], value: str) -> None:
    doc["sent_at"] = value
    assert problems(doc) == []


@pytest.mark.parametrize("value", ["2026-03-01T09:00:00", "2026-03-01T09:00:00.5"])
def test_naive_timestamps_refused(doc: dict[str, Any], value: str) -> None:
    doc["sent_at"] = value
    doc["events"][0]["at"] = value
    assert problems(doc) == [
        ("$.sent_at", "timezone_aware"),
        ("$.events[0].at", "timezone_aware"),
    ]


@pytest.mark.parametrize("value", ["2026-03-01", "yesterday", 1772352000, "2026-03-01 09:00Z"])
def test_sent_at_must_be_a_timestamp_string(doc: dict[str, Any], value: object) -> None:
    doc["sent_at"] = value
    assert problems(doc) == [("$.sent_at", "timestamp")]


def test_timestamp_keeps_the_instant(doc: dict[str, Any]) -> None:
    doc["sent_at"] = "2026-03-01T09:00:00+01:00"
    sent = parse_message(encode(doc), today=TODAY).sent_at
    assert sent == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert sent.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025", "2025"),
        ("2025-12-24", "2025-12-24"),
        (
            "2025-12-24T18:00:00+02:00",
            datetime(2025, 12, 24, 18, tzinfo=timezone(timedelta(hours=2))),
        ),
    ],
)
def test_event_time_is_timestamp_or_partial_date(
    doc: dict[str, Any], value: str, expected: object
) -> None:
    doc["events"][0]["at"] = value
    assert parse_message(encode(doc), today=TODAY).events[0].at == expected


@pytest.mark.parametrize("value", ["2025-02-30", "Christmas", 2025])
def test_event_time_refused(doc: dict[str, Any], value: object) -> None:
    doc["events"][0]["at"] = value
    expected = "partial_date" if value == "2025-02-30" else "timestamp_or_partial_date"
    assert problems(doc) == [("$.events[0].at", expected)]


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("message_id", "not-a-uuid", "uuid_parsing"),
        ("subject", "", "string_too_short"),
        ("subject", "x" * 201, "string_too_long"),
        ("kind", "gossip", "enum"),
        ("priority", "whenever", "enum"),
    ],
)
def test_envelope_scalars(doc: dict[str, Any], field: str, value: object, kind: str) -> None:
    doc[field] = value
    assert problems(doc) == [(f"$.{field}", kind)]
