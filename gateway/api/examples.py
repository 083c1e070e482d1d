"""Examples for every request and answer of the published API, keyed by operationId.

Integrators read these before they send a byte, and generators put them in the client's
documentation, so a test validates each against the schema it illustrates. The message is
``examples/xk-europol-information.json``, shipped beside this module (a test keeps the two the
same); the identifiers below belong to that message.
"""

from __future__ import annotations

import copy
from typing import Any

from gateway.api.example_answers import MESSAGE, REASON, RESPONSES

SOURCE = {"source": "https://www.europol.europa.eu/partners-collaboration/agreements", "note": ""}

REQUESTS: dict[str, Any] = {
    "sendMessage": MESSAGE,
    "checkMessage": MESSAGE,
    "retryDelivery": REASON,
    "cancelDelivery": {"reason": "sent to the wrong channel by mistake"},
    "redriveChannel": REASON,
    "redriveDeadLetters": {**REASON, "channel": "europol", "sender_country": "AL"},
    "testChannel": {"reason": "after the destination's maintenance window"},
    "pauseChannel": {"reason": "planned maintenance of the destination"},
    "resumeChannel": REASON,
    "releaseDelivery": {"reason": "the legal basis was checked with the requesting unit"},
    "rejectDelivery": {"reason": "no legal basis for this transfer"},
    "confirmFact": SOURCE,
    "withdrawFact": {"source": "notice of suspension of 2026-03-01", "note": ""},
    "setFact": {**SOURCE, "party": True, "since": "2020-07-01", "until": None, "confirmed": True},
    "searchMessages": {"q": MESSAGE["message_id"]},
    "createSubscription": {
        "url": "https://nccb.example.al/marri/events",
        "event_types": ["delivery.delivered", "delivery.failed", "reply.received"],
    },
}

_CODES = {
    400: "invalid_body",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "invalid_state_transition",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "timeout",
}
_MESSAGES = {
    400: "the body is not valid UTF-8 JSON",
    401: "send an API token as 'Authorization: Bearer <token>'",
    403: "this role may not do this",
    404: "no such message",
    409: "the delivery is not in a state this action applies to",
    413: "the body exceeds 65536 bytes",
    415: "send the message as application/json",
    422: "the request is not valid",
    429: "too many requests for this token; retry later",
    503: "the request took too long; retry later",
}


def request_example(operation_id: str) -> Any | None:
    """The example body of an operation's request; None when there is none (a test says so)."""
    return copy.deepcopy(REQUESTS.get(operation_id))


def response_example(operation_id: str, status: int) -> Any | None:
    """The example of an operation's answer with ``status``; None when there is none."""
    return copy.deepcopy(RESPONSES.get((operation_id, status)))


def error_example(status: int) -> dict[str, Any]:
    """The error body as a refusal with ``status`` has it."""
    violations = (
        [{"path": "$.persons[0].role", "type": "enum", "message": "not one of the allowed values"}]
        if status == 422
        else []
    )
    return {
        "error": {
            "status": status,
            "code": _CODES[status],
            "message": _MESSAGES[status],
            "violations": violations,
        }
    }
