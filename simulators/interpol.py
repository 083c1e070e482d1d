"""Stand-in for the interpol channel: the NCB endpoint taking interpol-notice-1.0 JSON.

Replies (when told to) are held for the gateway to fetch from ``GET /responses``, in the
interpol-response-1.0 shape: ``in_reply_to`` our ``message_id``, ``diffusion_reference`` the
receipt reference, persons with ``forename``/``name``, ``sex_id`` and ``YYYY/MM/DD`` dates.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.base import Adapter
from adapters.inbound import InboundMessage
from simulators._base import ChannelSimulator


def _response(answer: InboundMessage) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "response_id": answer.channel_message_id,
        "subject": answer.subject,
        "persons": [
            {
                "names": [
                    {k: v for k, v in (("forename", n.given), ("name", n.family)) if v}
                    | {"script": n.script}
                    for n in person.names
                ],
                **({"role": person.role} if person.role else {}),
                **({"sex_id": person.sex} if person.sex else {}),
                "nationalities": list(person.nationalities),
                **(
                    {"date_of_birth": person.birth_date.replace("-", "/")}
                    if person.birth_date
                    else {}
                ),
            }
            for person in answer.persons
        ],
        **answer.codes,
    }
    optional = {
        "in_reply_to": answer.in_reply_to,
        "diffusion_reference": answer.channel_reference,
        "ncb": answer.from_country,
        "ncb_name": answer.from_agency,
        "sent_at": answer.sent_at.isoformat() if answer.sent_at else None,
        "text": answer.text,
    }
    raw.update({k: v for k, v in optional.items() if v is not None})
    return raw


class InterpolSimulator(ChannelSimulator):
    """Checks arrivals with the adapter's own validate_payload; JSON receipts (201, 200 repeat)."""

    answer_content_type = "application/json"

    def held_payload(self, answers: list[InboundMessage], cursor: str) -> tuple[bytes, str]:
        page = {"responses": [_response(a) for a in answers], "next": cursor}
        return json.dumps(page, ensure_ascii=False).encode("utf-8"), "application/json"


def build(adapter: Adapter) -> InterpolSimulator:
    return InterpolSimulator(adapter)
