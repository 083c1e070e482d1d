"""``check`` on every example: the exact report shape, the exit status, and the outcomes a
legal officer expects of each message (written out per example below)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gateway.cli import app

from .helpers import EXAMPLES

# channel -> (outcome, rules that fire) or, per recipient, {country: (outcome, rules)}
Expected = dict[str, Any]

EXPECTED: dict[str, Expected] = {
    # AL asks MK under Art. 5 with a deletion deadline; both parties passed the evaluations.
    "al-victim-identification-pcc-see.json": {"pcc_see": {"MK": ("allow", [])}},
    # Interpol membership of the MARRI states is not confirmed by a source: held for review.
    "al-yellow-notice-request.json": {
        "interpol": ("review", ["interpol.art4_membership_confirmed"]),
    },
    # BA is not recorded as having passed the PCC SEE data-protection evaluations.
    "ba-reply.json": {"pcc_see": {"RS": ("review", ["pcc_see.art31_data_protection_level"])}},
    "me-early-warning-alert.json": {
        "europol": ("review", ["europol.agreement_confirmed"]),
        "selec": ("review", ["selec.personal_data_unconfirmed"]),
        "pcc_see": {
            "AL": ("allow", []),
            "BA": ("review", ["pcc_see.art31_data_protection_level"]),
            "MK": ("allow", []),
            "RS": ("allow", []),
        },
        "interpol": ("review", ["interpol.art4_membership_confirmed"]),
    },
    # The EUROSUR event report loses its personal data; Art. 8 exchange with RS goes out.
    "mk-smuggling-interception-frontex.json": {
        "frontex": ("redact", ["frontex.art89_no_personal_data"]),
        "pcc_see": {"RS": ("allow", [])},
    },
    "rs-cyrillic-case-europol-selec.json": {
        "europol": ("review", ["europol.agreement_confirmed"]),
        "selec": ("review", ["selec.personal_data_unconfirmed"]),
    },
    # Kosovo* may send to Europol (working arrangement) and to Frontex (working arrangement,
    # Art. 90 data of a suspect only).
    "xk-europol-information.json": {
        "europol": ("allow", []),
        "frontex": ("allow", []),
    },
}

DECISION_KEYS = {"outcome", "findings", "redacted"}
FINDING_KEYS = {"rule", "cite", "outcome", "message"}


def run_check(path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check", str(path), *extra])
    return result.exit_code, result.stdout


def _assert_decision(view: dict[str, Any], expected: tuple[str, list[str]]) -> None:
    assert set(view) == DECISION_KEYS
    assert all(set(f) == FINDING_KEYS for f in view["findings"])
    assert (view["outcome"], [f["rule"] for f in view["findings"]]) == expected


def test_every_example_has_expectations() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_check_json_report(name: str) -> None:
    code, stdout = run_check(EXAMPLES / name, "--json")
    report = json.loads(stdout)
    assert set(report) == {"channels"}
    expected = EXPECTED[name]
    assert list(report["channels"]) == list(expected)
    outcomes = []
    for channel, want in expected.items():
        view = report["channels"][channel]
        if isinstance(want, dict):
            assert set(view) == {"outcome", "recipients"}
            assert list(view["recipients"]) == list(want)
            for country, sub in want.items():
                _assert_decision(view["recipients"][country], sub)
            strength = ["allow", "redact", "review", "deny"]
            worst = max((w[0] for w in want.values()), key=strength.index)
            assert view["outcome"] == worst
        else:
            _assert_decision(view, want)
        outcomes.append(view["outcome"])
    assert code == (0 if set(outcomes) <= {"allow", "redact"} else 1)


def test_frontex_event_report_lists_what_it_removes() -> None:
    _, stdout = run_check(EXAMPLES / "mk-smuggling-interception-frontex.json", "--json")
    redacted = json.loads(stdout)["channels"]["frontex"]["redacted"]
    source = json.loads((EXAMPLES / "mk-smuggling-interception-frontex.json").read_text())
    persons = [f"$.persons[{i}]" for i in range(len(source["persons"]))]
    assert set(persons) <= set(redacted)
    assert "$.vehicles[0].registration" in redacted
    assert all(f"$.documents[{i}]" in redacted for i in range(len(source["documents"])))


def test_check_renders_for_people(tmp_path: Path) -> None:
    code, stdout = run_check(EXAMPLES / "me-early-warning-alert.json")
    assert code == 1
    assert "pcc_see" in stdout
    assert "pcc_see.art31_data_protection_level" in stdout
    assert "→ BA" in stdout


def test_invalid_file_exits_2_with_violations(tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "ba-reply.json").read_text())
    del data["subject"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    code, stdout = run_check(path, "--json")
    assert code == 2
    assert {"path": "$.subject", "type": "missing"}.items() <= json.loads(stdout)["violations"][
        0
    ].items()


def test_rules_explain_and_list() -> None:
    result = CliRunner().invoke(app, ["rules", "explain", "pcc_see.art31_deletion_deadline"])
    assert result.exit_code == 0
    assert "Art. 31(4)(b)" in result.stdout
    assert "has(message.handling.retention_until)" in result.stdout
    missing = CliRunner().invoke(app, ["rules", "explain", "pcc_see.no_such_rule"])
    assert missing.exit_code == 2
    listing = CliRunner().invoke(app, ["rules", "list", "--channel", "interpol"])
    assert "interpol.rpd83_penalty" in listing.stdout
    assert "pcc_see." not in listing.stdout
