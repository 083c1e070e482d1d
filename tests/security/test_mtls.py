"""Mutual TLS: a real uvicorn TLS server on 127.0.0.1 that requires client certificates; a
verified certificate's subject or SAN maps to a sender identity."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from gateway.api.app import create_app
from gateway.context import GatewayContext, build_context
from gateway.security.mtls import CertMappingError, ClientCertH11Protocol, validate_mapping
from gateway.security.tokens import issue_token
from tests.api.helpers import dumps, variant
from tests.conftest import make_settings
from tests.security.certs import Issued, ThrowawayPki

AL_SUBJECT = "CN=gw.asp.example,O=Albanian State Police,C=AL"


@dataclass
class Server:
    url: str
    pki: ThrowawayPki
    al_client: Issued
    rs_client: Issued  # mapped through a token id
    stranger: Issued  # signed by the CA, mapped to nothing
    context: GatewayContext


def _client_context(pki: ThrowawayPki, cert: Issued | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
    if cert is not None:
        ctx.load_cert_chain(str(cert.cert), str(cert.key))
    return ctx


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[Server]:
    pki = ThrowawayPki(tmp_path)
    server_cert = pki.server()
    al = pki.client(
        "al", cn="gw.asp.example", org="Albanian State Police", country="AL", dns="gw.asp.example"
    )
    rs = pki.client("rs", cn="gw.mup.example", org="MUP Srbije", country="RS", dns="gw.mup.example")
    stranger = pki.client(
        "stranger", cn="unknown", org="Nobody", country="XX", dns="unknown.example"
    )
    # The RS gateway is bound to a token issued for it; AL is described in the mapping itself.
    bootstrap = build_context(make_settings(sqlite_url, tmp_path))
    rs_token = bootstrap.store.write_sync(
        lambda conn: issue_token(
            conn, role="sender", label="rs gateway", country="RS", agency="MUP Srbije"
        )
    )
    bootstrap.close()
    mapping = {
        AL_SUBJECT: {"role": "sender", "country": "AL", "agency": "Albanian State Police"},
        "san:DNS:gw.mup.example": {"token_id": rs_token.identity.token_id},
    }
    context = build_context(make_settings(sqlite_url, tmp_path, client_cert_identities=mapping))
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
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = uv.servers[0].sockets[0].getsockname()[1]
    try:
        yield Server(f"https://127.0.0.1:{port}", pki, al, rs, stranger, context)
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        context.close()


def test_a_mapped_certificate_sends_as_its_country_without_a_token(server: Server) -> None:
    message = variant("al-victim-identification-pcc-see.json")
    with httpx.Client(verify=_client_context(server.pki, server.al_client)) as http:
        accepted = http.post(
            f"{server.url}/v1/messages",
            content=dumps(message),
            headers={"Content-Type": "application/json"},
        )
        assert accepted.status_code == 202, accepted.text
        listing = http.get(f"{server.url}/v1/messages")
        assert listing.status_code == 200
        assert [m["message_id"] for m in listing.json()["items"]] == [message["message_id"]]
        # A sender certificate is still a sender: the audit log stays closed.
        assert http.get(f"{server.url}/v1/audit").status_code == 403


def test_a_certificate_mapped_to_a_token_id_acts_as_that_token(server: Server) -> None:
    al_message = variant("al-victim-identification-pcc-see.json")
    with httpx.Client(verify=_client_context(server.pki, server.al_client)) as http:
        assert (
            http.post(
                f"{server.url}/v1/messages",
                content=dumps(al_message),
                headers={"Content-Type": "application/json"},
            ).status_code
            == 202
        )
    with httpx.Client(verify=_client_context(server.pki, server.rs_client)) as http:
        # Albania's message is invisible to Serbia's gateway, and it may not send as Albania.
        assert http.get(f"{server.url}/v1/messages/{al_message['message_id']}").status_code == 404
        again = variant("al-victim-identification-pcc-see.json")
        refused = http.post(
            f"{server.url}/v1/messages",
            content=dumps(again),
            headers={"Content-Type": "application/json"},
        )
        assert refused.status_code == 403


def test_an_unmapped_certificate_is_unauthenticated(server: Server) -> None:
    with httpx.Client(verify=_client_context(server.pki, server.stranger)) as http:
        response = http.get(f"{server.url}/v1/messages")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_no_client_certificate_no_connection(server: Server) -> None:
    with (
        httpx.Client(verify=_client_context(server.pki, None)) as http,
        pytest.raises((httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)),
    ):
        http.get(f"{server.url}/healthz")


def test_a_certificate_from_another_ca_is_refused(server: Server, tmp_path: Path) -> None:
    other = (
        ThrowawayPki(tmp_path / "other", name="Other CA")
        if (tmp_path / "other").mkdir() is None
        else None
    )
    assert other is not None
    forged = other.client(
        "forged",
        cn="gw.asp.example",
        org="Albanian State Police",
        country="AL",
        dns="gw.asp.example",
    )
    ctx = _client_context(server.pki, forged)
    with (
        httpx.Client(verify=ctx) as http,
        pytest.raises((httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError)),
    ):
        http.get(f"{server.url}/v1/messages")


def test_a_bad_mapping_is_refused_at_start_up() -> None:
    with pytest.raises(CertMappingError):
        validate_mapping({"CN=x": {"role": "sender", "country": "AL"}})
    with pytest.raises(CertMappingError):
        validate_mapping({"CN=x": {"role": "superuser"}})
