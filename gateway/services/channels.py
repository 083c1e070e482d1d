"""Operator actions on a whole channel (re-drive its dead letters, pause, resume) and the
channel overview, each checked against the permission table and audited in its transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, select

from gateway.config import Settings
from gateway.delivery.breaker import set_paused
from gateway.delivery.redecide import Reopener, reopened
from gateway.delivery.transitions import (
    ChannelOverview,
    Move,
    apply_move,
    channel_overview,
    fresh_round,
    lock_delivery,
)
from gateway.errors import ErrorKind, GatewayError
from gateway.events.outbox import EventType, record_delivery_events
from gateway.security.audit import append_audit
from gateway.security.identity import Identity
from gateway.services.deliveries import deadline_s, required_reason
from gateway.services.permissions import Action, check, visible_countries
from gateway.store.engine import Store
from gateway.store.states import DeliveryState
from gateway.store.tables import deliveries, messages, utcnow

DEAD_LETTERS = frozenset({DeliveryState.FAILED})


@dataclass(frozen=True)
class DeadLetters:
    """Which dead letters a bulk re-drive takes: a channel's, or a filtered list's (the
    message list's filters: channel, recipient, sender country, received between)."""

    channel: str | None = None
    recipient: str | None = None
    sender_country: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def subject(self) -> str:
        """The audit entry's subject: the channel, or the filter as words."""
        if self.channel and not (self.recipient or self.sender_country or self.since or self.until):
            return f"channel:{self.channel}"
        return "deliveries:filtered"

    def as_details(self) -> dict[str, object]:
        """The filter as the audit entry keeps it."""
        return {
            "channel": self.channel,
            "recipient": self.recipient,
            "sender_country": self.sender_country,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


@dataclass(frozen=True)
class Redriven:
    """What a re-drive did: how many dead letters went back in the queue, and the ids of those
    that the day's decision held for review or blocked instead."""

    requeued: int
    held: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


class ChannelActions:
    """``adapters`` are the channel names the gateway can deliver to (the adapter registry);
    ``reopen_for`` decides a re-driven dead letter again on the day of the re-drive."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        adapters: Collection[str],
        clock: Callable[[], datetime] = utcnow,
        reopen_for: Callable[[date], Reopener] | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._adapters = frozenset(adapters)
        self._clock = clock
        self._reopen_for = reopen_for

    async def redrive(self, identity: Identity, channel: str, reason: str | None) -> Redriven:
        """Every dead letter of the channel (from the caller's countries) back on its way."""
        return await self.redrive_matching(identity, DeadLetters(channel=channel), reason)

    async def dead_letters(self, identity: Identity, which: DeadLetters) -> list[str]:
        """The ids a re-drive of ``which`` would take now (to confirm before it is done)."""
        check(identity, Action.REDRIVE)
        if which.channel is not None:
            self._known(which.channel)
        countries = visible_countries(identity)
        return await self._store.read(lambda conn: matching_dead_letters(conn, which, countries))

    async def redrive_matching(
        self, identity: Identity, which: DeadLetters, reason: str | None
    ) -> Redriven:
        """The matching dead letters (from the caller's countries) back on their way, with the
        reason, audited as ``delivery.redrive`` with the filter and what became of each.

        A transfer is lawful on the day it happens: each dead letter is decided again with the
        facts of the re-drive's day, so one whose basis has ended since is blocked and one that
        now needs a review is held, and the audit entry names them.
        """
        check(identity, Action.REDRIVE)
        if which.channel is not None:
            self._known(which.channel)
        why = required_reason(reason)
        countries = visible_countries(identity)
        now = self._clock()
        reopen = None if self._reopen_for is None else self._reopen_for(now.date())

        def change(conn: Connection) -> Redriven:
            ids = matching_dead_letters(conn, which, countries)
            moved = _redecided_redrive(conn, ids, reopen, now, self._settings)
            # A dead letter the day's rules send to review is held: its sender is told.
            record_delivery_events(
                conn, EventType.DELIVERY_HELD, moved[DeliveryState.HELD.value], now=now
            )
            done = Redriven(
                len(moved[DeliveryState.QUEUED.value]),
                held=moved[DeliveryState.HELD.value],
                blocked=moved[DeliveryState.BLOCKED.value],
            )
            append_audit(
                conn,
                actor=identity.actor,
                action=Action.REDRIVE.value,
                subject=which.subject(),
                reason=why,
                details={
                    "requeued": done.requeued,
                    "held": done.held,
                    "blocked": done.blocked,
                    "as_of": now.date().isoformat(),
                    "filter": which.as_details(),
                    "scope": list(countries or []),
                },
            )
            return done

        return await self._store.write(change)

    async def pause(self, identity: Identity, channel: str, reason: str | None) -> bool:
        """Workers stop claiming the channel's deliveries, for every country."""
        return await self._switch(identity, Action.PAUSE, channel, reason)

    async def resume(self, identity: Identity, channel: str, reason: str | None) -> bool:
        """Let a paused channel send again; audited; answers the new paused flag (False)."""
        return await self._switch(identity, Action.RESUME, channel, reason)

    async def overview(self, identity: Identity) -> list[ChannelOverview]:
        """Every channel's counts, within the caller's countries, with breaker and pause."""
        check(identity, Action.READ_CHANNELS)
        countries = visible_countries(identity)
        configured = set(self._settings.all_channels())
        now = self._clock()
        return await self._store.read(
            lambda conn: channel_overview(
                conn, countries, configured=configured, known=set(self._adapters), now=now
            )
        )

    async def _switch(
        self, identity: Identity, action: Action, channel: str, reason: str | None
    ) -> bool:
        check(identity, action)
        self._known(channel)
        paused = action is Action.PAUSE
        now = self._clock()

        def change(conn: Connection) -> bool:
            set_paused(conn, channel, paused=paused, now=now)
            append_audit(
                conn,
                actor=identity.actor,
                action=action.value,
                subject=f"channel:{channel}",
                reason=reason,
                details={"paused": paused},
            )
            return paused

        return await self._store.write(change)

    def _known(self, channel: str) -> None:
        if channel not in self._adapters and self._settings.channel(channel) is None:
            raise GatewayError(ErrorKind.NOT_FOUND, "unknown_channel", "no such channel")


def matching_dead_letters(
    conn: Connection, which: DeadLetters, countries: tuple[str, ...] | None
) -> list[str]:
    """The ids of the failed deliveries ``which`` names, from ``countries`` (None: all)."""
    query = (
        select(deliveries.c.id)
        .select_from(deliveries.join(messages, deliveries.c.message_id == messages.c.id))
        .where(deliveries.c.state == DeliveryState.FAILED.value)
    )
    tests = (
        (which.channel, deliveries.c.channel),
        (which.recipient, deliveries.c.recipient),
        (which.sender_country, messages.c.sender_country),
    )
    for value, column in tests:
        if value is not None:
            query = query.where(column == value)
    if which.since is not None:
        query = query.where(messages.c.received_at >= which.since)
    if which.until is not None:
        query = query.where(messages.c.received_at < which.until)
    if countries is not None:
        query = query.where(messages.c.sender_country.in_(countries))
    return [row.id for row in conn.execute(query.order_by(deliveries.c.id))]


def _redecided_redrive(
    conn: Connection,
    ids: list[str],
    reopen: Reopener | None,
    now: datetime,
    settings: Settings,
) -> dict[str, list[str]]:
    """Each dead letter decided again and moved where its new decision sends it; the ids by
    the state each went to (queued, held or blocked)."""
    states = (DeliveryState.QUEUED, DeliveryState.HELD, DeliveryState.BLOCKED)
    moved: dict[str, list[str]] = {state.value: [] for state in states}
    for delivery_id in ids:
        ref = lock_delivery(conn, delivery_id)
        if ref is None or ref.state != DeliveryState.FAILED.value:
            continue  # moved on since the look, by a worker or another person
        values = fresh_round(now, deadline_s(settings, ref.channel))
        target, values, decided = reopened(
            conn, ref, reopen, approved=False, allowed=DEAD_LETTERS, values=values
        )
        apply_move(
            conn,
            ref,
            Move(DEAD_LETTERS, target, values, decided),
            verb=Action.REDRIVE.value,
            now=now,
        )
        moved[target.value].append(ref.id)
    return moved
