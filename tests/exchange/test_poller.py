"""Polling: answers fetched from the channel's simulator over real HTTP, stored once, with a
cursor in the database that a restart continues from; failures leave the cursor where it was."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.context import build_context
from gateway.exchange.poller import poll_once
from gateway.store.tables import inbound_cursors, inbound_messages
from simulators import SimulatorSet, start_simulators
from simulators._answers import AnswerPlan, default_answer
from simulators._base import InboxEntry
from tests.conftest import make_settings


@pytest.fixture
def interpol() -> Iterator[SimulatorSet]:
    with start_simulators(["interpol"]) as running:
        yield running


def held_answer(simulators: SimulatorSet, number: int, **options: str) -> Any:
    simulator = simulators.simulator("interpol")
    entry = InboxEntry("INTERPOL-REF", None, None, None, {}, "{}")
    answer = default_answer(
        simulator, entry, AnswerPlan(options={"message_id": f"R-{number}", **options})
    )
    simulator.answers.hold(answer)
    return answer


def context_for(db_url: str, tmp_path: Path, url: str, **channel: Any) -> Any:
    channels = {"interpol": {"url": url, "read_timeout_s": 2.0, **channel}}
    return build_context(make_settings(db_url, tmp_path, channels=channels, worker_enabled=False))


def cursor_row(context: Any) -> Any:
    return context.store.read_sync(lambda conn: conn.execute(select(inbound_cursors)).one())


def stored_ids(context: Any) -> list[str]:
    rows = context.store.read_sync(
        lambda conn: conn.execute(
            select(inbound_messages.c.channel_message_id, inbound_messages.c.via)
        ).all()
    )
    assert all(row.via == "poll" for row in rows)
    return sorted(row.channel_message_id for row in rows)


async def test_polled_answers_are_stored_once_and_the_cursor_survives_a_restart(
    db_url: str, tmp_path: Path, interpol: SimulatorSet
) -> None:
    held_answer(interpol, 1)
    held_answer(interpol, 2)
    context = context_for(db_url, tmp_path, interpol["interpol"])
    try:
        first = await poll_once(context.inbound, "interpol")
        assert (first.stored, first.repeats) == (2, 0)
        assert cursor_row(context).cursor == "2"
        nothing_new = await poll_once(context.inbound, "interpol")
        assert (nothing_new.stored, nothing_new.repeats) == (0, 0)
    finally:
        context.close()
    held_answer(interpol, 3)
    restarted = context_for(db_url, tmp_path, interpol["interpol"])
    try:
        after_restart = await poll_once(restarted.inbound, "interpol")
        assert (after_restart.stored, after_restart.repeats) == (1, 0)
        assert cursor_row(restarted).cursor == "3"
        assert stored_ids(restarted) == ["R-1", "R-2", "R-3"]
    finally:
        restarted.close()


async def test_a_repeat_from_before_the_cursor_moved_is_absorbed(
    db_url: str, tmp_path: Path, interpol: SimulatorSet
) -> None:
    answer = held_answer(interpol, 1)
    context = context_for(db_url, tmp_path, interpol["interpol"])
    try:
        await poll_once(context.inbound, "interpol")
        # The channel sends the same answer again, and once more with other content.
        interpol.simulator("interpol").answers.hold(answer)
        interpol.simulator("interpol").answers.hold(replace(answer, subject="Changed"))
        outcome = await poll_once(context.inbound, "interpol")
        assert (outcome.stored, outcome.repeats, outcome.conflicts) == (0, 1, 1)
        assert stored_ids(context) == ["R-1"]
    finally:
        context.close()


async def test_a_failed_poll_keeps_the_cursor_and_records_why(
    db_url: str, tmp_path: Path, interpol: SimulatorSet
) -> None:
    held_answer(interpol, 1)
    context = context_for(db_url, tmp_path, interpol["interpol"])
    unreachable = context_for(
        db_url, tmp_path, interpol["interpol"], poll_url="http://127.0.0.1:9/responses"
    )
    try:
        await poll_once(context.inbound, "interpol")
        held_answer(interpol, 2)
        failed = await poll_once(unreachable.inbound, "interpol")
        assert failed.error_class == "TransientError"
        row = cursor_row(context)
        assert (row.cursor, row.last_error_class) == ("1", "TransientError")
        recovered = await poll_once(context.inbound, "interpol")
        assert recovered.stored == 1
        assert cursor_row(context).last_error_class is None
    finally:
        unreachable.close()
        context.close()


async def test_a_batch_failing_its_schema_stores_nothing(
    db_url: str, tmp_path: Path, interpol: SimulatorSet
) -> None:
    held_answer(interpol, 1, sex="not a code")
    context = context_for(db_url, tmp_path, interpol["interpol"])
    try:
        outcome = await poll_once(context.inbound, "interpol")
        assert outcome.error_class == "InboundError"
        assert stored_ids(context) == []
        assert cursor_row(context).cursor is None
    finally:
        context.close()
