"""POST /v1/messages takes an event's time as ``at_time``, ``at_date`` or the deprecated ``at``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.context import GatewayContext
from tests.api.helpers import auth, dumps, row_counts, variant
from tests.conftest import Tokens

pytestmark = pytest.mark.asyncio


def _timed(**time: Any) -> dict[str, Any]:
    """The base example with its first event timed by ``time`` alone."""
    data = variant()
    event = data["events"][0]
    for field in ("at", "at_time", "at_date"):
        event.pop(field, None)
    event.update(time)
    return data


@pytest.mark.parametrize(
    "time",
    [
        {"at_time": "2025-12-14T06:40:00+01:00"},
        {"at_date": "2025-11"},
        {"at": "2025-12-14T06:40:00+01:00"},
        {"at": "2025-11"},
    ],
    ids=["at_time", "at_date", "deprecated-at-timestamp", "deprecated-at-partial-date"],
)
async def test_each_way_of_saying_when_is_accepted(
    client: httpx.AsyncClient, tokens: Tokens, context: GatewayContext, time: dict[str, Any]
) -> None:
    before = row_counts(context.store)
    data = _timed(**time)
    response = await client.post(
        "/v1/messages", content=dumps(data), headers=auth(tokens.sender("AL"))
    )
    assert response.status_code == 202, response.text
    assert row_counts(context.store)[0] == before[0] + 1


@pytest.mark.parametrize(
    ("time", "found"),
    [
        (
            {"at_time": "2025-12-14T06:40:00+01:00", "at": "2025-12"},
            [("$.events[0].at", "forbidden")],
        ),
        (
            {"at_date": "2025-11", "at_time": "2025-12-14T06:40:00Z"},
            [("$.events[0].at_date", "forbidden")],
        ),
        # what a typed client makes of a partial date it read as a timestamp
        ({"at_time": "2025-11-01T00:00:00"}, [("$.events[0].at_time", "timezone_aware")]),
        (
            {"at_date": "2025-11-01T00:00:00+01:00"},
            [("$.events[0].at_date", "string_pattern_mismatch")],
        ),
    ],
    ids=["time-and-at", "date-and-time", "naive-time", "timestamp-as-date"],
)
async def test_two_times_or_a_wrong_type_are_refused_and_store_nothing(
    client: httpx.AsyncClient,
    tokens: Tokens,
    context: GatewayContext,
    time: dict[str, Any],
    found: list[tuple[str, str]],
) -> None:
    before = row_counts(context.store)
    response = await client.post(
        "/v1/messages", content=dumps(_timed(**time)), headers=auth(tokens.sender("AL"))
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_message"
    assert [(v["path"], v["type"]) for v in error["violations"]] == found
    assert row_counts(context.store) == before
