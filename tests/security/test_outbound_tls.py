"""Outbound TLS from channel settings: verified against the channel's CA, client certificate
(with an encrypted key) for mutual TLS, and no way around verification."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.config import ChannelSettings
from gateway.security.tls import ChannelTlsError, channel_ssl_context
from tests.security.certs import Issued, ThrowawayPki


def _serve(pki: ThrowawayPki, server: Issued, *, require_client: bool) -> Iterator[str]:
    async def hello(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    config = uvicorn.Config(
        Starlette(routes=[Route("/", hello)]),
        host="127.0.0.1",
        port=0,
        ssl_certfile=str(server.cert),
        ssl_keyfile=str(server.key),
        ssl_ca_certs=str(pki.ca.cert),
        ssl_cert_reqs=ssl.CERT_REQUIRED if require_client else ssl.CERT_NONE,
        log_level="warning",
        lifespan="off",
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    try:
        yield f"https://127.0.0.1:{uv.servers[0].sockets[0].getsockname()[1]}/"
    finally:
        uv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def pki(tmp_path: Path) -> ThrowawayPki:
    return ThrowawayPki(tmp_path)


@pytest.fixture
def mtls_url(pki: ThrowawayPki) -> Iterator[str]:
    yield from _serve(pki, pki.server(), require_client=True)


@pytest.fixture
def tls_url(pki: ThrowawayPki) -> Iterator[str]:
    yield from _serve(pki, pki.server(), require_client=False)


def _encrypted_key(issued: Issued, password: str) -> Path:
    key = serialization.load_pem_private_key(issued.key.read_bytes(), password=None)
    path = issued.key.with_suffix(".enc.key")
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password.encode()),
        )
    )
    return path


def test_the_channels_ca_bundle_verifies_its_server(pki: ThrowawayPki, tls_url: str) -> None:
    ctx = channel_ssl_context(ChannelSettings(url=tls_url, ca_bundle=pki.ca.cert))
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert ctx.check_hostname
    with httpx.Client(verify=ctx) as http:
        assert http.get(tls_url).json() == {"ok": True}


def test_without_the_channels_ca_the_system_store_refuses_a_private_ca(tls_url: str) -> None:
    verify = channel_ssl_context(ChannelSettings(url=tls_url))
    assert verify is True
    with httpx.Client(verify=verify) as http, pytest.raises(httpx.ConnectError):
        http.get(tls_url)


def test_a_client_certificate_with_an_encrypted_key_opens_mutual_tls(
    pki: ThrowawayPki, mtls_url: str
) -> None:
    client = pki.client("gw", cn="gateway", org="MARRI", country="BA", dns="gateway.example")
    settings = ChannelSettings(
        url=mtls_url,
        ca_bundle=pki.ca.cert,
        client_cert=client.cert,
        client_key=_encrypted_key(client, "s3cret"),
        client_key_password="s3cret",  # type: ignore[arg-type]
    )
    with httpx.Client(verify=channel_ssl_context(settings)) as http:
        assert http.get(mtls_url).json() == {"ok": True}


def test_unusable_tls_settings_are_refused_by_name(pki: ThrowawayPki, tmp_path: Path) -> None:
    client = pki.client("gw2", cn="gateway", org="MARRI", country="BA", dns="gateway.example")
    wrong_password = ChannelSettings(
        url="https://127.0.0.1:1/",
        ca_bundle=pki.ca.cert,
        client_cert=client.cert,
        client_key=_encrypted_key(client, "right"),
        client_key_password="wrong",  # type: ignore[arg-type]
    )
    with pytest.raises(ChannelTlsError, match="client_cert"):
        channel_ssl_context(wrong_password)
    bad_ca = tmp_path / "not-a-ca.pem"
    bad_ca.write_text("nonsense")
    with pytest.raises(ChannelTlsError, match="ca_bundle"):
        channel_ssl_context(ChannelSettings(url="https://127.0.0.1:1/", ca_bundle=bad_ca))
    with pytest.raises(ChannelTlsError):
        channel_ssl_context(ChannelSettings(url="https://127.0.0.1:1/", client_key=client.key))
