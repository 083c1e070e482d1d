"""A channel lives in its own places: scaffolded into a copy of the repository and given its own
parties fact, rule and rule cases, it changes no file outside them while the policy tests and
the kit pass for it; deleting those places leaves the gateway starting with the rest."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from adapters._scaffold.scaffold import scaffold

REPO = Path(__file__).resolve().parents[2]
NAME = "kit_example"
PLACES = (
    f"adapters/{NAME}/",
    f"mappings/{NAME}/",
    f"simulators/{NAME}.py",
    f"contract_tests/cases/{NAME}/",
    f"docs/channels/{NAME}.md",
)
OWN_INSTRUMENT = f"""
instruments:
  {NAME}_agreement:
    title: Parties to the {NAME} agreement
    cite: Agreement on the {NAME} exchange, Art. 2
    entries:
      - {{country: RS, since: 2020-01-01, confirmed: true, source: "the agreement's Art. 2"}}
      - {{country: AL, party: false, confirmed: true, source: "the agreement's Art. 2"}}
"""
OWN_RULE = f"""  - id: {NAME}.sender_party
    cite: "Agreement on the {NAME} exchange, Art. 2"
    checks: The sending country is a party to the agreement.
    expression: "sender.country in parties.{NAME}_agreement"
    outcome: deny
    message: The sending country is not a party to the {NAME} agreement.
"""
OWN_CASE = f"""- rule: {NAME}.sender_party
  example: message.json
  fails:
    set: {{sender.country: AL}}
"""


def run(root: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def copy_of_the_repository(target: Path) -> Path:
    """The tracked files of this checkout, committed in a fresh repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, timeout=60, check=True
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        source = REPO / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "copy")
    return target


def changed_outside_the_places(root: Path) -> list[str]:
    status = git(root, "status", "--porcelain", "--untracked-files=all")
    paths = [line[3:] for line in status.splitlines()]
    return [p for p in paths if not p.startswith(PLACES)]


def write_the_channels_facts(root: Path) -> None:
    """What a developer writes: a real citation, an own instrument, a rule on it, its case."""
    mappings = root / "mappings" / NAME
    rules = mappings / "rules.yaml"
    text = re.sub(
        r"TODO: the instrument [^\n]*", "Agreement on the exchange, Art. 2", rules.read_text()
    )
    text = text.replace("TODO: instrument, article on the transfer of personal data", "Art. 9")
    rules.write_text(text + OWN_RULE, encoding="utf-8")
    parties = mappings / "parties.yaml"
    parties.write_text(parties.read_text().replace("instruments: {}\n", OWN_INSTRUMENT))
    cases = mappings / "cases.yaml"
    cases.write_text(cases.read_text() + OWN_CASE, encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def assert_gateway_starts(root: Path, tmp: Path) -> None:
    """``serve`` from the copy, on its mappings, answers /readyz; then it is stopped."""
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "MARRI_DATABASE_URL": f"sqlite:///{tmp / 'gw.db'}",
        "MARRI_KEY_FILE": str(tmp / "keys.json"),
        "MARRI_MAPPINGS_DIR": str(root / "mappings"),
        "MARRI_SANDBOX_TOKENS": str(tmp / "no-sandbox-tokens.json"),
    }
    cli = ["-c", "from gateway.cli import app; app()"]
    upgraded = subprocess.run(
        [sys.executable, *cli, "db", "upgrade"], cwd=root, env=env, capture_output=True, timeout=120
    )
    assert upgraded.returncode == 0, upgraded.stderr[-2000:]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, *cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (
                server.stderr.read().decode()[-2000:] if server.stderr else ""
            )
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    assert r.status == 200
                    return
            except OSError:
                assert time.monotonic() < deadline, "the gateway did not start in 60 s"
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_a_channel_touches_only_its_own_places(tmp_path: Path) -> None:
    root = copy_of_the_repository(tmp_path / "repo")
    scaffold(NAME, root)
    write_the_channels_facts(root)
    docs = run(root, "-m", "gateway.policy.docs")
    assert docs.returncode == 0, docs.stderr
    assert changed_outside_the_places(root) == []
    assert (root / "docs" / "channels" / f"{NAME}.md").is_file()
    assert f"{NAME}_agreement" in (root / "docs" / "channels" / f"{NAME}.md").read_text()

    policy = run(
        root,
        *("-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", f"{NAME} or docs or every_rule"),
        *("tests/policy/test_rules.py", "tests/policy/test_docs_and_report.py"),
    )
    assert policy.returncode == 0, policy.stdout[-3000:]
    # both rules of the channel, passing and failing: 2 rules x 2 tests
    assert int(re.findall(r"(\d+) passed", policy.stdout)[-1]) >= 4 + 2, policy.stdout[-500:]
    kit = run(
        root,
        *("-m", "pytest", "-q", "-p", "no:cacheprovider", "contract_tests/test_policy.py"),
        *("--kit-channel", NAME),
    )
    assert kit.returncode == 0, kit.stdout[-3000:]
    assert "2 passed" in kit.stdout, kit.stdout[-500:]

    for place in PLACES:
        path = root / place
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert git(root, "status", "--porcelain", "--untracked-files=all") == ""
    assert_gateway_starts(root, tmp_path)
