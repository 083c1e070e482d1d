"""Rotation without downtime: messages keep being accepted and every sealed row keeps opening
with the live process's keyring while the key file changes and rows are re-encrypted."""

from __future__ import annotations

import asyncio
import threading

import httpx
from sqlalchemy import select

from gateway.api.app import create_app
from gateway.cli.keys_cmd import reencrypt_all
from gateway.context import GatewayContext
from gateway.security.keys import rows_per_key
from gateway.store.crypto import Keyring, message_aad, payload_aad, save_keyring
from gateway.store.tables import deliveries, messages
from tests.api.helpers import dumps, variant
from tests.conftest import Tokens


def open_every_row(context: GatewayContext, keyring: Keyring) -> int:
    def read(conn):  # type: ignore[no-untyped-def]
        bodies = conn.execute(
            select(messages.c.id, messages.c.body_key_id, messages.c.body_ciphertext)
        ).all()
        payloads = conn.execute(
            select(
                deliveries.c.id, deliveries.c.payload_key_id, deliveries.c.payload_ciphertext
            ).where(deliveries.c.payload_ciphertext.is_not(None))
        ).all()
        return bodies, payloads

    bodies, payloads = context.store.read_sync(read)
    for row_id, key_id, blob in bodies:
        keyring.decrypt(key_id, blob, aad=message_aad(row_id))
    for row_id, key_id, blob in payloads:
        keyring.decrypt(key_id, blob, aad=payload_aad(row_id))
    return len(bodies) + len(payloads)


async def test_intake_and_reads_continue_while_keys_rotate(
    context: GatewayContext, tokens: Tokens
) -> None:
    app = create_app(context)
    app.state.keyring_refresher.every_s = 0.0  # notice the new key file at the next request
    headers = {
        "Authorization": f"Bearer {tokens.sender('AL')}",
        "Content-Type": "application/json",
    }
    old_active = context.keyring.active_id
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:

        async def send(count: int) -> None:
            for _ in range(count):
                answer = await http.post("/v1/messages", content=dumps(variant()), headers=headers)
                assert answer.status_code == 202, answer.text
                open_every_row(context, context.keyring)  # a reader with the live keyring

        await send(8)
        rotated = Keyring.from_json(context.keyring.to_json()).with_new_active_key()
        save_keyring(rotated, context.settings.key_file)
        # What the command's settle time is for: the process loads the key before rows move.
        await send(1)
        assert context.keyring.active_id == rotated.active_id
        moved: dict[str, int] = {}
        rotation = threading.Thread(
            target=lambda: moved.update(reencrypt_all(context.store, rotated, batch=2))
        )
        rotation.start()
        await send(8)  # accepted during the rotation
        while rotation.is_alive():
            open_every_row(context, context.keyring)  # a reader with the live keyring
            await asyncio.sleep(0.01)
        rotation.join()
        await send(2)
        assert old_active in context.keyring.keys

    # Rows sealed under the old key after the pass are caught by the next pass.
    reencrypt_all(context.store, rotated, batch=50)
    assert set(context.store.read_sync(rows_per_key)) == {rotated.active_id}
    assert open_every_row(context, rotated.without_keys({old_active})) >= 19 * 2
    assert sum(moved.values()) > 0
