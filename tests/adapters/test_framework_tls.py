"""TLS on the one HTTP transport: verification failures are permanent, mutual TLS works."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters._http import HttpChannel, HttpReply, tls_context
from adapters.base import Payload, Receipt, SendContext
from adapters.errors import DeliveryError, PermanentError
from simulators._base import ChannelSimulator
from simulators._server import SimulatorServer


class AnyJson:
    name: ClassVar[str] = "anyjson"

    def validate_payload(self, body: bytes) -> list[str]:
        return []

    def without_signature(self, body: bytes) -> bytes:
        return body


def issue(
    tmp: Path, name: str, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None, *, ca: bool
) -> tuple[Path, Path, x509.Name, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    cert = builder.sign(issuer_key, hashes.SHA256())
    cert_path, key_path = tmp / f"{name}.crt", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, subject, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("pki")
    ca_cert, _, ca_name, ca_key = issue(tmp, "test-ca", None, ca=True)
    server_cert, server_key, _, _ = issue(tmp, "server", (ca_name, ca_key), ca=False)
    client_cert, client_key, _, _ = issue(tmp, "client", (ca_name, ca_key), ca=False)
    return {
        "ca": ca_cert,
        "server_cert": server_cert,
        "server_key": server_key,
        "client_cert": client_cert,
        "client_key": client_key,
    }


def receipt(reply: HttpReply) -> Receipt:
    doc = json.loads(reply.body)
    return Receipt(reference=doc["reference"], http_status=reply.status)


PAYLOAD = Payload(body=b"{}", content_type="application/json", product="p")


@pytest.fixture
async def http() -> AsyncIterator[HttpChannel]:
    channel = HttpChannel("anyjson")
    yield channel
    await channel.aclose()


async def test_untrusted_server_certificate_is_permanent(
    pki: dict[str, Path], http: HttpChannel
) -> None:
    with SimulatorServer(
        ChannelSimulator(AnyJson()),  # type: ignore[arg-type]
        ssl_certfile=str(pki["server_cert"]),
        ssl_keyfile=str(pki["server_key"]),
    ) as server:
        assert server.url.startswith("https://")
        with pytest.raises(PermanentError, match="TLS verification") as info:
            await http.send(PAYLOAD, SendContext(url=server.url, idempotency_key="t1"), receipt)
        assert info.value.__cause__ is not None
        trusted = tls_context(cafile=str(pki["ca"]))
        ok = await http.send(
            PAYLOAD, SendContext(url=server.url, idempotency_key="t2", verify=trusted), receipt
        )
        assert ok.reference


async def test_mutual_tls_needs_the_client_certificate(
    pki: dict[str, Path], http: HttpChannel
) -> None:
    with SimulatorServer(
        ChannelSimulator(AnyJson()),  # type: ignore[arg-type]
        ssl_certfile=str(pki["server_cert"]),
        ssl_keyfile=str(pki["server_key"]),
        ssl_ca_certs=str(pki["ca"]),
        require_client_cert=True,
    ) as server:
        with_cert = tls_context(
            cafile=str(pki["ca"]),
            certfile=str(pki["client_cert"]),
            keyfile=str(pki["client_key"]),
        )
        ok = await http.send(
            PAYLOAD, SendContext(url=server.url, idempotency_key="m1", verify=with_cert), receipt
        )
        assert ok.http_status == 201
        without = tls_context(cafile=str(pki["ca"]))
        assert without.verify_mode == ssl.CERT_REQUIRED
        with pytest.raises(DeliveryError):
            await http.send(
                PAYLOAD, SendContext(url=server.url, idempotency_key="m2", verify=without), receipt
            )
        assert [e.idempotency_key for e in server.simulator.inbox()] == ["m1"]
