"""Running one attempt: open the stored payload, send it within a time budget, classify what
came back, and say where the delivery goes next.

The runner touches no database; what it returns (a ``FinishedAttempt``) is stored by the
``AttemptRecorder``. The attempt's span is opened here because it has to enclose the send: the
request carries the attempt's trace context to the destination. An attempt gives up well before
its lease lapses, so that two workers never send one delivery at the same time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime

from adapters.base import Adapter, Payload, Receipt, SendContext
from adapters.errors import OutcomeUnknown
from gateway.config import ChannelSettings, Settings
from gateway.delivery.claim import ClaimedDelivery
from gateway.delivery.classify import Outcome, Verdict, classify_result
from gateway.delivery.lanes import ChannelLane
from gateway.delivery.record import AttemptRecord, FinishedAttempt
from gateway.delivery.schedule import Step, next_step
from gateway.security.keys import KeyringRefresher
from gateway.store.crypto import Keyring, KeyringError, payload_aad
from gateway.store.states import DeliveryState
from gateway.telemetry.logs import log_event
from gateway.telemetry.spans import attempt_span, current_traceparent

log = logging.getLogger("gateway.delivery")


def log_attempt(item: ClaimedDelivery, verdict: Verdict, step: Step) -> None:
    """One line per attempt, inside its span (so with its trace and span id): ids, number,
    where the delivery goes next, error class and status; never the destination's text."""
    log_event(
        log,
        logging.INFO,
        "delivery.attempt",
        **{
            "marri.delivery.id": item.id,
            "marri.message.id": item.message_id,
            "marri.channel": item.channel,
            "marri.attempt.number": item.attempt_number,
            "marri.delivery.state": step.state.value,
            "error.type": verdict.error_class,
            "http.response.status_code": verdict.http_status,
        },
    )


class SendBudgetExceeded(OutcomeUnknown):
    """The attempt ran past its budget (kept below the lease) and was abandoned."""


class PayloadOpener:
    """Decrypts stored payloads, re-reading a rotated key file when a key is missing."""

    def __init__(self, keyring: Keyring, settings: Settings) -> None:
        self.keyring = keyring
        # Only a key file can rotate under a running worker; keys given inline cannot.
        self._keys = KeyringRefresher(
            keyring, settings.key_file if settings.keys_json is None else None
        )

    def open(self, item: ClaimedDelivery) -> Payload:
        """The bytes and headers to send; LookupError when the delivery has no payload."""
        if item.payload_ciphertext is None or item.payload_key_id is None:
            raise LookupError("delivery has no stored payload")
        self._keys.maybe_refresh()
        try:
            body = self.keyring.decrypt(
                item.payload_key_id, item.payload_ciphertext, aad=payload_aad(item.id)
            )
        except KeyringError:
            self._keys.maybe_refresh(force=True)
            body = self.keyring.decrypt(
                item.payload_key_id, item.payload_ciphertext, aad=payload_aad(item.id)
            )
        headers = json.loads(item.payload_headers_json) if item.payload_headers_json else {}
        return Payload(
            body=body,
            content_type=item.content_type or "application/octet-stream",
            product=item.product,
            recipient=item.recipient,
            headers=headers,
        )


class AttemptRunner:
    """Sends leased deliveries and classifies the results; one per worker."""

    def __init__(
        self, *, keyring: Keyring, settings: Settings, clock: Callable[[], datetime]
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.payloads = PayloadOpener(keyring, settings)

    def full_budget_s(self, settings: ChannelSettings) -> float:
        """What an attempt may take at most: its timeouts, bounded by most of a lease."""
        natural = settings.connect_timeout_s + 2 * settings.read_timeout_s + 1.0
        return min(natural, self.settings.lease_s * 0.8)

    def budget_s(self, settings: ChannelSettings, item: ClaimedDelivery) -> float:
        """What this attempt may take: a fifth of the lease is kept in hand, however long the
        delivery waited for a slot."""
        left = (item.lease_until - self.clock()).total_seconds() - self.settings.lease_s * 0.2
        return min(self.full_budget_s(settings), left)

    def waited_too_long(self, lane: ChannelLane, item: ClaimedDelivery) -> bool:
        """Leased ahead, it waited for a slot until less than half a budget of lease was left:
        better handed back unsent than sent in a hurry."""
        return self.budget_s(lane.settings, item) < self.full_budget_s(lane.settings) / 2

    async def run(self, lane: ChannelLane, item: ClaimedDelivery) -> FinishedAttempt:
        """One attempt inside its span: send (unless past the deadline), classify, schedule."""
        started = self.clock()
        began = time.monotonic()
        with attempt_span(
            channel=item.channel,
            delivery_id=item.id,
            message_id=item.message_id,
            attempt=item.attempt_number,
            creation_traceparent=item.traceparent,
            previous_traceparent=item.previous_traceparent,
            recipient=item.recipient,
        ) as span:
            if item.deadline_at is not None and started > item.deadline_at:
                # It waited past its deadline (paused channel, open breaker): too late to send.
                verdict = Verdict(Outcome.PERMANENT, "DeadlinePassed")
                step = Step(DeliveryState.FAILED, reason="deadline")
                ended = self.clock()
            else:
                sent, result = await self._send(lane, item, current_traceparent())
                verdict = classify_result(result, sent)
                ended = self.clock()
                step = next_step(
                    verdict,
                    attempts_done=item.attempts,
                    now=ended,
                    deadline_at=item.deadline_at,
                    policy=lane.settings.retry,
                )
            span.record_outcome(
                step.state.value, error_class=verdict.error_class, http_status=verdict.http_status
            )
            log_attempt(item, verdict, step)
            record = AttemptRecord(
                started, ended, (time.monotonic() - began) * 1000, span.trace_id, span.span_id
            )
        return FinishedAttempt(item, verdict, step, record, lane.settings.breaker)

    async def _send(
        self, lane: ChannelLane, item: ClaimedDelivery, traceparent: str | None
    ) -> tuple[Payload | None, Receipt | BaseException]:
        """The payload sent (when it could be opened) and the adapter's receipt, or the
        exception that stands for the attempt's result."""
        context = SendContext(
            url=lane.settings.url,
            idempotency_key=item.idempotency_key,
            traceparent=traceparent,
            connect_timeout_s=lane.settings.connect_timeout_s,
            read_timeout_s=lane.settings.read_timeout_s,
            verify=lane.verify,
            max_reply_bytes=lane.settings.max_reply_bytes,
        )
        payload: Payload | None = None
        try:
            async with asyncio.timeout(self.budget_s(lane.settings, item)):
                if item.prior_state == DeliveryState.UNKNOWN.value:
                    reconciled = await self._reconcile(lane.adapter, item, context)
                    if reconciled is not None:
                        return None, reconciled
                payload = self.payloads.open(item)
                return payload, await lane.adapter.send(payload, context)
        except TimeoutError:
            return payload, SendBudgetExceeded("attempt exceeded its time budget")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            return payload, exc

    async def _reconcile(
        self, adapter: Adapter, item: ClaimedDelivery, context: SendContext
    ) -> Receipt | None:
        """Ask the destination about an unknown outcome where the adapter can; else resend."""
        stored = json.loads(item.receipt_json) if item.receipt_json else {}
        probe = Receipt(
            reference=stored.get("reference"),
            http_status=int(stored.get("http_status") or 0),
            details={"idempotency_key": item.idempotency_key},
        )
        try:
            found = await adapter.status(probe, context)
        except Exception as exc:
            log.info("reconcile of %s failed (%s); resending", item.id, type(exc).__name__)
            return None
        return found if isinstance(found, Receipt) else None
