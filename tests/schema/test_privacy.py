"""No violation text, and no exception text, repeats the value that failed."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.schema import MessageInvalid, parse_message

from .conftest import TODAY, encode

# Distinctive values that look like personal data; none may come back in an error text.
SEEDS = {
    "given": "Zvonimirka",
    "number": "QX7731902",
    "phone": "+355699917733",
    "birth": "1987-02-31",
    "role": "Shqiponjaroli",
    "country": "QZ",
    "uuid": "Milorad-Vujadinovic",
    "email": "ljiljana at nowhere",
    "ref": "Ђорђе Љубичић",
    "time": "1999-12-31T23:59:59",
    "subject": "Draganović " * 30,
    "extra_key": "Bratislavka",
}


def _poisoned(doc: dict[str, Any]) -> dict[str, Any]:
    doc["persons"][0]["names"][0]["given"] = {"nested": SEEDS["given"]}
    doc["documents"][0]["number"] = ["QX7731902"]
    doc["communications"][0]["value"] = 7
    doc["communications"][0]["owner"] = SEEDS["phone"]
    doc["persons"][1]["birth_date"] = SEEDS["birth"]
    doc["persons"][1]["role"] = SEEDS["role"]
    doc["persons"][1]["nationalities"] = [SEEDS["country"]]
    doc["in_reply_to"] = SEEDS["uuid"]
    doc["sender"]["contact"]["email"] = SEEDS["email"]
    doc["vehicles"][0]["ref"] = SEEDS["ref"]
    doc["sent_at"] = SEEDS["time"]
    doc["subject"] = SEEDS["subject"]
    doc["handling"]["Bratislavka"] = "x"
    doc["events"][0]["at"] = "Tuesday with Zvonimirka"
    doc["links"][0]["to"] = "Zvonimirka"
    return doc


def test_violations_never_echo_input(doc: dict[str, Any]) -> None:
    with pytest.raises(MessageInvalid) as caught:
        parse_message(encode(_poisoned(doc)), today=TODAY)
    violations = caught.value.violations
    assert len(violations) >= 12
    texts = [str(caught.value), repr(caught.value.as_dict())]
    texts += [v.message for v in violations]
    for seed in [*SEEDS.values(), "Draganović", "Tuesday"]:
        if seed == SEEDS["extra_key"]:
            continue  # an unknown key is named in the path, never in a message
        for text in texts[:1] + [v.message for v in violations]:
            assert seed.strip() not in text
    assert all(SEEDS["ref"] not in v.path and "Zvonimirka" not in v.path for v in violations)
    assert ("$.handling.Bratislavka", "extra_forbidden") in [(v.path, v.type) for v in violations]


def test_odd_unknown_keys_are_masked_in_paths(doc: dict[str, Any]) -> None:
    doc["sender"]["Ivan Petrović +381"] = 1
    with pytest.raises(MessageInvalid) as caught:
        parse_message(encode(doc), today=TODAY)
    [violation] = caught.value.violations
    assert violation.path == "$.sender[*]"
    assert "Petrovi" not in repr(caught.value.as_dict())


def test_json_syntax_errors_do_not_echo_input() -> None:
    with pytest.raises(MessageInvalid) as caught:
        parse_message(b'{"subject": "Zvonimirka Radovanovic" "kind": 1}')
    assert "Zvonimirka" not in repr(caught.value.as_dict())
