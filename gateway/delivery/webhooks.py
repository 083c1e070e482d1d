"""Webhook notifications: events from the outbox to subscribers, signed per Standard Webhooks.

The delivery machinery serves them as it serves channels: a notification is claimed with a
lease in one short transaction (``SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), sent
after the commit, classified (``classify``), scheduled or dead-lettered (``schedule``), and its
subscription's breaker (``breaker``, keyed ``webhook:<subscription>``) counts transient
failures so one unwell receiver does not hold up the others. Highest rank first (an alert's
events), then oldest. The ``webhook-id`` is the notification's id, the same on every retry,
so a receiver that was sent a notification twice (a worker killed before it recorded the
answer) drops the repeat.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import ColumnElement, Connection, and_, func, or_, select, update
from standardwebhooks import Webhook

from adapters.errors import OutcomeUnknown, PermanentError, TransientError
from gateway.config import BreakerPolicy, RetryPolicy
from gateway.delivery.breaker import load_gates, record_channel_result
from gateway.delivery.classify import Outcome, Verdict, classify_result
from gateway.delivery.schedule import next_step
from gateway.events.cloudevent import CONTENT_TYPE, structured_body
from gateway.events.egress import AddressRefused, EgressPolicy, guarded_client
from gateway.events.inbox import events_by_seq
from gateway.events.subscriptions import Target, load_targets
from gateway.store.crypto import Keyring
from gateway.store.engine import Store
from gateway.store.tables import notification_attempts, notifications, utcnow

log = logging.getLogger("gateway.delivery")

RESENDABLE = ("queued", "retry_wait", "unknown")
BATCH = 16
TIMEOUT_S = 10.0


def breaker_key(subscription_id: str) -> str:
    """The breaker row of one subscription (channel_states keys are at most 32 characters)."""
    return f"webhook:{subscription_id[:24]}"


@dataclass(frozen=True)
class ClaimedNotification:
    """A notification this worker holds a lease on, with its body and target."""

    id: str
    subscription_id: str
    event_seq: int
    attempts: int
    created_at: datetime
    body: bytes
    target: Target


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(notifications.c.state.in_(RESENDABLE), notifications.c.next_attempt_at <= now),
        and_(notifications.c.state == "sending", notifications.c.lease_until <= now),
    )


def any_due(conn: Connection, now: datetime) -> bool:
    """A read, which takes no write lock: whether a claim would find anything now."""
    return conn.execute(select(notifications.c.id).where(_due(now)).limit(1)).first() is not None


def claim_notifications(
    conn: Connection, keyring: Keyring, *, worker_id: str, now: datetime, lease_s: float
) -> list[ClaimedNotification]:
    """Lease up to ``BATCH`` due notifications whose receiver's breaker lets them through."""
    blocked = [
        key
        for key, gate in load_gates(conn).items()
        if key.startswith("webhook:") and gate.mode(now) == "blocked"
    ]
    pick = (
        select(notifications.c.id, notifications.c.subscription_id)
        .where(_due(now))
        .order_by(
            notifications.c.priority_rank,
            notifications.c.next_attempt_at,
            notifications.c.event_seq,
        )
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    picked = [r.id for r in conn.execute(pick) if breaker_key(r.subscription_id) not in blocked]
    if not picked:
        return []
    rows = conn.execute(
        update(notifications)
        .where(notifications.c.id.in_(picked), _due(now))
        .values(
            state="sending",
            lease_owner=worker_id,
            lease_until=now + timedelta(seconds=lease_s),
            attempts=notifications.c.attempts + 1,
            updated_at=now,
        )
        .returning(
            notifications.c.id,
            notifications.c.subscription_id,
            notifications.c.event_seq,
            notifications.c.attempts,
            notifications.c.created_at,
            notifications.c.priority_rank,
        )
    ).all()
    found = events_by_seq(conn, {r.event_seq for r in rows})
    targets = load_targets(conn, keyring, {r.subscription_id for r in rows})
    ordered = sorted(rows, key=lambda r: (r.priority_rank, r.event_seq))
    return [
        ClaimedNotification(
            r.id,
            r.subscription_id,
            r.event_seq,
            r.attempts,
            r.created_at,
            structured_body(found[r.event_seq]),
            targets[r.subscription_id],
        )
        for r in ordered
    ]


def signed_headers(item: ClaimedNotification, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers, signed at send time so the timestamp is fresh on a retry."""
    signature = Webhook(item.target.secret).sign(item.id, now, item.body.decode())
    return {
        "content-type": CONTENT_TYPE,
        "webhook-id": item.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


async def post_notification(
    http: httpx.AsyncClient, item: ClaimedNotification, now: datetime
) -> Verdict:
    """Send one notification and classify the answer like a channel's."""
    result: object
    try:
        answer = await http.post(
            item.target.url, content=item.body, headers=signed_headers(item, now)
        )
    except AddressRefused as exc:  # the host now resolves inside: never called
        result = exc
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        result = TransientError(type(exc).__name__)
    except httpx.HTTPError as exc:
        result = OutcomeUnknown(type(exc).__name__)
    else:
        status = answer.status_code
        if 200 <= status < 300:
            return Verdict(Outcome.DELIVERED, http_status=status)
        if status in (408, 425, 429) or status >= 500:
            retry_after = answer.headers.get("retry-after", "")
            seconds = float(retry_after) if retry_after.isdigit() else None
            result = TransientError("receiver", http_status=status, retry_after_s=seconds)
        else:
            result = PermanentError("receiver", http_status=status)
    assert isinstance(result, Exception)
    return classify_result(result)


def record_notification(
    conn: Connection,
    item: ClaimedNotification,
    verdict: Verdict,
    *,
    worker_id: str,
    started: datetime,
    ended: datetime,
    duration_ms: float,
    retry: RetryPolicy,
    breaker: BreakerPolicy,
) -> bool:
    """The attempt row, the notification's next state and the receiver's breaker in one
    transaction, guarded by the lease; False when another worker took the lease over."""
    step = next_step(
        verdict,
        attempts_done=item.attempts,
        now=ended,
        deadline_at=item.created_at + timedelta(seconds=retry.deadline_s),
        policy=retry,
    )
    moved = conn.execute(
        update(notifications)
        .where(
            notifications.c.id == item.id,
            notifications.c.state == "sending",
            notifications.c.lease_owner == worker_id,
        )
        .values(
            state=step.state.value,
            next_attempt_at=step.next_attempt_at,
            lease_owner=None,
            lease_until=None,
            last_error=None if verdict.outcome is Outcome.DELIVERED else verdict.error_class,
            last_http_status=verdict.http_status,
            updated_at=ended,
            delivered_at=ended if verdict.outcome is Outcome.DELIVERED else None,
        )
    )
    number = conn.execute(
        select(func.count() + 1)
        .select_from(notification_attempts)
        .where(notification_attempts.c.notification_id == item.id)
    ).scalar_one()
    conn.execute(
        notification_attempts.insert().values(
            notification_id=item.id,
            number=number,
            worker_id=worker_id,
            started_at=started,
            ended_at=ended,
            outcome=verdict.outcome.value,
            error_class=verdict.error_class,
            http_status=verdict.http_status,
            duration_ms=duration_ms,
        )
    )
    if verdict.outcome is not Outcome.PERMANENT:
        record_channel_result(
            conn,
            breaker_key(item.subscription_id),
            success=verdict.outcome is Outcome.DELIVERED,
            policy=breaker,
            now=ended,
        )
    return bool(moved.rowcount)


class WebhookNotifier:
    """Claims and sends notifications until stopped; one per worker."""

    def __init__(
        self,
        *,
        store: Store,
        keyring: Keyring,
        worker_id: str,
        lease_s: float,
        poll_interval_s: float,
        egress: EgressPolicy,
        retry: RetryPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.keyring = keyring
        self.worker_id = worker_id
        self.lease_s = lease_s
        self.poll_interval_s = poll_interval_s
        self.egress = egress
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or BreakerPolicy()
        self.sent = 0
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Stop after the round in progress."""
        self._stopping.set()

    async def run(self) -> None:
        """Claim and send until ``stop()``; a failed round is retried next poll."""
        async with self.client() as http:
            while not self._stopping.is_set():
                try:
                    done = await self.run_once(http)
                except Exception as exc:  # the store may be back later; leases lapse
                    log.warning("webhook round failed (%s)", type(exc).__name__)
                    done = 0
                if done == 0:
                    try:
                        async with asyncio.timeout(self.poll_interval_s):
                            await self._stopping.wait()
                    except TimeoutError:
                        pass

    def client(self) -> httpx.AsyncClient:
        """The HTTP client notifications go out on: only to addresses the policy allows."""
        return guarded_client(self.egress, timeout_s=TIMEOUT_S)

    async def run_once(self, http: httpx.AsyncClient) -> int:
        """Claim one batch and send it; how many were sent."""
        # Looked at first, so that an idle worker does not take SQLite's write lock each poll.
        if not await self.store.read(lambda conn: any_due(conn, self.clock())):
            return 0
        claimed = await self.store.write(
            lambda conn: claim_notifications(
                conn,
                self.keyring,
                worker_id=self.worker_id,
                now=self.clock(),
                lease_s=self.lease_s,
            )
        )
        await asyncio.gather(*(self._attempt(http, item) for item in claimed))
        return len(claimed)

    async def _attempt(self, http: httpx.AsyncClient, item: ClaimedNotification) -> None:
        started = self.clock()
        began = time.monotonic()
        verdict = await post_notification(http, item, started)
        ended = self.clock()
        duration_ms = (time.monotonic() - began) * 1000
        await self.store.write(
            lambda conn: record_notification(
                conn,
                item,
                verdict,
                worker_id=self.worker_id,
                started=started,
                ended=ended,
                duration_ms=duration_ms,
                retry=self.retry,
                breaker=self.breaker,
            )
        )
        self.sent += 1
