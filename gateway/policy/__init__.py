"""The policy layer: legal-basis rule packs per channel, evaluated with CEL.

``PolicyEngine.load`` reads and validates every pack and the parties table at start-up;
``evaluate`` converts a message's inputs once and ``decide`` gives one channel's ``Decision``;
``apply_redactions`` removes what a decision redacts; ``check_report`` renders the dry run's
answer.
"""

from gateway.policy.decision import Decision, Finding, Outcome, strongest
from gateway.policy.engine import MessageEvaluation, PolicyEngine
from gateway.policy.errors import PolicyLoadError
from gateway.policy.redaction import apply_redactions
from gateway.policy.report import check_report

__all__ = [
    "Decision",
    "Finding",
    "MessageEvaluation",
    "Outcome",
    "PolicyEngine",
    "PolicyLoadError",
    "apply_redactions",
    "check_report",
    "strongest",
]
