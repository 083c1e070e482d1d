"""What every section needs before it starts processes: a database, keys, channels, a token,
and the five-channel message whose ``message_id`` the load generators vary."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import yaml

from benchmarks._procs import ROOT

FIVE_CHANNEL_SOURCE = ROOT / "examples" / "me-early-warning-alert.json"
# A database the harness may connect to and create its own databases from.
POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
# One delivery per channel: per-recipient channels get a single recipient.
FIVE_DESTINATIONS = [
    {"channel": "europol"},
    {"channel": "interpol", "product": "diffusion"},
    {"channel": "frontex"},
    {"channel": "selec", "to": ["ME"]},
    {"channel": "pcc_see", "to": ["ME"]},
]
SENDER = {"country": "AL", "agency": "Albanian State Police"}
# SELEC holds any message with personal data for review (its data-protection rules are not
# confirmed), so the benchmark message is the alert without persons and their links.
WITHOUT = ("persons", "communications", "links")
ID_MARKER = "00000000-0000-4000-8000-000000000000"


def five_channel_template() -> bytes:
    """The example alert, sent by Albania to all five channels, its message_id replaced by
    ``ID_MARKER``; every channel allows it (see ``benchmark_mappings``)."""
    message = json.loads(FIVE_CHANNEL_SOURCE.read_text(encoding="utf-8"))
    message["destinations"] = FIVE_DESTINATIONS
    message["message_id"] = ID_MARKER
    message["sender"] = {**message["sender"], **SENDER}
    for key in WITHOUT:
        message.pop(key, None)
    for event in message.get("events", []):
        event.pop("involved", None)
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def message_with_id(template: bytes, message_id: str) -> bytes:
    return template.replace(ID_MARKER.encode(), message_id.encode(), 1)


def sender_country(template: bytes) -> tuple[str, str]:
    sender = json.loads(template)["sender"]
    return sender["country"], sender["agency"]


@dataclass
class Database:
    url: str
    backend: str


@contextlib.contextmanager
def fresh_database(backend: str, run_dir: Path, name: str) -> Iterator[Database]:
    """A new, migrated database: a SQLite file in the run folder or a PostgreSQL database
    that is dropped afterwards."""
    from gateway.store.migrate import upgrade

    if backend == "sqlite":
        url = f"sqlite:///{run_dir / f'{name}.db'}"
        upgrade(url)
        yield Database(url, backend)
        return
    db_name = f"marri_bench_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + db_name
    try:
        upgrade(url)
        yield Database(url, backend)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL (BENCH_POSTGRES_URL) does not answer ({type(exc).__name__})"
    return None


def benchmark_mappings(run_dir: Path, country: str) -> Path:
    """A copy of the mappings in which the sender's Interpol membership is confirmed, as a
    legal officer would record it; with the shipped table every MARRI sender's Interpol
    deliveries are held for review and a five-channel fan-out could never complete."""
    target = run_dir / "mappings"
    if target.exists():
        return target
    shutil.copytree(ROOT / "mappings", target)
    parties_file = target / "interpol" / "parties.yaml"
    parties = yaml.safe_load(parties_file.read_text(encoding="utf-8"))
    for entry in parties["instruments"]["interpol_members"]["entries"]:
        if entry["country"] == country:
            entry["confirmed"] = True
            entry["source"] = "benchmark: confirmed for this run"
    parties_file.write_text(yaml.safe_dump(parties, allow_unicode=True), encoding="utf-8")
    return target


def issue_sender_token(url: str, country: str, agency: str) -> str:
    from gateway.security.tokens import issue_token
    from gateway.store.engine import Store

    store = Store(url)
    try:
        return store.write_sync(
            lambda conn: issue_token(
                conn, role="sender", label="benchmark", country=country, agency=agency
            )
        ).token
    finally:
        store.close()


def write_keys(run_dir: Path) -> Path:
    from gateway.store.crypto import load_or_create_keyring

    path = run_dir / "keys.json"
    load_or_create_keyring(path)
    return path


def write_channels(run_dir: Path, urls: dict[str, str], concurrency: int | None = None) -> Path:
    path = run_dir / "channels.json"
    entries: dict[str, dict[str, object]] = {}
    for name, url in urls.items():
        entry: dict[str, object] = {"url": url}
        if concurrency is not None:
            entry["concurrency"] = concurrency
        entries[name] = entry
    path.write_text(json.dumps(entries, indent=2), encoding="utf-8")
    return path


def gateway_env(
    database_url: str,
    keys: Path,
    channels: Path,
    mappings: Path,
    *,
    worker_enabled: bool,
    sign_payloads: bool = True,
) -> dict[str, str]:
    """The settings every gateway process of a run shares; the rate limit is lifted so the
    load generator measures the pipeline, not the per-token limiter. ``sign_payloads`` off
    measures what signing every payload costs."""
    return {
        "MARRI_DATABASE_URL": database_url,
        "MARRI_KEY_FILE": str(keys),
        "MARRI_SIGNING_KEY_FILE": str(keys.parent / "signing-key.json"),
        "MARRI_SIGN_PAYLOADS": "true" if sign_payloads else "false",
        "MARRI_CHANNELS_FILE": str(channels),
        "MARRI_MAPPINGS_DIR": str(mappings),
        "MARRI_WORKER_ENABLED": "true" if worker_enabled else "false",
        "MARRI_RATE_LIMIT_PER_MINUTE": str(10**9),
    }
