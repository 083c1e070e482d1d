"""``check`` on every example: the exact report shape, the exit status, and the outcomes a
legal officer expects of each message (written out per example below)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from gateway.cli import app

from .helpers import EXAMPLES, MAPPINGS

# channel -> (outcome, rules that fire) or, per recipient, {country: (outcome, rules)}
Expected = dict[str, Any]

# Each outcome is the legal reading of the example against the instruments, written out here
# rather than copied from a run. A hold stands only where no source settles the fact (see
# UNSOURCED below) or where the instrument needs something canonical v1 cannot carry.
EXPECTED: dict[str, Expected] = {
    # AL asks MK under Art. 5 with a deletion deadline; both passed the Art. 31 evaluations.
    "al-victim-identification-pcc-see.json": {"pcc_see": {"MK": ("allow", [])}},
    # A missing person with name, sex and birth date: an Art. 90 subject with its identifiers;
    # the attachment only says where the photographs are, and RPD Art. 90 wants one with it.
    "al-yellow-notice-request.json": {
        "interpol": ("review", ["interpol.rpd90_yellow_notice_likeness"]),
    },
    # No source records BA as having passed the PCC SEE data-protection evaluations.
    "ba-reply.json": {"pcc_see": {"RS": ("review", ["pcc_see.art31_data_protection_level"])}},
    "me-early-warning-alert.json": {
        # ME's operational agreement (signed 29 Sep 2014) is confirmed; early warning and
        # strategic analysis of a suspect.
        "europol": ("allow", []),
        # The SELEC Convention's data-protection chapter has not been read from a source.
        "selec": ("review", ["selec.personal_data_unconfirmed"]),
        "pcc_see": {
            "AL": ("allow", []),
            "BA": ("review", ["pcc_see.art31_data_protection_level"]),
            "MK": ("allow", []),
            "RS": ("allow", []),
        },
        # Montenegro is an Interpol member since 2006 (interpol.int); a diffusion on a suspect.
        "interpol": ("allow", []),
    },
    # The EUROSUR event report loses its personal data; Art. 8 exchange with RS goes out.
    "mk-smuggling-interception-frontex.json": {
        "frontex": ("redact", ["frontex.art89_no_personal_data"]),
        "pcc_see": {"RS": ("allow", [])},
    },
    "rs-cyrillic-case-europol-selec.json": {
        # RS's agreement is confirmed (in force 2014); the victim goes for operational analysis
        # and investigation, purposes of Art. 18(2)(c)-(d), not for cross-checking alone.
        "europol": ("allow", []),
        "selec": ("review", ["selec.personal_data_unconfirmed"]),
    },
    # Kosovo* may send to Europol (working arrangement) and to Frontex (working arrangement,
    # Art. 90 data of a suspect only).
    "xk-europol-information.json": {
        "europol": ("allow", []),
        "frontex": ("allow", []),
    },
}

# What parties-facts.md found no source for (its "not confirmed" column): only rules resting
# on these facts may hold an example for want of a source.
UNSOURCED = {
    "europol_operational_agreement": {"MK"},
    "pcc_see_data_protection_evaluated": {"BA", "SI"},
}

DECISION_KEYS = {"outcome", "findings", "redacted"}
FINDING_KEYS = {"rule", "cite", "outcome", "message"}
# A finding whose rule reads the parties table also lists the dated facts it read.
FACT_FINDING_KEYS = FINDING_KEYS | {"facts"}


def run_check(path: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["check", str(path), *extra])
    return result.exit_code, result.stdout


def _assert_decision(view: dict[str, Any], expected: tuple[str, list[str]]) -> None:
    assert set(view) == DECISION_KEYS
    assert all(set(f) in (FINDING_KEYS, FACT_FINDING_KEYS) for f in view["findings"])
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
            assert set(view) == {"outcome", "findings", "recipients"}
            assert list(view["recipients"]) == list(want)
            for country, sub in want.items():
                _assert_decision(view["recipients"][country], sub)
            strength = ["allow", "redact", "review", "deny"]
            worst = max((w[0] for w in want.values()), key=strength.index)
            assert view["outcome"] == worst
            # The channel names the findings that made its outcome, and for whom.
            made_it = {
                (rule, country)
                for country, (outcome, rules) in want.items()
                if outcome == worst
                for rule in rules
            }
            assert {(f["rule"], c) for f in view["findings"] for c in f["recipients"]} == made_it
        else:
            _assert_decision(view, want)
        outcomes.append(view["outcome"])
    assert code == (0 if set(outcomes) <= {"allow", "redact"} else 1)


def test_shipped_facts_leave_unconfirmed_only_what_no_source_gives() -> None:
    """Every entry parties-facts.md sources is confirmed in the shipped table."""
    from gateway.policy import PolicyEngine

    table = PolicyEngine.load(MAPPINGS).parties
    unconfirmed = {
        name: set(instrument.unconfirmed())
        for name, instrument in table.instruments.items()
        if instrument.unconfirmed()
    }
    assert unconfirmed == UNSOURCED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_no_example_is_held_for_a_fact_a_source_gives(name: str) -> None:
    """A hold resting on a party list is about a country no source confirms for it."""
    from gateway.policy import PolicyEngine

    engine = PolicyEngine.load(MAPPINGS)
    _, stdout = run_check(EXAMPLES / name, "--json")
    for view in _decisions(json.loads(stdout)):
        for finding in view["findings"]:
            if finding["outcome"] != "review":
                continue
            _, rule = engine.rule(finding["rule"])
            lists = set(re.findall(r"parties\.(?:unconfirmed\.)?([a-z_0-9]+)", rule.expression))
            lists.discard("unconfirmed")
            assert not lists or lists <= set(UNSOURCED), (name, finding["rule"])


def _decisions(report: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for view in report["channels"].values():
        found.extend(view["recipients"].values() if "recipients" in view else [view])
    return found


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
