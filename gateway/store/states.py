"""Delivery states and the message status derived from them (DESIGN.md, "Delivery states")."""

from __future__ import annotations

from enum import StrEnum


class DeliveryState(StrEnum):
    """Where a delivery stands; the comments say what each state means and who leaves it."""

    BLOCKED = "blocked"  # policy denied; never sent
    HELD = "held"  # policy asks for review; an approver releases or rejects it
    QUEUED = "queued"  # due for sending at next_attempt_at
    SENDING = "sending"  # leased by a worker
    RETRY_WAIT = "retry_wait"  # failed transiently; due again at next_attempt_at
    DELIVERED = "delivered"  # destination acknowledged
    FAILED = "failed"  # dead letter
    UNKNOWN = "unknown"  # sent, outcome unknown; reconciled or resent with the same key
    CANCELLED = "cancelled"  # an operator stopped it


class MessageStatus(StrEnum):
    """A message's status, summarised from its deliveries' states."""

    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    PARTIAL = "partial"
    FAILED = "failed"
    BLOCKED = "blocked"


ACTIVE_STATES = frozenset(
    {
        DeliveryState.HELD,
        DeliveryState.QUEUED,
        DeliveryState.SENDING,
        DeliveryState.RETRY_WAIT,
        DeliveryState.UNKNOWN,
    }
)

PRIORITY_RANK = {"immediate": 0, "urgent": 1, "routine": 2}


def derive_message_status(states: list[str]) -> MessageStatus:
    """The message's status from its deliveries' states."""
    if any(s in ACTIVE_STATES for s in states):
        return MessageStatus.IN_PROGRESS
    if states and all(s == DeliveryState.DELIVERED for s in states):
        return MessageStatus.DELIVERED
    if states and all(s == DeliveryState.BLOCKED for s in states):
        return MessageStatus.BLOCKED
    if not any(s == DeliveryState.DELIVERED for s in states):
        return MessageStatus.FAILED
    return MessageStatus.PARTIAL
