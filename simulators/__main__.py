"""``python -m simulators --all --port-base 8701``: run channel simulators until interrupted."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from typing import Any

import httpx

from simulators import start_simulators


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("channels", nargs="*", help="channels to simulate")
    parser.add_argument("--all", action="store_true", help="every registered channel")
    parser.add_argument("--port-base", type=int, default=0, help="first port (0: ephemeral)")
    parser.add_argument(
        "--gateway-keys",
        metavar="URL_OR_FILE",
        help="the gateway's JWK set (its /v1/keys/signing, or a file): check every signature",
    )
    args = parser.parse_args(argv)
    if not args.all and not args.channels:
        parser.error("name channels or pass --all")
    jwks = _gateway_keys(args.gateway_keys) if args.gateway_keys else None
    running = start_simulators(
        None if args.all else args.channels, port_base=args.port_base, jwks=jwks
    )
    for channel, url in sorted(running.items()):
        print(f"{channel:10} {url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    running.stop()
    return 0


def _gateway_keys(where: str) -> Any:
    """The JWK set fetched from the gateway once at start, or read from a file."""
    if where.startswith(("http://", "https://")):
        return httpx.get(where, timeout=10.0).raise_for_status().json()
    return json.loads(Path(where).read_text(encoding="utf-8"))


if __name__ == "__main__":
    raise SystemExit(main())
