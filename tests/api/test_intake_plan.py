"""Intake's plan renders each delivery from the form of the message its decision leaves:
recipients whose decisions redact differently get different payloads, each what a render of
that redacted message alone gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from adapters.pcc_see import PccSeeAdapter
from adapters.registry import load_registry
from gateway.intake import plan_deliveries
from gateway.policy import PolicyEngine, apply_redactions
from gateway.schema import derive_facts, parse_message

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = ["MK", "BA", "ME"]
# A rule of the test's own: persons are removed from what Bosnia and Herzegovina receives.
NO_PERSONS_TO_BA = {
    "id": "pcc_see.test_no_persons_to_ba",
    "cite": "test rule",
    "checks": "Persons are not sent to BA.",
    "expression": "!('BA' in destination.recipients) || !facts.has_personal_data",
    "outcome": "redact",
    "redact": ["persons"],
    "message": "Persons are removed for BA.",
}


def _engine_with_rule(tmp_path: Path) -> PolicyEngine:
    mappings = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    pack_path = mappings / "pcc_see" / "rules.yaml"
    pack = yaml.safe_load(pack_path.read_text(encoding="utf-8"))
    pack["rules"].append(NO_PERSONS_TO_BA)
    pack_path.write_text(yaml.safe_dump(pack, allow_unicode=True), encoding="utf-8")
    return PolicyEngine.load(mappings)


def test_recipients_redacted_differently_get_their_own_renders(tmp_path: Path) -> None:
    data = json.loads((ROOT / "examples/al-victim-identification-pcc-see.json").read_bytes())
    data["destinations"] = [{"channel": "pcc_see", "to": RECIPIENTS}]
    message = parse_message(json.dumps(data).encode())
    engine = _engine_with_rule(tmp_path)
    plans = plan_deliveries(
        message, derive_facts(message), engine=engine, registry=load_registry(only=["pcc_see"])
    )
    assert [p.recipient for p in plans] == RECIPIENTS
    family = message.persons[0].names[0].family
    assert family is not None
    for plan in plans:
        assert plan.payload is not None
        assert bool(plan.decision.redacted) == (plan.recipient == "BA")
        alone = PccSeeAdapter().render(
            apply_redactions(message, plan.decision), plan.decision, plan.recipient
        )
        assert plan.payload.body == alone.body
        assert (family.encode() in plan.payload.body) == (plan.recipient != "BA")
