"""Every rule of every pack: one message it passes and one it fails, both small changes of an
example. A rule without a case here fails ``test_every_rule_has_a_case``."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.policy import PolicyEngine

from .helpers import (
    DELETE,
    MAPPINGS,
    Patch,
    build,
    decide,
    edit_yaml,
    example_data,
    strip_personal_data,
)

AL_PCC = "al-victim-identification-pcc-see.json"
AL_YELLOW = "al-yellow-notice-request.json"
MK_FRONTEX = "mk-smuggling-interception-frontex.json"
RS_SELEC = "rs-cyrillic-case-europol-selec.json"
XK_EUROPOL = "xk-europol-information.json"


@dataclass(frozen=True)
class Case:
    rule: str
    example: str
    channel: str
    passes: Patch
    fails: Patch


def _warrant(years: float, *, judgment: bool = False) -> dict[str, Any]:
    return {
        "issued_by": "Tirana District Court",
        "offence": "trafficking",
        "max_penalty_years": years,
        "judgment": judgment,
    }


RED = {"destinations.0.product": "red_notice_request"}
PHOTO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def _photo(data: dict[str, Any]) -> None:
    """The yellow notice request with a photograph attached instead of the note about one."""
    data["attachments"] = [
        {
            "ref": "photo-1",
            "media_type": "image/png",
            "filename": "photo.png",
            "size": len(PHOTO),
            "sha256": hashlib.sha256(PHOTO).hexdigest(),
            "content_base64": base64.b64encode(PHOTO).decode(),
        }
    ]


def _add_person(role: str, ref: str = "p-extra") -> Any:
    def patch(data: dict[str, Any]) -> None:
        data["persons"].append({"ref": ref, "role": role, "names": [{"family": "Test"}]})

    return patch


def _victim_linked_to_suspect(data: dict[str, Any]) -> None:
    _add_person("victim", "p-victim")(data)
    data["links"].append({"from": "p-victim", "to": "fac-1", "kind": "recruited_by"})


def _only_a_boat(data: dict[str, Any]) -> None:
    strip_personal_data(data)
    data["documents"] = []
    data["links"] = [link for link in data["links"] if not link["to"].startswith("doc")]
    data["vehicles"][0]["type"] = "boat"
    data["vehicles"][0]["registration"] = "SK-1234"


def _with_attachment(data: dict[str, Any]) -> None:
    data["attachments"] = example_data(AL_YELLOW)["attachments"]


def _special_category_victim(cite_art30: bool) -> Any:
    def patch(data: dict[str, Any]) -> None:
        data["persons"][0]["role"] = "victim"
        data["persons"][0]["special_categories"] = ["health"]
        if cite_art30:
            data["legal_basis"].append({"instrument": "europol_regulation", "article": "30(2)"})

    return patch


def _both(*patches: Any) -> Any:
    def patch(data: dict[str, Any]) -> None:
        for p in patches:
            p(data)

    return patch


def _set(**values: Any) -> Any:
    def patch(data: dict[str, Any]) -> None:
        from .helpers import set_path

        for dotted, value in values.items():
            set_path(data, dotted.replace("__", "."), value)

    return patch


PCC3 = [{"instrument": "pcc_see", "article": "3"}]
AUTOMATED = {"instrument": "pcc_see_automated_exchange", "article": "6"}

CASES = [
    # europol
    Case("europol.agreement_or_arrangement", XK_EUROPOL, "europol", None, {"sender.country": "MD"}),
    Case(
        # MK's operational agreement is the one no source confirms.
        "europol.agreement_confirmed",
        XK_EUROPOL,
        "europol",
        {"sender.country": "RS"},
        {"sender.country": "MK"},
    ),
    Case(
        "europol.art3_mandate",
        XK_EUROPOL,
        "europol",
        None,
        {"crime_areas": ["labour_exploitation"]},
    ),
    Case(
        "europol.art3_mandate_confirmed",
        XK_EUROPOL,
        "europol",
        None,
        {"crime_areas": ["money_laundering"]},
    ),
    Case("europol.art29_evaluation", XK_EUROPOL, "europol", None, {"evaluation": DELETE}),
    Case(
        # A victim goes for risk (strategic) analysis beside cross-checking, not for it alone.
        "europol.art18_cross_checking_subjects",
        XK_EUROPOL,
        "europol",
        {"persons.0.role": "victim"},
        {"persons.0.role": "victim", "purposes": ["cross_checking"]},
    ),
    Case(
        "europol.art30_special_categories",
        XK_EUROPOL,
        "europol",
        _special_category_victim(True),
        _special_category_victim(False),
    ),
    Case(
        "europol.art19_handling_code",
        XK_EUROPOL,
        "europol",
        {"handling.onward_transfer": "prohibited"},
        {"handling.onward_transfer": "prohibited", "handling.restriction": "none"},
    ),
    # interpol
    Case("interpol.art4_sender_member", AL_YELLOW, "interpol", None, {"sender.country": "XK"}),
    Case(
        "interpol.art4_recipients_members",
        AL_YELLOW,
        "interpol",
        {"destinations.0.to": ["MK"]},
        {"destinations.0.to": ["MK", "XK"]},
    ),
    Case(
        "interpol.art3_neutrality",
        AL_YELLOW,
        "interpol",
        {"case.character": ["ordinary_law"]},
        {"case.character": ["ordinary_law", "political"]},
    ),
    Case("interpol.rpd44_status", AL_YELLOW, "interpol", None, {"persons.1.role": "other"}),
    Case(
        "interpol.rpd82_red_notice_subject",
        AL_YELLOW,
        "interpol",
        {**RED, "case.warrant": _warrant(8)},
        {**RED, "case.warrant": _warrant(8), "persons.1.role": "witness"},
    ),
    Case(
        "interpol.rpd83_warrant",
        AL_YELLOW,
        "interpol",
        {**RED, "case.warrant": _warrant(8)},
        {**RED, "case.warrant": {"issued_by": "Tirana District Court", "max_penalty_years": 8}},
    ),
    Case(
        "interpol.rpd83_warrant",
        AL_YELLOW,
        "interpol",
        {**RED, "case.warrant": _warrant(0.5, judgment=True)},
        {**RED, "case.warrant": {"offence": "trafficking", "judgment": True}},
    ),
    Case(
        # A judgment is not held to the two-year maximum (its sentence decides).
        "interpol.rpd83_penalty",
        AL_YELLOW,
        "interpol",
        {**RED, "case.warrant": _warrant(1.5, judgment=True)},
        {**RED, "case.warrant": _warrant(1.5)},
    ),
    Case(
        "interpol.rpd83_sentence",
        AL_YELLOW,
        "interpol",
        {**RED, "case.warrant": _warrant(2)},
        {**RED, "case.warrant": _warrant(2, judgment=True)},
    ),
    Case(
        "interpol.rpd88_96_blue_notice_subject",
        AL_YELLOW,
        "interpol",
        {"destinations.0.product": "blue_notice_request"},
        _both(strip_personal_data, _set(destinations__0__product="blue_notice_request")),
    ),
    Case(
        "interpol.rpd88_96_green_notice_subject",
        AL_YELLOW,
        "interpol",
        {"destinations.0.product": "green_notice_request"},
        {"destinations.0.product": "green_notice_request", "persons.1.role": "witness"},
    ),
    Case(
        "interpol.rpd88_96_purple_notice_modus_operandi",
        AL_YELLOW,
        "interpol",
        {"destinations.0.product": "purple_notice_request"},
        {"destinations.0.product": "purple_notice_request", "summary": DELETE},
    ),
    Case(
        # A victim whose whereabouts are known is no yellow notice subject.
        "interpol.rpd90_yellow_notice_subject",
        AL_YELLOW,
        "interpol",
        {"persons.0.role": "unidentified"},
        {"persons.0.role": "victim"},
    ),
    Case(
        "interpol.rpd90_yellow_notice_identifiers",
        AL_YELLOW,
        "interpol",
        {"persons.0.role": "unidentified", "persons.0.birth_date": DELETE},
        {"persons.0.sex": "unknown"},
    ),
    Case(
        # The example's attachment is a note that photographs exist, not a photograph.
        "interpol.rpd90_yellow_notice_likeness",
        AL_YELLOW,
        "interpol",
        _photo,
        None,
    ),
    # frontex
    Case(
        "frontex.art73_status_or_arrangement",
        MK_FRONTEX,
        "frontex",
        {"sender.country": "BA"},
        {"sender.country": "TR"},
    ),
    Case(
        "frontex.art87_purpose",
        MK_FRONTEX,
        "frontex",
        None,
        {"purposes": ["victim_identification"]},
    ),
    Case("frontex.art89_no_personal_data", MK_FRONTEX, "frontex", _only_a_boat, None),
    Case("frontex.art89_attachments", MK_FRONTEX, "frontex", None, _with_attachment),
    Case(
        # Operational personal data of a victim alone: no suspect for it to supplement.
        "frontex.art90_suspect_required",
        XK_EUROPOL,
        "frontex",
        {"persons.0.role": "facilitator"},
        {"persons.0.role": "victim"},
    ),
    Case("frontex.art90_suspects_only", XK_EUROPOL, "frontex", None, _add_person("missing")),
    Case(
        "frontex.art90_victims_witnesses_linked",
        XK_EUROPOL,
        "frontex",
        _victim_linked_to_suspect,
        _add_person("witness"),
    ),
    # selec
    Case("selec.member_sender", RS_SELEC, "selec", None, {"sender.country": "XK"}),
    Case("selec.member_recipients", RS_SELEC, "selec", None, {"destinations.1.to": ["RO", "AT"]}),
    Case("selec.personal_data_unconfirmed", RS_SELEC, "selec", strip_personal_data, None),
    Case(
        "selec.onward_transfer", RS_SELEC, "selec", None, {"handling.onward_transfer": "prohibited"}
    ),
    Case(
        "selec.handling_restriction",
        RS_SELEC,
        "selec",
        None,
        {"handling.restriction": "other", "handling.restriction_text": "ask first"},
    ),
    # pcc_see
    Case("pcc_see.party_sender", AL_PCC, "pcc_see", None, {"sender.country": "XK"}),
    Case("pcc_see.party_recipients", AL_PCC, "pcc_see", None, {"destinations.0.to": ["XK"]}),
    Case(
        "pcc_see.article_named",
        AL_PCC,
        "pcc_see",
        None,
        {"legal_basis": [{"instrument": "pcc_see"}]},
    ),
    Case(
        # Every pcc_see basis names its article, not only one of them.
        "pcc_see.article_named",
        AL_PCC,
        "pcc_see",
        {"legal_basis": [{"instrument": "pcc_see", "article": "5"}, {"instrument": "bilateral"}]},
        {"legal_basis": [{"instrument": "pcc_see", "article": "5"}, {"instrument": "pcc_see"}]},
    ),
    Case("pcc_see.art5_on_request", AL_PCC, "pcc_see", None, {"kind": "information"}),
    Case(
        "pcc_see.art6_without_request",
        AL_PCC,
        "pcc_see",
        {"legal_basis": [{"instrument": "pcc_see", "article": "6(1)"}], "kind": "information"},
        {"legal_basis": [{"instrument": "pcc_see", "article": "6(1)"}]},
    ),
    Case(
        "pcc_see.art8_migration",
        AL_PCC,
        "pcc_see",
        {
            "legal_basis": [{"instrument": "pcc_see", "article": "8"}],
            "crime_areas": ["migrant_smuggling"],
        },
        {"legal_basis": [{"instrument": "pcc_see", "article": "8"}]},
    ),
    Case(
        "pcc_see.art3_no_personal_data",
        AL_PCC,
        "pcc_see",
        _both(strip_personal_data, _set(legal_basis=PCC3)),
        {"legal_basis": PCC3},
    ),
    Case(
        "pcc_see.art31_deletion_deadline",
        AL_PCC,
        "pcc_see",
        None,
        {"handling.retention_until": DELETE},
    ),
    Case(
        "pcc_see.art31_data_protection_level",
        AL_PCC,
        "pcc_see",
        None,
        {"destinations.0.to": ["BA"]},
    ),
    Case(
        "pcc_see.automated_exchange_parties",
        AL_PCC,
        "pcc_see",
        lambda d: d["legal_basis"].append(AUTOMATED),
        _both(lambda d: d["legal_basis"].append(AUTOMATED), _set(destinations__0__to=["BA"])),
    ),
]


def _rule_findings(engine: PolicyEngine, example: str, channel: str, patch: Patch) -> list[Any]:
    return list(decide(engine, build(example, patch), channel).findings)


# A rule with two cases gets ids rule-0 and rule-1.
CASE_IDS = [f"{c.rule}-{[d.rule for d in CASES[:i]].count(c.rule)}" for i, c in enumerate(CASES)]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_rule_passes(engine: PolicyEngine, case: Case) -> None:
    findings = _rule_findings(engine, case.example, case.channel, case.passes)
    assert case.rule not in [f.rule for f in findings]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_rule_fails_with_its_outcome(engine: PolicyEngine, case: Case) -> None:
    _, rule = engine.rule(case.rule)
    findings = [
        f
        for f in _rule_findings(engine, case.example, case.channel, case.fails)
        if f.rule == case.rule
    ]
    assert len(findings) == 1
    assert findings[0].outcome == rule.outcome
    assert findings[0].cite == rule.cite
    assert findings[0].message == rule.message


def _unconfirm(instrument: str, country: str) -> Any:
    def change(document: Any) -> None:
        entries = document["instruments"][instrument]["entries"]
        next(e for e in entries if e["country"] == country)["confirmed"] = False

    return change


def test_frontex_status_agreement_not_confirmed_is_reviewed(mappings_copy: Path) -> None:
    """frontex.art73_confirmed: no shipped entry fails it (BA's status agreement is confirmed
    and sits beside a working arrangement), so the table is changed here."""
    edit_yaml(mappings_copy / "parties.yaml", _unconfirm("frontex_status_agreement", "MK"))
    changed = PolicyEngine.load(mappings_copy)
    rule = "frontex.art73_confirmed"
    failing = decide(changed, build(MK_FRONTEX), "frontex")
    assert [f.outcome for f in failing.findings if f.rule == rule] == ["review"]
    # BA relies on its confirmed working arrangement, so the same table lets it pass.
    passing = decide(changed, build(MK_FRONTEX, {"sender.country": "BA"}), "frontex")
    assert rule not in [f.rule for f in passing.findings]


def test_interpol_membership_not_confirmed_is_reviewed(mappings_copy: Path) -> None:
    """interpol.art4_membership_confirmed: every member's entry is confirmed now, so one is
    withdrawn in a copy; the sender's and an addressed country's entries both count."""
    rule = "interpol.art4_membership_confirmed"
    edit_yaml(mappings_copy / "parties.yaml", _unconfirm("interpol_members", "MK"))
    changed = PolicyEngine.load(mappings_copy)
    shipped = PolicyEngine.load(MAPPINGS)
    addressed = build(AL_YELLOW, {"destinations.0.to": ["MK"]})
    sending = build(AL_YELLOW, {"sender.country": "MK"})
    for message in (addressed, sending):
        found = decide(changed, message, "interpol").findings
        assert [f.outcome for f in found if f.rule == rule] == ["review"]
        assert rule not in [f.rule for f in decide(shipped, message, "interpol").findings]


def test_every_rule_has_a_case(engine: PolicyEngine) -> None:
    covered = {c.rule for c in CASES} | {
        "frontex.art73_confirmed",
        "interpol.art4_membership_confirmed",
    }
    assert {rule.id for _, rule in engine.rules()} - covered == set()


@pytest.fixture(scope="module")
def registry() -> Any:
    from adapters.registry import load_registry

    return load_registry(MAPPINGS)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_legal_refusals_are_decisions_not_render_errors(
    engine: PolicyEngine, registry: Any, case: Case
) -> None:
    """Each case's messages either render or are denied by a rule: a legal reason never
    surfaces as the render's not_renderable (which intake and check turn into a 422)."""
    from gateway.intake import plan_deliveries
    from gateway.schema import derive_facts

    for patch in (case.passes, case.fails):
        message = build(case.example, patch)
        plans = plan_deliveries(message, derive_facts(message), engine=engine, registry=registry)
        assert [p for plan in plans for p in plan.render_problems] == []
