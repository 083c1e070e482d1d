"""Generate ``docs/rules.md`` and ``docs/channels/<channel>.md`` from the packs and parties.

``docs/rules.md`` holds what every channel shares (the vocabulary, the shared instruments);
each channel's page holds its pack and the instruments only it relies on, so adding or
removing a channel changes only its own page. Run ``python -m gateway.policy.docs`` after
changing a pack; a test fails while a file is stale, so the document a legal officer reads is
always the rules the gateway runs.
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
CHANNEL_DOCS = "channels"  # beside OUTPUT: docs/channels/<channel>.md

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
        "## Rules",
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


def _parties(parties: PartiesTable, folder: Path | None = None) -> list[str]:
    """The instruments of the shared table (``folder`` None) or of one channel's folder."""
    where = (
        "`mappings/parties.yaml`" if folder is None else f"`mappings/{folder.name}/parties.yaml`"
    )
    lines = [
        "## Parties",
        "",
        f"From {where}. `since` blank: no source gives a date. Unconfirmed "
        "entries make the rules that rest on them hold the message for review.",
        "",
    ]
    shown = [
        i
        for i in parties.instruments.values()
        if (i.file == parties.path if folder is None else i.file.parent == folder)
    ]
    if not shown:
        lines += ["No instrument of its own.", ""]
    for instrument in shown:
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
    """What every channel shares; deterministic for the same packs and parties table."""
    lines = [
        "# Legal-basis rules",
        "",
        "Generated by `python -m gateway.policy.docs` from the shared `mappings/parties.yaml`; "
        "do not edit by hand. Each channel's rules and the parties facts only it relies on "
        "are on its own page, `docs/channels/<channel>.md`, generated from its mapping folder. "
        "`marri-gateway rules explain RULE_ID` shows one rule.",
        "",
        *_vocabulary(),
    ]
    lines += _parties(engine.parties)
    return "\n".join(lines).rstrip() + "\n"


def render_channel_doc(engine: PolicyEngine, channel: str) -> str:
    """One channel's page: its pack and its own instruments."""
    pack = engine.pack(channel)
    lines = [
        f"# The {channel} channel: legal-basis rules",
        "",
        f"Generated by `python -m gateway.policy.docs` from `mappings/{channel}/`; do not edit "
        "by hand. The vocabulary and the shared instruments: [rules.md](../rules.md).",
        "",
        *_pack(pack),
        *_parties(engine.parties, pack.path.parent),
    ]
    return "\n".join(lines).rstrip() + "\n"


def rendered_docs(engine: PolicyEngine, output: Path = OUTPUT) -> dict[Path, str]:
    """Every generated file, path → text: ``output`` and one page per channel beside it."""
    docs = {output: render_rules_doc(engine)}
    for channel in engine.channels():
        docs[output.parent / CHANNEL_DOCS / f"{channel}.md"] = render_channel_doc(engine, channel)
    return docs


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m gateway.policy.docs [PATH]``: rewrite docs/rules.md (or
    PATH) and the channel pages beside it from the packs."""
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else OUTPUT
    for path, text in rendered_docs(PolicyEngine.load(MAPPINGS), target).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
