"""Key rotation: a new active key, every sealed row moved to it, old keys retired safely."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.cli import keys_cmd
from gateway.security.keys import KeyringRefresher, rows_per_key
from gateway.store.crypto import Keyring, load_or_create_keyring, message_aad, payload_aad
from gateway.store.engine import Store
from gateway.store.tables import deliveries, messages
from tests.security.cli import run
from tests.security.rows import StoredMessage, store_message


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    yield store
    store.close()


def decrypt_all(store: Store, keyring: Keyring, stored: list[StoredMessage]) -> None:
    """Every body and payload still opens, under the keys the rows name."""
    for item in stored:
        row = store.read_sync(
            lambda conn, i=item.id: conn.execute(select(messages).where(messages.c.id == i)).one()
        )
        assert keyring.decrypt(row.body_key_id, row.body_ciphertext, aad=message_aad(item.id)) == (
            item.body
        )
        for delivery_id, payload in zip(item.delivery_ids, item.payloads, strict=True):
            drow = store.read_sync(
                lambda conn, d=delivery_id: conn.execute(
                    select(deliveries).where(deliveries.c.id == d)
                ).one()
            )
            assert (
                keyring.decrypt(
                    drow.payload_key_id, drow.payload_ciphertext, aad=payload_aad(delivery_id)
                )
                == payload
            )


def test_rotate_reencrypts_every_row_and_retire_removes_the_old_key(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys.json"
    old = load_or_create_keyring(key_file)
    stored = [store_message(store, old, states=("delivered", "queued")) for _ in range(7)]
    assert store.read_sync(rows_per_key) == {old.active_id: 21}

    # Small batches, so the loop over several transactions is what moves the rows.
    result = run(
        keys_cmd.register,
        ["keys", "rotate", "--batch", "3", "--settle-s", "0"],
        monkeypatch,
        db_url=db_url,
        key_file=key_file,
    )
    assert result.exit_code == 0, result.output
    rotated = Keyring.from_json(key_file.read_text())
    assert rotated.active_id != old.active_id
    assert old.active_id in rotated.keys  # kept for readers until retired
    assert store.read_sync(rows_per_key) == {rotated.active_id: 21}
    decrypt_all(store, rotated, stored)

    result = run(
        keys_cmd.register, ["keys", "retire"], monkeypatch, db_url=db_url, key_file=key_file
    )
    assert result.exit_code == 0, result.output
    retired = Keyring.from_json(key_file.read_text())
    assert set(retired.keys) == {rotated.active_id}
    decrypt_all(store, retired, stored)
    assert (key_file.stat().st_mode & 0o777) == 0o600


def test_retire_refuses_a_key_that_still_protects_rows(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys.json"
    old = load_or_create_keyring(key_file)
    newer = old.with_new_active_key()
    key_file.write_text(newer.to_json())
    store_message(store, old)  # written by a process that still had the old active key
    result = run(
        keys_cmd.register,
        ["keys", "retire", old.active_id],
        monkeypatch,
        db_url=db_url,
        key_file=key_file,
    )
    assert result.exit_code == 2
    assert old.active_id in Keyring.from_json(key_file.read_text()).keys

    assert (
        run(
            keys_cmd.register, ["keys", "reencrypt"], monkeypatch, db_url=db_url, key_file=key_file
        ).exit_code
        == 0
    )
    assert store.read_sync(rows_per_key) == {newer.active_id: 2}
    assert (
        run(
            keys_cmd.register,
            ["keys", "retire", old.active_id],
            monkeypatch,
            db_url=db_url,
            key_file=key_file,
        ).exit_code
        == 0
    )


def test_a_running_process_picks_up_the_rotated_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    live = load_or_create_keyring(key_file)
    first_active = live.active_id
    refresher = KeyringRefresher(live, key_file, every_s=0.0)
    assert not refresher.maybe_refresh()
    rotated = live.with_new_active_key()
    key_file.write_text(rotated.to_json())
    os.utime(key_file, ns=(1, 10**18))  # a visibly different modification time
    assert refresher.maybe_refresh()
    assert live.active_id == rotated.active_id
    assert first_active in live.keys
    key_id, blob = live.encrypt(b"x", aad=b"a")
    assert key_id == rotated.active_id
    assert rotated.decrypt(key_id, blob, aad=b"a") == b"x"


def test_a_broken_key_file_keeps_the_loaded_keyring(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    live = load_or_create_keyring(key_file)
    before = dict(live.keys)
    refresher = KeyringRefresher(live, key_file, every_s=0.0)
    key_file.write_text('{"active": "half-writ')
    os.utime(key_file, ns=(1, 2 * 10**18))
    assert not refresher.maybe_refresh()
    assert live.keys == before
    key_file.write_text(live.with_new_active_key().to_json())
    os.utime(key_file, ns=(1, 3 * 10**18))
    assert refresher.maybe_refresh()  # the next good file is taken


def test_rotate_without_reencrypt_only_adds_the_new_active_key(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "keys.json"
    old = load_or_create_keyring(key_file)
    store_message(store, old)
    result = run(
        keys_cmd.register,
        ["keys", "rotate", "--no-reencrypt"],
        monkeypatch,
        db_url=db_url,
        key_file=key_file,
    )
    assert result.exit_code == 0, result.output
    rotated = Keyring.from_json(key_file.read_text())
    assert rotated.active_id != old.active_id
    assert store.read_sync(rows_per_key) == {old.active_id: 2}
