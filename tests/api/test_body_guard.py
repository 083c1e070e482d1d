"""Token first, then the size cap, then the parse: on every route that takes a body.

In process, the body is an async generator that counts what the server pulled, so "no byte
read before the caller is admitted" is observed, not inferred. Against a real server, an
unauthenticated 200 MB upload gets 401 while the server's memory stays within a few MB.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.security.policy_table import ROUTE_POLICIES
from gateway.store.engine import Store
from tests.api.gateway_process import GatewayProcess, free_port
from tests.conftest import Tokens, issue_tokens

DELIVERY = "5a0d9c3e-1f7b-4e2a-8b6c-7d9e0f1a2b3c"
CHUNK = b"\xff{" + b"x" * 65_534  # not UTF-8, not JSON: a parse would refuse it


def concrete(template: str) -> str:
    return (
        template.replace("{delivery_id}", DELIVERY)
        .replace("{message_id}", DELIVERY)
        .replace("{channel}", "europol")
        .replace("{instrument}", "europol_operational_agreement")
        .replace("{country}", "AL")
        .replace("{subscription_id}", DELIVERY)
    )


BODY_ROUTES = sorted(
    (method, concrete(template))
    for (method, template), policy in ROUTE_POLICIES.items()
    if method in ("POST", "PUT", "DELETE") and policy.scope != "channel"
)


class CountingBody:
    """A request body that records how many chunks the server asked for."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield CHUNK


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_no_token_gets_401_before_any_byte_is_read(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    body = CountingBody(chunks=50)
    answer = await client.request(
        method, path, content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert answer.headers["www-authenticate"] == "Bearer"
    assert body.pulled == 0


async def test_a_channel_push_without_its_credential_is_refused_unread(
    client: httpx.AsyncClient,
) -> None:
    body = CountingBody(chunks=50)
    answer = await client.post(
        "/v1/channels/europol/inbound", content=body, headers={"content-type": "text/xml"}
    )
    assert answer.status_code in (401, 404)
    assert body.pulled == 0


async def test_malformed_json_without_a_token_is_401_not_422(client: httpx.AsyncClient) -> None:
    for content in (b"{not json", b"\xff\xfe\x00"):
        answer = await client.post(
            f"/v1/deliveries/{DELIVERY}/retry",
            content=content,
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 401


async def test_a_wrong_role_is_refused_before_the_body_too(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    body = CountingBody(chunks=50)
    answer = await client.post(
        f"/v1/deliveries/{DELIVERY}/release",
        content=body,
        headers={"Authorization": f"Bearer {tokens.sender('AL')}"},
    )
    assert answer.status_code == 403
    assert body.pulled == 0


async def test_an_admitted_body_past_the_routes_cap_is_413_and_read_no_further(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    # An action's body is a reason: 64 KiB at most. Sent without a length (chunked).
    body = CountingBody(chunks=50)
    answer = await client.post(
        "/v1/channels/europol/redrive",
        content=body,
        headers={"Authorization": f"Bearer {tokens.operator}", "content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert body.pulled <= 2


async def test_a_declared_length_past_the_cap_is_413_unread(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    body = CountingBody(chunks=50)
    answer = await client.post(
        "/v1/channels/europol/redrive",
        content=body,
        headers={
            "Authorization": f"Bearer {tokens.operator}",
            "content-type": "application/json",
            "content-length": str(50 * len(CHUNK)),
        },
    )
    assert answer.status_code == 413
    assert body.pulled == 0


async def test_an_admitted_body_that_is_not_utf8_json_is_the_documented_400(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    answer = await client.post(
        "/v1/channels/europol/redrive",
        content=b"\xff\xfe{",
        headers={"Authorization": f"Bearer {tokens.operator}", "content-type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_body"


async def test_a_console_form_without_a_session_goes_to_sign_in_unread(
    client: httpx.AsyncClient,
) -> None:
    body = CountingBody(chunks=50)
    answer = await client.post(
        f"/console/deliveries/{DELIVERY}/retry",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 303
    assert "/console/login" in answer.headers["location"]
    assert body.pulled == 0


async def test_the_sign_in_form_is_capped(client: httpx.AsyncClient) -> None:
    body = CountingBody(chunks=50)
    answer = await client.post(
        "/console/login",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
    assert body.pulled <= 2


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _upload(port: int, path: str, headers: str, total: int) -> tuple[bytes, int]:
    """Send headers and up to ``total`` body bytes; stop at the server's answer or close."""
    chunk = b"x" * (1 << 20)
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
            f"Content-Length: {total}\r\n\r\n".encode()
        )
        sock.setblocking(False)
        answer = b""
        deadline = time.monotonic() + 60
        while sent < total and time.monotonic() < deadline:
            with contextlib.suppress(BlockingIOError):
                answer += sock.recv(65536)
            if answer:
                break
            try:
                sent += sock.send(chunk)
            except BlockingIOError:
                time.sleep(0.005)
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.setblocking(True)
        sock.settimeout(10)
        try:
            while b"\r\n\r\n" not in answer:
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except (ConnectionResetError, TimeoutError):
            pass
    return answer, sent


def test_a_200_mb_upload_without_a_token_is_401_with_flat_memory(
    sqlite_url: str, tmp_path: Path
) -> None:
    tokens = issue_tokens(Store(sqlite_url))
    server = GatewayProcess(
        {
            "MARRI_DATABASE_URL": sqlite_url,
            "MARRI_KEY_FILE": str(tmp_path / "keys.json"),
            "MARRI_SIGNING_KEY_FILE": str(tmp_path / "signing-key.json"),
            "MARRI_WORKER_ENABLED": "false",
            "MARRI_TEST_LOG": str(tmp_path / "gateway.log"),
        },
        free_port(),
    )
    server.start(timeout=60)
    try:
        assert server.proc is not None
        before = _rss_kib(server.proc.pid)
        total = 200 * 1024 * 1024
        json_type = "Content-Type: application/json\r\n"
        for path, headers in (
            (f"/v1/deliveries/{DELIVERY}/retry", json_type),
            ("/v1/messages", json_type),
            (f"/v1/deliveries/{DELIVERY}/retry", json_type + "Authorization: Bearer nope\r\n"),
            ("/v1/messages", json_type + f"Authorization: Bearer {tokens.sender('AL')}\r\n"),
        ):
            answer, _sent = _upload(server.port, path, headers, total)
            status = answer.split(b" ", 2)[1] if answer else b""
            expected = b"413" if "mgw_" in headers else b"401"
            assert status == expected, (path, answer[:200])
        growth_kib = _rss_kib(server.proc.pid) - before
        assert growth_kib < 4 * 1024, f"server memory grew by {growth_kib} KiB"
    finally:
        server.stop()
