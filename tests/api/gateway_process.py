"""Run ``marri-gateway`` as a real process for tests that kill it."""

from __future__ import annotations

import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "marri-gateway"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free ports, below Linux's ephemeral range (32768+)
    so that no client connection takes one of them meanwhile."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randint(20000, 32000 - count)
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
        return base
    raise RuntimeError("no block of free ports found")


class GatewayProcess:
    """``marri-gateway <command>`` on 127.0.0.1 with its own environment."""

    def __init__(
        self,
        env: dict[str, str],
        port: int,
        *,
        command: str = "serve",
        args: tuple[str, ...] = (),
        https_ca: Path | None = None,
    ) -> None:
        self.env = {**os.environ, **env}
        self.port = port
        self.command = command
        self.args = args
        # Served over HTTPS when set: the CA file that verifies the server's certificate.
        self.https_ca = https_ca
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(env.get("MARRI_TEST_LOG", os.devnull))

    @property
    def url(self) -> str:
        scheme = "https" if self.https_ca else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(BIN), self.command, "--port", str(self.port), *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode}; see {self.log}")
            try:
                verify = (
                    ssl.create_default_context(cafile=str(self.https_ca)) if self.https_ca else True
                )
                health = httpx.get(self.url + "/healthz", timeout=0.5, verify=verify)
                if health.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("gateway did not become healthy in time")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
