"""The command line a ministry engineer uses first: validate, token create, db upgrade."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from sqlalchemy import select

from gateway.store.engine import Store
from gateway.store.tables import api_tokens
from tests.api.gateway_process import BIN
from tests.conftest import ROOT, example_paths


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_accepts_every_example() -> None:
    for path in example_paths():
        result = run("validate", str(path))
        assert result.returncode == 0, result.stderr
        assert "valid" in result.stdout


def test_validate_lists_violations_like_the_api(tmp_path: Path) -> None:
    data = json.loads(example_paths()[0].read_text(encoding="utf-8"))
    data["persons"] = [dict(data.get("persons", [{}])[0], favourite="Dragana-Secret")]
    data["kind"] = "rumour"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    result = run("validate", str(bad))
    assert result.returncode == 2
    assert "$.persons[0].favourite" in result.stderr
    assert "$.kind" in result.stderr
    assert "Dragana" not in result.stderr + result.stdout


def test_token_create_prints_once_and_stores_only_the_hash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gw.db'}"
    env = {"MARRI_DATABASE_URL": url}
    assert run("db", "upgrade", env=env).returncode == 0
    result = run(
        "token",
        "create",
        "--role",
        "sender",
        "--country",
        "al",
        "--agency",
        "State Police",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("mgw_")
    store = Store(url)
    try:
        row = store.read_sync(lambda c: c.execute(select(api_tokens)).one())
    finally:
        store.close()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.country == "AL"
    assert row.role == "sender"
    assert token.encode() not in (tmp_path / "gw.db").read_bytes()

    refused = run("token", "create", "--role", "sender", env=env)
    assert refused.returncode == 2
    assert "--country" in refused.stderr
