"""``marri-gateway events listen`` as a real process: it prints verified events once and
refuses what does not verify."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from datetime import timedelta

import httpx
from standardwebhooks import Webhook

from gateway.events.subscriptions import new_secret
from gateway.store.tables import utcnow
from tests.api.gateway_process import BIN, free_port


def _headers(secret: str, webhook_id: str, body: bytes, at: object = None) -> dict[str, str]:
    when = at or utcnow()
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),  # type: ignore[attr-defined]
        "webhook-signature": Webhook(secret).sign(webhook_id, when, body.decode()),  # type: ignore[arg-type]
        "content-type": "application/cloudevents+json",
    }


def test_listen_prints_each_verified_event_once() -> None:
    secret, port = new_secret(), free_port()
    proc = subprocess.Popen(
        [str(BIN), "events", "listen", "--port", str(port), "--secret", secret],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "listener did not start"
                time.sleep(0.1)
        event_id = str(uuid.uuid4())
        body = json.dumps({"specversion": "1.0", "id": event_id, "type": "t"}).encode()
        webhook_id = str(uuid.uuid4())
        good = _headers(secret, webhook_id, body)
        answers = [
            httpx.post(url, content=body, headers=good).status_code,
            httpx.post(url, content=body, headers=_headers(secret, webhook_id, body)).status_code,
            httpx.post(url, content=body + b" ", headers=good).status_code,
            httpx.post(
                url,
                content=body,
                headers=_headers(secret, str(uuid.uuid4()), body, utcnow() - timedelta(hours=1)),
            ).status_code,
        ]
        assert answers == [204, 204, 400, 400]
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    printed = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert [e["id"] for e in printed] == [event_id]
    assert "1 events, 1 repeats, 2 refused" in err.decode()
