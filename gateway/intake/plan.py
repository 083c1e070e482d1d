"""Planning a message's deliveries: decide and render each one; pure (no storage, no network).

Intake and the dry run plan alike. A message's fan-out is explicit: its rule inputs are
converted once (one ``MessageEvaluation`` for every decision) and each redacted form of it is
prepared once for rendering (one ``RenderSource`` for every render of that form).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from adapters.base import Adapter, Payload, PayloadSigner
from adapters.errors import RenderError
from adapters.source import RenderSource, render_payload
from gateway.policy import MessageEvaluation, apply_redactions
from gateway.policy.decision import Decision
from gateway.schema import CanonicalMessage, DerivedFacts, Destination, Violation
from gateway.telemetry import mark_error, record_planned, set_attributes, stage_span


class Decider(Protocol):
    """What intake needs of the policy engine."""

    def evaluate(
        self, message: CanonicalMessage, facts: DerivedFacts, *, on: date | None = None
    ) -> MessageEvaluation:
        """The message's facts evaluated once, for every destination's decision."""

    def decide(
        self,
        message: CanonicalMessage,
        facts: DerivedFacts,
        destination: Destination,
        *,
        recipients: tuple[str, ...],
        evaluation: MessageEvaluation | None = None,
        on: date | None = None,
    ) -> Decision:
        """The decision for one destination, from the evaluation made for the message."""


class AdapterLookup(Protocol):
    """What intake needs of the adapter registry."""

    def get(self, name: str) -> Adapter:
        """The adapter registered for channel ``name``."""

    def names(self) -> list[str]:
        """Registered channel ids, sorted."""


@dataclass(frozen=True)
class PlannedDelivery:
    """One delivery the message asks for: its decision and, unless denied, its payload."""

    channel: str
    recipient: str | None
    product: str
    decision: Decision
    payload: Payload | None
    render_problems: tuple[Violation, ...] = ()


def check_destinations(message: CanonicalMessage, registry: AdapterLookup) -> list[Violation]:
    """Every named channel is registered, every product is one the channel offers, and a
    channel whose adapter ``needs_recipients`` is given at least one in ``to``."""
    problems: list[Violation] = []
    known = set(registry.names())
    for index, destination in enumerate(message.destinations):
        path = f"$.destinations[{index}]"
        if destination.channel not in known:
            problems.append(
                Violation(
                    f"{path}.channel",
                    "unknown_channel",
                    f"no adapter is registered for this channel; known: {', '.join(sorted(known))}",
                )
            )
            continue
        adapter = registry.get(destination.channel)
        if destination.product is not None and destination.product not in adapter.products:
            problems.append(
                Violation(
                    f"{path}.product",
                    "unknown_product",
                    f"the channel offers: {', '.join(adapter.products)}",
                )
            )
        if adapter.needs_recipients and not destination.to:
            problems.append(
                Violation(f"{path}.to", "missing", "at least one recipient country is required")
            )
    return problems


class _RenderSources:
    """One render source per redacted form of a message: decisions that redact the same
    paths render the same message, so its renders share what they derive from it."""

    def __init__(self, message: CanonicalMessage) -> None:
        self._message = message
        self._by_redaction: dict[tuple[str, ...], RenderSource] = {}

    def of(self, decision: Decision) -> RenderSource:
        source = self._by_redaction.get(decision.redacted)
        if source is None:
            source = RenderSource(apply_redactions(self._message, decision))
            self._by_redaction[decision.redacted] = source
        return source


def plan_deliveries(
    message: CanonicalMessage,
    facts: DerivedFacts,
    *,
    engine: Decider,
    registry: AdapterLookup,
    on: date | None = None,
    signer: PayloadSigner | None = None,
) -> list[PlannedDelivery]:
    """Decide and render every requested delivery; pure (no storage, no network).

    ``on`` is the day of the transfer, on which the party facts are read; ``signer`` signs
    each rendered payload in its channel's form (what is stored is what is sent).
    """
    evaluation = engine.evaluate(message, facts, on=on)
    sources = _RenderSources(message)
    plans: list[PlannedDelivery] = []
    for index, destination in enumerate(message.destinations):
        adapter = registry.get(destination.channel)
        recipients = tuple(destination.to or ())
        groups: list[tuple[str, ...]] = (
            [(r,) for r in recipients] if adapter.per_recipient and recipients else [recipients]
        )
        for group in groups:
            where = {
                "marri.channel": destination.channel,
                "marri.recipient": group[0] if adapter.per_recipient and group else None,
            }
            with stage_span("decide", **where) as span:
                decision = engine.decide(
                    message, facts, destination, recipients=group, evaluation=evaluation, on=on
                )
                set_attributes(
                    span,
                    **{
                        "marri.decision.outcome": decision.outcome,
                        "marri.decision.rules": [f.rule for f in decision.findings],
                    },
                )
            plans.append(_planned(adapter, index, destination, group, decision, sources, signer))
    return plans


def _planned(
    adapter: Adapter,
    index: int,
    destination: Destination,
    group: tuple[str, ...],
    decision: Decision,
    sources: _RenderSources,
    signer: PayloadSigner | None,
) -> PlannedDelivery:
    """One delivery decided: rendered unless denied, and recorded on the intake span."""
    recipient = group[0] if adapter.per_recipient and group else None
    payload: Payload | None = None
    problems: tuple[Violation, ...] = ()
    error_type: str | None = None
    if decision.outcome != "deny":
        with stage_span("render", **{"marri.channel": destination.channel}) as span:
            try:
                payload = render_payload(adapter, sources.of(decision), decision, recipient)
                if signer is not None:
                    payload = adapter.sign(payload, signer)
            except RenderError as exc:
                error_type = type(exc).__name__
                mark_error(span, error_type)
                problems = _render_problems(index, destination, exc)
            else:
                set_attributes(span, **{"marri.payload.size": len(payload.body)})
    # The ``planned`` event sums a delivery up on the intake span itself, for a reader who
    # wants one line per delivery without opening its decide and render spans.
    record_planned(
        **{
            "marri.channel": destination.channel,
            "marri.recipient": recipient,
            "marri.decision.outcome": decision.outcome,
            "marri.decision.rules": [f.rule for f in decision.findings],
            "marri.payload.size": len(payload.body) if payload is not None else None,
            "error.type": error_type,
        }
    )
    product = destination.product or adapter.default_product
    return PlannedDelivery(destination.channel, recipient, product, decision, payload, problems)


def _render_problems(
    index: int, destination: Destination, exc: RenderError
) -> tuple[Violation, ...]:
    """The render error's violations, by path, as the sender is told them."""
    return tuple(
        Violation(
            f"$.destinations[{index}]" if not p.startswith("$") else p,
            "not_renderable",
            f"{destination.channel}: {text}",
        )
        for p, text in (exc.violations or [("", str(exc))])
    )
