"""``serve`` after a crash: a SIGKILL of the supervisor of ``--processes N`` takes its children
with it, so a restart binds the port; and the embedded worker, restarted under its stable
name, takes back its own in-flight deliveries at once instead of waiting out the lease."""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from gateway.store.engine import Store
from gateway.store.tables import attempts, deliveries
from simulators import Fault, start_simulators
from tests.api.gateway_process import GatewayProcess, free_port
from tests.conftest import issue_tokens
from tests.telemetry.helpers import message_from

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except OSError:
        return False
    return state != "Z"


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_a_killed_supervisor_takes_its_api_processes_with_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = {
        "MARRI_DATABASE_URL": sqlite_url,
        "MARRI_KEY_FILE": str(tmp_path / "keys.json"),
        "MARRI_SIGNING_KEY_FILE": str(tmp_path / "signing-key.json"),
        "MARRI_WORKER_ENABLED": "false",
        "MARRI_TEST_LOG": str(tmp_path / "gateway.log"),
    }
    port = free_port()
    first = GatewayProcess(env, port, args=("--processes", "2"))
    second = GatewayProcess(env, port, args=("--processes", "2"))
    try:
        first.start(timeout=120)
        assert first.proc is not None
        deadline = time.monotonic() + 30
        while len(_children(first.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        children = _children(first.proc.pid)
        assert len(children) >= 2
        first.kill()  # SIGKILL: the supervisor runs none of its own shutdown
        deadline = time.monotonic() + 20
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(c) for c in children), "API processes outlived their parent"
        while not _port_free(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _port_free(port)
        second.start(timeout=120)
        assert httpx.get(second.url + "/healthz", timeout=5).status_code == 200
    finally:
        first.kill()
        second.stop()


def _state(store: Store, delivery_id: str) -> tuple[str, str | None, datetime | None]:
    row = store.read_sync(
        lambda conn: conn.execute(
            select(deliveries.c.state, deliveries.c.lease_owner, deliveries.c.lease_until).where(
                deliveries.c.id == delivery_id
            )
        ).one()
    )
    return row[0], row[1], row[2]


def test_the_restarted_worker_takes_back_its_own_leases_at_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    store = Store(sqlite_url)
    tokens = issue_tokens(store)
    sims = start_simulators(["pcc_see"])
    channels = tmp_path / "channels.json"
    channels.write_text(json.dumps({"pcc_see": {"url": sims["pcc_see"]}}), encoding="utf-8")
    env = {
        "MARRI_DATABASE_URL": sqlite_url,
        "MARRI_KEY_FILE": str(tmp_path / "keys.json"),
        "MARRI_SIGNING_KEY_FILE": str(tmp_path / "signing-key.json"),
        "MARRI_CHANNELS_FILE": str(channels),
        "MARRI_TEST_LOG": str(tmp_path / "gateway.log"),
    }  # the default lease: 60 s
    log = tmp_path / "gateway.log"
    port = free_port()
    first, second = GatewayProcess(env, port), GatewayProcess(env, port)
    try:
        first.start(timeout=120)
        # the destination answers slowly, so the attempt is in flight when serve dies
        sims.simulator("pcc_see").inject(Fault("latency", seconds=20))
        body = message_from("al-victim-identification-pcc-see.json")
        body["destinations"] = [d for d in body["destinations"] if d["channel"] == "pcc_see"]
        reply = httpx.post(
            first.url + "/v1/messages",
            json=body,
            headers={"Authorization": f"Bearer {tokens.sender('AL')}"},
            timeout=30,
        )
        assert reply.status_code == 202, reply.text
        (delivery,) = reply.json()["deliveries"]
        for d in reply.json()["deliveries"]:
            if d["state"] == "held":
                released = httpx.post(
                    f"{first.url}/v1/deliveries/{d['id']}/release",
                    json={"reason": "legal basis confirmed by the duty legal officer"},
                    headers={"Authorization": f"Bearer {tokens.approver}"},
                    timeout=30,
                )
                assert released.status_code == 200
        deadline = time.monotonic() + 30
        while _state(store, delivery["id"])[0] != "sending":
            assert time.monotonic() < deadline, "the delivery was never claimed"
            time.sleep(0.1)
        _, owner, lease_until = _state(store, delivery["id"])
        assert owner is not None
        assert owner.startswith("serve-")
        assert owner.endswith("-0")
        assert lease_until is not None
        simulator = sims.simulator("pcc_see")
        while simulator.stats["faults"] < 1:  # the slow request has reached the destination
            assert time.monotonic() < deadline
            time.sleep(0.05)
        first.kill()

        second.start(timeout=120)
        while _state(store, delivery["id"])[0] != "delivered":
            assert time.monotonic() < deadline + 60, _state(store, delivery["id"])
            time.sleep(0.2)
        recorded = store.read_sync(
            lambda conn: conn.execute(
                select(attempts.c.worker_id, attempts.c.outcome, attempts.c.started_at).where(
                    attempts.c.delivery_id == delivery["id"]
                )
            ).all()
        )
        # the restarted process, under the same name, took it back at start-up and resent it
        # before the lease would lapse
        assert f"worker {owner} took back 1 in-flight deliveries" in log.read_text()
        assert [(r[0], r[1]) for r in recorded] == [(owner, "delivered")]
        assert recorded[0][2] < lease_until
        key = store.read_sync(
            lambda conn: conn.execute(
                select(deliveries.c.idempotency_key).where(deliveries.c.id == delivery["id"])
            ).scalar_one()
        )
        # sent twice (once by each process), received once: the key de-duplicates
        assert [e.idempotency_key for e in simulator.inbox()] == [key]
    finally:
        first.stop()
        second.stop()
        sims.stop()
        store.close()
