"""A valid, fully linked message to start each test from, and helpers to read violations."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import date
from typing import Any

import pytest

from gateway.schema import MessageInvalid, parse_message

TODAY = date(2026, 3, 1)
ATTACHMENT = b"scanned page of a forged passport\n"

BASE: dict[str, Any] = {
    "schema": "marri.exchange/1",
    "message_id": "0b6f5a0e-3d1c-4f8e-9a2b-7c5d4e3f2a10",
    "sent_at": "2026-03-01T09:00:00+01:00",
    "sender": {"country": "AL", "agency": "State Police", "contact": {"email": "duty@al.example"}},
    "kind": "request",
    "subject": "Test request",
    "crime_areas": ["trafficking_in_human_beings"],
    "purposes": ["investigation"],
    "legal_basis": [{"instrument": "pcc_see", "article": "5"}],
    "handling": {"classification": "restricted", "retention_until": "2029-01-01"},
    "destinations": [{"channel": "pcc_see", "to": ["MK"]}, {"channel": "europol"}],
    "persons": [
        {"ref": "p1", "role": "victim", "names": [{"given": "Ana", "family": "Test"}]},
        {"ref": "p2", "role": "suspect", "names": [{"family": "Suspect"}]},
    ],
    "documents": [{"ref": "d1", "type": "passport", "number": "X1", "holder": "p1"}],
    "vehicles": [{"ref": "v1", "type": "car", "registration": "AA 000 AA"}],
    "locations": [{"ref": "l1", "kind": "city", "country": "AL", "lat": 41.3, "lon": 19.8}],
    "organisations": [{"ref": "o1", "kind": "company", "name": "Agency"}],
    "communications": [
        {"ref": "c1", "kind": "phone", "value": "+355 0", "owner": "p2"},
        {"ref": "c2", "kind": "email", "value": "x@o.example", "owner": "o1"},
    ],
    "events": [
        {
            "ref": "e1",
            "kind": "transport",
            "at": "2025-12",
            "location": "l1",
            "involved": ["p1", "v1"],
        }
    ],
    "links": [
        {"from": "p1", "to": "p2", "kind": "recruited_by"},
        {"from": "p2", "to": "v1", "kind": "uses"},
        {"from": "p2", "to": "o1", "kind": "member_of"},
    ],
    "route": [{"country": "AL", "role": "origin"}, {"country": "MK", "role": "destination"}],
    "attachments": [
        {
            "ref": "a1",
            "media_type": "text/plain",
            "size": len(ATTACHMENT),
            "sha256": hashlib.sha256(ATTACHMENT).hexdigest(),
            "content_base64": base64.b64encode(ATTACHMENT).decode(),
        }
    ],
}


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of the valid base message, to break in one place."""
    return copy.deepcopy(BASE)


def encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode()


def problems(document: Any, *, today: date | None = TODAY) -> list[tuple[str, str]]:
    """``(path, type)`` of every violation; empty when the message is valid."""
    try:
        parse_message(encode(document), today=today)
    except MessageInvalid as exc:
        return [(v.path, v.type) for v in exc.violations]
    return []
