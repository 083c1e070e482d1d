"""The README's promise: ``make run`` starts the gateway and ``send`` gets a 202."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.api.gateway_process import BIN, free_port, free_port_block
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

EXAMPLE = "examples/al-victim-identification-pcc-see.json"


def test_make_run_then_send_an_example_gets_202(tmp_path: Path) -> None:
    port = free_port()
    sim_base = free_port_block(8)
    env = {
        **os.environ,
        "MARRI_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "MARRI_KEY_FILE": str(tmp_path / "keys.json"),
        "MARRI_SIGNING_KEY_FILE": str(tmp_path / "signing-key.json"),
        "MARRI_CHANNELS_FILE": str(tmp_path / "channels.json"),
        "MARRI_SANDBOX_TOKENS": str(tmp_path / "tokens.json"),
    }
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["make", "-s", "run", f"RUN_ARGS=--port {port} --simulator-port-base {sim_base}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            pytest.fail("make run did not start the gateway:\n" + log.read_text())

        banner = log.read_text()
        assert f"http://127.0.0.1:{port}/docs" in banner
        assert "sender:XK" in banner
        assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0

        sent = subprocess.run(
            [
                str(BIN),
                "send",
                EXAMPLE,
                "--url",
                f"http://127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert "HTTP 202" in sent.stdout

        # The round trip: the PCC SEE simulator answers and pushes its reply to the gateway.
        message_id = json.loads((ROOT / EXAMPLE).read_text(encoding="utf-8"))["message_id"]
        token = json.loads((tmp_path / "tokens.json").read_text(encoding="utf-8"))["sender:AL"]
        deadline = time.monotonic() + 60
        replies: list[dict[str, object]] = []
        while not replies and time.monotonic() < deadline:
            time.sleep(0.5)
            found = httpx.get(
                f"http://127.0.0.1:{port}/v1/messages/{message_id}/replies",
                headers={"Authorization": f"Bearer {token['token']}"},
                timeout=5,
            )
            assert found.status_code == 200, found.text
            replies = found.json()["replies"]
        assert replies, "no reply came back:\n" + log.read_text()
        assert replies[0]["status"] == "matched"
        assert replies[0]["reply"]["in_reply_to"] == message_id

        # redirected output is a log: it names the tokens, it never holds one, and the
        # sandbox's own lines in it are JSON with trace ids
        issued = json.loads((tmp_path / "tokens.json").read_text(encoding="utf-8"))
        written = log.read_text(encoding="utf-8")
        assert "sender:AL" in written
        for entry in issued.values():
            assert entry["token"] not in written
        accepted = [
            json.loads(line)
            for line in written.splitlines()
            if line.startswith("{") and '"intake.accepted"' in line
        ]
        assert [a["marri.message.id"] for a in accepted] == [message_id]
        assert accepted[0]["trace_id"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
