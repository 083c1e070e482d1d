"""Inbound checks for every adapter that declares how its channel answers (``adapters/inbound.py``).

A push adapter must read its own simulator's reply back exactly, refuse unsafe, malformed and
schema-failing bytes with ``InboundError`` (and nothing else), and never quote the answer in
the error. A poll adapter must fetch held replies from its simulator over HTTP after a cursor,
and refuse a batch its schema rejects. Both ship their inbound schemas, versioned by name.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Adapter
from adapters.inbound import InboundError, InboundMessage, PollContext, inbound_mode
from contract_tests import kit
from simulators import build_simulator
from simulators._answers import AnswerPlan, default_answer
from simulators._base import InboxEntry

VERSIONED = re.compile(r"-\d+\.\d+(\.schema)?\.(xsd|json|wsdl)$")


def _inbound(adapter: Adapter) -> str:
    mode = inbound_mode(adapter)
    if mode is None:
        pytest.skip(f"{adapter.name} declares no inbound side")
    return mode


def _answer(adapter: Adapter, kit_roots: list[Path], **options: str) -> InboundMessage:
    """The channel simulator's reply to the first golden case, as the channel would write it."""
    case = kit.golden_cases([adapter.name], kit_roots)[0]
    message = case.message()
    payload = kit.render_for_kit(adapter, message, case.decision_overrides())
    simulator = build_simulator(adapter)
    entry = InboxEntry(
        f"{adapter.name.upper()}-KIT",
        f"{message.message_id}:{adapter.name}:{payload.recipient or '-'}",
        None,
        None,
        {},
        payload.body.decode("utf-8"),
    )
    answer = default_answer(simulator, entry, AnswerPlan(options=options))
    assert answer.in_reply_to == str(message.message_id), "the reply must echo our message id"
    return answer


def test_inbound_schemas_ship_beside_the_adapter(adapter: Adapter) -> None:
    _inbound(adapter)
    files: tuple[str, ...] = adapter.inbound_schema_files  # type: ignore[attr-defined]
    assert files, "an inbound adapter names its inbound schema files"
    package = Path(__import__(type(adapter).__module__, fromlist=["x"]).__file__ or "").parent
    for rel in files:
        assert (package / rel).is_file(), rel
        assert VERSIONED.search(rel), f"{rel}: the profile version belongs in the file name"


def test_a_pushed_reply_reads_back_exactly(adapter: Adapter, kit_roots: list[Path]) -> None:
    if _inbound(adapter) != "push":
        pytest.skip("poll channel")
    answer = _answer(adapter, kit_roots)
    body, _ = build_simulator(adapter).answer_payload(answer)
    read = adapter.parse_inbound(body, {})  # type: ignore[attr-defined]
    assert read == answer


def test_bad_pushed_bytes_raise_inbound_error_without_content(
    adapter: Adapter, kit_roots: list[Path]
) -> None:
    if _inbound(adapter) != "push":
        pytest.skip("poll channel")
    answer = _answer(adapter, kit_roots)
    body, _ = build_simulator(adapter).answer_payload(answer)
    doctype = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>'
    subject = answer.subject.encode("utf-8")
    cases: list[tuple[bytes, str]] = [
        (body[: len(body) // 2], "malformed"),
        (doctype, "malformed"),
        (b"\xff\xfe not xml", "malformed"),
        (body.replace(subject, b""), "schema_invalid"),
        (b"<Unrelated xmlns='urn:kit'/>", "schema_invalid"),
        (body + b" " * 2_000_000, "too_large"),
    ]
    for bad, problem in cases:
        with pytest.raises(InboundError) as caught:
            adapter.parse_inbound(bad, {})  # type: ignore[attr-defined]
        assert caught.value.problem == problem, (problem, str(caught.value))
        text = str(caught.value) + " ".join(caught.value.problems)
        for person in answer.persons:
            for name in person.names:
                assert name.family is None or name.family not in text


async def test_a_poll_fetches_held_replies_after_its_cursor(
    adapter: Adapter, kit_simulators: Any, kit_roots: list[Path]
) -> None:
    if _inbound(adapter) != "poll":
        pytest.skip("push channel")
    simulator = kit_simulators.simulator(adapter.name)
    simulator.clear()
    first = _answer(adapter, kit_roots, message_id=f"KIT-{uuid.uuid4().hex[:8]}")
    second = _answer(adapter, kit_roots, message_id=f"KIT-{uuid.uuid4().hex[:8]}")
    simulator.answers.hold(first)
    url = kit_simulators[adapter.name].rstrip("/") + "/" + adapter.poll_path  # type: ignore[attr-defined]
    batch = await adapter.poll(PollContext(url=url, cursor=None))  # type: ignore[attr-defined]
    assert [m.channel_message_id for m in batch.messages][-1] == first.channel_message_id
    assert batch.cursor is not None
    simulator.answers.hold(second)
    following = await adapter.poll(PollContext(url=url, cursor=batch.cursor))  # type: ignore[attr-defined]
    assert list(following.messages) == [second]


async def test_a_polled_batch_its_schema_refuses_raises_inbound_error(
    adapter: Adapter, kit_simulators: Any, kit_roots: list[Path]
) -> None:
    if _inbound(adapter) != "poll":
        pytest.skip("push channel")
    simulator = kit_simulators.simulator(adapter.name)
    url = kit_simulators[adapter.name].rstrip("/") + "/" + adapter.poll_path  # type: ignore[attr-defined]
    _, before = simulator.answers.held(0)
    simulator.answers.hold(_answer(adapter, kit_roots, subject=""))
    with pytest.raises(InboundError) as caught:
        await adapter.poll(PollContext(url=url, cursor=str(before)))  # type: ignore[attr-defined]
    assert caught.value.problem == "schema_invalid"
