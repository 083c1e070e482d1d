"""``serve --tls-cert/--tls-key``: the API speaks HTTPS itself when no proxy terminates TLS."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.api.gateway_process import BIN, GatewayProcess, free_port
from tests.security.certs import ThrowawayPki


def test_serves_https_with_the_given_certificate(tmp_path: Path) -> None:
    pki = ThrowawayPki(tmp_path)
    server_cert = pki.server()
    server = GatewayProcess(
        {
            "MARRI_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
            "MARRI_KEY_FILE": str(tmp_path / "keys.json"),
            "MARRI_SIGNING_KEY_FILE": str(tmp_path / "signing-key.json"),
            "MARRI_WORKER_ENABLED": "false",
            "MARRI_TEST_LOG": str(tmp_path / "gateway.log"),
        },
        free_port(),
        args=("--tls-cert", str(server_cert.cert), "--tls-key", str(server_cert.key)),
        https_ca=pki.ca.cert,
    )
    subprocess.run(
        [str(BIN), "db", "upgrade"],
        env=server.env,
        check=True,
        capture_output=True,
    )
    server.start(timeout=60)
    try:
        trust = ssl.create_default_context(cafile=str(pki.ca.cert))
        reply = httpx.get(server.url + "/healthz", verify=trust, timeout=5)
        assert reply.status_code == 200
        with pytest.raises(httpx.HTTPError):
            # Plain HTTP on the TLS port gets no answer a client could mistake for the API's.
            httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5).raise_for_status()
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("--tls-cert", "{cert}"), "go together"),
        (("--tls-cert", "{cert}", "--tls-key", "{missing}"), "cannot use"),
    ],
)
def test_incomplete_or_unreadable_tls_files_stop_the_start(
    tmp_path: Path, flags: tuple[str, ...], expected: str
) -> None:
    pki = ThrowawayPki(tmp_path)
    server_cert = pki.server()
    args = [f.format(cert=server_cert.cert, missing=tmp_path / "missing.key") for f in flags]
    result = subprocess.run(
        [str(BIN), "serve", "--port", str(free_port()), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"MARRI_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert expected in result.stderr + result.stdout
