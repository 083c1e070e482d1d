"""Decision value objects shared by the policy engine, intake, adapters and the trace API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Outcome = Literal["allow", "redact", "review", "deny"]

# Strength order: the channel's decision is the strongest outcome of its findings.
OUTCOME_STRENGTH: dict[Outcome, int] = {"allow": 0, "redact": 1, "review": 2, "deny": 3}


@dataclass(frozen=True)
class Finding:
    """One rule that did not hold, with the instrument and article it rests on."""

    rule: str
    cite: str
    outcome: Outcome
    message: str
    # The dated facts of the parties table the rule read, as a legal officer checks them.
    facts: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The finding as stored and reported; ``facts`` only when the rule read party facts."""
        found: dict[str, Any] = {
            "rule": self.rule,
            "cite": self.cite,
            "outcome": self.outcome,
            "message": self.message,
        }
        if self.facts:
            found["facts"] = list(self.facts)
        return found


@dataclass(frozen=True)
class FactsBasis:
    """Which facts a decision rested on, as of which day and which version of the facts."""

    as_of: date
    facts_version: int
    facts: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The basis as stored with the delivery, so a later reader sees what the decision saw."""
        return {
            "as_of": self.as_of.isoformat(),
            "facts_version": self.facts_version,
            "facts": list(self.facts),
        }


@dataclass(frozen=True)
class Decision:
    """The legal-basis verdict for one channel (and one recipient where the channel needs it)."""

    channel: str
    product: str
    outcome: Outcome = "allow"
    findings: tuple[Finding, ...] = ()
    # JSON paths removed from the message before rendering, e.g. "$.persons[1]".
    redacted: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    pack_hash: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    basis: FactsBasis | None = None

    @property
    def allows_delivery(self) -> bool:
        """True for allow and redact: the delivery goes out (redact after removing the paths)."""
        return self.outcome in ("allow", "redact")


def strongest(outcomes: list[Outcome]) -> Outcome:
    """deny > review > redact > allow."""
    return max(outcomes, key=OUTCOME_STRENGTH.__getitem__, default="allow")
