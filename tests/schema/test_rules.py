"""Cross-field rules: each one passes the good message and fails a bad one at an exact path."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.schema import parse_message
from gateway.schema.codes import Priority
from gateway.schema.message import MAX_ATTACHMENT_BYTES

from .conftest import TODAY, encode, problems


def test_base_message_is_valid(doc: dict[str, Any]) -> None:
    assert problems(doc) == []


def test_reply_needs_in_reply_to(doc: dict[str, Any]) -> None:
    doc["kind"] = "reply"
    assert problems(doc) == [("$.in_reply_to", "missing")]
    doc["in_reply_to"] = "6b1f0d37-9e2a-4c84-a3d5-7e0c9b2f5a41"
    assert problems(doc) == []


@pytest.mark.parametrize("kind", ["information", "request", "alert"])
def test_in_reply_to_forbidden_unless_reply(doc: dict[str, Any], kind: str) -> None:
    doc["kind"] = kind
    doc["in_reply_to"] = "6b1f0d37-9e2a-4c84-a3d5-7e0c9b2f5a41"
    assert problems(doc) == [("$.in_reply_to", "forbidden")]


def test_restriction_other_needs_text(doc: dict[str, Any]) -> None:
    doc["handling"]["restriction"] = "other"
    assert problems(doc) == [("$.handling.restriction_text", "missing")]
    doc["handling"]["restriction_text"] = "ask before use in court"
    assert problems(doc) == []


def test_restriction_text_forbidden_without_other(doc: dict[str, Any]) -> None:
    doc["handling"]["restriction"] = "no_judicial_use"
    doc["handling"]["restriction_text"] = "ask before use in court"
    assert problems(doc) == [("$.handling.restriction_text", "forbidden")]


@pytest.mark.parametrize("channel", ["pcc_see", "selec", "interpol", "sepca_bilateral"])
def test_the_schema_leaves_recipients_to_the_channel(doc: dict[str, Any], channel: str) -> None:
    """Whether ``to`` is needed is the adapter's to say (intake asks it, see
    tests/adapters/test_capabilities.py); the schema alone accepts either."""
    doc["destinations"] = [{"channel": "europol"}, {"channel": channel}]
    assert problems(doc) == []
    doc["destinations"][1]["to"] = []
    assert problems(doc) == []


def test_channel_appears_once(doc: dict[str, Any]) -> None:
    doc["destinations"].append({"channel": "pcc_see", "to": ["RS"]})
    assert problems(doc) == [("$.destinations[2].channel", "duplicate_channel")]


def test_channel_name_pattern(doc: dict[str, Any]) -> None:
    doc["destinations"][1]["channel"] = "Europol"
    assert problems(doc) == [("$.destinations[1].channel", "string_pattern_mismatch")]


def _attachment(doc: dict[str, Any]) -> dict[str, Any]:
    attachment: dict[str, Any] = doc["attachments"][0]
    return attachment


def test_attachment_base64_must_decode(doc: dict[str, Any]) -> None:
    _attachment(doc)["content_base64"] = "not base64!"
    assert problems(doc) == [("$.attachments[0].content_base64", "invalid_base64")]


def test_attachment_size_must_match(doc: dict[str, Any]) -> None:
    _attachment(doc)["size"] += 1
    assert problems(doc) == [("$.attachments[0].size", "size_mismatch")]


def test_attachment_hash_must_match(doc: dict[str, Any]) -> None:
    _attachment(doc)["sha256"] = hashlib.sha256(b"other").hexdigest()
    assert problems(doc) == [("$.attachments[0].sha256", "hash_mismatch")]


def test_attachment_hash_is_case_insensitive(doc: dict[str, Any]) -> None:
    _attachment(doc)["sha256"] = _attachment(doc)["sha256"].upper()
    assert problems(doc) == []


def test_attachment_at_most_ten_megabytes(doc: dict[str, Any]) -> None:
    exact = bytes(MAX_ATTACHMENT_BYTES)
    _attachment(doc).update(
        size=len(exact),
        sha256=hashlib.sha256(exact).hexdigest(),
        content_base64=base64.b64encode(exact).decode(),
    )
    assert problems(doc) == []
    over = exact + b"\0"
    _attachment(doc).update(
        sha256=hashlib.sha256(over).hexdigest(), content_base64=base64.b64encode(over).decode()
    )
    assert problems(doc) == [
        ("$.attachments[0].content_base64", "too_large"),
        ("$.attachments[0].size", "size_mismatch"),
    ]
    _attachment(doc)["size"] = len(over)
    assert ("$.attachments[0].size", "less_than_equal") in problems(doc)


def test_retention_must_be_after_today_from_context(doc: dict[str, Any]) -> None:
    doc["handling"]["retention_until"] = TODAY.isoformat()
    assert problems(doc) == [("$.handling.retention_until", "not_in_future")]
    doc["handling"]["retention_until"] = (TODAY + timedelta(days=1)).isoformat()
    assert problems(doc) == []


def test_retention_defaults_to_the_utc_date_now(doc: dict[str, Any]) -> None:
    now = datetime.now(UTC).date()
    doc["handling"]["retention_until"] = now.isoformat()
    assert problems(doc, today=None) == [("$.handling.retention_until", "not_in_future")]
    doc["handling"]["retention_until"] = (now + timedelta(days=2)).isoformat()
    assert problems(doc, today=None) == []


@pytest.mark.parametrize(
    ("list_name", "item", "path"),
    [
        ("vehicles", {"ref": "p1", "type": "van"}, "$.vehicles[1].ref"),
        ("attachments", None, "$.attachments[0].ref"),
        ("events", {"ref": "d1", "kind": "arrest"}, "$.events[1].ref"),
        (
            "persons",
            {"ref": "p2", "role": "witness", "names": [{"given": "W"}]},
            "$.persons[2].ref",
        ),
    ],
)
def test_refs_unique_across_all_lists(
    doc: dict[str, Any], list_name: str, item: dict[str, Any] | None, path: str
) -> None:
    if item is None:
        doc[list_name][0]["ref"] = "o1"
    else:
        doc[list_name].append(item)
    assert problems(doc) == [(path, "duplicate_ref")]


@pytest.mark.parametrize(
    ("list_name", "field", "good", "bad"),
    [
        ("documents", "holder", "p2", "v1"),
        ("communications", "owner", "o1", "l1"),
        ("events", "location", "l1", "p1"),
    ],
)
def test_references_must_fit_the_kind(
    doc: dict[str, Any], list_name: str, field: str, good: str, bad: str
) -> None:
    doc[list_name][0][field] = good
    assert problems(doc) == []
    doc[list_name][0][field] = bad
    assert problems(doc) == [(f"$.{list_name}[0].{field}", "broken_reference")]
    doc[list_name][0][field] = "nobody"
    assert problems(doc) == [(f"$.{list_name}[0].{field}", "broken_reference")]


def test_communication_owner_may_be_a_person(doc: dict[str, Any]) -> None:
    doc["communications"][1]["owner"] = "p1"
    assert problems(doc) == []


def test_involved_and_links_accept_any_kind_but_must_resolve(doc: dict[str, Any]) -> None:
    doc["events"][0]["involved"] = ["p1", "d1", "v1", "l1", "o1", "c1", "e1", "a1"]
    doc["links"].append({"from": "a1", "to": "c2", "kind": "associated_with"})
    assert problems(doc) == []
    doc["events"][0]["involved"][1] = "ghost"
    doc["links"][2]["to"] = "ghost"
    doc["links"][3]["from"] = "ghost"
    assert sorted(problems(doc)) == [
        ("$.events[0].involved[1]", "broken_reference"),
        ("$.links[2].to", "broken_reference"),
        ("$.links[3].from", "broken_reference"),
    ]


@pytest.mark.parametrize(
    ("kind", "sent", "effective"),
    [
        ("alert", None, "urgent"),
        ("alert", "routine", "urgent"),
        ("alert", "immediate", "immediate"),
        ("request", None, "routine"),
        ("information", "urgent", "urgent"),
    ],
)
def test_alert_is_at_least_urgent(
    doc: dict[str, Any], kind: str, sent: str | None, effective: str
) -> None:
    doc["kind"] = kind
    if sent is not None:
        doc["priority"] = sent
    message = parse_message(encode(doc), today=TODAY)
    assert message.effective_priority == Priority(effective)
    assert message.priority == Priority(sent or "routine")
    assert message.model_dump(mode="json")["priority"] == (sent or "routine")


def test_a_name_needs_given_or_family(doc: dict[str, Any]) -> None:
    doc["persons"][0]["names"].append({"script": "Latn"})
    assert problems(doc) == [("$.persons[0].names[1].given", "name_empty")]


@pytest.mark.parametrize("present", ["lat", "lon"])
def test_coordinates_come_in_pairs(doc: dict[str, Any], present: str) -> None:
    missing = "lon" if present == "lat" else "lat"
    del doc["locations"][0][missing]
    assert problems(doc) == [(f"$.locations[0].{missing}", "coordinates_incomplete")]


def test_coordinates_are_bounded(doc: dict[str, Any]) -> None:
    doc["locations"][0]["lat"] = 90.5
    doc["locations"][0]["lon"] = -181
    assert problems(doc) == [
        ("$.locations[0].lat", "less_than_equal"),
        ("$.locations[0].lon", "greater_than_equal"),
    ]
