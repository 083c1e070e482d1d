"""The dry run's answer: per channel (and per recipient where a channel needs it) the outcome,
the findings with their citations, and the paths a redaction removes.

Shape (the CLI prints exactly this with ``--json``)::

    {"channels": {"<channel>": {"outcome": ..., "findings": [...], "redacted": [...]}}}

and, for a channel delivered once per recipient country,
``{"outcome": <strongest>, "recipients": {"MK": {"outcome", "findings", "redacted"}}}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from gateway.policy.decision import Decision, Outcome, strongest


class PlannedDecision(Protocol):
    """What the report needs of a planned delivery (intake's ``PlannedDelivery`` fits)."""

    @property
    def channel(self) -> str: ...

    @property
    def recipient(self) -> str | None: ...

    @property
    def decision(self) -> Decision: ...


def decision_view(decision: Decision) -> dict[str, Any]:
    return {
        "outcome": decision.outcome,
        "findings": [f.as_dict() for f in decision.findings],
        "redacted": list(decision.redacted),
    }


def check_report(plans: Iterable[PlannedDecision]) -> dict[str, Any]:
    """The report for the plans of one message, in the order its destinations were named."""
    channels: dict[str, dict[str, Any]] = {}
    for plan in plans:
        if plan.recipient is None:
            channels[plan.channel] = decision_view(plan.decision)
            continue
        entry = channels.setdefault(plan.channel, {"outcome": "allow", "recipients": {}})
        entry["recipients"][plan.recipient] = decision_view(plan.decision)
        outcomes: list[Outcome] = [r["outcome"] for r in entry["recipients"].values()]
        entry["outcome"] = strongest(outcomes)
    return {"channels": channels}


def report_allows_delivery(report: dict[str, Any]) -> bool:
    """True when every channel allows or redacts (the dry run's exit status 0)."""
    return all(c["outcome"] in ("allow", "redact") for c in report["channels"].values())
