"""Serve a simulator for real: uvicorn on 127.0.0.1 in a background thread, ephemeral port.

With ``ssl_certfile``/``ssl_keyfile`` it speaks HTTPS; ``require_client_cert`` (with
``ssl_ca_certs``) makes it demand a client certificate, as a mutual-TLS destination would.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time

import uvicorn

from simulators._base import ChannelSimulator, DropConnection

__all__ = ["SimulatorServer"]


class _InjectedDropFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DropConnection)


class SimulatorServer:
    """One simulator listening on 127.0.0.1; ``url`` is known once ``start`` returns."""

    def __init__(
        self,
        simulator: ChannelSimulator,
        *,
        port: int = 0,
        ssl_certfile: str | None = None,
        ssl_keyfile: str | None = None,
        ssl_ca_certs: str | None = None,
        require_client_cert: bool = False,
    ) -> None:
        self.simulator = simulator
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]
        scheme = "https" if ssl_certfile else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/"
        simulator.address = self.url
        config = uvicorn.Config(
            simulator.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            loop="asyncio",
            http="h11",
            ssl_certfile=ssl_certfile,
            ssl_keyfile=ssl_keyfile,
            ssl_ca_certs=ssl_ca_certs,
            ssl_cert_reqs=ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_NONE,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"simulator-{simulator.channel}",
            daemon=True,
        )

    def start(self, timeout_s: float = 10.0) -> SimulatorServer:
        # An injected dropped connection surfaces in uvicorn's log as an application error;
        # filter exactly those records out, leaving every other uvicorn log line alone.
        uvicorn_errors = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _InjectedDropFilter) for f in uvicorn_errors.filters):
            uvicorn_errors.addFilter(_InjectedDropFilter())
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"simulator {self.simulator.channel} did not start")
            time.sleep(0.01)
        return self

    def open_connections(self) -> int:
        """Client connections the server holds open right now (keep-alive ones included): what
        a client that closed everything it opened leaves at zero."""
        return len(self._server.server_state.connections)

    def request_stop(self) -> None:
        """Ask the server to finish; ``stop`` waits for it."""
        self._server.should_exit = True

    def stop(self) -> None:
        self.request_stop()
        self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
