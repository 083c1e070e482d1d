"""Simulators over real HTTP: control endpoints, faults, the runner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters import load_registry
from contract_tests import kit
from simulators import SimulatorSet, start_simulators
from tests.api.gateway_process import free_port_block

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def running() -> Iterator[SimulatorSet]:
    with start_simulators(
        ["europol", "selec"], registry=load_registry(only=["europol", "selec"])
    ) as sims:
        yield sims


def europol_body() -> tuple[bytes, dict[str, str]]:
    registry = load_registry(only=["europol"])
    adapter = registry.get("europol")
    case = kit.golden_cases(["europol"])[0]
    payload = kit.render_for_kit(adapter, case.message())
    return payload.body, {"Content-Type": payload.content_type, **payload.headers}


def test_inbox_readable_and_clearable_over_http(running: SimulatorSet) -> None:
    url = running["europol"]
    body, headers = europol_body()
    httpx.delete(url + "_sim/inbox")
    reply = httpx.post(url, content=body, headers={**headers, "Idempotency-Key": "sim-1"})
    assert reply.status_code == 200
    again = httpx.post(url, content=body, headers={**headers, "Idempotency-Key": "sim-1"})
    assert b"<r:Duplicate>true</r:Duplicate>" in again.content
    inbox = httpx.get(url + "_sim/inbox").json()
    assert len(inbox) == 1
    assert inbox[0]["idempotency_key"] == "sim-1"
    assert inbox[0]["duplicates"] == 1
    stats = httpx.get(url + "_sim/stats").json()
    assert (stats["accepted"], stats["duplicates"]) == (1, 1)
    httpx.delete(url + "_sim/inbox")
    assert httpx.get(url + "_sim/inbox").json() == []
    assert running.simulator("europol").inbox() == []


def test_invalid_payload_gets_a_soap_client_fault(running: SimulatorSet) -> None:
    reply = httpx.post(running["selec"], content=b"<x/>", headers={"Content-Type": "text/xml"})
    assert reply.status_code == 500
    assert b"faultcode>soapenv:Client<" in reply.content


def test_fault_queue_over_http_is_consumed_in_order(running: SimulatorSet) -> None:
    url = running["europol"]
    body, headers = europol_body()
    httpx.delete(url + "_sim/inbox")
    queued = httpx.post(
        url + "_sim/faults",
        json={
            "faults": [
                {"kind": "status", "status": 429, "retry_after": 3},
                {"kind": "latency", "seconds": 0.3},
            ]
        },
    )
    assert queued.json() == {"queued": 2}
    first = httpx.post(url, content=body, headers={**headers, "Idempotency-Key": "q-1"})
    assert (first.status_code, first.headers["retry-after"]) == (429, "3")
    started = time.monotonic()
    second = httpx.post(url, content=body, headers={**headers, "Idempotency-Key": "q-1"})
    assert second.status_code == 200
    assert time.monotonic() - started >= 0.3
    assert (
        httpx.post(url + "_sim/faults", json={"faults": [{"kind": "explode"}]}).status_code == 400
    )


@pytest.mark.slow
def test_runner_serves_named_channels_until_interrupted() -> None:
    base = free_port_block(2)
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulators", "europol", "selec", "--port-base", str(base)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().split() for _ in range(2)]
        urls = dict(lines)
        assert urls["europol"] == f"http://127.0.0.1:{base}/"
        assert urls["selec"] == f"http://127.0.0.1:{base + 1}/"
        stats = httpx.get(urls["selec"] + "_sim/stats").json()
        assert stats["channel"] == "selec"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
