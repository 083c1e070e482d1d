"""The HTTP transport against a real simulator on 127.0.0.1: every outcome gets its error class."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import ClassVar

import pytest

from adapters._http import HttpChannel, HttpReply, parse_retry_after
from adapters.base import Payload, Receipt, SendContext
from adapters.errors import OutcomeUnknown, PermanentError, TransientError
from simulators._base import ChannelSimulator, Fault
from simulators._server import SimulatorServer


class JsonEcho:
    """A minimal channel: any JSON object with an "id" is valid."""

    name: ClassVar[str] = "jsonecho"

    def validate_payload(self, body: bytes) -> list[str]:
        try:
            doc = json.loads(body)
        except ValueError:
            return ["$: not JSON"]
        return [] if isinstance(doc, dict) and "id" in doc else ["$.id: required"]

    def without_signature(self, body: bytes) -> bytes:
        """Unsigned: the simulator reads the body as sent."""
        return body


def read_receipt(reply: HttpReply) -> Receipt:
    doc = json.loads(reply.body)
    return Receipt(reference=doc["reference"], http_status=reply.status, duplicate=doc["duplicate"])


PAYLOAD = Payload(body=b'{"id": "m1"}', content_type="application/json", product="p")


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(ChannelSimulator(JsonEcho())) as srv:  # type: ignore[arg-type]
        yield srv


@pytest.fixture
async def channel(server: SimulatorServer) -> AsyncIterator[HttpChannel]:
    server.simulator.clear()
    http = HttpChannel("jsonecho")
    yield http
    await http.aclose()


def ctx(url: str, key: str = "k-1", **kw: object) -> SendContext:
    return SendContext(
        url=url, idempotency_key=key, traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01", **kw
    )  # type: ignore[arg-type]


async def test_delivery_carries_key_and_trace_and_dedups(
    server: SimulatorServer, channel: HttpChannel
) -> None:
    first = await channel.send(PAYLOAD, ctx(server.url), read_receipt)
    again = await channel.send(PAYLOAD, ctx(server.url), read_receipt)
    assert first.http_status == 201
    assert not first.duplicate
    assert again.duplicate
    assert again.reference == first.reference
    (entry,) = server.simulator.inbox()
    assert entry.idempotency_key == "k-1"
    assert entry.traceparent is not None
    assert entry.traceparent.startswith("00-aaaa")
    assert entry.duplicates == 1
    assert server.simulator.stats["duplicates"] == 1


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        (Fault("status", status=500), TransientError, 500),
        (Fault("status", status=503, retry_after="7"), TransientError, 503),
        (Fault("status", status=429, retry_after="3"), TransientError, 429),
        (Fault("status", status=408), TransientError, 408),
        (Fault("status", status=400), PermanentError, 400),
        (Fault("status", status=404), PermanentError, 404),
        (Fault("malformed"), OutcomeUnknown, 200),
        (Fault("drop"), OutcomeUnknown, None),
    ],
)
async def test_fault_matrix(
    server: SimulatorServer,
    channel: HttpChannel,
    fault: Fault,
    error: type[Exception],
    status: int | None,
) -> None:
    server.simulator.inject(fault)
    with pytest.raises(error) as info:
        await channel.send(PAYLOAD, ctx(server.url), read_receipt)
    assert type(info.value) is error
    assert getattr(info.value, "http_status", None) == status
    if fault.retry_after:
        assert info.value.retry_after_s == float(fault.retry_after)  # type: ignore[attr-defined]
    assert info.value.__cause__ is not None or fault.kind == "status"


async def test_read_timeout_after_send_is_unknown_and_arrived(
    server: SimulatorServer, channel: HttpChannel
) -> None:
    server.simulator.inject(Fault("timeout", seconds=2.0))
    with pytest.raises(OutcomeUnknown):
        await channel.send(PAYLOAD, ctx(server.url, read_timeout_s=0.5), read_receipt)
    assert len(server.simulator.inbox()) == 1


async def test_connection_refused_is_transient(channel: HttpChannel) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(TransientError) as info:
        await channel.send(PAYLOAD, ctx(f"http://127.0.0.1:{port}/"), read_receipt)
    assert info.value.__cause__ is not None


async def test_oversize_reply_is_permanent(server: SimulatorServer, channel: HttpChannel) -> None:
    with pytest.raises(PermanentError, match="exceeds"):
        await channel.send(PAYLOAD, ctx(server.url, max_reply_bytes=10), read_receipt)


async def test_schema_rejection_is_permanent(server: SimulatorServer, channel: HttpChannel) -> None:
    bad = Payload(body=b'{"name": "Ivana"}', content_type="application/json", product="p")
    with pytest.raises(PermanentError) as info:
        await channel.send(bad, ctx(server.url), read_receipt)
    assert "Ivana" not in str(info.value)
    assert server.simulator.stats["rejected"] == 1


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Fri, 27 Nov 2026 21:00:30 GMT", now=1795813200.0) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
