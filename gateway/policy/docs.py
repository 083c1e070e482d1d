"""Generate ``docs/rules.md`` from the rule packs and the parties table.

Run ``python -m gateway.policy.docs`` after changing a pack; a test fails while the file is
stale, so the document a legal officer reads is always the rules the gateway runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gateway.policy.engine import PolicyEngine
from gateway.policy.pack import RulePack
from gateway.policy.parties import PartiesTable
from gateway.policy.selectors import SELECTORS
from gateway.policy.vocabulary import POLICY_FACTS

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "mappings"
OUTPUT = ROOT / "docs" / "rules.md"

SCHEMA_FACTS = {
    "has_personal_data": "any person, document number, communication or vehicle registration/VIN",
    "persons_by_role": "how many persons have each role (every role is a key)",
    "has_minors": "a person is, or could be, under 18 on the day the message was sent",
    "has_special_categories": "a person's record is marked as holding special-category data",
    "person_count": "how many persons the message names",
    "roles": "the distinct roles of the persons, sorted",
    "has_documents": "the message lists documents",
    "has_communications": "the message lists communications",
    "has_vehicle_registrations": "a vehicle other than a boat or aircraft has a registration/VIN",
    "has_only_boat_or_aircraft_ids": (
        "the only personal data are boat or aircraft identification numbers"
    ),
    "countries": "every country code the message mentions",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _vocabulary() -> list[str]:
    lines = [
        "## What rules can see",
        "",
        "Each expression is CEL and must be TRUE for the message to pass. Variables:",
        "",
        "- `message`: the canonical message by its JSON names; absent optional fields are left "
        "out (test with `has(message.case)`). Names, numbers, free text and other identifying "
        "values appear only as `true`: rules decide on codes and structure.",
        "- `facts`: derived facts (below).",
        "- `sender`: `country`, `agency`.",
        "- `destination`: `channel`, `product` (the pack's default when none was named), "
        "`recipients` (the countries this decision is for; one country on a channel delivered "
        "per recipient).",
        "- `parties`: `parties.<instrument>` lists, of the countries the message involves "
        "(its sender and every destination's recipients), those party to it on the day of "
        "the transfer (the day of the decision: intake, or a later release or retry); "
        "`parties.unconfirmed.<instrument>` lists those whose entry no source confirms. The "
        "table is `mappings/parties.yaml` (instruments several channels share) merged with "
        "each channel's `mappings/<channel>/parties.yaml`, with legal officers' changes laid "
        "over it "
        "([legal-officer.md](legal-officer.md)). Use them for membership tests "
        "(`sender.country in parties.selec_members`), not to count parties.",
        "",
        "A rule that cannot be evaluated gives a `review` finding naming the rule. The "
        "channel's outcome is the strongest finding: deny > review > redact > allow.",
        "",
        "| fact | meaning |",
        "|---|---|",
    ]
    for name, text in {**SCHEMA_FACTS, **POLICY_FACTS}.items():
        lines.append(f"| `{name}` | {_cell(text)} |")
    lines += ["", "Redaction selectors (`redact:` of a redact rule):", ""]
    lines += ["| selector | removes |", "|---|---|"]
    for selector in SELECTORS.values():
        lines.append(f"| `{selector.name}` | {_cell(selector.description)} |")
    return [*lines, ""]


def _pack(pack: RulePack) -> list[str]:
    lines = [
        f"## {pack.channel}",
        "",
        f"Pack `mappings/{pack.channel}/rules.yaml`, version {pack.version}, "
        f"sha256 `{pack.sha256}`.",
        "",
        _cell(pack.instrument),
        "",
        "| rule | citation | what it checks | applies to | outcome |",
        "|---|---|---|---|---|",
    ]
    for rule in pack.rules:
        applies = "; ".join(
            part
            for part in (
                ", ".join(sorted(rule.products)),
                ", ".join(f"kind {k}" for k in sorted(rule.kinds)),
            )
            if part
        )
        outcome: str = rule.outcome
        if rule.redact:
            outcome += " (" + ", ".join(f"`{s}`" for s in rule.redact) + ")"
        lines.append(
            f"| `{rule.id}` | {_cell(rule.cite)} | {_cell(rule.checks or rule.message)} | "
            f"{applies or 'all'} | {outcome} |"
        )
    lines += ["", "Expressions:", ""]
    for rule in pack.rules:
        lines.append(f"- `{rule.id}`: `{rule.expression}`")
    return [*lines, ""]


def _parties(parties: PartiesTable) -> list[str]:
    lines = [
        "## Parties",
        "",
        "From `mappings/parties.yaml` and the channels' `mappings/<channel>/parties.yaml`. "
        "`since` blank: no source gives a date. Unconfirmed "
        "entries make the rules that rest on them hold the message for review.",
        "",
    ]
    for instrument in parties.instruments.values():
        lines += [
            f"### `{instrument.name}`: {_cell(instrument.title)}",
            "",
            f"{_cell(instrument.cite)}",
            "",
            "| country | party | since | confirmed | source |",
            "|---|---|---|---|---|",
        ]
        for e in instrument.entries:
            since = e.since.isoformat() if e.since else ""
            source = e.source + (f" ({e.note})" if e.note else "")
            lines.append(
                f"| {e.country} | {'yes' if e.party else 'no'} | {since} | "
                f"{'yes' if e.confirmed else 'no'} | {_cell(source)} |"
            )
        lines.append("")
    return lines


def render_rules_doc(engine: PolicyEngine) -> str:
    """The whole document; deterministic for the same packs and parties table."""
    lines = [
        "# Legal-basis rules",
        "",
        "Generated by `python -m gateway.policy.docs` from `mappings/*/rules.yaml` and "
        "`mappings/parties.yaml` with `mappings/*/parties.yaml`; do not edit by hand. "
        "`marri-gateway rules explain RULE_ID` "
        "shows one rule.",
        "",
        *_vocabulary(),
    ]
    for channel in engine.channels():
        lines += _pack(engine.pack(channel))
    lines += _parties(engine.parties)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m gateway.policy.docs [PATH]``: rewrite docs/rules.md from the
    packs.
    """
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else OUTPUT
    text = render_rules_doc(PolicyEngine.load(MAPPINGS))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
