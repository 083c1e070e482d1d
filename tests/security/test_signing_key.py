"""The gateway's signing key file: made on a first start, never over records that need the
lost one, refused when others may read it, rotated with the old keys still published."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from gateway.api.app import create_app
from gateway.cli import keys_cmd
from gateway.context import build_context
from gateway.security.signing_key import SigningKeyError, read_signing_keys
from gateway.store.crypto import load_or_create_keyring
from gateway.store.engine import Store
from gateway.store.signature_tables import evidence
from gateway.store.tables import utcnow
from tests.conftest import make_settings
from tests.security.cli import run
from tests.security.rows import store_message


async def test_a_first_start_creates_a_private_file_and_publishes_its_key(
    db_url: str, tmp_path: Path
) -> None:
    settings = make_settings(db_url, tmp_path)
    context = build_context(settings)
    try:
        assert stat.S_IMODE(settings.signing_key_file.stat().st_mode) == 0o600
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw.test") as client:
            answer = await client.get("/v1/keys/signing")  # no token: public
            schema = (await client.get("/openapi.json")).json()
    finally:
        context.close()
    assert answer.status_code == 200
    (key,) = answer.json()["keys"]
    assert key["kid"] == context.signing.active_id
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert "d" not in key, "the private half is never published"
    assert "/v1/keys/signing" in schema["paths"]
    assert "/v1/deliveries/{delivery_id}/evidence" in schema["paths"]


def test_a_missing_file_over_signed_records_refuses_to_start(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path)
    store = Store(db_url)
    try:
        stored = store_message(store, load_or_create_keyring(settings.key_file))
        store.write_sync(
            lambda conn: conn.execute(
                evidence.insert().values(
                    delivery_id=stored.delivery_ids[0],
                    message_id=stored.id,
                    key_id="gw-20260101-lost",
                    created_at=utcnow(),
                    record_jws="x.y.z",
                )
            )
        )
    finally:
        store.close()
    with pytest.raises(SigningKeyError) as info:
        build_context(settings)
    assert str(settings.signing_key_file) in str(info.value)
    assert "gw-20260101-lost" in str(info.value)
    assert not settings.signing_key_file.exists()


def test_an_open_or_corrupt_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.json"
    path.write_text("{not json")
    os.chmod(path, 0o600)
    with pytest.raises(SigningKeyError, match="is corrupt"):
        read_signing_keys(path)
    os.chmod(path, 0o640)
    with pytest.raises(SigningKeyError, match="chmod 600"):
        read_signing_keys(path)


def test_rotation_keeps_the_old_public_keys(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "signing-key.json"
    monkeypatch.setenv("MARRI_SIGNING_KEY_FILE", str(path))
    created = run(keys_cmd.register, ["keys", "signing", "init"], monkeypatch, db_url=db_url)
    assert created.exit_code == 0, created.output
    first = read_signing_keys(path).active_id
    again = run(keys_cmd.register, ["keys", "signing", "init"], monkeypatch, db_url=db_url)
    assert again.exit_code == 2
    assert "already exists" in again.output
    rotated = run(keys_cmd.register, ["keys", "signing", "rotate"], monkeypatch, db_url=db_url)
    assert rotated.exit_code == 0, rotated.output
    keys = read_signing_keys(path)
    assert keys.active_id != first
    listed = run(
        keys_cmd.register, ["keys", "signing", "list", "--jwks"], monkeypatch, db_url=db_url
    )
    kids = [key["kid"] for key in json.loads(listed.output)["keys"]]
    assert kids == [keys.active_id, first]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
