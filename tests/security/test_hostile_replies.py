"""Destination replies are untrusted: hostile XML answered by a real server on 127.0.0.1 goes
through each adapter's reply parsing (SOAP via zeep for the SOAP channels) and ends as a
delivery error or a plain receipt, never a leaked file, a hang or another exception type."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.base import SendContext
from adapters.errors import DeliveryError
from contract_tests import kit

SECRET_MARKER = "root:x:0:0"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def _soap(inner: str) -> str:
    return f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>{inner}</s:Body></s:Envelope>'


HOSTILE_REPLIES = [
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    + _soap("<r>&x;</r>"),
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p"> %p;]>'
    + _soap("<r/>"),
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    + "".join(
        f'<!ENTITY a{i} "{("&a" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
    + _soap("<r>&a9;</r>"),
    _soap("<r>" + "<d>" * 5000 + "</d>" * 5000 + "</r>"),
    _soap("<r>" + "A" * 3_000_000 + "</r>"),
    _soap('<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>'),
    _soap(
        "<s:Fault><faultcode>s:Client</faultcode><faultstring>&lt;!DOCTYPE</faultstring></s:Fault>"
    ),
    "not xml at all <",
    "",
]


@dataclass
class HostileServer:
    url: str
    state: dict[str, Any] = field(default_factory=dict)


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    state: dict[str, Any] = {"body": b"", "status": 200, "type": "text/xml; charset=utf-8"}

    async def reply(request: Request) -> Response:
        await request.body()
        return Response(state["body"], status_code=state["status"], media_type=state["type"])

    app = Starlette(routes=[Route("/{path:path}", reply, methods=["POST", "GET"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield HostileServer(f"http://127.0.0.1:{port}/", state)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def registry() -> Any:
    return kit.kit_registry()


CHANNELS = ["europol", "selec", "frontex", "pcc_see", "interpol"]


async def _send(adapter: Any, hostile: HostileServer, body: bytes, status: int) -> str:
    """'receipt' or 'error'; anything else fails the test."""
    hostile.state["body"] = body
    hostile.state["status"] = status
    case = kit.golden_cases([adapter.name])[0]
    payload = kit.render_for_kit(adapter, case.message(), case.decision_overrides())
    context = SendContext(
        url=hostile.url,
        idempotency_key=f"hostile-{adapter.name}",
        connect_timeout_s=2.0,
        read_timeout_s=5.0,
        max_reply_bytes=1_048_576,
    )
    started = time.monotonic()
    error: DeliveryError | None = None
    receipt: Any = None
    try:
        receipt = await adapter.send(payload, context)
    except DeliveryError as exc:
        error = exc
    finally:
        await adapter.aclose()
    assert time.monotonic() - started < 10
    assert SECRET_MARKER not in (str(error) if error else repr(receipt))
    return "error" if error else "receipt"


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("index", range(len(HOSTILE_REPLIES)))
async def test_known_hostile_replies_never_succeed_quietly(
    channel: str, index: int, registry: Any, hostile: HostileServer
) -> None:
    body = HOSTILE_REPLIES[index].encode()
    outcome = await _send(registry.get(channel), hostile, body, 200)
    # A DOCTYPE, a bomb or junk is never read as an acknowledgement.
    if "<!DOCTYPE" in HOSTILE_REPLIES[index] or not HOSTILE_REPLIES[index].startswith("<s:"):
        assert outcome == "error"


fragments = st.sampled_from(
    [
        "<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>",
        "&x;",
        "<![CDATA[",
        "<s:Fault>",
        "<faultcode>s:Server</faultcode>",
        "</s:Body>",
        "<d>" * 400,
        "\x00",
        "<?xml version='1.0'?>",
    ]
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    channel=st.sampled_from(CHANNELS),
    parts=st.lists(fragments, max_size=6),
    text=st.text(max_size=100),
    status=st.sampled_from([200, 202, 400, 500]),
)
async def test_fuzzed_replies_end_as_errors_or_receipts(
    channel: str, parts: list[str], text: str, status: int, registry: Any, hostile: HostileServer
) -> None:
    body = _soap("".join(parts) + text).encode("utf-8", errors="replace")
    await _send(registry.get(channel), hostile, body, status)


@pytest.mark.parametrize("channel", ["europol", "selec"])
async def test_an_empty_soap_body_is_an_unknown_outcome(
    channel: str, registry: Any, hostile: HostileServer
) -> None:
    from adapters.errors import OutcomeUnknown

    hostile.state["body"] = _soap("").encode()
    hostile.state["status"] = 200
    adapter = registry.get(channel)
    case = kit.golden_cases([channel])[0]
    payload = kit.render_for_kit(adapter, case.message(), case.decision_overrides())
    context = SendContext(url=hostile.url, idempotency_key="hostile-empty-body")
    try:
        with pytest.raises(OutcomeUnknown):
            await adapter.send(payload, context)
    finally:
        await adapter.aclose()
