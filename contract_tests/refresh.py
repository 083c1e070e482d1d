"""Rewrite golden payloads from the current render: ``python -m contract_tests.refresh [CHANNEL]``.

Run it after a deliberate change to a profile or a mapping, then review ``git diff`` of the
``payload.*`` files: the diff is exactly what the destination would now receive differently.
``--adapter-root PATH`` adds channels from another folder (see ``contract_tests/kit.py``).
"""

from __future__ import annotations

import argparse
import json

from contract_tests import kit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contract_tests.refresh", description=__doc__)
    parser.add_argument("channels", nargs="*")
    parser.add_argument("--adapter-root", action="append", default=[])
    parser.add_argument(
        "--decisions", action="store_true", help="also record the rule pack's verdicts"
    )
    args = parser.parse_args(argv)
    roots = kit.extra_roots(args.adapter_root)
    registry = kit.kit_registry(roots)
    channels = args.channels or registry.names()
    for case in kit.golden_cases(channels, roots):
        adapter = registry.get(case.channel)
        payload = kit.render_for_kit(adapter, case.message(), case.decision_overrides())
        path = case.payload_path(adapter)
        old = path.read_bytes() if path.is_file() else None
        path.write_bytes(payload.body)
        print(f"{'unchanged' if old == payload.body else 'written  '} {path}")
        if args.decisions:
            decision_path = case.folder / "decision.json"
            recorded = case.decision_overrides()
            recorded["expected"] = kit.decide_case(case, registry, roots)
            decision_path.write_text(json.dumps(recorded, indent=2) + "\n", encoding="utf-8")
            print(f"recorded  {decision_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
