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
