"""A webhook receiver for tests: the sample receiver (verification with the standardwebhooks
library, dedupe on webhook-id) behind a real HTTP server in a thread, recording what came."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gateway.events.egress import EgressPolicy, parse_networks
from gateway.events.receiver import Receiver, serve
from gateway.events.subscriptions import create_subscription, new_secret
from gateway.store.crypto import Keyring
from gateway.store.engine import Store
from gateway.store.tables import utcnow
from tests.api.gateway_process import free_port

# What a deployment sets (MARRI_WEBHOOK_ALLOWED_NETWORKS) for receivers on this host.
LOOPBACK_ALLOWED = EgressPolicy(
    allowed_networks=parse_networks(["127.0.0.0/8", "::1/128"]), require_https=False
)
LOOPBACK_SETTINGS = {"webhook_allowed_networks": ("127.0.0.0/8", "::1/128")} | {
    "webhook_require_https": False
}


@dataclass
class Received:
    events: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)


@contextmanager
def running_receiver(secret: str) -> Iterator[tuple[str, Receiver, Received]]:
    received = Received()

    def keep(event: dict[str, Any]) -> None:
        received.events.append(event)
        received.arrived.set()

    receiver = Receiver(secret, keep)
    port = free_port()
    server = serve(receiver, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/hook", receiver, received
    finally:
        server.shutdown()
        server.server_close()


def subscribe(
    store: Store,
    keyring: Keyring,
    url: str,
    secret: str | None = None,
    *,
    country: str = "AL",
    agency: str = "Test agency",
    types: tuple[str, ...] = ("delivery.delivered", "delivery.failed", "delivery.held"),
) -> str:
    created = store.write_sync(
        lambda conn: create_subscription(
            conn,
            keyring,
            country=country,
            agency=agency,
            url=url,
            event_types=list(types),
            secret=secret or new_secret(),
            now=utcnow(),
        )
    )
    return created.id
