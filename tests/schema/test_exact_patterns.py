"""The published schema's date and timestamp patterns accept exactly what the gateway accepts.

Strings are drawn digit by digit around the edges (month 00 to 19, day 00 to 39, hour 00 to 29, leap
and century years, offsets to ±29:59), so every calendar and clock rule is tried both ways.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.schema import MessageInvalid, parse_message
from gateway.schema.types import (
    EXACT_DATE_PATTERN,
    EXACT_PARTIAL_DATE_PATTERN,
    EXACT_TIMESTAMP_PATTERN,
)

from .conftest import BASE, TODAY, encode

YEARS = st.sampled_from(["0000", "0001", "0004", "0100", "0400", "1900", "2000", "2024", "2100"])
YEARS |= st.integers(0, 9999).map(lambda y: f"{y:04d}")
TWO = st.integers(0, 39).map(lambda n: f"{n:02d}")
DATES = st.builds(lambda y, m, d: f"{y}-{m}-{d}", YEARS, TWO, TWO)
PARTIAL_DATES = YEARS | st.builds(lambda y, m: f"{y}-{m}", YEARS, TWO) | DATES
OFFSETS = st.sampled_from(["", "Z", "z"]) | st.builds(
    lambda sign, h, m: f"{sign}{h}:{m}",
    st.sampled_from("+-"),
    TWO,
    st.integers(0, 69).map(lambda n: f"{n:02d}"),
)
TIMES = st.builds(
    lambda h, m, s, f: f"{h}:{m}:{s}{f}",
    TWO,
    st.integers(55, 69).map(str) | st.sampled_from(["00", "30"]),
    st.integers(55, 69).map(str) | st.sampled_from(["00", "30"]),
    st.sampled_from(["", ".5", ".123456", ".123456789"]),
)
TIMESTAMPS = st.builds(
    lambda d, sep, t, o: f"{d}{sep}{t}{o}", DATES, st.sampled_from("Tt"), TIMES, OFFSETS
)


def _accepted(field: str, value: str) -> bool:
    doc: dict[str, Any] = {**BASE}
    if field == "sent_at":
        doc["sent_at"] = value
    elif field == "birth_date":
        doc["persons"] = [{**BASE["persons"][0], "birth_date": value}, *BASE["persons"][1:]]
    else:
        doc["documents"] = [{**BASE["documents"][0], "issued_on": value}]
    try:
        parse_message(encode(doc), today=TODAY)
    except MessageInvalid:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(DATES)
def test_date_pattern(value: str) -> None:
    assert (re.match(EXACT_DATE_PATTERN, value) is not None) == _accepted("issued_on", value)


@settings(max_examples=300, deadline=None)
@given(PARTIAL_DATES)
def test_partial_date_pattern(value: str) -> None:
    assert (re.match(EXACT_PARTIAL_DATE_PATTERN, value) is not None) == _accepted(
        "birth_date", value
    )


@settings(max_examples=300, deadline=None)
@given(TIMESTAMPS)
def test_timestamp_pattern(value: str) -> None:
    assert (re.match(EXACT_TIMESTAMP_PATTERN, value) is not None) == _accepted("sent_at", value)
