#!/usr/bin/env python3
"""Sign a canonical message for the MARRI gateway, as a national system would.

The signature is a detached JWS (RFC 7515) over the exact bytes you send, with an unencoded
payload (RFC 7797: ``"b64": false``, ``"crit": ["b64"]``); it goes in the request header
``Marri-Message-Signature``. Only joserfc is needed (``pip install joserfc``).

    # once: a key pair; register the public half with the gateway
    python examples/sign_message.py keygen --kid asp-2027-01 \\
        --private asp-2027-01.private.jwk --public asp-2027-01.public.jwk
    # per message: the header value for exactly these bytes
    python examples/sign_message.py sign --key asp-2027-01.private.jwk message.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey, import_key

HEADER = "Marri-Message-Signature"


def sign(body: bytes, private_jwk: dict[str, str]) -> str:
    """The ``Marri-Message-Signature`` value for ``body``: ``header..signature``."""
    alg = private_jwk["alg"]
    protected = {"alg": alg, "kid": private_jwk["kid"], "b64": False, "crit": ["b64"]}
    with warnings.catch_warnings():
        # joserfc flags the name "EdDSA" (RFC 9864 prefers "Ed25519"); the key is Ed25519.
        warnings.simplefilter("ignore", SecurityWarning)
        compact = jws.serialize_compact(protected, body, import_key(private_jwk), [alg])
    head, _, signature = compact.split(".")
    return f"{head}..{signature}"  # detached: the body travels as the request body


def keygen(alg: str, kid: str) -> tuple[dict[str, str], dict[str, str]]:
    """A new private key and its public half, both as JWKs naming ``kid`` and ``alg``."""
    key = ECKey.generate_key("P-256") if alg == "ES256" else OKPKey.generate_key("Ed25519")
    extra = {"kid": kid, "alg": alg, "use": "sig"}
    return {**key.as_dict(private=True), **extra}, {**key.as_dict(private=False), **extra}


def main(argv: list[str] | None = None) -> int:
    """``keygen`` writes a key pair; ``sign`` prints the header value for a message file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("keygen", help="write a new key pair as JWK files")
    gen.add_argument("--alg", choices=("ES256", "EdDSA"), default="ES256")
    gen.add_argument("--kid", required=True, help="the key id signatures will name")
    gen.add_argument("--private", type=Path, required=True, help="private JWK (mode 0600)")
    gen.add_argument("--public", type=Path, required=True, help="public JWK, to register")
    signer = commands.add_parser("sign", help="print the signature header value for a file")
    signer.add_argument("--key", type=Path, required=True, help="the private JWK")
    signer.add_argument("message", type=Path, help="the message, exactly the bytes you send")
    args = parser.parse_args(argv)
    if args.command == "keygen":
        private, public = keygen(args.alg, args.kid)
        descriptor = os.open(args.private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(private, handle)
        args.public.write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.private} (keep it secret) and {args.public} (register it)")
        return 0
    private_jwk = json.loads(args.key.read_text(encoding="utf-8"))
    print(sign(args.message.read_bytes(), private_jwk))
    return 0


if __name__ == "__main__":
    sys.exit(main())
