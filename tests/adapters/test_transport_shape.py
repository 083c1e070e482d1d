"""A REST channel declares its transport shape (endpoint path, success and duplicate statuses,
where the receipt sits) instead of needing a new family; checked against a real simulator."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from starlette.requests import Request
from starlette.responses import Response

from adapters._shape import RestShape
from adapters.base import Payload, SendContext
from adapters.errors import OutcomeUnknown
from adapters.interpol.adapter import InterpolAdapter
from gateway.policy.decision import Decision
from gateway.schema import CanonicalMessage
from simulators._base import ChannelSimulator, InboxEntry, SimReply
from simulators._server import SimulatorServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "al-yellow-notice-request.json"
PATH = "/v2/notices"


class ShapedAdapter(InterpolAdapter):
    """The same documents, sent the way another REST profile wants them."""

    transport: ClassVar[RestShape] = RestShape(
        path=PATH,
        success=frozenset({202}),
        duplicate=frozenset({409}),
        reference_field="receipt.id",
        duplicate_field=None,
    )


class ShapedSimulator(ChannelSimulator):
    """Answers 202 ``{"receipt": {"id": ...}}`` on PATH only, 409 with the same for a repeat."""

    success_status = 202

    def __init__(self, adapter: Any) -> None:
        super().__init__(adapter)
        self.paths: list[str] = []

    async def _deliver(self, request: Request) -> Response:
        self.paths.append(request.url.path)
        if request.url.path != PATH:
            return Response(status_code=404)
        return await super()._deliver(request)

    def success_reply(self, entry: InboxEntry, duplicate: bool) -> SimReply:
        body = json.dumps({"receipt": {"id": entry.reference}}).encode()
        return SimReply(409 if duplicate else self.success_status, body, "application/json")


@pytest.fixture(scope="module")
def payload() -> Payload:
    message = CanonicalMessage.model_validate(json.loads(EXAMPLE.read_text(encoding="utf-8")))
    adapter = ShapedAdapter()
    return adapter.render(message, Decision(channel="interpol", product=adapter.default_product))


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(ShapedSimulator(ShapedAdapter())) as srv:
        yield srv


async def test_declared_path_statuses_and_receipt_are_used(
    server: SimulatorServer, payload: Payload
) -> None:
    adapter = ShapedAdapter()
    context = SendContext(url=server.url, idempotency_key=str(uuid.uuid4()), read_timeout_s=5)
    try:
        first = await adapter.send(payload, context)
        again = await adapter.send(payload, context)
    finally:
        await adapter.aclose()
    assert (first.http_status, first.duplicate) == (202, False)
    assert (again.http_status, again.duplicate) == (409, True)
    assert again.reference == first.reference
    assert first.reference == server.simulator.inbox()[0].reference
    assert server.simulator.paths == [PATH, PATH]  # type: ignore[attr-defined]


async def test_a_2xx_the_profile_does_not_declare_is_an_unknown_outcome(
    server: SimulatorServer, payload: Payload
) -> None:
    server.simulator.success_status = 200
    adapter = ShapedAdapter()
    context = SendContext(url=server.url, idempotency_key=str(uuid.uuid4()), read_timeout_s=5)
    try:
        with pytest.raises(OutcomeUnknown, match="HTTP 200 is not a declared success"):
            await adapter.send(payload, context)
    finally:
        await adapter.aclose()


async def test_the_default_shape_is_the_shared_json_receipt(payload: Payload) -> None:
    """The built-in shape, unchanged: the configured URL as is, 2xx, ``reference``."""
    simulator = ChannelSimulator(InterpolAdapter())
    with SimulatorServer(simulator) as server:
        adapter = InterpolAdapter()
        context = SendContext(url=server.url, idempotency_key="k-default", read_timeout_s=5)
        try:
            receipt = await adapter.send(payload, context)
            repeat = await adapter.send(payload, context)
        finally:
            await adapter.aclose()
    assert (receipt.http_status, receipt.duplicate) == (201, False)
    assert (repeat.http_status, repeat.duplicate) == (200, True)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"path": "v2"}, "must start with '/'"),
        ({"success": frozenset({201}), "duplicate": frozenset({201})}, "both"),
        ({"success": frozenset({409})}, "2xx"),
    ],
)
def test_a_shape_that_cannot_hold_is_refused(kwargs: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        RestShape(**kwargs)
