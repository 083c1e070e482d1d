"""Intake: validate → decide → render → store, in one place.

``plan_deliveries`` (``plan``) is the pure part (no I/O) shared by intake and the dry run;
``records`` turns the plans of an accepted message into typed records, which ``store`` writes
in one transaction; ``IntakeService.accept`` (``service``) adds authentication checks and
idempotency around that transaction, after which the 202 is sent.
"""

from gateway.intake.plan import (
    AdapterLookup,
    Decider,
    PlannedDelivery,
    check_destinations,
    plan_deliveries,
)
from gateway.intake.service import (
    IntakeAnswer,
    IntakeService,
    content_hash,
    not_renderable,
    sender_country_mismatch,
)

__all__ = [
    "AdapterLookup",
    "Decider",
    "IntakeAnswer",
    "IntakeService",
    "PlannedDelivery",
    "check_destinations",
    "content_hash",
    "not_renderable",
    "plan_deliveries",
    "sender_country_mismatch",
]
