"""The key file is never recreated over sealed rows; a bad one stops the start in one line."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.cli import keys_cmd, serve_cmd, worker_cmd
from gateway.context import build_context
from gateway.security.audit_verify import verify_chain
from gateway.store.crypto import Keyring, load_or_create_keyring
from gateway.store.engine import Store
from gateway.store.tables import audit_entries
from tests.conftest import make_settings
from tests.security.cli import run
from tests.security.rows import store_message

# serve and sandbox never get as far as listening: the keys are settled first.
STARTS = [
    (serve_cmd.register, ["serve", "--port", "1"]),
    (serve_cmd.register, ["sandbox", "--port", "1", "--simulator-port-base", "1"]),
    (worker_cmd.register, ["worker"]),
]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    yield store
    store.close()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sandbox writes under ./var; a worker needs a channel to start at all."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MARRI_CHANNELS", json.dumps({"x": {"url": "http://127.0.0.1:9/"}}))
    monkeypatch.setenv("MARRI_CHANNELS_FILE", str(tmp_path / "var" / "channels.json"))
    return tmp_path


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


@pytest.mark.parametrize(("register", "args"), STARTS, ids=["serve", "sandbox", "worker"])
def test_a_missing_key_file_over_sealed_rows_refuses_to_start(
    register: object,
    args: list[str],
    store: Store,
    db_url: str,
    in_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = in_tmp / "keys.json"
    lost = load_or_create_keyring(key_file)
    older = lost.with_new_active_key()
    store_message(store, lost)
    store_message(store, older)
    key_file.unlink()

    result = run(register, args, monkeypatch, db_url=db_url, key_file=key_file)  # type: ignore[arg-type]

    assert result.exit_code == 2, result.output
    line = one_line(result.stderr)
    assert str(key_file) in line
    assert lost.active_id in line
    assert older.active_id in line
    assert not key_file.exists()


def test_keys_list_never_writes_a_key_file(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys.json"
    result = run(keys_cmd.register, ["keys", "list"], monkeypatch, db_url=db_url, key_file=key_file)
    assert result.exit_code == 1
    assert str(key_file) in result.output
    assert not key_file.exists()

    lost = load_or_create_keyring(key_file)
    store_message(store, lost)
    key_file.unlink()
    result = run(keys_cmd.register, ["keys", "list"], monkeypatch, db_url=db_url, key_file=key_file)
    assert result.exit_code == 1
    assert f"{lost.active_id}  rows=2  MISSING FROM KEYRING" in result.output
    assert not key_file.exists()


def test_first_start_on_an_empty_store_creates_a_private_key_file(
    db_url: str, tmp_path: Path
) -> None:
    settings = make_settings(db_url, tmp_path)
    context = build_context(settings)
    try:
        created = Keyring.from_json(settings.key_file.read_text())
        assert context.keyring.keys == created.keys
    finally:
        context.close()
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    again = build_context(settings)  # the second start reads it back
    try:
        assert again.keyring.keys == created.keys
    finally:
        again.close()


def test_keys_init_creates_a_key_only_when_told_and_never_replaces_one(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys.json"
    lost = load_or_create_keyring(key_file)
    store_message(store, lost)
    key_file.unlink()

    refused = run(
        keys_cmd.register, ["keys", "init"], monkeypatch, db_url=db_url, key_file=key_file
    )
    assert refused.exit_code == 2
    assert lost.active_id in one_line(refused.stderr)
    assert not key_file.exists()

    told = run(
        keys_cmd.register,
        ["keys", "init", "--over-sealed-rows"],
        monkeypatch,
        db_url=db_url,
        key_file=key_file,
    )
    assert told.exit_code == 0, told.output
    created = key_file.read_text()
    assert lost.active_id not in Keyring.from_json(created).keys
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    again = run(keys_cmd.register, ["keys", "init"], monkeypatch, db_url=db_url, key_file=key_file)
    assert again.exit_code == 2
    assert "already exists" in again.output
    assert key_file.read_text() == created

    audited = store.read_sync(
        lambda conn: conn.execute(
            select(audit_entries.c.actor).where(audit_entries.c.action == "keys.created")
        ).all()
    )
    assert [row.actor.split(":")[0] for row in audited] == ["cli"]
    assert store.read_sync(verify_chain).intact


@pytest.mark.parametrize(
    ("content", "finding"),
    [
        ("{not json", "is corrupt"),
        ('{"active": "a", "keys": []}', "is corrupt"),
        ('{"active": "a", "keys": {"a": "c2hvcnQ="}}', "32 bytes"),
        ('{"active": ["a"], "keys": {}}', "is corrupt"),
    ],
)
def test_a_corrupt_key_file_is_one_line_not_a_traceback(
    content: str,
    finding: str,
    sqlite_url: str,
    in_tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = in_tmp / "keys.json"
    key_file.write_text(content)
    key_file.chmod(0o600)
    for register, args in [*STARTS[:1], (keys_cmd.register, ["keys", "list"])]:
        result = run(register, args, monkeypatch, db_url=sqlite_url, key_file=key_file)
        assert result.exit_code == 2, result.output
        line = one_line(result.stderr)
        assert str(key_file) in line
        assert finding in line
    assert key_file.read_text() == content


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_file_others_may_read_is_refused(
    mode: int, sqlite_url: str, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = in_tmp / "keys.json"
    load_or_create_keyring(key_file)
    key_file.chmod(mode)
    result = run(
        serve_cmd.register, STARTS[0][1], monkeypatch, db_url=sqlite_url, key_file=key_file
    )
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert f"mode {mode:04o}" in line
    assert f"chmod 600 {key_file}" in line


def test_the_sqlite_database_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    database = tmp_path / "var" / "gateway.db"
    previous = os.umask(0o022)
    try:
        from gateway.store.migrate import upgrade

        upgrade(f"sqlite:///{database}")
        store = Store(f"sqlite:///{database}")
        try:
            store.write_sync(lambda conn: verify_chain(conn))
            reader = store.read_engine.connect()  # keeps the -wal and -shm files in place
            try:
                files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
                for path in files:
                    assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            finally:
                reader.close()
        finally:
            store.close()
    finally:
        os.umask(previous)
