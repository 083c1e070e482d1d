"""Test support for the worker: a JSON channel on the real HTTP transport, stored deliveries,
and a simulator wrapper that logs when each request arrived and was answered."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from adapters._http import HttpChannel, HttpReply
from adapters.base import Adapter, Payload, Receipt, SendContext, Unreconciled
from gateway.config import BreakerPolicy, ChannelSettings, RetryPolicy, Settings
from gateway.delivery.worker import DeliveryWorker
from gateway.store.crypto import Keyring, payload_aad
from gateway.store.engine import Store
from gateway.store.tables import deliveries, messages, utcnow
from gateway.store.wakeup import announce_new_deliveries
from simulators._base import ChannelSimulator
from simulators._server import SimulatorServer


class JsonChannelAdapter(Adapter):
    """A minimal JSON channel sending through the project's one HTTP transport."""

    profile_version = "test-1"
    products: ClassVar[tuple[str, ...]] = ("note",)
    default_product = "note"
    content_type = "application/json"
    schema_files: ClassVar[tuple[str, ...]] = ()
    per_recipient = False

    def __init__(self, name: str) -> None:
        self.name = name  # one class serves several test channels
        self._http = HttpChannel(name)

    def render(self, message: Any, decision: Any, recipient: str | None = None) -> Payload:
        body = json.dumps({"message_id": str(message.message_id)}).encode()
        return Payload(body, self.content_type, self.default_product, recipient)

    def validate_payload(self, body: bytes) -> list[str]:
        try:
            json.loads(body)
        except ValueError:
            return ["$: not JSON"]
        return []

    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        def parse(reply: HttpReply) -> Receipt:
            data = json.loads(reply.body)
            return Receipt(str(data["reference"]), reply.status, bool(data.get("duplicate")))

        return await self._http.send(payload, context, parse)

    async def aclose(self) -> None:
        await self._http.aclose()


class CrashingAdapter(JsonChannelAdapter):
    """An adapter with a bug: it lets a non-delivery exception escape."""

    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        raise ZeroDivisionError("payload field value 'Jane Doe' would leak if quoted")


@dataclass
class Registry:
    adapters: dict[str, Any]

    def get(self, name: str) -> Adapter:
        adapter: Adapter = self.adapters[name]
        return adapter


@dataclass(frozen=True)
class Arrival:
    key: str | None
    arrived: float
    answered: float


class ArrivalLog:
    """ASGI wrapper recording, per request, the idempotency key and when it came and went."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.arrivals: list[Arrival] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        key = dict(scope["headers"]).get(b"idempotency-key", b"").decode() or None
        arrived = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.arrivals.append(Arrival(key, arrived, time.monotonic()))


@contextmanager
def simulator(adapter: Any) -> Iterator[tuple[ChannelSimulator, SimulatorServer, ArrivalLog]]:
    sim = ChannelSimulator(adapter)
    log = ArrivalLog(sim.app)
    sim.app = log  # type: ignore[assignment]
    server = SimulatorServer(sim)
    with server:
        yield sim, server, log


def channel_settings(url: str, **overrides: Any) -> ChannelSettings:
    values: dict[str, Any] = {
        "url": url,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 2.0,
        "concurrency": 4,
        "retry": RetryPolicy(max_attempts=4, initial_backoff_s=0.05, max_backoff_s=5),
        "breaker": BreakerPolicy(failure_threshold=50, open_s=60),
    }
    values.update(overrides)
    return ChannelSettings(**values)


def worker_settings(
    db_url: str, tmp_path: Path, channels: dict[str, ChannelSettings], **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "key_file": tmp_path / "keys.json",
        "channels_file": None,
        "channels": channels,
        "worker_poll_interval_s": 0.02,
        "lease_s": 10.0,
    }
    values.update(overrides)
    return Settings(**values)


def make_worker(
    store: Store,
    keyring: Keyring,
    settings: Settings,
    adapters: dict[str, Any],
    **kwargs: Any,
) -> DeliveryWorker:
    return DeliveryWorker(
        store=store, keyring=keyring, registry=Registry(adapters), settings=settings, **kwargs
    )


RANKS = {"immediate": 0, "urgent": 1, "routine": 2}


def add_delivery(
    store: Store,
    keyring: Keyring,
    *,
    channel: str,
    priority: str = "routine",
    state: str = "queued",
    due: datetime | None = None,
    deadline_s: float = 3600.0,
    sender_country: str = "AL",
    token_id: str | None = None,
    body: bytes | None = None,
    announce: bool = False,
) -> str:
    """Store one message with one delivery carrying an encrypted JSON payload; its id.
    ``announce``: as intake does, in the same transaction (``gateway.store.wakeup``)."""
    now = utcnow()
    message_id = str(uuid.uuid4())
    delivery_id = str(uuid.uuid4())
    payload = body or json.dumps({"message": message_id, "channel": channel}).encode()
    key_id, blob = keyring.encrypt(payload, aad=payload_aad(delivery_id))

    def insert(conn: Any) -> None:
        conn.execute(
            messages.insert().values(
                id=message_id,
                sender_country=sender_country,
                sender_agency="Test agency",
                token_id=token_id,
                kind="information",
                priority=priority,
                content_sha256=hashlib.sha256(payload).hexdigest(),
                received_at=now,
                response_json="{}",
            )
        )
        conn.execute(
            deliveries.insert().values(
                id=delivery_id,
                message_id=message_id,
                channel=channel,
                product="note",
                state=state,
                priority_rank=RANKS[priority],
                decision_outcome="review" if state == "held" else "allow",
                findings_json="[]",
                redacted_json="[]",
                pack_hash="0" * 64,
                payload_ciphertext=blob,
                payload_key_id=key_id,
                payload_sha256=hashlib.sha256(payload).hexdigest(),
                payload_size=len(payload),
                content_type="application/json",
                payload_headers_json="{}",
                idempotency_key=f"{message_id}:{channel}:-",
                attempts=0,
                next_attempt_at=(due or now) if state == "queued" else None,
                deadline_at=now + timedelta(seconds=deadline_s),
                created_at=now,
                updated_at=now,
            )
        )
        if announce:
            announce_new_deliveries(conn)

    store.write_sync(insert)
    return delivery_id


def delivery_row(store: Store, delivery_id: str) -> Any:
    from sqlalchemy import select

    return store.read_sync(
        lambda conn: conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).one()
    )


def attempt_rows(store: Store, delivery_id: str) -> list[Any]:
    from sqlalchemy import select

    from gateway.store.tables import attempts

    return store.read_sync(
        lambda conn: conn.execute(
            select(attempts).where(attempts.c.delivery_id == delivery_id).order_by(attempts.c.id)
        ).all()
    )


class ReconcilingAdapter(JsonChannelAdapter):
    """A channel that can be asked whether a delivery arrived (the simulator's inbox by key)."""

    def __init__(self, name: str, inbox_url: str) -> None:
        super().__init__(name)
        self.inbox_url = inbox_url
        self.asked: list[str] = []

    async def status(self, receipt: Receipt, context: SendContext) -> Receipt | Unreconciled:
        import httpx

        key = receipt.details["idempotency_key"]
        self.asked.append(key)
        async with httpx.AsyncClient() as http:
            entries = (await http.get(self.inbox_url)).json()
        for entry in entries:
            if entry["idempotency_key"] == key:
                return Receipt(entry["reference"], 200, duplicate=True)
        return Unreconciled.NOT_RECEIVED
