"""Token and key commands run from the command line are audited with the OS user and host."""

from __future__ import annotations

import os
import pwd
import socket

import pytest
from sqlalchemy import select

from gateway.cli import token_cmd
from gateway.security.audit_verify import verify_chain
from gateway.store.engine import Store
from gateway.store.tables import audit_entries
from tests.security.cli import run


def audited(db_url: str) -> list[tuple[str, str]]:
    store = Store(db_url)
    try:
        assert store.read_sync(verify_chain).intact
        return store.read_sync(
            lambda conn: [
                (row.action, row.actor)
                for row in conn.execute(
                    select(audit_entries)
                    .where(audit_entries.c.action.like("token.%"))
                    .order_by(audit_entries.c.seq)
                )
            ]
        )
    finally:
        store.close()


def test_token_create_and_revoke_name_the_os_user_and_host(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.setenv("USER", "someone-else")  # the uid decides, not the environment
    created = run(
        token_cmd.register, ["token", "create", "--role", "operator"], monkeypatch, db_url=db_url
    )
    assert created.exit_code == 0, created.output
    token_id = created.stdout.splitlines()[0].removeprefix("token id: ").strip()
    revoked = run(token_cmd.register, ["token", "revoke", token_id], monkeypatch, db_url=db_url)
    assert revoked.exit_code == 0, revoked.output

    actor = f"cli:{pwd.getpwuid(os.geteuid()).pw_name}@{socket.gethostname()}"
    assert audited(db_url) == [("token.created", actor), ("token.revoked", actor)]


def test_under_sudo_the_invoking_user_is_named_too(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUDO_USER", "duty-engineer")
    created = run(
        token_cmd.register, ["token", "create", "--role", "auditor"], monkeypatch, db_url=db_url
    )
    assert created.exit_code == 0, created.output
    user = pwd.getpwuid(os.geteuid()).pw_name
    assert audited(db_url) == [
        ("token.created", f"cli:{user}(sudo:duty-engineer)@{socket.gethostname()}")
    ]
