"""A real ``marri-gateway worker`` SIGKILLed between storing a state change and learning that
its notification arrived: after a restart the event is delivered again under the same
``webhook-id``, which the receiver's dedupe recognises. Nothing lost, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gateway.events.receiver import Receiver, serve
from gateway.events.subscriptions import new_secret
from gateway.store.crypto import load_or_create_keyring
from gateway.store.engine import Store
from gateway.store.tables import deliveries, events, notifications
from simulators import start_simulators
from tests.api.gateway_process import BIN, free_port
from tests.delivery._support import add_delivery
from tests.events._support import subscribe

pytestmark = pytest.mark.slow


def wait_for(predicate: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


class StallingReceiver:
    """The sample receiver, except that the first request is taken and then left unanswered
    until ``release`` (the worker is killed meanwhile)."""

    def __init__(self, secret: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.receiver = Receiver(secret, self.events.append)
        self.first_taken = threading.Event()
        self.release = threading.Event()
        self.port = free_port()
        inner = self.receiver

        class Stalling(Receiver):
            def handle(_self, body: bytes, headers: dict[str, str]) -> int:
                status = inner.handle(body, headers)
                self.ids.append({k.lower(): v for k, v in headers.items()}["webhook-id"])
                if not self.first_taken.is_set():
                    self.first_taken.set()
                    self.release.wait(30)
                return status

        self.server = serve(Stalling(secret, lambda e: None), self.port)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [str(BIN), "worker", "--id", "crash-w", "--grace-s", "0.5"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_killed_worker_resends_under_the_same_webhook_id(db_url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    keyring = load_or_create_keyring(key_file)
    store = Store(db_url)
    secret = new_secret()
    receiver = StallingReceiver(secret)
    log = tmp_path / "worker.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        with start_simulators(["interpol"]) as urls:
            channels = tmp_path / "channels.json"
            channels.write_text(json.dumps({"interpol": {"url": urls["interpol"]}}))
            env = {
                **os.environ,
                "MARRI_DATABASE_URL": db_url,
                "MARRI_KEY_FILE": str(key_file),
                "MARRI_CHANNELS_FILE": str(channels),
                "MARRI_WORKER_POLL_INTERVAL_S": "0.05",
                "MARRI_LEASE_S": "3",
                # The receiver is on this host, which a deployment must allow by name.
                "MARRI_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
                "MARRI_WEBHOOK_REQUIRE_HTTPS": "false",
            }
            subscribe(store, keyring, receiver.url, secret)
            delivery_id = add_delivery(store, keyring, channel="interpol")
            proc = _worker(env, log)
            # The worker sends (the simulator settles it one way or the other), records the
            # outcome AND its event in one transaction, then posts the notification; the
            # receiver takes it and the worker dies before it hears the answer.
            assert receiver.first_taken.wait(60), log.read_text()
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            receiver.release.set()

            def stored() -> tuple[str, str]:
                return store.read_sync(
                    lambda conn: (
                        conn.execute(
                            select(deliveries.c.state).where(deliveries.c.id == delivery_id)
                        ).scalar_one(),
                        conn.execute(select(notifications.c.state)).scalar_one(),
                    )
                )

            final_state, notification_state = stored()
            assert final_state in ("delivered", "failed")
            assert notification_state == "sending"
            proc = _worker(env, log)
            wait_for(lambda: stored()[1] == "delivered", 60)
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        receiver.close()
    [event_id] = store.read_sync(lambda conn: conn.execute(select(events.c.id)).scalars().all())
    store.close()
    assert len(receiver.ids) == 2
    assert receiver.ids[0] == receiver.ids[1]
    assert (receiver.receiver.accepted, receiver.receiver.repeats) == (1, 1)
    assert [e["id"] for e in receiver.events] == [event_id]
    assert receiver.events[0]["data"]["delivery_id"] == delivery_id
    assert receiver.events[0]["type"] == f"delivery.{final_state}"


def test_a_killed_gateway_tells_a_stored_answer_once(db_url: str, tmp_path: Path) -> None:
    """``serve`` (worker inside) stores a channel's answer with its reply.received event, is
    SIGKILLed while the notification is on its way, and after a restart tells it again under
    the same webhook-id: the receiver's dedupe keeps one."""
    import httpx

    from adapters.registry import load_registry
    from gateway.config import Settings
    from gateway.security.tokens import issue_token
    from tests.api.gateway_process import GatewayProcess
    from tests.conftest import EXAMPLES
    from tests.exchange.test_inbound_endpoint import CREDENTIAL, INBOUND, channel_auth

    key_file = tmp_path / "keys.json"
    keyring = load_or_create_keyring(key_file)
    store = Store(db_url)
    message = json.loads((EXAMPLES / "al-victim-identification-pcc-see.json").read_text())
    agency = message["sender"]["agency"]
    token = store.write_sync(
        lambda conn: issue_token(conn, role="sender", label="t", country="AL", agency=agency)
    ).token
    secret = new_secret()
    receiver = StallingReceiver(secret)
    subscribe(store, keyring, receiver.url, secret, agency=agency, types=("reply.received",))
    channels = tmp_path / "channels.json"
    closed = f"http://127.0.0.1:{free_port()}/"  # the message itself is never delivered
    channels.write_text(json.dumps({"pcc_see": {"url": closed, "inbound_token": CREDENTIAL}}))
    env = {
        "MARRI_DATABASE_URL": db_url,
        "MARRI_KEY_FILE": str(key_file),
        "MARRI_CHANNELS_FILE": str(channels),
        "MARRI_WORKER_POLL_INTERVAL_S": "0.05",
        "MARRI_LEASE_S": "3",
        "MARRI_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "MARRI_WEBHOOK_REQUIRE_HTTPS": "false",
        "MARRI_TEST_LOG": str(tmp_path / "gateway.log"),
    }
    gateway = GatewayProcess(env, free_port())
    try:
        gateway.start()
        accepted = httpx.post(
            f"{gateway.url}/v1/messages",
            json=message,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert accepted.status_code == 202, accepted.text
        from simulators import build_simulator
        from simulators._answers import AnswerPlan, default_answer
        from simulators._base import InboxEntry

        simulator = build_simulator(load_registry(Settings().mappings_dir).get("pcc_see"))
        entry = InboxEntry("PCC-1", f"{message['message_id']}:pcc_see:MK", None, None, {}, "")
        plan = AnswerPlan(options={"in_reply_to": message["message_id"]})
        body, _ = simulator.answer_payload(default_answer(simulator, entry, plan))
        stored = httpx.post(f"{gateway.url}{INBOUND}", content=body, headers=channel_auth())
        assert stored.status_code == 202, stored.text
        assert stored.json()["status"] == "matched"
        assert receiver.first_taken.wait(60), (tmp_path / "gateway.log").read_text()
        gateway.kill()
        receiver.release.set()
        states = store.read_sync(lambda conn: conn.execute(select(notifications.c.state)).all())
        assert [s for (s,) in states] == ["sending"]
        gateway.start()
        wait_for(
            lambda: (
                store.read_sync(
                    lambda conn: conn.execute(select(notifications.c.state)).scalar_one()
                )
                == "delivered"
            ),
            60,
        )
    finally:
        gateway.kill()
        receiver.close()
    [event_id] = store.read_sync(lambda conn: conn.execute(select(events.c.id)).scalars().all())
    store.close()
    assert len(receiver.ids) == 2
    assert receiver.ids[0] == receiver.ids[1]
    assert (receiver.receiver.accepted, receiver.receiver.repeats) == (1, 1)
    [told] = receiver.events
    assert (told["id"], told["type"]) == (event_id, "reply.received")
    assert told["data"]["reply_id"] == stored.json()["reply_id"]
