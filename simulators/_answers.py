"""Simulators that answer: a realistic reply to a received message, pushed or held for polling.

Told with an ``answer`` fault (``{"kind": "answer", "seconds": 0.5, "mode": "push",
"answer": {"sex": "Q"}}``), or for every message with ``auto_answer`` (the sandbox), the
simulator accepts the message as usual and, after the delay, writes a reply in its channel's
own inbound format: it echoes our message id as the originator reference, quotes the receipt
reference it gave, and names one person in Cyrillic with the channel's own codes. ``push``
POSTs the reply to the gateway's ``/v1/channels/<channel>/inbound`` with the channel
credential (retrying a few times, as a real channel would); ``hold`` keeps it for the gateway
to fetch from the channel's poll path (``GET /<poll_path>?after=<cursor>``, the cursor being
the count of replies already fetched).

``answer`` options replace parts of the reply: ``in_reply_to``, ``reference`` (an empty
string leaves it out), ``sex``, ``role``, ``subject``, ``message_id``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from adapters._xml import XmlError, parse_xml
from adapters.inbound import InboundMessage, InboundName, InboundPerson, inbound_mode

if TYPE_CHECKING:
    from simulators._base import ChannelSimulator, InboxEntry

__all__ = ["AnswerPlan", "Answerer", "default_answer"]

PUSH_ATTEMPTS = 6


@dataclass(frozen=True)
class AnswerPlan:
    """When and how to answer one message (or every message, as ``auto_answer``)."""

    seconds: float = 0.0
    mode: str | None = None  # push or hold; default: how the channel answers
    options: Mapping[str, str] = field(default_factory=dict)


def originator_id(body: bytes, field_name: str) -> str | None:
    """Our message id as the payload carried it (an element or a top-level JSON key)."""
    if body.lstrip().startswith(b"{"):
        value = json.loads(body).get(field_name)
        return str(value) if value is not None else None
    try:
        root = parse_xml(body)
    except XmlError:
        return None
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.endswith("}" + field_name):
            return element.text
    return None


def default_answer(
    simulator: ChannelSimulator, entry: InboxEntry, plan: AnswerPlan
) -> InboundMessage:
    """A realistic reply to ``entry`` in the channel's own codes, with the plan's changes."""
    codes = simulator.adapter.codes
    nationality = codes.value("country", "RS")
    key_parts = (entry.idempotency_key or "").split(":")
    recipient = key_parts[2] if len(key_parts) == 3 and key_parts[2] != "-" else None
    options = plan.options
    person = InboundPerson(
        names=(InboundName("Јован", "Петровић", "Cyrl"),),
        role=options.get("role", codes.value("person_role", "suspect")),
        sex=options.get("sex", codes.value("sex", "male")),
        nationalities=(nationality,) if nationality else (),
        birth_date="1985-04-12",
    )
    reference = options.get("reference", entry.reference)
    answer = InboundMessage(
        channel=simulator.channel,
        channel_message_id=options.get(
            "message_id", f"{simulator.channel.upper()}-R-{uuid.uuid4().hex[:16]}"
        ),
        subject=options.get("subject", "Reply: results of the checks you asked for"),
        in_reply_to=options.get(
            "in_reply_to", originator_id(entry.body.encode("utf-8"), simulator.originator_field)
        )
        or None,
        channel_reference=reference or None,
        from_country=recipient,
        from_agency=f"{simulator.channel} duty desk",
        sent_at=datetime.now(UTC).replace(microsecond=0),
        text="One person in your message is known to us; the record is attached.",
        codes={
            list_name: value
            for list_name, code in (
                ("restriction", "no_dissemination"),
                ("classification", "restricted"),
            )
            if (value := codes.value(list_name, code)) is not None
        },
        persons=(person,) if simulator.answers_carry_persons else (),
    )
    return answer


class Answerer:
    """The answering state of one simulator: where to push, what is held, what was sent."""

    def __init__(self, simulator: ChannelSimulator) -> None:
        self.simulator = simulator
        self.mode = inbound_mode(simulator.adapter)
        self.push_url: str | None = None
        self.push_token: str | None = None
        self.auto_answer: AnswerPlan | None = None
        self._lock = threading.Lock()
        self._held: list[InboundMessage] = []
        self.pushed: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def configure_push(self, url: str, token: str | None) -> None:
        """Where the gateway's inbound endpoint for this channel is, and the credential."""
        self.push_url = url
        self.push_token = token

    def schedule(self, entry: InboxEntry, plan: AnswerPlan) -> None:
        """Answer ``entry`` after the plan's delay (on the server's event loop)."""
        task = asyncio.get_running_loop().create_task(self._answer_later(entry, plan))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def held(self, after: int) -> tuple[list[InboundMessage], int]:
        with self._lock:
            return list(self._held[after:]), len(self._held)

    def hold(self, answer: InboundMessage) -> None:
        with self._lock:
            self._held.append(answer)

    async def _answer_later(self, entry: InboxEntry, plan: AnswerPlan) -> None:
        await asyncio.sleep(plan.seconds)
        answer = default_answer(self.simulator, entry, plan)
        mode = plan.mode or ("push" if self.mode == "push" else "hold")
        if mode == "hold":
            self.hold(answer)
            return
        await self.push(answer)

    async def push(self, answer: InboundMessage, body: bytes | None = None) -> int | None:
        """POST ``answer`` (or ``body`` as it is) to the gateway; the final HTTP status."""
        if self.push_url is None:
            self.hold(answer)  # nowhere to push: keep it, as a channel would queue it
            return None
        content, content_type = (
            (body, self.simulator.answer_content_type)
            if body is not None
            else self.simulator.answer_payload(answer)
        )
        headers = {"Content-Type": content_type}
        if self.push_token:
            headers["Authorization"] = f"Bearer {self.push_token}"
        status: int | None = None
        async with httpx.AsyncClient(timeout=10.0) as client:
            for attempt in range(PUSH_ATTEMPTS):
                try:
                    response = await client.post(self.push_url, content=content, headers=headers)
                    status = response.status_code
                    if status < 500:
                        break
                except httpx.HTTPError:
                    status = None
                await asyncio.sleep(0.2 * 2**attempt)
        with self._lock:
            self.pushed.append({"channel_message_id": answer.channel_message_id, "status": status})
        return status


def with_options(plan: AnswerPlan, options: Mapping[str, str]) -> AnswerPlan:
    return replace(plan, options={**plan.options, **options})
