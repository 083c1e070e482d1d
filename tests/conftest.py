"""Shared fixtures: the store on both back ends, a process context, an API client, tokens.

PostgreSQL: used when MARRI_TEST_POSTGRES_URL is set or a server answers on 127.0.0.1:5432.
Each test session gets its own database (created and dropped here); tables are emptied between
tests. Under CI=true a missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import text

from gateway.config import Settings
from gateway.store.migrate import upgrade
from gateway.store.tables import metadata

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_admin_url() -> str | None:
    url = os.environ.get("MARRI_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return DEFAULT_PG
    except OSError:
        return None


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """Commands run in process (``sandbox`` sets its defaults with ``os.environ.setdefault``)
    must not leave their environment, or settings cached from it, to the tests after them."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)
        from gateway.config import get_settings

        get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    admin = _postgres_admin_url()
    if admin is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is required under CI=true but does not answer")
        pytest.skip("PostgreSQL is not reachable (set MARRI_TEST_POSTGRES_URL)")
    name = f"marri_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_tables(url: str) -> None:
    from gateway.store.engine import Store

    store = Store(url)
    try:
        names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
        store.write_sync(lambda conn: conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY")))
    finally:
        store.close()


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file brought to head by the real migrations, copied for each test that needs
    an empty database (running the migrations again for every test cost most of its setup)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "gateway.db"
    upgrade(f"sqlite:///{path}")
    return path


def _fresh_sqlite_url(template: Path, directory: Path) -> str:
    target = directory / "gateway.db"
    shutil.copy2(template, target)  # keeps the file's 0600 mode
    return f"sqlite:///{target}"


@pytest.fixture(autouse=True)
def _unkeyed_audit_after_each_test() -> Iterator[None]:
    """A context installs its signing keys for the process's audit appends; the next test
    starts without them, as a fresh process would."""
    yield
    from gateway.security.audit_keys import install_chain_keys

    install_chain_keys(None)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL on each back end."""
    if request.param == "sqlite":
        return _fresh_sqlite_url(request.getfixturevalue("migrated_sqlite_file"), tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    _empty_tables(url)
    return url


@pytest.fixture
def sqlite_url(migrated_sqlite_file: Path, tmp_path: Path) -> str:
    return _fresh_sqlite_url(migrated_sqlite_file, tmp_path)


def make_settings(db_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db_url,
        "key_file": tmp_path / "keys.json",
        "signing_key_file": tmp_path / "signing-key.json",
        "channels_file": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Tokens:
    """Clear-text tokens for each role; senders by country."""

    senders: dict[str, str]
    operator: str
    approver: str
    auditor: str
    admin: str

    def sender(self, country: str) -> str:
        return self.senders[country]


MARRI = ("AL", "BA", "MK", "ME", "RS", "XK")


def issue_tokens(store: object) -> Tokens:
    from gateway.security.tokens import issue_token
    from gateway.store.engine import Store

    assert isinstance(store, Store)

    def issue(role: str, country: str | None = None, agency: str | None = None) -> str:
        return store.write_sync(
            lambda conn: issue_token(
                conn, role=role, label=f"test {role}", country=country, agency=agency
            )
        ).token

    return Tokens(
        senders={c: issue("sender", c, f"Test agency {c}") for c in MARRI},
        operator=issue("operator"),
        approver=issue("approver"),
        auditor=issue("auditor"),
        admin=issue("admin"),
    )


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path)


@pytest.fixture
def context(settings: Settings) -> Iterator[object]:
    """A full process context (store, keys, policy engine, adapters) on the test database."""
    from gateway.context import build_context

    ctx = build_context(settings)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def tokens(context: object) -> Tokens:
    return issue_tokens(context.store)  # type: ignore[attr-defined]


@pytest.fixture
async def client(context: object) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process (ASGI)."""
    from gateway.api.app import create_app

    app = create_app(context)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


def example_bytes(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def example_paths() -> list[Path]:
    return sorted(EXAMPLES.glob("*.json"))
