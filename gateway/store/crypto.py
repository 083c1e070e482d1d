"""Encryption at rest: AES-256-GCM with key ids, so keys can rotate without downtime.

A keyring holds every key still needed to read old rows and names one active key for new
writes. Each ciphertext is bound (as associated data) to the row it belongs to, so a blob copied
into another row does not decrypt.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class KeyringError(Exception):
    """The key file is missing, malformed or lacks a key a row needs."""


@dataclass
class Keyring:
    """Named AES-256 keys and the one used for new writes."""

    active_id: str
    keys: dict[str, bytes] = field(default_factory=dict)

    def encrypt(self, plaintext: bytes, *, aad: bytes) -> tuple[str, bytes]:
        """Return (key id, nonce + ciphertext) under the active key."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active_id]).encrypt(nonce, plaintext, aad)
        return self.active_id, nonce + sealed

    def decrypt(self, key_id: str, blob: bytes, *, aad: bytes) -> bytes:
        """Open a blob sealed under ``key_id``; fails when the key is gone or the blob or aad
        differ.
        """
        key = self.keys.get(key_id)
        if key is None:
            raise KeyringError(f"key {key_id!r} is not in the keyring")
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)

    def with_new_active_key(self) -> Keyring:
        """A keyring with a fresh active key; old keys stay to read old rows."""
        key_id = "k" + datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)
        keys = dict(self.keys)
        keys[key_id] = AESGCM.generate_key(bit_length=256)
        return Keyring(active_id=key_id, keys=keys)

    def without_keys(self, key_ids: set[str]) -> Keyring:
        """The keyring without retired keys; the active key can never be one of them."""
        if self.active_id in key_ids:
            raise KeyringError("the active key cannot be retired")
        return Keyring(self.active_id, {k: v for k, v in self.keys.items() if k not in key_ids})

    def to_json(self) -> str:
        """The keyring as stored in the key file or MARRI_KEYS_JSON."""
        encoded = {k: base64.b64encode(v).decode("ascii") for k, v in sorted(self.keys.items())}
        return json.dumps({"active": self.active_id, "keys": encoded}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Keyring:
        """Read a keyring; KeyringError without quoting the material when it is not valid."""
        try:
            data = json.loads(text)
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
            active = data["active"]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyringError("key material is not a valid keyring") from exc
        if not isinstance(active, str):
            raise KeyringError("the active key id is not a string")
        if active not in keys:
            raise KeyringError("the active key id is not among the keys")
        if any(len(k) != 32 for k in keys.values()):
            raise KeyringError("every key must be 32 bytes (AES-256)")
        return cls(active_id=active, keys=keys)

    @classmethod
    def generate(cls) -> Keyring:
        """A keyring with one fresh random active key."""
        return cls(active_id="", keys={}).with_new_active_key()


def _write_private(keyring: Keyring, path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(keyring.to_json())
        handle.flush()
        os.fsync(handle.fileno())


def save_keyring(keyring: Keyring, path: Path) -> None:
    """Write the key file atomically with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    _write_private(keyring, tmp)
    os.replace(tmp, path)


def _save_new_keyring(keyring: Keyring, path: Path) -> bool:
    """Write the key file only if none exists yet; False when another process was first
    (processes starting together must all end up with the one key written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        _write_private(keyring, tmp)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:
            # A file system without hard links: not exclusive, but still atomic.
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return True


# Group or others may neither read nor write the key file.
PRIVATE_MODE_BITS = 0o077


def read_keyring_file(path: Path) -> Keyring:
    """Read an existing key file; every problem is a one-line ``KeyringError`` naming it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise KeyringError(f"the key file {path} does not exist") from None
    except OSError as exc:
        raise KeyringError(f"the key file {path} cannot be read: {exc.strerror}") from None
    if mode & PRIVATE_MODE_BITS:
        raise KeyringError(
            f"the key file {path} has mode {mode:04o}, so others may read or change it; "
            f"make it private with 'chmod 600 {path}'"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise KeyringError(f"the key file {path} cannot be read: {reason}") from None
    try:
        return Keyring.from_json(text)
    except KeyringError as exc:
        raise KeyringError(f"the key file {path} is corrupt: {exc}") from None


def load_or_create_keyring(path: Path) -> Keyring:
    """Read the key file; create one (mode 0600) when there is none.

    Only for a store known to be empty: over sealed rows a new key would make every stored
    body unreadable (``gateway.security.keys.open_keyring`` decides).
    """
    if path.exists():
        return read_keyring_file(path)
    keyring = Keyring.generate()
    if not _save_new_keyring(keyring, path):
        return read_keyring_file(path)
    return keyring


def message_aad(message_id: str) -> bytes:
    """Associated data of a message body: the blob opens only on its own row."""
    return b"marri:message:" + message_id.encode("ascii")


def payload_aad(delivery_id: str) -> bytes:
    """Associated data of a payload: the blob opens only for its own delivery."""
    return b"marri:payload:" + delivery_id.encode("ascii")


def subscription_aad(subscription_id: str) -> bytes:
    """Binds a sealed subscription secret to its row."""
    return b"marri:subscription:" + subscription_id.encode("ascii")
