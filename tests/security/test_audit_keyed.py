"""The keyed audit chain and its signed head, on both back ends: recomputing it needs the key,
older unkeyed entries still verify, and a head exported elsewhere catches a later rewrite."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, select, update

from gateway.cli import audit_cmd
from gateway.security.audit import HEAD_SEQ, append_audit, entry_hash_of
from gateway.security.audit_keys import install_chain_keys
from gateway.security.audit_verify import verify_chain
from gateway.security.signing_key import SigningKeys, create_signing_keys
from gateway.store.engine import Store
from gateway.store.tables import audit_entries
from tests.security.cli import run


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store(db_url)
    yield store
    store.close()


@pytest.fixture
def keys(tmp_path: Path) -> SigningKeys:
    keys = create_signing_keys(tmp_path / "signing-key.json")
    install_chain_keys(keys)
    return keys


def append(store: Store, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        store.write_sync(
            lambda conn, n=n: append_audit(
                conn, actor="operator:t1", action="delivery.retried", subject=f"delivery:{n}"
            )
        )


def rows(conn: Connection) -> list[object]:
    query = select(audit_entries).where(audit_entries.c.seq != HEAD_SEQ)
    return list(conn.execute(query.order_by(audit_entries.c.seq)).all())


def rechain_unkeyed(conn: Connection, *, change_seq: int | None = None) -> None:
    """What someone without the key can do: edit, then recompute every hash as plain SHA-256
    and move the head, dropping its signature (a rewrite of the whole table)."""
    prev = "0" * 64
    last = None
    for row in rows(conn):
        subject = "delivery:forged" if row.seq == change_seq else row.subject  # type: ignore[attr-defined]
        fields = (row.actor, row.action, subject, row.reason, row.details_json)  # type: ignore[attr-defined]
        digest = entry_hash_of(None, prev, row.at, fields)  # type: ignore[attr-defined]
        conn.execute(
            update(audit_entries)
            .where(audit_entries.c.seq == row.seq)  # type: ignore[attr-defined]
            .values(subject=subject, prev_hash=prev, entry_hash=digest, chain_version=None)
        )
        prev, last = digest, row
    head = {"seq": last.seq, "entries": len(rows(conn))}  # type: ignore[union-attr]
    conn.execute(
        update(audit_entries)
        .where(audit_entries.c.seq == HEAD_SEQ)
        .values(entry_hash=prev, details_json=json.dumps(head))
    )


def test_a_keyed_chain_verifies_and_its_head_is_signed(store: Store, keys: SigningKeys) -> None:
    append(store, 4)
    report = store.read_sync(verify_chain)
    assert report.intact
    assert report.keyed
    assert report.entries == 4
    versions = {r.chain_version for r in store.read_sync(rows)}  # type: ignore[attr-defined]
    assert versions == {2}
    install_chain_keys(None)
    unkeyed = store.read_sync(verify_chain)
    assert not unkeyed.intact
    assert "signing key file" in (unkeyed.problem or "")


def test_recomputing_an_edited_keyed_entry_without_the_key_is_found(
    store: Store, keys: SigningKeys
) -> None:
    append(store, 4)
    second = store.read_sync(rows)[1]

    def forge(conn: Connection) -> None:
        prev = second.prev_hash  # type: ignore[attr-defined]
        fields = ("operator:t1", "delivery.retried", "delivery:forged", None, "{}")
        conn.execute(
            update(audit_entries)
            .where(audit_entries.c.seq == second.seq)  # type: ignore[attr-defined]
            .values(
                subject="delivery:forged",
                entry_hash=entry_hash_of(None, prev, second.at, fields),  # type: ignore[attr-defined]
            )
        )

    store.write_sync(forge)
    report = store.read_sync(verify_chain)
    assert not report.intact
    assert report.first_bad_seq == second.seq  # type: ignore[attr-defined]


def test_older_unkeyed_entries_still_verify_but_none_may_follow_keyed_ones(
    store: Store, tmp_path: Path
) -> None:
    append(store, 3)  # a log from before the chain was keyed
    install_chain_keys(create_signing_keys(tmp_path / "signing-key.json"))
    append(store, 3, start=3)
    report = store.read_sync(verify_chain)
    assert report.intact
    assert report.entries == 6
    assert report.keyed
    install_chain_keys(None)
    with pytest.raises(RuntimeError, match="keyed"):
        append(store, 1, start=9)


def test_an_exported_head_catches_a_rewrite_of_the_whole_log(
    store: Store, keys: SigningKeys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    monkeypatch.setenv("MARRI_SIGNING_KEY_FILE", str(tmp_path / "signing-key.json"))
    append(store, 5)
    kept = tmp_path / "kept-head.json"
    exported = run(
        audit_cmd.register, ["audit", "export-head", str(kept)], monkeypatch, db_url=db_url
    )
    assert exported.exit_code == 0, exported.output
    append(store, 2, start=5)  # the log goes on after the export
    fine = run(
        audit_cmd.register,
        ["audit", "verify", "--signed-head", str(kept)],
        monkeypatch,
        db_url=db_url,
    )
    assert fine.exit_code == 0, fine.output
    store.write_sync(lambda conn: rechain_unkeyed(conn, change_seq=2))
    install_chain_keys(None)
    # Rewritten as an unkeyed log, the chain is consistent in itself ...
    assert store.read_sync(verify_chain).intact
    # ... but not with the head kept elsewhere.
    caught = run(
        audit_cmd.register,
        ["audit", "verify", "--signed-head", str(kept)],
        monkeypatch,
        db_url=db_url,
    )
    assert caught.exit_code == 1
    assert "no longer holds the head kept outside it" in caught.output


def test_a_truncation_after_the_export_is_found(
    store: Store, keys: SigningKeys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    monkeypatch.setenv("MARRI_SIGNING_KEY_FILE", str(tmp_path / "signing-key.json"))
    append(store, 5)
    kept = tmp_path / "kept-head.json"
    run(audit_cmd.register, ["audit", "export-head", str(kept)], monkeypatch, db_url=db_url)
    newest = store.read_sync(rows)[-3:]
    store.write_sync(
        lambda conn: conn.execute(
            delete(audit_entries).where(audit_entries.c.seq.in_([r.seq for r in newest]))  # type: ignore[attr-defined]
        )
    )
    caught = run(
        audit_cmd.register,
        ["audit", "verify", "--signed-head", str(kept)],
        monkeypatch,
        db_url=db_url,
    )
    assert caught.exit_code == 1, caught.output


def test_an_edited_signed_head_file_is_refused(
    store: Store, keys: SigningKeys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    monkeypatch.setenv("MARRI_SIGNING_KEY_FILE", str(tmp_path / "signing-key.json"))
    append(store, 3)
    kept = tmp_path / "kept-head.json"
    run(audit_cmd.register, ["audit", "export-head", str(kept)], monkeypatch, db_url=db_url)
    document = json.loads(kept.read_text())
    header, payload, signature = document["signed_head"].split(".")
    document["signed_head"] = f"{header}.{payload[:-2]}AA.{signature}"
    kept.write_text(json.dumps(document))
    refused = run(
        audit_cmd.register,
        ["audit", "verify", "--signed-head", str(kept)],
        monkeypatch,
        db_url=db_url,
    )
    assert refused.exit_code == 2
    assert "does not verify" in refused.output


def test_verify_during_concurrent_appends_reports_no_removal(
    store: Store, keys: SigningKeys
) -> None:
    append(store, 3)
    done = threading.Event()

    def writer() -> None:
        try:
            append(store, 60, start=100)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    reports = []
    while not done.is_set():
        reports.append(store.read_sync(verify_chain))
    thread.join()
    reports.append(store.read_sync(verify_chain))
    broken = [(r.first_bad_seq, r.problem) for r in reports if not r.intact]
    assert broken == []
    assert reports[-1].entries == 63
