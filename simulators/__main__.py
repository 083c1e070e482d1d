"""``python -m simulators --all --port-base 8701``: run channel simulators until interrupted."""

from __future__ import annotations

import argparse
import signal
import threading

from simulators import start_simulators


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("channels", nargs="*", help="channels to simulate")
    parser.add_argument("--all", action="store_true", help="every registered channel")
    parser.add_argument("--port-base", type=int, default=0, help="first port (0: ephemeral)")
    args = parser.parse_args(argv)
    if not args.all and not args.channels:
        parser.error("name channels or pass --all")
    running = start_simulators(None if args.all else args.channels, port_base=args.port_base)
    for channel, url in sorted(running.items()):
        print(f"{channel:10} {url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    running.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
