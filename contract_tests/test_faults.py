"""The fault matrix against each channel's real simulator over HTTP on 127.0.0.1.

Every adapter must turn each destination misbehaviour into the error class the worker needs,
never carry personal data in the error text, and put the idempotency key and the trace context
on the wire.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Adapter, Payload, SendContext
from adapters.errors import DeliveryError, OutcomeUnknown, PermanentError, TransientError
from contract_tests import kit
from simulators import Fault

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

FAULT_MATRIX: list[tuple[str, Fault | None, type[DeliveryError], dict[str, Any]]] = [
    ("http_500", Fault("status", status=500), TransientError, {"http_status": 500}),
    (
        "http_503_retry_after",
        Fault("status", status=503, retry_after="7"),
        TransientError,
        {"http_status": 503, "retry_after_s": 7.0},
    ),
    (
        "http_429",
        Fault("status", status=429, retry_after="2"),
        TransientError,
        {"http_status": 429},
    ),
    ("http_400", Fault("status", status=400), PermanentError, {"http_status": 400}),
    ("soap_client_fault", Fault("soap_client_fault"), PermanentError, {}),
    ("soap_server_fault", Fault("soap_server_fault"), TransientError, {}),
    ("malformed_reply", Fault("malformed"), OutcomeUnknown, {}),
    ("dropped_connection", Fault("drop"), OutcomeUnknown, {}),
    ("read_timeout_after_send", Fault("timeout", seconds=2.5), OutcomeUnknown, {}),
]


def _first_case_payload(adapter: Adapter, roots: list[Path]) -> tuple[Payload, list[str]]:
    case = kit.golden_cases([adapter.name], roots)[0]
    message = case.message()
    return kit.render_for_kit(adapter, message, case.decision_overrides()), kit.personal_strings(
        message
    )


async def _close(adapter: Adapter) -> None:
    await adapter.aclose()


@pytest.mark.parametrize(
    ("fault", "expected", "attributes"),
    [pytest.param(f, e, a, id=name) for name, f, e, a in FAULT_MATRIX],
)
async def test_fault_gives_required_error_class(
    adapter: Adapter,
    kit_simulators: Any,
    kit_roots: list[Path],
    fault: Fault,
    expected: type[DeliveryError],
    attributes: dict[str, Any],
) -> None:
    payload, personal = _first_case_payload(adapter, kit_roots)
    simulator = kit_simulators.simulator(adapter.name)
    simulator.clear()
    simulator.inject(fault)
    context = SendContext(
        url=kit_simulators[adapter.name],
        idempotency_key=f"kit-{adapter.name}-{fault.kind}",
        traceparent=TRACEPARENT,
        connect_timeout_s=2.0,
        read_timeout_s=1.0,
    )
    try:
        with pytest.raises(DeliveryError) as info:
            await adapter.send(payload, context)
    finally:
        await _close(adapter)
    assert type(info.value) is expected, f"{fault.kind}: got {type(info.value).__name__}"
    for name, value in attributes.items():
        assert getattr(info.value, name) == value
    assert simulator.stats["faults"] == 1
    for value in personal:
        assert value not in str(info.value)


async def test_connection_refused_is_transient(adapter: Adapter, kit_roots: list[Path]) -> None:
    payload, personal = _first_case_payload(adapter, kit_roots)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    context = SendContext(url=f"http://127.0.0.1:{port}/", idempotency_key="kit-refused")
    try:
        with pytest.raises(TransientError) as info:
            await adapter.send(payload, context)
    finally:
        await _close(adapter)
    assert info.value.__cause__ is not None, "library errors are chained with `from exc`"
    for value in personal:
        assert value not in str(info.value)


async def test_schema_rejection_is_permanent_without_personal_data(
    adapter: Adapter, kit_simulators: Any, kit_roots: list[Path]
) -> None:
    payload, personal = _first_case_payload(adapter, kit_roots)
    broken = replace(payload, body=payload.body[: len(payload.body) // 2])
    simulator = kit_simulators.simulator(adapter.name)
    simulator.clear()
    context = SendContext(url=kit_simulators[adapter.name], idempotency_key="kit-broken")
    try:
        with pytest.raises(PermanentError) as info:
            await adapter.send(broken, context)
    finally:
        await _close(adapter)
    assert simulator.stats["rejected"] == 1
    assert simulator.inbox() == []
    for value in personal:
        assert value not in str(info.value)


async def test_key_and_trace_on_the_wire_and_repeat_is_duplicate(
    adapter: Adapter, kit_simulators: Any, kit_roots: list[Path]
) -> None:
    payload, _ = _first_case_payload(adapter, kit_roots)
    simulator = kit_simulators.simulator(adapter.name)
    simulator.clear()
    context = SendContext(
        url=kit_simulators[adapter.name],
        idempotency_key=f"kit-{adapter.name}-key",
        traceparent=TRACEPARENT,
    )
    try:
        first = await adapter.send(payload, context)
        again = await adapter.send(payload, context)
    finally:
        await _close(adapter)
    assert not first.duplicate
    assert again.duplicate
    assert again.reference == first.reference
    (entry,) = simulator.inbox()
    assert entry.idempotency_key == context.idempotency_key
    assert entry.traceparent is not None
    assert entry.traceparent.split("-")[1] == TRACEPARENT.split("-")[1]
    assert entry.body.encode() == payload.body
    assert simulator.stats["duplicates"] == 1


async def test_every_example_arrives_through_the_real_transport(
    example_path: tuple[str, Path], kit_registry: Any, kit_simulators: Any
) -> None:
    channel, path = example_path
    adapter = kit_registry.get(channel)
    payload = kit.render_for_kit(adapter, kit.load_message(path))
    simulator = kit_simulators.simulator(channel)
    simulator.clear()
    context = SendContext(url=kit_simulators[channel], idempotency_key=f"example-{path.stem}")
    try:
        receipt = await adapter.send(payload, context)
    finally:
        await _close(adapter)
    assert receipt.reference
    assert [entry.body.encode() for entry in simulator.inbox()] == [payload.body]
