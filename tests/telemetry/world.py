"""A whole gateway for end-to-end tests: the API in process, a delivery worker, and the five
destination simulators on real HTTP ports; plus a live server for the CLI and the browser."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select

from gateway.api.app import create_app
from gateway.config import BreakerPolicy, ChannelSettings, RetryPolicy
from gateway.context import GatewayContext, build_context
from gateway.delivery.worker import DeliveryWorker
from gateway.store.states import DeliveryState
from gateway.store.tables import deliveries
from simulators import SimulatorSet, start_simulators
from tests.conftest import Tokens, issue_tokens, make_settings
from tests.telemetry.helpers import FIVE_CHANNELS

ACTIVE = (
    DeliveryState.QUEUED.value,
    DeliveryState.RETRY_WAIT.value,
    DeliveryState.SENDING.value,
    DeliveryState.UNKNOWN.value,
)


def fast_channels(urls: dict[str, str]) -> dict[str, ChannelSettings]:
    """Channel settings that retry within a test's patience."""
    return {
        name: ChannelSettings(
            url=url,
            connect_timeout_s=2.0,
            read_timeout_s=1.0,
            retry=RetryPolicy(max_attempts=3, initial_backoff_s=0.05, max_backoff_s=0.2),
            breaker=BreakerPolicy(failure_threshold=50, open_s=1.0),
        )
        for name, url in urls.items()
    }


@dataclass
class World:
    context: GatewayContext
    client: httpx.AsyncClient
    sims: SimulatorSet
    worker: DeliveryWorker
    tokens: Tokens

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def submit(self, body: dict[str, Any], *, expect: int = 202) -> dict[str, Any]:
        country = body["sender"]["country"]
        response = await self.client.post(
            "/v1/messages", json=body, headers=self.auth(self.tokens.sender(country))
        )
        assert response.status_code == expect, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def release_held(self, answer: dict[str, Any]) -> None:
        """An approver releases every delivery the policy held for review."""
        for d in answer["deliveries"]:
            if d["state"] == "held":
                response = await self.client.post(
                    f"/v1/deliveries/{d['id']}/release",
                    json={"reason": "legal basis confirmed by the duty legal officer"},
                    headers=self.auth(self.tokens.approver),
                )
                assert response.status_code == 200, response.text

    async def trace(self, message_id: str, token: str | None = None) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/messages/{message_id}/trace", headers=self.auth(token or self.tokens.operator)
        )
        assert response.status_code == 200, response.text
        view: dict[str, Any] = response.json()
        return view

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Run the worker until no delivery is waiting to be sent."""
        deadline = time.monotonic() + timeout_s
        while True:
            active = await self.context.store.read(
                lambda conn: conn.execute(
                    select(deliveries.c.id).where(deliveries.c.state.in_(ACTIVE))
                ).all()
            )
            if not active:
                return
            assert time.monotonic() < deadline, f"{len(active)} deliveries still in flight"
            if not await self.worker.run_once():
                await asyncio.sleep(0.05)


@asynccontextmanager
async def world_on(db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    sims = start_simulators(FIVE_CHANNELS)
    try:
        settings = make_settings(
            db_url, tmp_path, channels=fast_channels(dict(sims)), worker_enabled=False
        )
        context = build_context(settings)
        try:
            tokens = issue_tokens(context.store)
            worker = DeliveryWorker(
                store=context.store,
                keyring=context.keyring,
                registry=context.registry,
                settings=settings,
                worker_id="test-worker",
            )
            app = create_app(context)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as c:
                yield World(context, c, sims, worker, tokens)
            await context.registry.aclose()
        finally:
            context.close()
    finally:
        sims.stop()


class LiveServer:
    """The gateway app on a real 127.0.0.1 port in a thread (CLI and browser tests)."""

    def __init__(self, app: Any) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            app, log_level="critical", access_log=False, lifespan="off", loop="asyncio", http="h11"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive(), "server stopped"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()
