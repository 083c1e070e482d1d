"""Example answers of the published API, keyed by (operationId, status).

The identifiers are those of the example message (``example_message.json``); a test validates
each answer against the schema of the response it illustrates.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.api.activity import ACTIVITY_EXAMPLE
from gateway.services.permissions import Role

MESSAGE = json.loads((Path(__file__).parent / "example_message.json").read_text("utf-8"))
MID = MESSAGE["message_id"]
DID = "5a0d9c3e-1f7b-4e2a-8b6c-7d9e0f1a2b3c"
FRONTEX_DID = "8c2f4e6a-0b1d-4f3e-9a5c-7e9b1d3f5a7c"
AT = "2026-03-04T09:30:02.114000+00:00"
LATER = "2026-03-04T09:30:03.020000+00:00"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SHA = "9f2c1b7e4a6d8c0e3b5a7f9d1c3e5a7b9d1f3e5c7a9b1d3f5e7a9c1b3d5f7e9a"
LINKS = {"self": f"/v1/messages/{MID}", "trace": f"/v1/messages/{MID}/trace"}
SENDER = {"country": "XK", "agency": "Kosovo Police"}
FINDING = {
    "rule": "europol.art25_third_country",
    "cite": "Regulation (EU) 2016/794, Art. 25",
    "outcome": "allow",
    "message": "the sender's country has a working arrangement with Europol",
}
DECISION = {"outcome": "allow", "findings": [FINDING], "redacted": []}
REDACTED = {"outcome": "redact", "findings": [], "redacted": ["$.persons[1].documents"]}
DELIVERY = {"id": DID, "channel": "europol", "recipient": None, "product": "siena_message"}
FRONTEX = {"id": FRONTEX_DID, "channel": "frontex", "recipient": None, "product": "pad"}
ACCEPTED = {
    "message_id": MID,
    "status": "accepted",
    "received_at": AT,
    "deliveries": [
        {
            **DELIVERY,
            "state": "queued",
            "decision": DECISION,
            "payload_sha256": SHA,
            "payload_size": 4711,
        },
        {
            **FRONTEX,
            "state": "queued",
            "decision": REDACTED,
            "payload_sha256": SHA,
            "payload_size": 3120,
        },
    ],
    "links": LINKS,
    "trace_id": TRACE_ID,
}
STATUS_VIEW = {
    "message_id": MID,
    "status": "delivered",
    "sender": SENDER,
    "kind": "information",
    "priority": "normal",
    "received_at": AT,
    "retention_until": "2026-06-02",
    "content_purged": False,
    "deliveries": [
        {
            **DELIVERY,
            "state": "delivered",
            "decision": DECISION,
            "attempts": 1,
            "next_attempt_at": None,
            "last_error_class": None,
            "last_http_status": 202,
            "delivered_at": LATER,
            "payload_sha256": SHA,
            "payload_size": 4711,
            "updated_at": LATER,
        },
    ],
    "links": LINKS,
}
ATTEMPT = {
    "number": 1,
    "started_at": AT,
    "ended_at": LATER,
    "duration_ms": 906.0,
    "outcome": "delivered",
    "error_class": None,
    "http_status": 202,
    "detail": None,
    "worker_id": "gw-1:4242",
    "trace_id": TRACE_ID,
    "span_id": "00f067aa0ba902b7",
}
ANSWER = {
    "inbound_id": "2d7e9f1b-3c5a-4e8d-b0f2-4a6c8e0b2d4f",
    "channel": "europol",
    "channel_message_id": "SIENA-2026-000123",
    "channel_reference": "SIENA-2026-000122",
    "in_reply_to": MID,
    "via": "push",
    "status": "matched",
    "received_at": LATER,
    "message_id": MID,
    "delivery_id": DID,
    "unmapped_codes": 0,
}
TRACE = {
    "message_id": MID,
    "trace_id": TRACE_ID,
    "traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01",
    "status": "delivered",
    "sender": SENDER,
    "kind": "information",
    "priority": "normal",
    "received_at": AT,
    "content_purged": False,
    "deliveries": [
        {
            **DELIVERY,
            "state": "delivered",
            "decision": {
                **DECISION,
                "pack_hash": SHA,
                "basis": {"as_of": "2026-03-04", "facts_version": 3, "facts": []},
            },
            "payload": {"sha256": SHA, "size": 4711, "content_type": "application/xml"},
            "idempotency_key": f"{MID}:europol",
            "attempt_count": 1,
            "next_attempt_at": None,
            "last_error_class": None,
            "last_http_status": 202,
            "delivered_at": LATER,
            "receipt": {"reference": "SIENA-2026-000122"},
            "attempts": [ATTEMPT],
        },
    ],
    "actions": [],
    "replies": [ANSWER],
    "notifications": [],
    "events": [
        {"at": AT, "type": "received", "summary": "received from XK (Kosovo Police)"},
        {
            "at": LATER,
            "type": "attempt",
            "summary": "attempt 1: delivered (HTTP 202)",
            "delivery_id": DID,
            "channel": "europol",
            "recipient": None,
        },
    ],
}
ACTION = {
    "delivery_id": DID,
    "message_id": MID,
    "channel": "europol",
    "previous_state": "failed",
    "state": "queued",
    "next_attempt_at": LATER,
}
FACT = {
    "instrument": "europol_operational_agreement",
    "title": "Europol operational agreements",
    "country": "XK",
    "party": True,
    "since": "2020-07-01",
    "until": None,
    "confirmed": True,
    "source": "https://www.europol.europa.eu/partners-collaboration/agreements",
    "note": "",
    "changed_by": Role.LEGAL.value,
    "changed_on": "2026-03-01",
    "change_seq": 3,
}
SUBSCRIPTION = {
    "id": "7b1d3f5a-9c2e-4a6b-8d0f-1e3a5c7b9d2f",
    "country": "AL",
    "agency": "Albanian State Police",
    "url": "https://nccb.example.al/marri/events",
    "event_types": ["delivery.delivered", "delivery.failed", "reply.received"],
    "created_at": AT,
}
REASON = {"reason": "the destination confirmed it is back in service (ticket 4711)"}

RESPONSES: dict[tuple[str, int], Any] = {
    ("sendMessage", 202): ACCEPTED,
    ("sendMessage", 200): ACCEPTED,
    ("checkMessage", 200): {
        "channels": {"europol": DECISION, "frontex": REDACTED},
    },
    ("listMessages", 200): {
        "items": [
            {
                "message_id": MID,
                "status": "delivered",
                "sender_country": "XK",
                "kind": "information",
                "priority": "normal",
                "received_at": AT,
                "channels": ["europol", "frontex"],
                "delivery_states": {"delivered": 2},
            }
        ],
        "next_cursor": None,
    },
    ("getMessage", 200): STATUS_VIEW,
    ("getTrace", 200): TRACE,
    ("getReplies", 200): {
        "message_id": MID,
        "replies": [
            {
                **ANSWER,
                "expires_at": None,
                "purged_at": None,
                "reply": None,
                "unmapped": [],
                "problems": [],
            }
        ],
    },
    ("getSchema", 200): {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://marri.example/schema/marri.exchange/1",
        "type": "object",
    },
    ("getHealth", 200): {"status": "ok"},
    ("getReadiness", 200): {"status": "ready"},
    ("getMetrics", 200): 'marri_deliveries{channel="europol",state="queued"} 0.0\n',
    ("listAuditEntries", 200): {
        "items": [
            {
                "seq": 42,
                "at": AT,
                "actor": "operator:5f1c",
                "action": "delivery.retry",
                "subject": f"delivery:{DID}",
                "reason": REASON["reason"],
                "details": {"previous_state": "failed"},
                "prev_hash": SHA,
                "entry_hash": SHA,
            }
        ],
        "next_after": 42,
    },
    ("verifyAuditChain", 200): {
        "intact": True,
        "entries": 42,
        "first_bad_seq": None,
        "problem": None,
        "head": f"42:{SHA}",
    },
    ("retryDelivery", 200): ACTION,
    ("cancelDelivery", 200): {**ACTION, "state": "cancelled", "next_attempt_at": None},
    ("releaseDelivery", 200): {**ACTION, "previous_state": "held"},
    ("rejectDelivery", 200): {
        **ACTION,
        "previous_state": "held",
        "state": "cancelled",
        "next_attempt_at": None,
    },
    ("redriveChannel", 200): {"channel": "europol", "requeued": 3, "held": [], "blocked": []},
    ("pauseChannel", 200): {"channel": "europol", "paused": True},
    ("resumeChannel", 200): {"channel": "europol", "paused": False},
    ("listChannels", 200): {
        "channels": [
            {
                "channel": "europol",
                "configured": True,
                "paused": False,
                "breaker_state": "closed",
                "consecutive_failures": 0,
                "open_until": None,
                "counts": {"delivered": 41, "queued": 1},
                "oldest_due_age_s": 0.4,
            }
        ]
    },
    ("getChannelActivity", 200): ACTIVITY_EXAMPLE,
    ("receiveChannelAnswer", 202): {
        "inbound_id": ANSWER["inbound_id"],
        "channel": "europol",
        "channel_message_id": "SIENA-2026-000123",
        "status": "matched",
        "message_id": MID,
        "delivery_id": DID,
        "reply_id": "0c5e7a9b-1d3f-4b6a-8c0e-2f4a6c8e0a1b",
        "unmapped_codes": 0,
        "received_at": LATER,
    },
    ("listUnmatchedAnswers", 200): [
        {
            **ANSWER,
            "status": "unmatched",
            "expires_at": "2026-06-02T09:30:03+00:00",
            "purged_at": None,
            "message_id": None,
            "delivery_id": None,
            "in_reply_to": None,
        }
    ],
    ("searchMessages", 200): {
        "hits": [
            {
                "message_id": MID,
                "matched": "message id",
                "received_at": AT,
                "sender_country": "XK",
                "delivery_id": None,
            }
        ]
    },
    ("redriveDeadLetters", 200): {"requeued": 2, "held": [], "blocked": []},
    ("testChannel", 200): {
        "channel": "europol",
        "outcome": "answered",
        "duration_ms": 41.2,
        "error_class": None,
    },
    ("getSchemaRules", 200): {
        "schema": "marri.exchange/1",
        "json_schema": "/v1/schema",
        "rules": [
            {
                "id": "json_media_type",
                "error": "unsupported_media_type",
                "violation": None,
                "path": "$",
                "description": "the body is sent as Content-Type: application/json",
                "status": 415,
            }
        ],
    },
    ("listFacts", 200): [FACT],
    ("confirmFact", 200): {
        "change_seq": 4,
        "action": "confirm",
        "fact": FACT,
        "released": [DID],
        "still_held": [],
    },
    ("withdrawFact", 200): {
        "change_seq": 5,
        "action": "withdraw",
        "fact": {**FACT, "confirmed": False},
        "released": [],
        "still_held": [],
    },
    ("setFact", 200): {
        "change_seq": 6,
        "action": "set",
        "fact": FACT,
        "released": [],
        "still_held": [],
    },
    ("createSubscription", 201): {
        **SUBSCRIPTION,
        # An example shown in the documentation, signing nothing.
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # nosec B105
    },
    ("listSubscriptions", 200): {"items": [SUBSCRIPTION]},
}
RESPONSES[("readInbox", 200)] = {
    "items": [
        {
            "specversion": "1.0",
            "id": "6f1c7a9e-3d52-4d0e-9a43-0b8f4b7e2c11",
            "type": "delivery.delivered",
            "source": "urn:marri:gateway",
            "subject": MID,
            "time": LATER,
            "sequence": "42",
            "datacontenttype": "application/json",
            "data": {
                "message_id": MID,
                "delivery_id": DID,
                "channel": "europol",
                "recipient": None,
                "state": "delivered",
                "attempts": 1,
            },
        }
    ],
    "next_cursor": "42",
}
RESPONSES[("receiveChannelAnswer", 200)] = RESPONSES[("receiveChannelAnswer", 202)]
