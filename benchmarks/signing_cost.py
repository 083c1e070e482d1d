"""What one signature costs per channel: ``python -m benchmarks.signing_cost [--number 200]``.

For every delivery intake plans for ``make bench``'s five-channel message, renders the payload
once, then times the adapter's ``sign`` (the transport's form: enveloped XML-DSig, WS-Security
over the SOAP Body, detached JWS) and ``verify_signature`` against the published JWK set (what
a receiver pays), in µs per call, best of ``--repeat`` runs. ``make bench`` reports it beside
intake and delivery measured with signing on and off.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from typing import Any

from adapters._signing import trusted_keys
from adapters.registry import load_registry
from benchmarks.render_cost import bench_message_deliveries, best_us
from gateway.security.signing_key import SigningKeys


def run(number: int = 100, repeat: int = 3) -> dict[str, Any]:
    """µs per ``sign`` and per ``verify_signature``, per delivery, and their sums per message."""
    keys = SigningKeys.generate()
    signer = keys.signer()
    trusted = trusted_keys(keys.public_jwks())
    deliveries, messages = bench_message_deliveries(load_registry())
    message = next(messages)
    figures: dict[str, Any] = {"sign_us": {}, "verify_us": {}}
    for label, adapter, decision, recipient in deliveries:
        payload = adapter.render(message, decision, recipient)
        signed = adapter.sign(payload, signer)
        headers = {k.lower(): v for k, v in signed.headers.items()}
        sign = partial(adapter.sign, payload, signer)
        verify = partial(adapter.verify_signature, signed.body, headers, trusted)
        figures["sign_us"][label] = round(best_us(sign, number, repeat), 1)
        figures["verify_us"][label] = round(best_us(verify, number, repeat), 1)
    figures["sign_us_per_message"] = round(sum(figures["sign_us"].values()), 1)
    figures["verify_us_per_message"] = round(sum(figures["verify_us"].values()), 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.signing_cost", description=__doc__)
    parser.add_argument("--number", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(run(args.number, args.repeat), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
