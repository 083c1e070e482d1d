"""Examples for every request and answer of the published API, keyed by operationId.

Integrators read these before they send a byte, and generators put them in the client's
documentation, so a test validates each against the schema it illustrates. The message is
``examples/xk-europol-information.json``, shipped beside this module (a test keeps the two the
same); the identifiers below belong to that message.
"""

from __future__ import annotations

import copy
from typing import Any

from gateway.api.example_answers import DID, LATER, MESSAGE, MID, REASON, RESPONSES

JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}
SENDER_KEY = {
    "id": "3e5a7c9b-1d2f-4a6c-8e0b-2d4f6a8c0e1b",
    "country": "AL",
    "agency": "Albanian State Police",
    "kid": "asp-2027-01",
    "alg": "ES256",
    "thumbprint": "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s",
    "not_before": "2027-01-01T00:00:00Z",
    "not_after": "2028-01-31T00:00:00Z",
    "revoked_at": None,
    "status": "valid",
    "jwk": {**JWK, "kid": "asp-2027-01", "alg": "ES256", "use": "sig"},
}

SOURCE = {"source": "https://www.europol.europa.eu/partners-collaboration/agreements", "note": ""}

ANSWERS: dict[tuple[str, int], Any] = {
    **RESPONSES,
    ("redriveDelivery", 200): RESPONSES[("retryDelivery", 200)],
    ("getSigningKeys", 200): {
        "keys": [{**JWK, "kid": "gw-2026-1", "use": "sig", "alg": "ES256"}],
    },
    ("getDeliveryEvidence", 200): {
        "delivery_id": DID,
        "records": [
            {
                "key_id": "gw-2026-1",
                "jws": "eyJhbGciOiJFUzI1NiIsImtpZCI6Imd3LTIwMjYtMSJ9.eyJ2IjoxfQ.c2lnbmF0dXJl",
                "record": {"delivery_id": DID, "message_id": MID, "state": "delivered"},
                "stored_at": LATER,
            }
        ],
    },
    ("listSenderKeys", 200): {"items": [SENDER_KEY], "jwks": {"keys": [SENDER_KEY["jwk"]]}},
    ("registerSenderKey", 201): SENDER_KEY,
    ("revokeSenderKey", 200): {
        **SENDER_KEY,
        "revoked_at": "2027-06-01T08:00:00Z",
        "status": "revoked",
    },
}

REQUESTS: dict[str, Any] = {
    "sendMessage": MESSAGE,
    "checkMessage": MESSAGE,
    "retryDelivery": REASON,
    "cancelDelivery": {"reason": "sent to the wrong channel by mistake"},
    "redriveChannel": REASON,
    "redriveDelivery": REASON,
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
    "registerSenderKey": {
        "country": "AL",
        "agency": "Albanian State Police",
        "kid": "asp-2027-01",
        "alg": "ES256",
        "jwk": JWK,
        "not_before": "2027-01-01T00:00:00Z",
        "not_after": "2028-01-31T00:00:00Z",
    },
    "revokeSenderKey": {"reason": "the private key was replaced after the rotation"},
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
    return copy.deepcopy(ANSWERS.get((operation_id, status)))


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
