"""The refusals JSON Schema cannot express, published beside the schema at ``/v1/schema/rules``.

The published JSON Schema carries every rule it can (types, lengths, patterns, code lists, the
conditionals between fields). What it cannot say (uniqueness across lists, references that
must resolve, a date after today, an attachment's content against its size and hash, what the
raw bytes must be) is listed here as data, each with the code and violation type a refused
message gets, so a sender's own validator can check them or at least recognise the answer.
Intake adds the rules that depend on the registered channels (``gateway/intake/published.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gateway.schema.rules import REF_LISTS

__all__ = ["INVALID_MESSAGE", "MESSAGE_RULES", "PublishedRule"]

INVALID_MESSAGE = "invalid_message"


@dataclass(frozen=True)
class PublishedRule:
    """One refusal a message can meet that its JSON Schema does not express.

    ``error`` is the answer's ``error.code``, ``violation`` the ``type`` of the violation at
    ``path`` (a JSON path, ``[*]`` for any index) when the answer lists violations.
    """

    id: str
    error: str
    violation: str | None
    path: str
    description: str
    values: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The rule as ``/v1/schema/rules`` lists it (``values`` only when it has some)."""
        data = asdict(self)
        if not self.values:
            del data["values"]
        return data


def _message_rule(rule_id: str, violation: str, path: str, description: str) -> PublishedRule:
    return PublishedRule(rule_id, INVALID_MESSAGE, violation, path, description)


#: Rules of canonical v1 itself, whichever channels a gateway has.
MESSAGE_RULES: tuple[PublishedRule, ...] = (
    _message_rule(
        "body_is_json",
        "invalid_json",
        "$",
        "the body is UTF-8 JSON as RFC 8259 defines it (a lone surrogate escape is not)",
    ),
    _message_rule(
        "numbers_finite",
        "finite_number",
        "$.<path>",
        "numbers are finite: NaN and Infinity, which are not JSON but which some encoders "
        "write, are refused at the field",
    ),
    _message_rule(
        "body_depth",
        "too_deep",
        "$",
        "the body nests arrays and objects no deeper than the gateway's limit (32 by default)",
    ),
    _message_rule(
        "retention_in_future",
        "not_in_future",
        "$.handling.retention_until",
        "the deletion deadline is a day after today (UTC) at the gateway",
    ),
    _message_rule(
        "channel_once",
        "duplicate_channel",
        "$.destinations[*].channel",
        "a channel appears in one destination only; the repeat is refused",
    ),
    PublishedRule(
        "ref_unique",
        INVALID_MESSAGE,
        "duplicate_ref",
        "$.<list>[*].ref",
        "a ref is used by one entity only, across all the entity lists; the repeat is refused",
        {"lists": list(REF_LISTS)},
    ),
    PublishedRule(
        "reference_resolves",
        INVALID_MESSAGE,
        "broken_reference",
        "$.<list>[*].<field>",
        "a reference names the ref of an entity in the same message, of the kind it allows",
        {
            "references": {
                "documents[*].holder": ["persons"],
                "communications[*].owner": ["persons", "organisations"],
                "events[*].location": ["locations"],
                "events[*].involved[*]": list(REF_LISTS),
                "links[*].from": list(REF_LISTS),
                "links[*].to": list(REF_LISTS),
            }
        },
    ),
    _message_rule(
        "attachment_size_limit",
        "too_large",
        "$.attachments[*].content_base64",
        "the content decodes to at most 10 MB",
    ),
    _message_rule(
        "attachment_size_matches",
        "size_mismatch",
        "$.attachments[*].size",
        "size is the number of bytes the content decodes to",
    ),
    _message_rule(
        "attachment_hash_matches",
        "hash_mismatch",
        "$.attachments[*].sha256",
        "sha256 is the SHA-256 of the decoded content, in hex",
    ),
)
