"""Operator actions on a whole channel (re-drive its dead letters, pause, resume) and the
channel overview, each checked against the permission table and audited in its transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import Connection

from gateway.config import Settings
from gateway.delivery.breaker import set_paused
from gateway.delivery.transitions import ChannelOverview, channel_overview, requeue_failed
from gateway.errors import ErrorKind, GatewayError
from gateway.security.audit import append_audit
from gateway.security.identity import Identity
from gateway.services.deliveries import deadline_s
from gateway.services.permissions import Action, check, visible_countries
from gateway.store.engine import Store
from gateway.store.tables import utcnow


class ChannelActions:
    """``adapters`` are the channel names the gateway can deliver to (the adapter registry)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        adapters: Collection[str],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._settings = settings
        self._adapters = frozenset(adapters)
        self._clock = clock

    async def redrive(self, identity: Identity, channel: str, reason: str | None) -> int:
        """Every dead letter of the channel (from the caller's countries) back to the queue."""
        check(identity, Action.REDRIVE)
        self._known(channel)
        countries = visible_countries(identity)
        now = self._clock()
        window = deadline_s(self._settings, channel)

        def change(conn: Connection) -> int:
            count = requeue_failed(conn, channel, countries, now=now, deadline_s=window)
            append_audit(
                conn,
                actor=identity.actor,
                action=Action.REDRIVE.value,
                subject=f"channel:{channel}",
                reason=reason,
                details={"requeued": count, "scope": list(countries or [])},
            )
            return count

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
