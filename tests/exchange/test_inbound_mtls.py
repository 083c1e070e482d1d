"""A channel may prove who it is with a client certificate named in its settings, over real
mutual TLS; a certificate mapped to a sender, or to nobody, does not open the channel's door."""

from __future__ import annotations

import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
import uvicorn

from gateway.api.app import create_app
from gateway.context import GatewayContext, build_context
from gateway.security.mtls import ClientCertH11Protocol
from simulators import build_simulator
from simulators._answers import AnswerPlan, default_answer
from simulators._base import InboxEntry
from tests.conftest import make_settings
from tests.security.certs import Issued, ThrowawayPki

AL_SUBJECT = "CN=gw.asp.example,O=Albanian State Police,C=AL"


@dataclass
class TlsGateway:
    url: str
    pki: ThrowawayPki
    channel: Issued
    sender: Issued
    stranger: Issued
    context: GatewayContext


@pytest.fixture
def gateway(sqlite_url: str, tmp_path: Path) -> Iterator[TlsGateway]:
    pki = ThrowawayPki(tmp_path)
    server_cert = pki.server()
    channel = pki.client(
        "ncu", cn="ncu.mup.example", org="MUP", country="RS", dns="ncu.mup.example"
    )
    sender = pki.client(
        "al", cn="gw.asp.example", org="Albanian State Police", country="AL", dns="gw.asp.example"
    )
    stranger = pki.client("x", cn="unknown", org="Nobody", country="XX", dns="unknown.example")
    settings = make_settings(
        sqlite_url,
        tmp_path,
        worker_enabled=False,
        client_cert_identities={
            AL_SUBJECT: {"role": "sender", "country": "AL", "agency": "Albanian State Police"}
        },
        channels={
            "pcc_see": {
                "url": "http://127.0.0.1:9/",
                "inbound_cert_names": ["san:DNS:ncu.mup.example"],
            }
        },
    )
    context = build_context(settings)
    config = uvicorn.Config(
        create_app(context),
        host="127.0.0.1",
        port=0,
        http=ClientCertH11Protocol,
        ssl_certfile=str(server_cert.cert),
        ssl_keyfile=str(server_cert.key),
        ssl_ca_certs=str(pki.ca.cert),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield TlsGateway(f"https://127.0.0.1:{port}", pki, channel, sender, stranger, context)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        context.close()


def _push(gateway: TlsGateway, cert: Issued) -> httpx.Response:
    simulator = build_simulator(gateway.context.registry.get("pcc_see"))
    entry = InboxEntry("PCC_SEE-X", None, None, None, {}, "<x/>")
    answer = replace(default_answer(simulator, entry, AnswerPlan()), in_reply_to=str(uuid.uuid4()))
    body, content_type = simulator.answer_payload(answer)
    tls = ssl.create_default_context(cafile=str(gateway.pki.ca.cert))
    tls.load_cert_chain(str(cert.cert), str(cert.key))
    with httpx.Client(verify=tls) as http:
        return http.post(
            f"{gateway.url}/v1/channels/pcc_see/inbound",
            content=body,
            headers={"Content-Type": content_type},
        )


def test_the_channels_certificate_opens_its_inbound_endpoint(gateway: TlsGateway) -> None:
    answer = _push(gateway, gateway.channel)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "unmatched"


@pytest.mark.parametrize("who", ["sender", "stranger"])
def test_other_certificates_do_not(gateway: TlsGateway, who: str) -> None:
    answer = _push(gateway, getattr(gateway, who))
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "bad_channel_credential"
    assert (
        gateway.context.inbound.store.read_sync(
            lambda conn: conn.exec_driver_sql("SELECT count(*) FROM inbound_messages").scalar_one()
        )
        == 0
    )
