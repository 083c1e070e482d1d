"""The refusals of intake beyond the canonical schema, for ``/v1/schema/rules``.

They depend on the channels this gateway has registered (their names, products and whether
they need recipients), so they are read from the registry when asked, never written down here.
"""

from __future__ import annotations

from gateway.errors import ErrorKind
from gateway.intake.plan import AdapterLookup
from gateway.schema.catalogue import MESSAGE_RULES, PublishedRule
from gateway.security.sender_keys import ALGORITHMS
from gateway.security.sender_signature import CODES, SIGNATURE_HEADER

__all__ = ["KIND_OF", "published_rules"]

INVALID_DESTINATION = "invalid_destination"

#: The kind of refusal each published error code is (the API maps a kind to its status).
KIND_OF: dict[str, ErrorKind] = {
    "invalid_message": ErrorKind.UNPROCESSABLE,
    INVALID_DESTINATION: ErrorKind.UNPROCESSABLE,
    "not_renderable": ErrorKind.UNPROCESSABLE,
    "sender_country_mismatch": ErrorKind.FORBIDDEN,
    "message_id_conflict": ErrorKind.CONFLICT,
    "payload_too_large": ErrorKind.TOO_LARGE,
    "unsupported_media_type": ErrorKind.UNSUPPORTED_MEDIA,
    "signature_required": ErrorKind.UNAUTHENTICATED,
    "signature_invalid": ErrorKind.UNAUTHENTICATED,
}


def _request_rules(max_body_bytes: int) -> list[PublishedRule]:
    return [
        PublishedRule(
            "json_media_type",
            "unsupported_media_type",
            None,
            "$",
            "the body is sent as Content-Type: application/json",
        ),
        PublishedRule(
            "body_size",
            "payload_too_large",
            None,
            "$",
            "the body is at most max_body_bytes long",
            {"max_body_bytes": max_body_bytes},
        ),
    ]


def _destination_rules(registry: AdapterLookup) -> list[PublishedRule]:
    names = registry.names()
    adapters = [registry.get(name) for name in names]
    return [
        PublishedRule(
            "channel_registered",
            INVALID_DESTINATION,
            "unknown_channel",
            "$.destinations[*].channel",
            "the channel is one this gateway has registered",
            {"channels": names},
        ),
        PublishedRule(
            "product_offered",
            INVALID_DESTINATION,
            "unknown_product",
            "$.destinations[*].product",
            "the product is one its channel offers",
            {"products": {adapter.name: list(adapter.products) for adapter in adapters}},
        ),
        PublishedRule(
            "recipients_given",
            INVALID_DESTINATION,
            "missing",
            "$.destinations[*].to",
            "a channel that delivers to named parties gets at least one country in to",
            {"channels": [adapter.name for adapter in adapters if adapter.needs_recipients]},
        ),
    ]


def _sender_rules() -> list[PublishedRule]:
    return [
        PublishedRule(
            "sender_is_the_token",
            "sender_country_mismatch",
            "forbidden",
            "$.sender.country",
            "sender.country is the country the sender's token was issued for",
        ),
        PublishedRule(
            "renderable",
            "not_renderable",
            "not_renderable",
            "$.<path>",
            "each destination's profile can express the message (for example, a name in a "
            "script the channel has no Latin form for is refused at that name)",
        ),
        PublishedRule(
            "message_id_once",
            "message_id_conflict",
            None,
            "$.message_id",
            "a message_id sent again carries the same content (then the first answer is "
            "repeated); with other content it is refused",
        ),
    ]


def _signature_rules(sender_signatures: str) -> list[PublishedRule]:
    verifies = PublishedRule(
        "sender_signature_verifies",
        "signature_invalid",
        None,
        "$",
        f"a {SIGNATURE_HEADER} header, when sent, is a detached JWS (RFC 7797) over the body "
        "as sent, by a key registered for sender.country and sender.agency and valid now; "
        "each failed check is refused with 401 and its own code",
        {"header": SIGNATURE_HEADER, "algorithms": list(ALGORITHMS), "codes": sorted(CODES)},
    )
    if sender_signatures != "required":
        return [verifies]
    required = PublishedRule(
        "sender_signature_sent",
        "signature_required",
        None,
        "$",
        "every message carries its sending agency's signature (this gateway requires one)",
        {"header": SIGNATURE_HEADER},
    )
    return [required, verifies]


def published_rules(
    registry: AdapterLookup, *, max_body_bytes: int, sender_signatures: str = "optional"
) -> list[PublishedRule]:
    """Every refusal the JSON Schema does not express, for this gateway's channels."""
    return [
        *_request_rules(max_body_bytes),
        *_signature_rules(sender_signatures),
        *MESSAGE_RULES,
        *_destination_rules(registry),
        *_sender_rules(),
    ]
