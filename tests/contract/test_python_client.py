"""A client generated from the served document, used as an integrator would use it.

openapi-python-client must generate it without a warning; with it, every example message is
sent unchanged to a real gateway process, and each one's status, trace and replies are read
back through the client's typed models.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.store.engine import Store
from tests.api.gateway_process import GatewayProcess, free_port
from tests.conftest import ROOT, Tokens, example_paths, issue_tokens

BUILD = ROOT / "clients" / "python" / "build.py"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, Tokens]]:
    from gateway.store.migrate import upgrade

    tmp = tmp_path_factory.mktemp("client")
    url = f"sqlite:///{tmp / 'gateway.db'}"
    upgrade(url)
    store = Store(url)
    tokens = issue_tokens(store)
    store.close()
    server = GatewayProcess(
        {
            "MARRI_DATABASE_URL": url,
            "MARRI_KEY_FILE": str(tmp / "keys.json"),
            "MARRI_SIGNING_KEY_FILE": str(tmp / "signing-key.json"),
            "MARRI_WORKER_ENABLED": "false",
            "MARRI_TEST_LOG": str(tmp / "gateway.log"),
        },
        free_port(),
    )
    server.start(timeout=60)
    try:
        yield server, tokens
    finally:
        server.stop()


@pytest.fixture(scope="module")
def client_package(
    gateway: tuple[GatewayProcess, Tokens], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    out = tmp_path_factory.mktemp("generated") / "marri-gateway-client"
    server, _ = gateway
    done = subprocess.run(
        [sys.executable, str(BUILD), "--url", f"{server.url}/openapi.json", "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "warning" not in (done.stdout + done.stderr).lower()
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("marri_gateway_client")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.startswith("marri_gateway_client")]:
            del sys.modules[name]


def test_the_client_has_every_operation_under_our_names(client_package: Any) -> None:
    api = importlib.import_module("marri_gateway_client.api.messages")
    names = {p.stem for p in Path(api.__file__).parent.glob("*.py")}
    assert {"send_message", "get_message", "get_trace", "check_message"} <= names
    importlib.import_module("marri_gateway_client.api.replies.get_replies")
    models = importlib.import_module("marri_gateway_client.models")
    for name in ("CanonicalMessage", "TraceOut", "Decision", "Finding", "ErrorBody"):
        assert hasattr(models, name), name


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.stem)
def test_every_example_goes_through_the_generated_client(
    client_package: Any, gateway: tuple[GatewayProcess, Tokens], path: Path
) -> None:
    server, tokens = gateway
    models = importlib.import_module("marri_gateway_client.models")
    messages = "marri_gateway_client.api.messages"
    send = importlib.import_module(f"{messages}.send_message")
    status = importlib.import_module(f"{messages}.get_message")
    trace = importlib.import_module(f"{messages}.get_trace")
    replies = importlib.import_module("marri_gateway_client.api.replies.get_replies")

    original = json.loads(path.read_text(encoding="utf-8"))
    body = models.CanonicalMessage.from_dict(original)
    # Unchanged: what the typed model sends is the example, byte for byte in meaning.
    assert body.to_dict() == original
    http = client_package.AuthenticatedClient(
        base_url=server.url, token=tokens.sender(original["sender"]["country"])
    )
    with http:
        sent = send.sync_detailed(client=http, body=body)
        assert sent.status_code == 202, sent.content[:500]
        accepted = sent.parsed
        assert isinstance(accepted, models.AcceptedMessage)
        assert str(accepted.message_id) == original["message_id"]
        assert accepted.deliveries

        seen = status.sync(client=http, message_id=original["message_id"])
        assert isinstance(seen, models.MessageStatusOut)
        assert {d.channel for d in seen.deliveries} == {d.channel for d in accepted.deliveries}

        timeline = trace.sync(client=http, message_id=original["message_id"])
        assert isinstance(timeline, models.TraceOut)
        assert timeline.events[0].type_ == "received"
        for delivery in timeline.deliveries:
            assert isinstance(delivery.decision, models.Decision)
            assert delivery.decision.pack_hash

        answers = replies.sync(client=http, message_id=original["message_id"])
        assert isinstance(answers, models.RepliesOut)
        assert answers.replies == []

        repeat = send.sync_detailed(client=http, body=body)
        assert repeat.status_code == 200
