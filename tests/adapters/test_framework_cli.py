"""The adapter commands as an operator runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("marri-gateway")
CASE = REPO / "contract_tests/cases/europol/xk-information"


def run(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(CLI), *map(str, args)], cwd=REPO, capture_output=True, timeout=120, check=False
    )


def test_adapters_list_shows_every_channel_with_its_profile() -> None:
    result = run("adapters", "list")
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    for name, profile in (("europol", "siena-1.0"), ("selec", "selec-1.0")):
        line = next(line for line in text.splitlines() if f" {name} " in line)
        assert profile in line


def test_render_prints_exactly_the_golden_bytes_for_an_allowed_message() -> None:
    # The rule pack allows this case (decision.json), so nothing is redacted.
    result = run("render", "--channel", "europol", CASE / "input.json")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (CASE / "payload.xml").read_bytes()


def test_render_of_a_denied_channel_prints_nothing_and_cites_the_rule() -> None:
    result = run("render", "--channel", "selec", "--recipient", "RS", CASE / "input.json")
    assert result.returncode == 1
    assert result.stdout == b""
    assert b"selec.member_sender" in result.stderr
