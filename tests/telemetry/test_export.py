"""Export settings: OTLP over HTTP only when an endpoint is configured; the caller's trace
context is continued by intake."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.conftest import ROOT
from tests.telemetry.helpers import message_from
from tests.telemetry.world import World

SCRIPT = """
from gateway.telemetry import configure_tracing, stage_span
from gateway.telemetry.setup import otlp_configured
provider = configure_tracing()
with stage_span("validate", **{"marri.channel": "selec", "person.name": "Zorica"}):
    pass
provider.force_flush()
provider.shutdown()
print("otlp" if otlp_configured() else "none")
"""


class Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        Collector.received.append((self.path, self.headers["content-type"], body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def collector() -> Iterator[str]:
    Collector.received.clear()
    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_script(env_extra: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(env_extra)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_otlp_export_only_when_an_endpoint_is_set(collector: str) -> None:
    assert run_script({}) == "none"
    assert Collector.received == []
    assert run_script({"OTEL_EXPORTER_OTLP_ENDPOINT": collector}) == "otlp"
    ((path, content_type, body),) = Collector.received
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    assert b"validate" in body
    assert b"marri.channel" in body
    assert b"Zorica" not in body  # the allow-list applies to OTLP export too
    assert b"person.name" not in body


async def test_intake_continues_the_callers_trace(
    world: World, spans: InMemorySpanExporter
) -> None:
    caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    body = message_from("xk-europol-information.json")
    response = await world.client.post(
        "/v1/messages",
        json=body,
        headers={**world.auth(world.tokens.sender("XK")), "traceparent": caller},
    )
    assert response.status_code == 202
    assert response.json()["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    (intake,) = [s for s in spans.get_finished_spans() if s.name == "POST /v1/messages"]
    assert intake.parent is not None
    assert f"{intake.parent.span_id:016x}" == "00f067aa0ba902b7"
    view = await world.trace(body["message_id"])
    # the stored creation context is the gateway's own span, not the caller's
    assert view["traceparent"].split("-")[2] == f"{intake.context.span_id:016x}"
