"""Lifecycle of every adapter against its real simulator: what ``aclose`` closes, what ``ping``
and ``status`` answer.

The worker calls ``aclose`` at shutdown and tests call it at teardown; a client left open keeps
a socket to the destination for the life of the process. The simulator's server counts the
connections it holds, so the count is the destination's view, whatever the adapter opened.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from adapters.base import Adapter, Reachability, Receipt, SendContext, Unreconciled
from adapters.errors import TransientError
from contract_tests import kit

SETTLE_S = 3.0
POLL_S = 0.02


def _payload(adapter: Adapter, roots: list[Path]) -> Any:
    case = kit.golden_cases([adapter.name], roots)[0]
    return kit.render_for_kit(adapter, case.message(), case.decision_overrides())


async def _settled(count: Any, expected: int) -> int:
    """The connection count once it reaches ``expected`` or ``SETTLE_S`` passes: the server
    learns of a close when the closing packet arrives, shortly after ``aclose`` returns."""
    for _ in range(int(SETTLE_S / POLL_S)):
        if count() == expected:
            break
        await asyncio.sleep(POLL_S)
    return int(count())


async def test_aclose_leaves_no_connection_open(
    adapter: Adapter, kit_simulators: Any, kit_roots: list[Path]
) -> None:
    payload = _payload(adapter, kit_roots)
    server = kit_simulators.servers[adapter.name]
    kit_simulators.simulator(adapter.name).clear()
    context = SendContext(url=kit_simulators[adapter.name], idempotency_key="kit-lifecycle")
    try:
        await asyncio.gather(*(adapter.send(payload, context) for _ in range(3)))
        # Kept alive for the next send: proof that the count sees this adapter's connections.
        assert server.open_connections() >= 1
    finally:
        await adapter.aclose()
    assert await _settled(server.open_connections, 0) == 0
    await adapter.aclose()  # a second close is harmless


async def test_an_adapter_sends_again_after_aclose(
    adapter: Adapter, kit_simulators: Any, kit_roots: list[Path]
) -> None:
    payload = _payload(adapter, kit_roots)
    kit_simulators.simulator(adapter.name).clear()
    context = SendContext(url=kit_simulators[adapter.name], idempotency_key="kit-reopen")
    try:
        first = await adapter.send(payload, context)
        await adapter.aclose()
        again = await adapter.send(payload, context)
    finally:
        await adapter.aclose()
    assert again.duplicate
    assert again.reference == first.reference


async def test_ping_reaches_the_destination_without_delivering(
    adapter: Adapter, kit_simulators: Any
) -> None:
    simulator = kit_simulators.simulator(adapter.name)
    simulator.clear()
    context = SendContext(url=kit_simulators[adapter.name], idempotency_key="kit-ping")
    try:
        answer = await adapter.ping(context)
    finally:
        await adapter.aclose()
    assert isinstance(answer, Reachability)
    assert simulator.inbox() == []
    assert simulator.stats["received"] == 0


async def test_ping_of_a_closed_port_is_transient(adapter: Adapter) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    context = SendContext(url=f"http://127.0.0.1:{port}/", idempotency_key="kit-ping-refused")
    outcome: Reachability | TransientError
    try:
        outcome = await adapter.ping(context)
    except TransientError as exc:
        outcome = exc
    finally:
        await adapter.aclose()
    if isinstance(outcome, Reachability):
        assert outcome is Reachability.CANNOT_CHECK, "nothing listens there, yet the ping answered"
    else:
        assert outcome.__cause__ is not None, "library errors are chained with `from exc`"


async def test_status_never_invents_a_receipt(adapter: Adapter, kit_simulators: Any) -> None:
    """A delivery the destination never saw is not reconciled into a delivered one."""
    kit_simulators.simulator(adapter.name).clear()
    probe = Receipt(reference=None, http_status=0, details={"idempotency_key": "kit-never-sent"})
    context = SendContext(url=kit_simulators[adapter.name], idempotency_key="kit-never-sent")
    try:
        answer = await adapter.status(probe, context)
    finally:
        await adapter.aclose()
    assert isinstance(answer, Unreconciled)
