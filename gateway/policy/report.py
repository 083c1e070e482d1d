"""The dry run's answer: per channel (and per recipient where a channel needs it) the outcome,
the findings with their citations, and the paths a redaction removes.

Shape (the CLI prints exactly this with ``--json``)::

    {"channels": {"<channel>": {"outcome": ..., "findings": [...], "redacted": [...]}}}

and, for a channel delivered once per recipient country,
``{"outcome": <strongest>, "findings": [...], "recipients": {"MK": {"outcome", "findings",
"redacted"}}}``, where the channel's findings are those that made its outcome (the findings of
the recipients with the strongest outcome), each once, with the ``recipients`` it concerns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from gateway.policy.decision import Decision, Outcome, strongest


class PlannedDecision(Protocol):
    """What the report needs of a planned delivery (intake's ``PlannedDelivery`` fits)."""

    @property
    def channel(self) -> str:
        """The channel the decision was made for."""

    @property
    def recipient(self) -> str | None:
        """The recipient, for per-recipient channels; None otherwise."""

    @property
    def decision(self) -> Decision:
        """The decision to report."""


def decision_view(decision: Decision) -> dict[str, Any]:
    """A decision as reports show it: outcome, findings, redacted paths."""
    return {
        "outcome": decision.outcome,
        "findings": [f.as_dict() for f in decision.findings],
        "redacted": list(decision.redacted),
    }


def check_report(plans: Iterable[PlannedDecision]) -> dict[str, Any]:
    """The report for the plans of one message, in the order its destinations were named."""
    channels: dict[str, dict[str, Any]] = {}
    decided: dict[str, list[tuple[str, Decision]]] = {}
    for plan in plans:
        if plan.recipient is None:
            channels[plan.channel] = decision_view(plan.decision)
            continue
        entry = channels.setdefault(plan.channel, {"outcome": "allow", "recipients": {}})
        entry["recipients"][plan.recipient] = decision_view(plan.decision)
        decided.setdefault(plan.channel, []).append((plan.recipient, plan.decision))
    for channel, per_recipient in decided.items():
        outcome = strongest([d.outcome for _, d in per_recipient])
        channels[channel] = {
            "outcome": outcome,
            "findings": _outcome_findings(per_recipient, outcome),
            "recipients": channels[channel]["recipients"],
        }
    return {"channels": channels}


def _outcome_findings(
    per_recipient: list[tuple[str, Decision]], outcome: Outcome
) -> list[dict[str, Any]]:
    """The findings of the recipients whose outcome is the channel's: a client reading the
    channel alone sees why it was refused, and for which recipients."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for recipient, decision in per_recipient:
        if decision.outcome != outcome:
            continue
        for finding in decision.findings:
            view = merged.setdefault((finding.rule, finding.message), finding.as_dict())
            view.setdefault("recipients", []).append(recipient)
    return list(merged.values())


def report_allows_delivery(report: dict[str, Any]) -> bool:
    """True when every channel allows or redacts (the dry run's exit status 0)."""
    return all(c["outcome"] in ("allow", "redact") for c in report["channels"].values())
