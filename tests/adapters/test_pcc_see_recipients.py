"""PCC SEE builds a message once per render source and readdresses copies for its other
recipients: each payload must be byte for byte what a render for that recipient alone gives."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Payload
from adapters.pcc_see import PccSeeAdapter
from adapters.source import RenderSource
from gateway.policy.decision import Decision
from gateway.schema import CanonicalMessage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DECISION = Decision(channel="pcc_see", product="message")
PARTIES = ["MK", "AL", "ME", "BA", "RS"]


def _example(**changes: Any) -> CanonicalMessage:
    raw = json.loads((EXAMPLES / "al-victim-identification-pcc-see.json").read_text("utf-8"))
    raw["destinations"] = [{"channel": "pcc_see", "to": PARTIES}]
    raw.update(changes)
    return CanonicalMessage.model_validate(raw)


def _alone(message: CanonicalMessage, recipient: str) -> Payload:
    """A render with nothing kept from an earlier one: a new adapter per call."""
    return PccSeeAdapter().render(message, DECISION, recipient=recipient)


@pytest.mark.parametrize("order", [PARTIES, PARTIES[::-1]], ids=["forward", "backward"])
def test_every_recipient_gets_what_a_render_for_it_alone_gives(order: list[str]) -> None:
    adapter = PccSeeAdapter()
    message = _example()
    source = RenderSource(message)
    for recipient in order:
        payload = adapter.render(message, DECISION, recipient=recipient, source=source)
        assert payload.recipient == recipient
        assert payload.body == _alone(message, recipient).body
        assert f"<Country>{recipient}</Country>".encode() in payload.body


def test_a_new_message_is_built_afresh() -> None:
    adapter = PccSeeAdapter()
    first, second = _example(subject="First subject"), _example(subject="Second subject")
    adapter.render(first, DECISION, recipient="MK", source=RenderSource(first))
    payload = adapter.render(second, DECISION, recipient="AL", source=RenderSource(second))
    assert b"Second subject" in payload.body
    assert payload.body == _alone(second, "AL").body


def test_threads_rendering_different_messages_keep_apart() -> None:
    adapter = PccSeeAdapter()
    messages = [_example(subject=f"Subject {i}") for i in range(4)]
    expected = {(i, r): _alone(messages[i], r).body for i in range(len(messages)) for r in PARTIES}
    got: dict[tuple[int, str], bytes] = {}
    lock = threading.Lock()

    def render_all(i: int) -> None:
        for _ in range(5):
            source = RenderSource(messages[i])
            for recipient in PARTIES:
                body = adapter.render(
                    messages[i], DECISION, recipient=recipient, source=source
                ).body
                with lock:
                    assert got.setdefault((i, recipient), body) == body

    threads = [threading.Thread(target=render_all, args=(i,)) for i in range(len(messages))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert got == expected
