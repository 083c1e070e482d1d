"""Running workers in a process: inside the API server (lifespan) or on their own (CLI).

Both stop the same way: stop claiming, let in-flight attempts finish within a grace period,
hand back the rest. A process killed outright leaves leases behind: a worker restarted under
its name (``worker --id``, or the slot name ``serve`` takes per process) hands them back at
once; any other worker reclaims them when they lapse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from gateway.config import Settings
from gateway.delivery.lanes import AdapterLookup
from gateway.delivery.webhooks import WebhookNotifier
from gateway.delivery.worker import DeliveryWorker
from gateway.delivery.worker_slot import embedded_worker_id
from gateway.events.egress import egress_policy
from gateway.security.signing_key import SigningKeys
from gateway.store.crypto import Keyring
from gateway.store.engine import Store

log = logging.getLogger("gateway.delivery")

GRACE_S = 10.0


@asynccontextmanager
async def running_worker(
    *,
    store: Store,
    keyring: Keyring,
    registry: AdapterLookup,
    settings: Settings,
    worker_id: str | None = None,
    concurrency: int | None = None,
    grace_s: float = GRACE_S,
    signing: SigningKeys | None = None,
) -> AsyncIterator[DeliveryWorker]:
    """A worker running in the background of the current event loop for the block's duration;
    with ``signing`` it stores signed evidence of every delivery that ends."""
    worker = DeliveryWorker(
        store=store,
        keyring=keyring,
        registry=registry,
        settings=settings,
        worker_id=worker_id,
        concurrency=concurrency,
        signing=signing,
    )
    # Event notifications ride along with every worker, under its id and lease length.
    notifier = WebhookNotifier(
        store=store,
        keyring=keyring,
        worker_id=worker.worker_id,
        lease_s=settings.lease_s,
        poll_interval_s=settings.worker_poll_interval_s,
        egress=egress_policy(settings),
        retry=settings.webhook_retry,
        breaker=settings.webhook_breaker,
    )
    task = asyncio.create_task(worker.run(grace_s=grace_s), name="delivery-worker")
    notifying = asyncio.create_task(notifier.run(), name="webhook-notifier")
    try:
        yield worker
    finally:
        worker.stop()
        notifier.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task
            await notifying


def worker_lifespan(context: Any) -> Callable[[Any], Any]:
    """A FastAPI lifespan that runs one in-process worker when ``settings.worker_enabled``."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        if not context.settings.worker_enabled:
            yield
            return
        settings = context.settings
        # A stable name, so that after a crash this process takes back its own leases.
        with embedded_worker_id(settings.key_file.parent, settings.database_url) as worker_id:
            async with running_worker(
                store=context.store,
                keyring=context.keyring,
                registry=context.registry,
                settings=settings,
                signing=context.signing,
                worker_id=worker_id,
            ):
                yield

    return lifespan


async def run_workers_until_signalled(
    *,
    store: Store,
    keyring: Keyring,
    registry: AdapterLookup,
    settings: Settings,
    worker_id: str | None,
    concurrency: int | None,
    grace_s: float = GRACE_S,
    signing: SigningKeys | None = None,
) -> None:
    """Run one worker until SIGTERM or SIGINT, then stop it gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running_worker(
        store=store,
        keyring=keyring,
        registry=registry,
        settings=settings,
        worker_id=worker_id,
        concurrency=concurrency,
        grace_s=grace_s,
        signing=signing,
    ) as worker:
        log.info("worker %s running; SIGTERM or SIGINT stops it", worker.worker_id)
        await stop.wait()
        log.info("worker %s stopping", worker.worker_id)
