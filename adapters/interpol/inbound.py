"""Answers from Interpol: fetched by polling the NCB (JSON, interpol-response-1.0).

Why poll: diffusions and notice requests go out through the NCB over I-24/7, and the only
public Interpol interface is a read-only REST API that clients page through (``research/
destinations.md`` §2(b)-(c)); nothing in I-24/7 is described as calling a national system. So
the gateway asks the NCB for the responses written since its cursor
(``GET <poll url>?after=<cursor>``), in the same HAL-like shape as the public notices API.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import jsonschema_rs

from adapters._inbound_http import fetch_after
from adapters.inbound import (
    InboundError,
    InboundMessage,
    InboundName,
    InboundPerson,
    PollBatch,
    PollContext,
)

SCHEMA_FILE = "interpol-response-1.0.schema.json"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / SCHEMA_FILE


@cache
def _validator() -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _path(parts: Any) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _person(raw: dict[str, Any]) -> InboundPerson:
    birth = raw.get("date_of_birth")
    return InboundPerson(
        names=tuple(
            InboundName(n.get("forename"), n.get("name"), n.get("script", "Latn"))
            for n in raw["names"]
        ),
        role=raw.get("role"),
        sex=raw.get("sex_id"),
        nationalities=tuple(raw.get("nationalities", ())),
        # The public model writes YYYY/MM/DD; the canonical form is YYYY-MM-DD.
        birth_date=birth.replace("/", "-") if birth else None,
    )


def _response(raw: dict[str, Any]) -> InboundMessage:
    sent = raw.get("sent_at")
    try:
        sent_at = datetime.fromisoformat(sent) if sent else None
    except ValueError:
        raise InboundError(
            "schema_invalid", "the answer does not match its schema", ["$.sent_at: not a time"]
        ) from None
    return InboundMessage(
        channel="interpol",
        channel_message_id=raw["response_id"],
        subject=raw["subject"],
        in_reply_to=raw.get("in_reply_to"),
        channel_reference=raw.get("diffusion_reference"),
        from_country=raw.get("ncb"),
        from_agency=raw.get("ncb_name"),
        sent_at=sent_at,
        text=raw.get("text"),
        codes={k: raw[k] for k in ("restriction", "classification") if k in raw},
        persons=tuple(_person(p) for p in raw.get("persons", ())),
    )


def parse_responses(body: bytes, max_bytes: int) -> PollBatch:
    """A fetched page of responses, checked against the schema before any value is read."""
    if len(body) > max_bytes:
        raise InboundError("too_large", f"answer of {len(body)} bytes exceeds {max_bytes}")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InboundError("malformed", f"not JSON ({type(exc).__name__})") from None
    validator = _validator()
    if not validator.is_valid(document):
        problems = sorted(
            f"{_path(e.instance_path)}: fails '{e.kind.name}'"
            for e in validator.iter_errors(document)
        )
        raise InboundError("schema_invalid", "the answer does not match its schema", problems)
    return PollBatch(tuple(_response(r) for r in document["responses"]), document.get("next"))


class InterpolInbound:
    """The poll side of the interpol channel."""

    name: ClassVar[str] = "interpol"
    # The answering country when an answer names none (the General Secretariat sits in Lyon).
    seat_country: ClassVar[str] = "FR"
    inbound_schema_files: ClassVar[tuple[str, ...]] = (f"schema/{SCHEMA_FILE}",)
    poll_path: ClassVar[str] = "responses"

    async def poll(self, context: PollContext) -> PollBatch:
        """Interpol answers in JSON response lists read after the stored cursor."""
        body = await fetch_after(self.name, context, accept="application/json")
        return parse_responses(body, context.max_bytes)
