"""Webhook URLs the gateway will not call (server-side request forgery): refused at subscribe
time with a clear 422, and again at send time after the host is resolved, connecting to the
address that was checked and never following a redirect; on SQLite and PostgreSQL."""

from __future__ import annotations

import ipaddress
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from gateway.config import Settings
from gateway.delivery.webhooks import WebhookNotifier
from gateway.events.egress import (
    EgressPolicy,
    IPAddress,
    guarded_client,
    parse_networks,
)
from gateway.events.outbox import EventType, record_event
from gateway.events.subscriptions import new_secret
from gateway.store.crypto import Keyring, load_or_create_keyring
from gateway.store.engine import Store
from gateway.store.tables import notification_attempts, notifications, utcnow
from tests.api.gateway_process import free_port
from tests.api.helpers import auth
from tests.conftest import Tokens, make_settings
from tests.events._support import LOOPBACK_ALLOWED, running_receiver, subscribe

REFUSED_ADDRESSES = [
    ("127.0.0.1", "loopback"),
    ("127.9.9.9", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("192.168.1.1", "private"),
    ("fd00::1", "private"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"),
    ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("240.0.0.1", "reserved"),
    ("100.64.0.1", "not global"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
    ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
]


@pytest.mark.parametrize(("address", "kind"), REFUSED_ADDRESSES)
def test_internal_addresses_are_refused_unless_allowed(address: str, kind: str) -> None:
    ip = ipaddress.ip_address(address)
    reason = EgressPolicy().address_refusal(ip)
    assert reason is not None
    assert reason.startswith(kind)
    allowed = EgressPolicy(
        allowed_networks=parse_networks([f"{address}/128" if ":" in address else f"{address}/32"])
    )
    assert allowed.address_refusal(ip) is None


def test_public_addresses_and_named_networks_are_allowed() -> None:
    policy = EgressPolicy(allowed_networks=parse_networks(["10.20.0.0/16"]))
    for address in ("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "10.20.1.1"):
        assert policy.address_refusal(ipaddress.ip_address(address)) is None
    assert policy.address_refusal(ipaddress.ip_address("10.21.0.1")) == "private address"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://93.184.215.14/hook", "scheme must be http or https"),
        ("file:///etc/passwd", "scheme must be http or https"),
        ("gopher://93.184.215.14/", "scheme must be http or https"),
        ("http://93.184.215.14/hook", "https required"),
        ("https://user:pw@93.184.215.14/hook", "credentials in the URL"),
        ("https://user@93.184.215.14/hook", "credentials in the URL"),
        ("https://93.184.215.14:99999/", "malformed URL"),
        ("https://93.184.215.14/a b", "malformed URL"),
        ("https:///hook", "no host"),
    ],
)
def test_urls_refused_on_their_text(url: str, reason: str) -> None:
    assert EgressPolicy().url_refusal(url) == reason


def test_http_may_be_allowed_by_the_deployment() -> None:
    assert EgressPolicy(require_https=False).url_refusal("http://93.184.215.14/hook") is None


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # One documentation network stands for a national system's internal network.
    return make_settings(db_url, tmp_path, webhook_allowed_networks=("203.0.113.0/24",))


async def test_subscribing_an_internal_url_is_a_clear_422(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    al = auth(tokens.sender("AL"))
    refused = [
        "http://127.0.0.1:8080/hook",
        "https://localhost/hook",  # a name: refused for what it resolves to
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://2130706433/hook",  # 127.0.0.1 written as one number
        "https://10.0.0.5/hook",
        "https://192.168.0.10/hook",
        "https://[fd12::1]/hook",
        "https://224.0.0.251/hook",
        "https://0.0.0.0/hook",
        "https://user:secret@203.0.113.10/hook",
        "http://203.0.113.10/hook",
        "gopher://203.0.113.10/",
        "https://no-such-host.invalid/hook",
    ]
    for url in refused:
        body = {"url": url, "event_types": ["delivery.delivered"]}
        answer = await client.post("/v1/subscriptions", json=body, headers=al)
        assert answer.status_code == 422, (url, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "webhook_url_refused", (url, error)
        assert url not in answer.text
        assert "secret" not in error["message"]
    listed = (await client.get("/v1/subscriptions", headers=al)).json()["items"]
    assert listed == []
    named = {"url": "https://203.0.113.10/marri/events", "event_types": ["reply.received"]}
    made = await client.post("/v1/subscriptions", json=named, headers=al)
    assert made.status_code == 201, made.text


def _event(store: Store) -> None:
    message_id = str(uuid.uuid4())
    store.write_sync(
        lambda conn: record_event(
            conn,
            type=EventType.DELIVERY_DELIVERED,
            country="AL",
            agency="Test agency",
            message_id=message_id,
            rank=3,
            data={"message_id": message_id, "state": "delivered"},
            now=utcnow(),
        )
    )


def _notifier(store: Store, keyring: Keyring, policy: EgressPolicy) -> WebhookNotifier:
    return WebhookNotifier(
        store=store,
        keyring=keyring,
        worker_id="w-egress",
        lease_s=30,
        poll_interval_s=0.05,
        egress=policy,
    )


@pytest.fixture
def store(db_url: str) -> Store:
    return Store(db_url)


async def test_a_send_to_an_address_that_is_now_internal_is_never_made(
    store: Store, tmp_path: Path
) -> None:
    keyring = load_or_create_keyring(tmp_path / "keys.json")
    secret = new_secret()
    with running_receiver(secret) as (url, receiver, _received):
        # Stored as if its host had resolved to a public address when it was subscribed.
        subscribe(store, keyring, url.replace("127.0.0.1", "localhost"), secret)
        _event(store)
        notifier = _notifier(store, keyring, EgressPolicy(require_https=False))
        async with notifier.client() as http:
            assert await notifier.run_once(http) == 1
        assert receiver.accepted + receiver.rejected == 0
        [row] = store.read_sync(lambda conn: conn.execute(select(notifications)).all())
        assert (row.state, row.last_error) == ("failed", "AddressRefused")
        [attempt] = store.read_sync(lambda conn: conn.execute(select(notification_attempts)).all())
        assert attempt.outcome == "permanent"

        # The same receiver on a network the deployment allows is reached.
        _event(store)
        allowed = _notifier(store, keyring, LOOPBACK_ALLOWED)
        async with allowed.client() as http:
            assert await allowed.run_once(http) == 1
        assert receiver.accepted == 1


async def test_the_send_connects_to_the_address_it_checked(store: Store, tmp_path: Path) -> None:
    keyring = load_or_create_keyring(tmp_path / "keys.json")
    secret = new_secret()
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[IPAddress]:
        # A name no system resolver knows: reached only through the address checked here.
        asked.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    with running_receiver(secret) as (url, receiver, _received):
        subscribe(store, keyring, url.replace("127.0.0.1", "receiver.gateway-test"), secret)
        for _ in range(2):
            _event(store)
        notifier = _notifier(store, keyring, LOOPBACK_ALLOWED)
        async with guarded_client(LOOPBACK_ALLOWED, timeout_s=5, resolver=resolver) as http:
            assert await notifier.run_once(http) == 2
        assert receiver.accepted == 2
    assert set(asked) == {"receiver.gateway-test"}
    states = store.read_sync(lambda conn: conn.execute(select(notifications.c.state)).all())
    assert {s for (s,) in states} == {"delivered"}


class _Redirecting(BaseHTTPRequestHandler):
    target = ""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(307)
        self.send_header("Location", self.target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


async def test_a_redirect_is_not_followed(store: Store, tmp_path: Path) -> None:
    keyring = load_or_create_keyring(tmp_path / "keys.json")
    secret = new_secret()
    with running_receiver(secret) as (target, receiver, _received):
        handler = type("Redirect", (_Redirecting,), {"target": target})
        server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            subscribe(store, keyring, f"http://127.0.0.1:{server.server_port}/hook", secret)
            _event(store)
            notifier = _notifier(store, keyring, LOOPBACK_ALLOWED)
            async with notifier.client() as http:
                assert await notifier.run_once(http) == 1
        finally:
            server.shutdown()
            server.server_close()
        assert receiver.accepted + receiver.rejected == 0
    [row] = store.read_sync(lambda conn: conn.execute(select(notifications)).all())
    assert (row.state, row.last_http_status) == ("failed", 307)
