"""One ``RenderSource`` per message serves all its renders: each payload is what a render of
that message alone gives, and nothing of a message outlives the source that holds it."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Adapter, Payload
from adapters.frontex import FrontexAdapter
from adapters.interpol import InterpolAdapter
from adapters.registry import AdapterRegistry, load_registry
from adapters.source import RenderSource, render_payload
from contract_tests import kit
from gateway.policy.decision import Decision
from gateway.schema import CanonicalMessage

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PCC_SEE_PARTIES = ["ME", "MK", "RS", "BA"]


@pytest.fixture(scope="module")
def registry() -> AdapterRegistry:
    return load_registry()


def _message(subject: str = "Early warning") -> CanonicalMessage:
    """The example alert from Albania to every channel (PCC SEE to four parties)."""
    data: dict[str, Any] = json.loads(
        (EXAMPLES / "me-early-warning-alert.json").read_text(encoding="utf-8")
    )
    data["sender"] |= {"country": "AL", "agency": "Albanian State Police"}
    data["subject"] = subject
    data["destinations"] = [
        {"channel": "europol"},
        {"channel": "interpol", "product": "diffusion"},
        {"channel": "frontex"},
        {"channel": "selec", "to": ["ME", "RS"]},
        {"channel": "pcc_see", "to": PCC_SEE_PARTIES},
    ]
    for key in ("persons", "communications", "links"):
        data.pop(key, None)
    for event in data.get("events", []):
        event.pop("involved", None)
    return CanonicalMessage.model_validate(data, context={"today": kit.CASE_TODAY})


def _deliveries(
    registry: AdapterRegistry, message: CanonicalMessage
) -> list[tuple[Adapter, Decision, str | None]]:
    """Every delivery intake plans for ``message``, with an allowing decision."""
    found: list[tuple[Adapter, Decision, str | None]] = []
    for destination in message.destinations:
        adapter = registry.get(destination.channel)
        product = destination.product or adapter.default_product
        if adapter.per_recipient:
            found += [
                (adapter, Decision(adapter.name, product, recipients=(r,)), r)
                for r in destination.to
            ]
        else:
            found.append(
                (adapter, Decision(adapter.name, product, recipients=destination.to), None)
            )
    return found


def _alone(adapter: Adapter, message: CanonicalMessage, decision: Decision, r: str | None) -> bytes:
    """A render with nothing prepared or kept from another: its own source, a fresh copy."""
    return adapter.render(message.model_copy(deep=True), decision, r).body


def test_one_source_renders_every_delivery_as_a_render_alone(registry: AdapterRegistry) -> None:
    message = _message()
    source = RenderSource(message)
    deliveries = _deliveries(registry, message)
    assert len(deliveries) == 4 + len(PCC_SEE_PARTIES)  # one each, and one per PCC SEE party
    for adapter, decision, recipient in deliveries:
        payload = render_payload(adapter, source, decision, recipient)
        assert payload.recipient == recipient
        assert payload.body == _alone(adapter, message, decision, recipient)


def test_two_messages_rendered_in_turn_keep_apart(registry: AdapterRegistry) -> None:
    first, second = _message("First subject"), _message("Second subject")
    turns = [(first, RenderSource(first)), (second, RenderSource(second))]
    pairs = zip(_deliveries(registry, first), _deliveries(registry, second), strict=True)
    for deliveries in pairs:
        for (message, source), (adapter, decision, recipient) in zip(
            turns, deliveries, strict=True
        ):
            body = render_payload(adapter, source, decision, recipient).body
            assert body == _alone(adapter, message, decision, recipient)
            if adapter.name != "selec":  # SELEC's request carries no subject
                assert message.subject.encode() in body


def test_a_render_keeps_nothing_of_its_message_once_it_returns(registry: AdapterRegistry) -> None:
    for name in registry.names():
        adapter = registry.get(name)
        message = _message()
        for _, decision, recipient in (
            d for d in _deliveries(registry, message) if d[0] is adapter
        ):
            adapter.render(message, decision, recipient)
        gone = weakref.ref(message)
        del message
        gc.collect()
        assert gone() is None, name


def test_a_source_prepared_from_another_message_is_refused() -> None:
    adapter = FrontexAdapter()
    message, other = _message(), _message()
    decision = Decision("frontex", adapter.default_product)
    with pytest.raises(ValueError, match="another message"):
        adapter.render(message, decision, source=RenderSource(other))
    payload = adapter.render(message, decision, source=RenderSource(message))
    assert payload.body == _alone(adapter, message, decision, None)


class _WithoutSource(InterpolAdapter):
    """An adapter written against ``render(message, decision, recipient)`` alone."""

    def render(  # type: ignore[override]
        self, message: CanonicalMessage, decision: Decision, recipient: str | None = None
    ) -> Payload:
        return super().render(message, decision, recipient)


def test_an_adapter_whose_render_takes_no_source_is_given_the_message() -> None:
    adapter = _WithoutSource()
    message = _message()
    decision = Decision("interpol", "diffusion")
    payload = render_payload(adapter, RenderSource(message), decision)
    assert payload.body == _alone(InterpolAdapter(), message, decision, None)


def test_no_adapter_keeps_message_state_per_thread() -> None:
    """Only the hardened XML parser is kept per thread (lxml parsers are not safe to share
    while parsing); it holds nothing of any message."""
    package = Path(__file__).resolve().parents[2] / "adapters"
    holders = sorted(
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if "threading.local" in p.read_text("utf-8")
    )
    assert holders == ["_xml.py"]
