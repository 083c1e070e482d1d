"""The "test connection": the channel adapter's own probe of its destination (``Adapter.ping``),
run on an operator's request and audited as ``channel.test`` with what it found.

The probe delivers nothing. Its answer names only an outcome, an error class and a time, never
the destination's words, so nothing it says can carry personal data onto a page or the log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection

from adapters.base import Adapter, Reachability, SendContext
from adapters.errors import PermanentError, TransientError
from gateway.config import Settings
from gateway.errors import ErrorKind, GatewayError
from gateway.security.audit import append_audit
from gateway.security.identity import Identity
from gateway.security.tls import channel_ssl_context
from gateway.services.permissions import Action, check
from gateway.store.engine import Store

PROBE_KEY = "marri-connection-test"  # an idempotency key no delivery ever has


class AdapterLookup(Protocol):
    """Where the probe finds a channel's adapter (the registry)."""

    def get(self, name: str) -> Adapter:
        """The adapter registered for channel ``name``; KeyError when there is none."""


@dataclass(frozen=True)
class ProbeResult:
    """``answered``, ``cannot_check`` (the adapter has no probe), ``unreachable`` (a transient
    error: try again later) or ``refused`` (it never will work as configured)."""

    channel: str
    outcome: str
    duration_ms: float
    error_class: str | None = None


class ChannelProbe:
    """Runs one channel's probe for an operator and records it in the audit log."""

    def __init__(self, store: Store, settings: Settings, adapters: AdapterLookup | None) -> None:
        self._store = store
        self._settings = settings
        self._adapters = adapters

    async def test(self, identity: Identity, channel: str, reason: str | None) -> ProbeResult:
        """Ask the destination whether it answers, then audit what came back."""
        check(identity, Action.TEST_CHANNEL)
        adapter = self._adapter(channel)
        configured = self._settings.channel(channel)
        if configured is None:
            raise GatewayError(
                ErrorKind.UNPROCESSABLE, "channel_not_configured", "the channel has no destination"
            )
        context = SendContext(
            url=configured.url,
            idempotency_key=PROBE_KEY,
            connect_timeout_s=configured.connect_timeout_s,
            read_timeout_s=configured.read_timeout_s,
            verify=channel_ssl_context(configured),
            max_reply_bytes=configured.max_reply_bytes,
        )
        budget = configured.connect_timeout_s + configured.read_timeout_s + 1.0
        result = await _probe(channel, adapter, context, budget, time.monotonic)

        def record(conn: Connection) -> None:
            append_audit(
                conn,
                actor=identity.actor,
                action=Action.TEST_CHANNEL.value,
                subject=f"channel:{channel}",
                reason=reason,
                details={
                    "outcome": result.outcome,
                    "error_class": result.error_class,
                    "duration_ms": round(result.duration_ms, 1),
                },
            )

        await self._store.write(record)
        return result

    def _adapter(self, channel: str) -> Adapter:
        try:
            if self._adapters is None:
                raise KeyError(channel)
            return self._adapters.get(channel)
        except KeyError:
            raise GatewayError(ErrorKind.NOT_FOUND, "unknown_channel", "no such channel") from None


async def _probe(
    channel: str,
    adapter: Adapter,
    context: SendContext,
    budget_s: float,
    clock: Callable[[], float],
) -> ProbeResult:
    began = clock()
    outcome, error = "answered", None
    try:
        async with asyncio.timeout(budget_s):
            answer = await adapter.ping(context)
        if answer is Reachability.CANNOT_CHECK:
            outcome = "cannot_check"
    except PermanentError as exc:
        outcome, error = "refused", type(exc).__name__
    except (TransientError, TimeoutError) as exc:
        outcome, error = "unreachable", type(exc).__name__
    except Exception as exc:  # an adapter's own bug must not become a 500
        outcome, error = "unreachable", type(exc).__name__
    return ProbeResult(channel, outcome, (clock() - began) * 1000, error)
