"""Key rotation for encryption at rest: new active key, re-encryption in batches, retirement.

Rotation never stops service: a new key becomes active, then every sealed body and payload is
re-encrypted in small transactions (each row is swapped only if it still carries the key it was
read with, so concurrent intake, delivery and purge are never overwritten). Old keys stay in
the keyring, so readers that have not yet re-read it keep working; ``retire`` removes a key only
when no row needs it any more.

Running processes pick a changed key file up by themselves (``KeyringRefresher``: one ``stat``
every few seconds, the keyring updated in place); ``keys rotate`` waits for that before it
seals any row with the new key. Keys given in ``MARRI_KEYS_JSON`` cannot be
rewritten by the command line: ``keys rotate`` prints the new keyring to deploy, and
``keys reencrypt`` runs once every process has it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, Connection, Table, func, inspect, select, update

from gateway.config import Settings
from gateway.store.crypto import (
    Keyring,
    KeyringError,
    load_or_create_keyring,
    message_aad,
    payload_aad,
    read_keyring_file,
    subscription_aad,
)
from gateway.store.engine import Store
from gateway.store.tables import deliveries, messages, subscriptions


@dataclass(frozen=True)
class SealedColumn:
    """A table column holding ciphertext, the column naming its key, and its row binding."""

    table: Table
    blob: Column[bytes]
    key_id: Column[str]
    aad: Callable[[str], bytes]

    @property
    def label(self) -> str:
        """The column as ``table.column``, for progress and error messages."""
        return f"{self.table.name}.{self.blob.name}"


SEALED_COLUMNS = (
    SealedColumn(messages, messages.c.body_ciphertext, messages.c.body_key_id, message_aad),
    SealedColumn(
        deliveries, deliveries.c.payload_ciphertext, deliveries.c.payload_key_id, payload_aad
    ),
    SealedColumn(
        subscriptions,
        subscriptions.c.secret_ciphertext,
        subscriptions.c.secret_key_id,
        subscription_aad,
    ),
)


def reencrypt_batch(conn: Connection, keyring: Keyring, sealed: SealedColumn, limit: int) -> int:
    """Move up to ``limit`` rows of one column to the active key; returns how many moved."""
    id_column = sealed.table.c.id
    rows = conn.execute(
        select(id_column, sealed.blob, sealed.key_id)
        .where(sealed.blob.is_not(None), sealed.key_id != keyring.active_id)
        .order_by(id_column)
        .limit(limit)
    ).all()
    moved = 0
    for row_id, blob, key_id in rows:
        aad = sealed.aad(row_id)
        plain = keyring.decrypt(key_id, blob, aad=aad)
        new_key, new_blob = keyring.encrypt(plain, aad=aad)
        result = conn.execute(
            update(sealed.table)
            .where(id_column == row_id, sealed.key_id == key_id, sealed.blob.is_not(None))
            .values({sealed.blob.name: new_blob, sealed.key_id.name: new_key})
        )
        moved += result.rowcount
    return moved


def rows_per_key(conn: Connection) -> dict[str, int]:
    """How many sealed rows each key id still protects (bodies and payloads together)."""
    counts: dict[str, int] = {}
    for sealed in SEALED_COLUMNS:
        query = (
            select(sealed.key_id, func.count())
            .where(sealed.blob.is_not(None))
            .group_by(sealed.key_id)
        )
        for key_id, count in conn.execute(query):
            counts[key_id] = counts.get(key_id, 0) + int(count)
    return counts


log = logging.getLogger("gateway.security.keys")

# How often a running process looks at the key file; ``keys rotate`` waits twice this long.
REFRESH_INTERVAL_S = 5.0


def derived_key(keyring: Keyring, purpose: bytes) -> bytes:
    """A key for another purpose (signing console cookies) derived from the active storage
    key, so that every replica sharing the keyring derives the same one."""
    material = keyring.keys[keyring.active_id]
    return hmac.new(material, purpose, hashlib.sha256).digest()


class KeyringRefresher:
    """Re-reads the key file when it changes and updates a live keyring in place."""

    def __init__(
        self, keyring: Keyring, path: Path | None, *, every_s: float = REFRESH_INTERVAL_S
    ) -> None:
        self.keyring = keyring
        self.path = path
        self.every_s = every_s
        self._next_check = 0.0
        self._mtime = self._stat()

    def _stat(self) -> float | None:
        if self.path is None:
            return None
        try:
            return self.path.stat().st_mtime_ns / 1e9
        except OSError:
            return None

    def maybe_refresh(self, *, force: bool = False) -> bool:
        """Cheap enough for every request: one ``stat`` per interval at most."""
        now = time.monotonic()
        if self.path is None or (not force and now < self._next_check):
            return False
        self._next_check = now + self.every_s
        mtime = self._stat()
        if mtime is None or mtime == self._mtime:
            return False
        try:
            fresh = Keyring.from_json(self.path.read_text(encoding="utf-8"))
        except (OSError, KeyringError):
            # Half-written or broken: keep serving with the keys we have and look again later.
            log.warning("the key file could not be read; keeping the loaded keyring")
            return False
        # Add before switching, so that no reader ever sees an active id without its key.
        self.keyring.keys.update(fresh.keys)
        self.keyring.active_id = fresh.active_id
        for retired in set(self.keyring.keys) - set(fresh.keys):
            del self.keyring.keys[retired]
        self._mtime = mtime
        return True


def load_keyring(settings: Settings) -> Keyring:
    """The keyring from ``MARRI_KEYS_JSON`` when set, else the key file; never creates one."""
    if settings.keys_json is not None:
        try:
            return Keyring.from_json(settings.keys_json.get_secret_value())
        except KeyringError as exc:
            raise KeyringError(f"MARRI_KEYS_JSON is not usable: {exc}") from None
    return read_keyring_file(settings.key_file)


def sealed_key_ids(store: Store) -> list[str]:
    """The key ids stored rows are sealed with (none on a store not yet migrated)."""

    def read(conn: Connection) -> list[str]:
        if not inspect(conn).has_table(messages.name):
            return []
        return sorted(rows_per_key(conn))

    return store.read_sync(read)


def open_keyring(settings: Settings, store: Store) -> Keyring:
    """The keyring a serving process needs; a key file is created only on a first start.

    A missing key file over sealed rows is refused: a fresh key would leave every stored body
    unreadable, and the lost file is what has to come back.
    """
    if settings.keys_json is not None or settings.key_file.exists():
        return load_keyring(settings)
    needed = sealed_key_ids(store)
    if needed:
        raise KeyringError(
            f"the key file {settings.key_file} does not exist, but the database holds rows "
            f"sealed with key(s) {', '.join(needed)}: restore that file or set MARRI_KEYS_JSON"
        )
    return load_or_create_keyring(settings.key_file)
