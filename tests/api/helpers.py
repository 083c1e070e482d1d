"""Small helpers for API tests: example messages with changes, row counts."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from sqlalchemy import func, select

from gateway.store.engine import Store
from gateway.store.tables import audit_entries, deliveries, messages
from tests.conftest import EXAMPLES

BASE_EXAMPLE = "al-victim-identification-pcc-see.json"


def example(name: str = BASE_EXAMPLE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def variant(name: str = BASE_EXAMPLE, **changes: Any) -> dict[str, Any]:
    """An example with a fresh message_id and top-level fields replaced."""
    data = copy.deepcopy(example(name))
    data["message_id"] = str(uuid.uuid4())
    data.update(changes)
    return data


def dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def row_counts(store: Store) -> tuple[int, int, int]:
    def count(conn):  # type: ignore[no-untyped-def]
        return tuple(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (messages, deliveries, audit_entries)
        )

    result: tuple[int, int, int] = store.read_sync(count)
    return result


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
