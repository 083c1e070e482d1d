"""A gateway served for real (uvicorn on 127.0.0.1, worker and pollers in its lifespan) beside
every channel's simulator, wired as the sandbox wires them: each channel answers each message."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from gateway.api.app import create_app
from gateway.context import GatewayContext, build_context
from simulators import SimulatorSet, start_simulators
from tests.conftest import Tokens, issue_tokens, make_settings
from tests.events._support import LOOPBACK_SETTINGS

CHANNELS = ("europol", "frontex", "interpol", "pcc_see", "selec")


class GatewayServer:
    """The app on an ephemeral port in a background thread, lifespan included."""

    def __init__(self, app: Any) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> GatewayServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            assert self._thread.is_alive(), "gateway stopped while starting"
            assert time.monotonic() < deadline, "gateway did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()


@dataclass
class RoundTrip:
    context: GatewayContext
    tokens: Tokens
    simulators: SimulatorSet
    credentials: dict[str, str]
    url: str


def channel_settings(urls: dict[str, str], credentials: dict[str, str]) -> dict[str, Any]:
    return {
        name: {
            "url": url,
            "connect_timeout_s": 1.0,
            "read_timeout_s": 2.0,
            "inbound_token": credentials[name],
            "poll_interval_s": 0.1,
            "retry": {"max_attempts": 10, "initial_backoff_s": 0.05, "max_backoff_s": 0.5},
        }
        for name, url in urls.items()
    }


@contextmanager
def round_trip(db_url: str, tmp_path: Path, *, answer_after_s: float = 0.05) -> Iterator[RoundTrip]:
    """Gateway + simulators; every simulator answers every message after ``answer_after_s``."""
    with start_simulators(CHANNELS) as simulators:
        credentials = {name: secrets.token_urlsafe(16) for name in CHANNELS}
        settings = make_settings(
            db_url,
            tmp_path,
            channels=channel_settings(dict(simulators), credentials),
            worker_poll_interval_s=0.02,
            lease_s=5.0,
            # Webhook receivers of these tests run on this host, which must be allowed by name.
            **LOOPBACK_SETTINGS,
        )
        context = build_context(settings)
        server = GatewayServer(create_app(context)).start()
        try:
            simulators.answer_every_message(server.url, credentials, seconds=answer_after_s)
            tokens = issue_tokens(context.store)
            yield RoundTrip(context, tokens, simulators, credentials, server.url)
        finally:
            server.stop()
            context.close()


def wait_for(fetch: Any, done: Any, timeout_s: float = 30.0) -> Any:
    """Call ``fetch`` until ``done(result)``; the last result, or an assertion error."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = fetch()
        if done(result):
            return result
        assert time.monotonic() < deadline, f"gave up waiting; last: {result!r}"
        time.sleep(0.1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def replies(rt: RoundTrip, message_id: str, token: str) -> httpx.Response:
    return httpx.get(f"{rt.url}/v1/messages/{message_id}/replies", headers=bearer(token))
