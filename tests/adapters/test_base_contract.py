"""The contract's defaults and the families' shape: what a channel gets without writing it."""

from __future__ import annotations

import gc
import inspect
import json
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from adapters._soap import SoapService
from adapters.base import Adapter, Payload, Reachability, Receipt, SendContext, Unreconciled
from adapters.europol.adapter import EuropolAdapter
from adapters.families import HttpAdapter, JsonHttpAdapter, SoapAdapter, XmlHttpAdapter
from adapters.frontex.adapter import FrontexAdapter
from adapters.interpol.adapter import InterpolAdapter
from adapters.pcc_see.adapter import PccSeeAdapter
from adapters.selec.adapter import SelecAdapter
from contract_tests import kit

SIENA_WSDL = Path(EuropolAdapter.wsdl)


class Minimal(Adapter):
    """Only what the contract makes abstract."""

    name: ClassVar[str] = "minimal"
    profile_version: ClassVar[str] = "minimal-1.0"
    products: ClassVar[tuple[str, ...]] = ("note",)
    default_product: ClassVar[str] = "note"
    content_type: ClassVar[str] = "application/json"
    schema_files: ClassVar[tuple[str, ...]] = ("test_base_contract.py",)

    def render(self, message: Any, decision: Any, recipient: str | None = None) -> Payload:
        return Payload(json.dumps({"id": str(message.message_id)}).encode(), "", "note")

    def validate_payload(self, body: bytes) -> list[str]:
        return []

    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        return Receipt(reference="r-1", http_status=200)


CONTEXT = SendContext(url="http://127.0.0.1:9/", idempotency_key="k-1")


async def test_status_defaults_to_cannot_reconcile() -> None:
    probe = Receipt(reference=None, http_status=0, details={"idempotency_key": "k-1"})
    answer = await Minimal(codes=None).status(probe, CONTEXT)
    assert answer is Unreconciled.CANNOT_RECONCILE
    assert not isinstance(answer, Receipt)


async def test_ping_defaults_to_cannot_check() -> None:
    # Nothing listens on 127.0.0.1:9, so a default that tried to connect would raise instead.
    assert await Minimal(codes=None).ping(CONTEXT) is Reachability.CANNOT_CHECK


async def test_aclose_defaults_to_nothing_and_is_idempotent() -> None:
    adapter = Minimal(codes=None)
    assert await adapter.aclose() is None
    assert await adapter.aclose() is None
    assert (await adapter.send(Payload(b"{}", "", "note"), CONTEXT)).reference == "r-1"


def test_capabilities_default_to_false_and_are_declared_where_needed() -> None:
    assert (Minimal.per_recipient, Minimal.needs_recipients) == (False, False)
    assert (PccSeeAdapter.per_recipient, PccSeeAdapter.needs_recipients) == (True, True)
    assert (SelecAdapter.per_recipient, SelecAdapter.needs_recipients) == (False, True)
    for adapter_class in (EuropolAdapter, FrontexAdapter, InterpolAdapter):
        assert (adapter_class.per_recipient, adapter_class.needs_recipients) == (False, False)


@pytest.mark.parametrize(
    ("adapter_class", "family"),
    [
        (EuropolAdapter, SoapAdapter),
        (SelecAdapter, SoapAdapter),
        (FrontexAdapter, XmlHttpAdapter),
        (PccSeeAdapter, XmlHttpAdapter),
        (InterpolAdapter, JsonHttpAdapter),
    ],
)
def test_each_channel_is_its_family_plus_profile_render_and_constants(
    adapter_class: type[Adapter], family: type[HttpAdapter]
) -> None:
    assert issubclass(adapter_class, family)
    own = {n for n, v in vars(adapter_class).items() if inspect.isfunction(v)}
    # Transport, receipts, errors and the schema check come from the family.
    assert own.isdisjoint({"send", "validate_payload", "tree_problems", "aclose", "ping"})
    assert own & {"render", "build_body"}


def test_europol_and_selec_differ_only_in_constants_and_their_body() -> None:
    def shape(cls: type[Adapter]) -> tuple[set[str], set[str]]:
        names = {n for n in vars(cls) if not n.startswith("__")}
        return {n for n in names if inspect.isfunction(vars(cls)[n])}, names

    europol_methods, europol_names = shape(EuropolAdapter)
    selec_methods, selec_names = shape(SelecAdapter)
    assert europol_methods == selec_methods == {"build_body"}
    # Selec additionally declares that its destinations must name recipients.
    assert selec_names - europol_names == {"needs_recipients"}


def _open_http_clients() -> int:
    gc.collect()
    return sum(
        1
        for obj in gc.get_objects()
        if isinstance(obj, httpx.Client | httpx.AsyncClient) and not obj.is_closed
    )


def test_loading_a_wsdl_leaves_no_client_open() -> None:
    before = _open_http_clients()
    service = SoapService("europol", SIENA_WSDL, "SubmitMessage")
    assert service.soap_action  # loaded
    assert _open_http_clients() == before


async def test_a_soap_send_and_aclose_leave_no_client_open(kit_sims: Any) -> None:
    registry = kit.kit_registry()
    adapter = registry.get("europol")
    case = kit.golden_cases(["europol"])[0]
    payload = kit.render_for_kit(adapter, case.message(), case.decision_overrides())
    before = _open_http_clients()
    context = SendContext(url=kit_sims["europol"], idempotency_key="base-soap-close")
    try:
        assert (await adapter.send(payload, context)).reference
        assert _open_http_clients() == before + 1  # the channel's one client on this loop
    finally:
        await registry.aclose()
    assert _open_http_clients() == before


@pytest.fixture
def kit_sims() -> Any:
    from simulators import start_simulators

    with start_simulators(["europol"]) as running:
        yield running
