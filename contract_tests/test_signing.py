"""Every channel's payload carries the gateway's signature in its transport's form, and the
channel's simulator, given the gateway's JWK set, refuses it once one byte changed on the way.

The signature is the adapter's ``sign`` (its family's form: enveloped XML-DSig, a WS-Security
header, or a detached JWS header); the simulator checks it with ``verify_signature`` against
the JWK set alone, and its refusal must reach the worker as a permanent error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey

from adapters.base import Adapter, Payload, PayloadSigner, SendContext
from adapters.errors import PermanentError
from contract_tests import kit
from simulators import Fault


def _signer(key_id: str) -> PayloadSigner:
    return PayloadSigner(key_id, ec.generate_private_key(ec.SECP256R1()))


def _jwks(*signers: PayloadSigner) -> dict[str, Any]:
    keys = []
    for signer in signers:
        public = ECKey.import_key(signer.private_key.public_key()).as_dict(private=False)
        keys.append({**public, "kid": signer.key_id, "use": "sig", "alg": "ES256"})
    return {"keys": keys}


@pytest.fixture
def gateway_key() -> PayloadSigner:
    return _signer("gw-test-1")


@pytest.fixture
def checking(
    adapter: Adapter, kit_simulators: Any, gateway_key: PayloadSigner
) -> Iterator[Any]:
    """The channel's simulator, trusting the gateway key, for this test only."""
    simulator = kit_simulators.simulator(adapter.name)
    simulator.clear()
    simulator.trust(_jwks(gateway_key))
    try:
        yield simulator
    finally:
        simulator.trust(None)


def _payload(adapter: Adapter, roots: list[Path]) -> Payload:
    case = kit.golden_cases([adapter.name], roots)[0]
    return kit.render_for_kit(adapter, case.message(), case.decision_overrides())


async def _send(adapter: Adapter, url: str, payload: Payload, key: str) -> Any:
    try:
        return await adapter.send(payload, SendContext(url=url, idempotency_key=key))
    finally:
        await adapter.aclose()


async def test_signed_payload_is_accepted_and_checks_back_to_the_render(
    adapter: Adapter,
    kit_simulators: Any,
    kit_roots: list[Path],
    gateway_key: PayloadSigner,
    checking: Any,
) -> None:
    rendered = _payload(adapter, kit_roots)
    signed = adapter.sign(rendered, gateway_key)
    assert signed != rendered, "signing changed nothing"
    receipt = await _send(adapter, kit_simulators[adapter.name], signed, f"sig-{adapter.name}")
    assert receipt.reference
    (entry,) = checking.inbox()
    assert entry.body.encode() == signed.body
    # What the signature covers is what was rendered: the schema check runs on it.
    verified = adapter.verify_signature(
        signed.body, {k.lower(): v for k, v in signed.headers.items()}, checking.trusted_keys
    )
    assert adapter.validate_payload(verified) == []


async def test_one_byte_changed_in_transit_is_refused_as_permanent(
    adapter: Adapter,
    kit_simulators: Any,
    kit_roots: list[Path],
    gateway_key: PayloadSigner,
    checking: Any,
) -> None:
    signed = adapter.sign(_payload(adapter, kit_roots), gateway_key)
    checking.inject(Fault("tamper"))
    with pytest.raises(PermanentError) as info:
        await _send(adapter, kit_simulators[adapter.name], signed, f"tamper-{adapter.name}")
    assert checking.stats["unsigned"] == 1
    assert checking.inbox() == []
    assert "signature" in str(info.value) or info.value.http_status in (400, 500)


async def test_unsigned_or_foreign_signed_payload_is_refused(
    adapter: Adapter,
    kit_simulators: Any,
    kit_roots: list[Path],
    checking: Any,
) -> None:
    rendered = _payload(adapter, kit_roots)
    url = kit_simulators[adapter.name]
    with pytest.raises(PermanentError):
        await _send(adapter, url, rendered, f"unsigned-{adapter.name}")
    # Signed under the gateway's key id, but by a key the JWK set does not hold.
    impostor = adapter.sign(rendered, _signer("gw-test-1"))
    with pytest.raises(PermanentError):
        await _send(adapter, url, impostor, f"impostor-{adapter.name}")
    assert checking.stats["unsigned"] == 2
    assert checking.inbox() == []
