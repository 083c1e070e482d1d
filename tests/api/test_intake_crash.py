"""A 202 means stored: SIGKILL the server while clients send, then look for every acked message."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from gateway.store.engine import Store
from gateway.store.tables import deliveries, messages
from tests.api.gateway_process import GatewayProcess, free_port
from tests.api.helpers import auth, dumps, variant
from tests.conftest import issue_tokens

pytestmark = pytest.mark.slow

KILLS = 3
CLIENTS = 4


def test_every_acknowledged_message_survives_sigkill(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    tokens = issue_tokens(store)
    server = GatewayProcess(
        {
            "MARRI_DATABASE_URL": db_url,
            "MARRI_KEY_FILE": str(tmp_path / "keys.json"),
            "MARRI_WORKER_ENABLED": "false",
            "MARRI_TEST_LOG": str(tmp_path / "gateway.log"),
        },
        free_port(),
    )
    acked: dict[str, int] = {}  # message id -> number of deliveries in its answer
    lock = threading.Lock()
    stop = threading.Event()

    def client_loop(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(timeout=5.0) as http:
            while not stop.is_set():
                data = variant()
                data["subject"] = f"crash test {rng.random()}"
                try:
                    response = http.post(
                        server.url + "/v1/messages",
                        content=dumps(data),
                        headers=auth(tokens.sender("AL")),
                    )
                except httpx.HTTPError:
                    time.sleep(0.05)  # the server is down; its fate for this id is unknown
                    continue
                if response.status_code in (200, 202):
                    with lock:
                        acked[data["message_id"]] = len(response.json()["deliveries"])

    server.start()
    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        for _ in range(KILLS):
            time.sleep(random.uniform(0.8, 2.0))
            server.kill()
            time.sleep(0.3)
            server.start()
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        server.stop()

    assert len(acked) > 20, "the clients got too few answers for the test to mean anything"
    try:
        stored = dict(
            store.read_sync(
                lambda c: c.execute(
                    select(messages.c.id, func.count(deliveries.c.id))
                    .join(deliveries, deliveries.c.message_id == messages.c.id)
                    .group_by(messages.c.id)
                ).all()
            )
        )
    finally:
        store.close()
    lost = [mid for mid in acked if mid not in stored]
    print(f"acknowledged={len(acked)} stored={len(stored)} kills={KILLS} lost={len(lost)}")
    assert lost == []
    assert all(stored[mid] == count for mid, count in acked.items())
