"""When an event happened: ``at_time`` or ``at_date``, each one type; ``at`` still accepted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.schema import parse_message
from gateway.schema.entities import event_when

from .conftest import TODAY, encode, problems


def _event(doc: dict[str, Any], **time: Any) -> dict[str, Any]:
    event = doc["events"][0]
    event.pop("at", None)
    event.update(time)
    return doc


@pytest.mark.parametrize(
    ("time", "when"),
    [
        ({"at_time": "2025-12-24T18:00:00Z"}, datetime(2025, 12, 24, 18, tzinfo=UTC)),
        ({"at_date": "2025-12"}, "2025-12"),
        ({"at": "2025-12-24T18:00:00Z"}, datetime(2025, 12, 24, 18, tzinfo=UTC)),
        ({"at": "2025"}, "2025"),
        ({}, None),
    ],
)
def test_each_field_says_when(doc: dict[str, Any], time: dict[str, Any], when: object) -> None:
    event = parse_message(encode(_event(doc, **time)), today=TODAY).events[0]
    assert event.when == when
    assert event_when(event.model_dump(mode="python", exclude_none=True)) == when


@pytest.mark.parametrize(
    ("time", "found"),
    [
        # a partial date is not a timestamp, and a timestamp is not a partial date
        ({"at_time": "2025-12"}, ("$.events[0].at_time", "timestamp")),
        ({"at_time": "2025-12-24T18:00:00"}, ("$.events[0].at_time", "timezone_aware")),
        ({"at_date": "2025-12-24T18:00:00Z"}, ("$.events[0].at_date", "string_pattern_mismatch")),
        ({"at_date": "2025-02-30"}, ("$.events[0].at_date", "partial_date")),
    ],
)
def test_each_field_takes_its_own_type_only(
    doc: dict[str, Any], time: dict[str, Any], found: tuple[str, str]
) -> None:
    assert problems(_event(doc, **time)) == [found]


@pytest.mark.parametrize(
    ("time", "repeats"),
    [
        ({"at_time": "2025-12-24T18:00:00Z", "at_date": "2025-12"}, ["at_date"]),
        ({"at_date": "2025-12", "at": "2025-12"}, ["at"]),
        ({"at_time": "2025-12-24T18:00:00Z", "at": "2025"}, ["at"]),
        ({"at_time": "2025-12-24T18:00:00Z", "at_date": "2025", "at": "2025"}, ["at_date", "at"]),
    ],
)
def test_at_most_one_of_them(doc: dict[str, Any], time: dict[str, Any], repeats: list[str]) -> None:
    assert problems(_event(doc, **time)) == [(f"$.events[0].{r}", "forbidden") for r in repeats]


def test_null_fields_do_not_count(doc: dict[str, Any]) -> None:
    event = _event(doc, at_time=None, at_date="2025-12", at=None)
    assert parse_message(encode(event), today=TODAY).events[0].when == "2025-12"
