"""The policy engine: every channel's rule pack, evaluated against one message.

``decide`` is pure and fast. ``evaluate`` converts a message's expression inputs (its view,
facts, sender and the party lists of its date) for the expression engine once; the caller hands
that ``MessageEvaluation`` to ``decide`` for every channel and recipient the message goes to.
Only ``destination`` changes between those calls, and it is supplied through a resolver so the
rest is not converted again. Only the message fields, facts and party lists some rule refers to
are converted at all.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import cel

from gateway.policy.basis import BasisWriter
from gateway.policy.decision import Decision, Finding, Outcome, strongest
from gateway.policy.errors import PolicyLoadError
from gateway.policy.pack import Rule, RulePack, channel_folders, load_packs
from gateway.policy.parties import UNCONFIRMED, PartiesTable, load_parties
from gateway.policy.redaction import apply_redactions, steps_with_dependents
from gateway.policy.selectors import Steps, resolve_selectors
from gateway.policy.vocabulary import (
    destination_view,
    facts_view,
    involved_countries,
    message_view,
    sender_view,
    unconfirmed_instruments,
    union_references,
)
from gateway.schema import CanonicalMessage, DerivedFacts, Destination

PARTIES_FILE = "parties.yaml"
RULES_FILE = "rules.yaml"
NO_PACK_RULE = "policy.no_rule_pack"


# A rule's finding (None when it holds) and the paths its redaction covers.
RuleResult = tuple[Finding | None, list[Steps]]


@dataclass(frozen=True)
class _Vocabulary:
    """What the rules of some packs read: only this is converted for the expression engine."""

    message_fields: frozenset[str] | None
    fact_names: frozenset[str] | None
    sender_fields: frozenset[str] | None
    destination_fields: frozenset[str] | None
    party_names: frozenset[str] | None
    unconfirmed_names: frozenset[str] | None

    @classmethod
    def of(cls, rules: list[Rule]) -> _Vocabulary:
        parties = union_references(r.references["parties"] for r in rules)
        unconfirmed = frozenset(n for r in rules for n in unconfirmed_instruments(r.expression))
        return cls(
            message_fields=union_references(r.references["message"] for r in rules),
            fact_names=union_references(r.references["facts"] for r in rules),
            sender_fields=union_references(r.references["sender"] for r in rules),
            destination_fields=union_references(r.references["destination"] for r in rules),
            party_names=None if parties is None else (parties - {UNCONFIRMED}) | unconfirmed,
            # A rule using ``parties`` (or ``parties.unconfirmed``) whole needs every list.
            unconfirmed_names=None
            if parties is None or _uses_unconfirmed_whole(rules)
            else unconfirmed,
        )


def _uses_unconfirmed_whole(rules: list[Rule]) -> bool:
    return any(re.search(r"\bparties\s*\.\s*unconfirmed\b(?!\s*\.)", r.expression) for r in rules)


@dataclass(eq=False)
class MessageEvaluation:
    """One message's facts as its rules read them, converted once for all its decisions.

    ``PolicyEngine.evaluate`` makes it and the caller passes it to ``decide`` for each channel
    and recipient of that message. ``decide`` swaps ``destination`` in it, so one fan-out owns
    it and it is not shared between threads. ``settled`` keeps the result of every rule that
    does not read ``destination``: it cannot differ between the recipients of a per-recipient
    channel.
    """

    message: CanonicalMessage
    facts: DerivedFacts
    day: date
    channels: frozenset[str]
    vocabulary: _Vocabulary
    context: Any  # cel.Context
    destination: dict[str, Any] = field(default_factory=dict)
    settled: dict[str, RuleResult] = field(default_factory=dict)

    def resolve(self, name: str) -> Any:
        """CEL's lookup of ``destination``; other names are not this context's to answer."""
        return self.destination if name == "destination" else None


def _resolver_of(inputs: MessageEvaluation) -> Any:
    """``inputs.resolve`` for its CEL context, holding ``inputs`` weakly.

    The context is a native object the garbage collector cannot look into: a resolver holding
    ``inputs`` strongly closes a cycle (inputs → context → resolver → inputs) that is never
    collected, and every message decided would stay in memory with it.
    """
    weak = weakref.ref(inputs)

    def resolve(name: str) -> Any:
        live = weak()
        return live.resolve(name) if live is not None else None

    return resolve


class PolicyEngine:
    """All rule packs and the parties table, validated and compiled at load."""

    def __init__(self, packs: dict[str, RulePack], parties: PartiesTable) -> None:
        self._packs = dict(sorted(packs.items()))
        self._parties = parties
        self._rules = {
            rule.id: (pack, rule) for pack in self._packs.values() for rule in pack.rules
        }
        self._vocabularies: dict[frozenset[str], _Vocabulary] = {}
        # Rules whose result cannot change with the destination (no reference to it).
        self._independent = {
            channel: frozenset(r.id for r in pack.rules if not r.reads_destination)
            for channel, pack in self._packs.items()
        }
        self._basis = BasisWriter(parties, self._rules_only())

    def _rules_only(self) -> list[Rule]:
        return [rule for _, rule in self._rules.values()]

    def with_parties(self, parties: PartiesTable) -> PolicyEngine:
        """The same packs deciding on another parties table (the shipped one plus the facts
        legal officers changed); the packs were checked against the same instrument names."""
        return PolicyEngine(self._packs, parties)

    def _vocabulary(self, channels: frozenset[str]) -> _Vocabulary:
        """The vocabulary of the packs a message goes to (computed once per channel set)."""
        vocabulary = self._vocabularies.get(channels)
        if vocabulary is None:
            rules = [r for c in sorted(channels) if c in self._packs for r in self._packs[c].rules]
            vocabulary = _Vocabulary.of(rules)
            if len(self._vocabularies) < 1024:
                self._vocabularies[channels] = vocabulary
        return vocabulary

    @classmethod
    def load(
        cls,
        mappings_dir: Path,
        *,
        required_channels: list[str] | None = None,
        extra_dirs: Sequence[Path] = (),
    ) -> PolicyEngine:
        """Every ``<channel>/rules.yaml`` under ``mappings_dir`` (and ``extra_dirs``, the mapping
        folders of channels that live outside it), the shared ``parties.yaml`` and each channel
        folder's own ``parties.yaml``.

        A channel folder without a pack, or a required channel without one, is a load error:
        no channel may go out unchecked.
        """
        dirs = [mappings_dir, *extra_dirs]
        own = [f / PARTIES_FILE for f in channel_folders(dirs) if (f / PARTIES_FILE).is_file()]
        parties = load_parties(mappings_dir / PARTIES_FILE, own)
        packs = load_packs(dirs, parties, RULES_FILE)
        for channel in required_channels or []:
            if channel not in packs:
                raise PolicyLoadError(mappings_dir / channel / RULES_FILE, "missing rule pack")
        if not packs:
            raise PolicyLoadError(mappings_dir, "no rule packs found")
        return cls(packs, parties)

    # ------------------------------------------------------------------ inspection

    def channels(self) -> list[str]:
        """The channels with a rule pack, in load order."""
        return list(self._packs)

    def pack(self, channel: str) -> RulePack:
        """The rule pack of ``channel``; KeyError when it has none."""
        return self._packs[channel]

    def pack_hash(self, channel: str) -> str:
        """SHA-256 of the channel's pack, stored with each decision to show which rules decided."""
        return self._packs[channel].sha256

    @property
    def parties(self) -> PartiesTable:
        """The party facts the engine decides with (file plus stored changes)."""
        return self._parties

    def rules(self) -> list[tuple[RulePack, Rule]]:
        """Every rule of every pack with the pack it belongs to."""
        return list(self._rules.values())

    def rule(self, rule_id: str) -> tuple[RulePack, Rule]:
        """KeyError when no pack has the rule."""
        return self._rules[rule_id]

    # ------------------------------------------------------------------ deciding

    def evaluate(
        self,
        message: CanonicalMessage,
        facts: DerivedFacts,
        *,
        channels: Iterable[str] = (),
        on: date | None = None,
    ) -> MessageEvaluation:
        """The message's inputs converted once, for ``decide`` on each of its deliveries.

        They cover the packs of the message's destinations and of ``channels``. Party facts
        are read as they stand on ``on``, the day of the transfer; without it, on the day the
        message was sent.
        """
        day = on or message.sent_at.date()
        channels = frozenset(d.channel for d in message.destinations) | frozenset(channels)
        vocabulary = self._vocabulary(channels)
        variables = {
            "message": message_view(message, vocabulary.message_fields),
            "facts": facts_view(message, facts, vocabulary.fact_names),
            "sender": _project(sender_view(message), vocabulary.sender_fields),
            "parties": self._parties.lists_on(
                day,
                vocabulary.party_names,
                involved_countries(message),
                vocabulary.unconfirmed_names,
            ),
        }
        inputs = MessageEvaluation(
            message, facts, day, channels, vocabulary, cel.Context(variables=variables)
        )
        inputs.context.set_variable_resolver(_resolver_of(inputs))
        return inputs

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
        """The channel's verdict: the strongest outcome of the rules that do not hold.

        ``evaluation`` is ``evaluate(message, facts, on=...)``, made once by a caller deciding
        several deliveries of the message; without it the inputs are converted for this call
        alone. Party facts are read as they stand on ``on``, the day of the transfer (intake,
        a release or a re-drive passes today), or the evaluation's day; without either, on
        the day the message was sent.
        """
        pack = self._packs.get(destination.channel)
        if pack is None:
            finding = Finding(
                NO_PACK_RULE,
                "legal basis unknown",
                "deny",
                f"no rule pack is loaded for channel '{destination.channel}'",
            )
            return Decision(
                destination.channel, destination.product or "", "deny", (finding,), (), recipients
            )
        product = destination.product or pack.default_product
        day = on or (evaluation.day if evaluation is not None else message.sent_at.date())
        inputs = self._evaluation_for(message, facts, pack.channel, evaluation, day)
        inputs.destination = _project(
            destination_view(pack.channel, product, recipients),
            inputs.vocabulary.destination_fields,
        )
        kind = message.kind.value
        independent = self._independent[pack.channel]
        findings: list[Finding] = []
        paths: list[Steps] = []
        applied: list[str] = []
        for rule in pack.rules:
            if not rule.applies_to(product, kind):
                continue
            applied.append(rule.id)
            if rule.id in independent:
                result = inputs.settled.get(rule.id)
                if result is None:
                    result = inputs.settled[rule.id] = _evaluate(rule, inputs, message)
            else:
                result = _evaluate(rule, inputs, message)
            failed, rule_paths = result
            if failed is not None:
                findings.append(failed)
                paths.extend(rule_paths)
        outcome: Outcome = strongest([f.outcome for f in findings])
        dated, basis = self._basis.attach(
            findings, tuple(applied), (message.sender.country, *recipients), day
        )
        return Decision(
            channel=pack.channel,
            product=product,
            outcome=outcome,
            findings=dated,
            redacted=tuple(steps_with_dependents(message, paths)) if paths else (),
            recipients=recipients,
            pack_hash=pack.sha256,
            extra={"pack_version": pack.version},
            basis=basis,
        )

    def _evaluation_for(
        self,
        message: CanonicalMessage,
        facts: DerivedFacts,
        channel: str,
        given: MessageEvaluation | None,
        day: date,
    ) -> MessageEvaluation:
        """``given`` when it was made for this message, these facts, this day and a pack set
        with ``channel``; a new evaluation when none was given or it lacks the channel's pack."""
        if given is not None and (given.message is not message or given.facts is not facts):
            raise ValueError("the evaluation was made for another message or other facts")
        if given is not None and given.day != day:
            raise ValueError("the evaluation was made for another day")
        if given is None or channel not in given.channels:
            return self.evaluate(message, facts, channels=(channel,), on=day)
        return given

    def redact(self, message: CanonicalMessage, decision: Decision) -> CanonicalMessage:
        """The message with the decision's paths removed; the original is left as it was."""
        return apply_redactions(message, decision)


def _project(view: dict[str, Any], fields: frozenset[str] | None) -> dict[str, Any]:
    """Only the fields some rule refers to: every value costs conversion time."""
    return view if fields is None else {k: v for k, v in view.items() if k in fields}


def _evaluate(rule: Rule, inputs: MessageEvaluation, message: CanonicalMessage) -> RuleResult:
    """One rule: no finding when it holds; a ``review`` finding when it cannot be evaluated."""
    try:
        result = rule.program.execute(inputs.context)
    except Exception as exc:  # any failure of an expression holds the message, never allows it
        return (
            Finding(
                rule.id,
                rule.cite,
                "review",
                f"rule {rule.id} could not be evaluated ({exc.__class__.__name__}); "
                "held for review",
            ),
            [],
        )
    if result is True:
        return None, []
    if result is not False:
        return (
            Finding(
                rule.id,
                rule.cite,
                "review",
                f"rule {rule.id} did not give true or false; held for review",
            ),
            [],
        )
    if rule.outcome != "redact":
        return Finding(rule.id, rule.cite, rule.outcome, rule.message), []
    paths = resolve_selectors(message, rule.redact)
    if not paths:
        return (
            Finding(
                rule.id,
                rule.cite,
                "review",
                f"{rule.message} (nothing matched the rule's redaction; held for review)",
            ),
            [],
        )
    return Finding(rule.id, rule.cite, "redact", rule.message), paths
