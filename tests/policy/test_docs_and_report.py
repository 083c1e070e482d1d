"""docs/rules.md and the channel pages match the packs; check_report's shape for
per-recipient channels."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.policy import Decision, Finding, PolicyEngine, check_report
from gateway.policy.docs import CHANNEL_DOCS, OUTPUT, rendered_docs


def test_rules_docs_are_up_to_date(engine: PolicyEngine) -> None:
    """docs/rules.md and one page per channel with a pack, no page for a channel without."""
    expected = rendered_docs(engine)
    for path, text in expected.items():
        assert path.is_file(), f"{path} is missing: run python -m gateway.policy.docs"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} is stale: run python -m gateway.policy.docs"
        )
    pages = set((OUTPUT.parent / CHANNEL_DOCS).glob("*.md"))
    assert pages == set(expected) - {OUTPUT}, "a channel page without a channel"


def test_rules_docs_name_every_rule_and_citation(engine: PolicyEngine) -> None:
    docs = rendered_docs(engine)
    for pack, rule in engine.rules():
        page = docs[OUTPUT.parent / CHANNEL_DOCS / f"{pack.channel}.md"]
        assert f"`{rule.id}`" in page
        assert rule.cite.split(";")[0] in page
        assert pack.sha256 in page
    shared = docs[OUTPUT]
    assert all(f"`{i}`" not in shared for i in ("selec_members", "interpol_members"))
    assert "`convention_108`" in shared


@dataclass(frozen=True)
class Plan:
    channel: str
    recipient: str | None
    decision: Decision


def _decision(channel: str, outcome: str, *rules: str) -> Decision:
    findings = tuple(Finding(r, "cite", outcome, "text") for r in rules)  # type: ignore[arg-type]
    return Decision(channel, "p", outcome, findings)  # type: ignore[arg-type]


def test_report_groups_recipients_and_takes_the_strongest() -> None:
    report = check_report(
        [
            Plan("pcc_see", "AL", _decision("pcc_see", "allow")),
            Plan("pcc_see", "BA", _decision("pcc_see", "review", "pcc_see.x")),
            Plan("pcc_see", "XK", _decision("pcc_see", "deny", "pcc_see.y")),
            Plan("europol", None, _decision("europol", "redact", "europol.z")),
        ]
    )
    pcc = report["channels"]["pcc_see"]
    assert pcc["outcome"] == "deny"
    assert list(pcc["recipients"]) == ["AL", "BA", "XK"]
    assert pcc["recipients"]["BA"]["findings"][0]["rule"] == "pcc_see.x"
    assert report["channels"]["europol"] == {
        "outcome": "redact",
        "findings": [{"rule": "europol.z", "cite": "cite", "outcome": "redact", "message": "text"}],
        "redacted": [],
    }


def test_per_recipient_channel_states_the_findings_that_made_its_outcome() -> None:
    """Only the recipients with the channel's outcome count; a finding shared by several of
    them appears once, naming them all."""
    report = check_report(
        [
            Plan("pcc_see", "AL", _decision("pcc_see", "review", "pcc_see.x")),
            Plan("pcc_see", "BA", _decision("pcc_see", "deny", "pcc_see.y", "pcc_see.z")),
            Plan("pcc_see", "RS", _decision("pcc_see", "deny", "pcc_see.y")),
            Plan("pcc_see", "MK", _decision("pcc_see", "allow")),
        ]
    )
    pcc = report["channels"]["pcc_see"]
    assert pcc["outcome"] == "deny"
    assert [(f["rule"], f["recipients"]) for f in pcc["findings"]] == [
        ("pcc_see.y", ["BA", "RS"]),
        ("pcc_see.z", ["BA"]),
    ]
    allowed = check_report([Plan("pcc_see", "MK", _decision("pcc_see", "allow"))])
    assert allowed["channels"]["pcc_see"]["findings"] == []
