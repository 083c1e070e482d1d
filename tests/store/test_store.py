"""The store on both back ends: schema from migrations, durability settings, sealing, audit."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.exceptions import InvalidTag
from sqlalchemy import Connection, select, text, update

from gateway.security.audit import append_audit
from gateway.security.audit_verify import verify_chain
from gateway.store.crypto import (
    Keyring,
    KeyringError,
    load_or_create_keyring,
    message_aad,
    payload_aad,
)
from gateway.store.engine import Store
from gateway.store.tables import audit_entries, metadata


def test_migrations_build_exactly_the_declared_tables(db_url: str) -> None:
    store = Store(db_url)
    try:

        def diff(conn: Connection) -> list[object]:
            return compare_metadata(MigrationContext.configure(conn), metadata)

        assert store.read_sync(diff) == []
    finally:
        store.close()


def test_sqlite_writes_are_durable_and_immediate(sqlite_url: str) -> None:
    store = Store(sqlite_url)
    try:
        mode = store.write_sync(lambda c: c.exec_driver_sql("PRAGMA journal_mode").scalar())
        sync = store.write_sync(lambda c: c.exec_driver_sql("PRAGMA synchronous").scalar())
        assert mode == "wal"
        assert sync == 2  # FULL: the WAL is synced on every commit
        # A write transaction holds the write lock from its first statement (BEGIN IMMEDIATE):
        # a second connection cannot start writing meanwhile.
        with store.write_engine.connect() as first:
            first.begin()
            other = Store(sqlite_url)
            raw = other.write_engine.raw_connection()
            try:
                raw.execute("PRAGMA busy_timeout=0")  # type: ignore[attr-defined]
                with pytest.raises(Exception, match="locked"):
                    raw.execute("BEGIN IMMEDIATE")  # type: ignore[attr-defined]
            finally:
                raw.close()
                other.close()
            first.rollback()
    finally:
        store.close()


def test_keyring_seals_to_the_row_and_creates_a_private_key_file(tmp_path: Path) -> None:
    path = tmp_path / "var" / "keys.json"
    keyring = load_or_create_keyring(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_keyring(path).keys == keyring.keys  # read back, not re-created

    key_id, blob = keyring.encrypt(b'{"secret": "Marko"}', aad=message_aad("m1"))
    assert b"Marko" not in blob
    assert keyring.decrypt(key_id, blob, aad=message_aad("m1")) == b'{"secret": "Marko"}'
    with pytest.raises(InvalidTag):
        keyring.decrypt(key_id, blob, aad=message_aad("m2"))  # copied to another row
    with pytest.raises(InvalidTag):
        keyring.decrypt(key_id, blob, aad=payload_aad("m1"))

    rotated = keyring.with_new_active_key()
    assert rotated.active_id != keyring.active_id
    assert rotated.decrypt(key_id, blob, aad=message_aad("m1")) == b'{"secret": "Marko"}'
    with pytest.raises(KeyringError):
        Keyring.from_json(json.dumps({"active": "x", "keys": {"x": "c2hvcnQ="}}))


def test_audit_chain_detects_an_edited_entry(db_url: str) -> None:
    store = Store(db_url)
    try:
        for n in range(4):
            store.write_sync(
                lambda c, n=n: append_audit(
                    c, actor="cli", action="test.step", subject=f"step:{n}", details={"n": n}
                )
            )
        report = store.read_sync(verify_chain)
        assert report.intact
        assert report.entries == 4
        third = store.read_sync(
            lambda c: c.execute(select(audit_entries.c.seq).order_by(audit_entries.c.seq)).all()
        )[2].seq
        store.write_sync(
            lambda c: c.execute(
                update(audit_entries).where(audit_entries.c.seq == third).values(actor="someone")
            )
        )
        report = store.read_sync(verify_chain)
        assert not report.intact
        assert report.first_bad_seq == third
    finally:
        store.close()


def test_postgres_and_sqlite_share_the_same_table_names(db_url: str) -> None:
    store = Store(db_url)
    try:
        if store.is_sqlite:
            query = "SELECT name FROM sqlite_master WHERE type='table'"
        else:
            query = "SELECT tablename FROM pg_tables WHERE schemaname='public'"
        names = set(store.read_sync(lambda c: c.execute(text(query)).scalars().all()))
        assert {t.name for t in metadata.sorted_tables} <= names
    finally:
        store.close()
