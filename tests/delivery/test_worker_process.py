"""``marri-gateway worker`` as a real process: SIGTERM stops claiming, waits out the grace
period, hands back what is still in flight (as unknown, due now) and exits cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from gateway.store.crypto import load_or_create_keyring
from gateway.store.engine import Store
from simulators import Fault, start_simulators
from tests.api.gateway_process import BIN
from tests.delivery._support import add_delivery, delivery_row

pytestmark = pytest.mark.slow


def wait_for(predicate: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_sigterm_hands_back_in_flight_deliveries(db_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    keyring = load_or_create_keyring(key_file)
    store = Store(db_url)
    with start_simulators(["interpol"]) as urls:
        urls.simulator("interpol").inject(Fault("latency", seconds=8))
        channels = tmp_path / "channels.json"
        channels.write_text(json.dumps({"interpol": {"url": urls["interpol"]}}))
        env = {
            **os.environ,
            "MARRI_DATABASE_URL": db_url,
            "MARRI_KEY_FILE": str(key_file),
            "MARRI_SIGNING_KEY_FILE": str(key_file.parent / "signing-key.json"),
            "MARRI_CHANNELS_FILE": str(channels),
            "MARRI_WORKER_POLL_INTERVAL_S": "0.05",
        }
        delivery_id = add_delivery(store, keyring, channel="interpol", body=b"{}")
        log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                [str(BIN), "worker", "--id", "sigterm-w", "--grace-s", "0.5"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            wait_for(lambda: delivery_row(store, delivery_id).state == "sending", 60)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        finally:
            log.close()
    row = delivery_row(store, delivery_id)
    store.close()
    assert (row.state, row.lease_owner) == ("unknown", None)
    assert "handed back" in (tmp_path / "worker.log").read_text()


def test_serve_runs_the_worker_and_stops_it_on_sigterm(db_url: str, tmp_path: Path) -> None:
    from tests.api.gateway_process import GatewayProcess, free_port

    key_file = tmp_path / "keys.json"
    keyring = load_or_create_keyring(key_file)
    store = Store(db_url)
    with start_simulators(["interpol"]) as urls:
        sim = urls.simulator("interpol")
        channels = tmp_path / "channels.json"
        channels.write_text(json.dumps({"interpol": {"url": urls["interpol"]}}))
        server = GatewayProcess(
            {
                "MARRI_DATABASE_URL": db_url,
                "MARRI_KEY_FILE": str(key_file),
                "MARRI_SIGNING_KEY_FILE": str(key_file.parent / "signing-key.json"),
                "MARRI_CHANNELS_FILE": str(channels),
                "MARRI_WORKER_POLL_INTERVAL_S": "0.05",
                "MARRI_TEST_LOG": str(tmp_path / "serve.log"),
            },
            free_port(),
        )
        server.start(timeout=90)
        try:
            sim.inject(Fault("latency", seconds=30))
            held = add_delivery(store, keyring, channel="interpol", body=b"{}")
            wait_for(lambda: delivery_row(store, held).state == "sending", 60)
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
            # uvicorn re-raises the signal once its shutdown (and the lifespan's) is complete.
            assert server.proc.wait(timeout=40) in (0, -signal.SIGTERM)
        finally:
            server.stop()
    row = delivery_row(store, held)
    store.close()
    assert (row.state, row.lease_owner) == ("unknown", None)
    assert "Application shutdown complete" in (tmp_path / "serve.log").read_text()
