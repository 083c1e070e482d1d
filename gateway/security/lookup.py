"""Keyed hashes of sealed values an operator must be able to find by (case references).

The value itself stays only inside the encrypted body; the store keeps HMAC-SHA256 of its
normalised form under a key derived from the storage key, so the column alone cannot be
reversed or checked against guesses without the keyring. A search hashes what was typed under
every key of the keyring, so messages stored before a key rotation are still found.
"""

from __future__ import annotations

import hashlib
import hmac

from gateway.store.crypto import Keyring

CASE_REFERENCE_PURPOSE = b"marri-case-reference-v1"
MAX_REFERENCE = 200


def normalised(reference: str) -> str:
    """Case and spacing do not matter: ``al/ks 17-2026`` finds ``AL/KS  17-2026``."""
    return " ".join(reference.split()).casefold()


def _hash(material: bytes, reference: str) -> str:
    key = hmac.new(material, CASE_REFERENCE_PURPOSE, hashlib.sha256).digest()
    return hmac.new(key, normalised(reference).encode("utf-8"), hashlib.sha256).hexdigest()


def case_reference_hash(keyring: Keyring, reference: str | None) -> str | None:
    """What intake stores for a message's case reference (None when it has none)."""
    if reference is None or not reference.strip():
        return None
    return _hash(keyring.keys[keyring.active_id], reference)


def case_reference_lookups(keyring: Keyring, reference: str) -> list[str]:
    """The hashes a stored reference equal to ``reference`` may have, one per key."""
    if not reference.strip() or len(reference) > MAX_REFERENCE:
        return []
    return sorted({_hash(material, reference) for material in keyring.keys.values()})
