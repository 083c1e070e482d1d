"""``check FILE``: the dry run (decide and render, store nothing); ``rules list`` and
``rules explain RULE_ID``: what the legal-basis rule packs say, for a legal officer.

``check --json`` prints exactly the report of ``gateway.policy.check_report``. Exit status:
0 when every channel allows or redacts, 1 otherwise, 2 for a file that is not a valid message
(or that a destination cannot express), with the violations.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

if TYPE_CHECKING:
    from gateway.policy import PolicyEngine
    from gateway.schema import Violation

from gateway.cli._common import EXIT_INVALID, EXIT_OK, EXIT_REFUSED, err, out, settings

OUTCOME_STYLE = {"allow": "green", "redact": "yellow", "review": "magenta", "deny": "red"}

rules_app = typer.Typer(help="Read the legal-basis rule packs.", no_args_is_help=True)


def _print_violations(violations: list[Violation], *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"violations": [v.as_dict() for v in violations]}, indent=2))
        return
    for v in violations:
        err.print(f"  [bold]{v.path}[/bold]  {v.type}: {v.message}")


def _engine() -> PolicyEngine:
    from gateway.policy import PolicyEngine

    return PolicyEngine.load(settings().mappings_dir)


def _engine_with_facts(required: list[str] | None = None) -> tuple[PolicyEngine, str]:
    """The engine for the facts in the configured database (legal officers' changes laid over
    the shipped table), and where its facts come from; the shipped ones when the database
    cannot be read."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from gateway.policy import PolicyEngine
    from gateway.store.engine import Store
    from gateway.store.facts import LivePolicy

    shipped = PolicyEngine.load(settings().mappings_dir, required_channels=required)
    url = make_url(settings().database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return shipped, "the shipped table (no database yet)"  # a dry run creates no file
    try:
        store = Store(settings().database_url)
    except (SQLAlchemyError, OSError, ValueError):
        return shipped, "the shipped table (the database could not be opened)"
    try:
        engine = store.read_sync(LivePolicy(shipped).engine_at)
    except SQLAlchemyError:
        return shipped, "the shipped table (the database has no facts table; run db upgrade)"
    finally:
        store.close()
    version = engine.parties.facts_version
    return engine, f"the shipped table and the database's fact changes (version {version})"


def _today() -> date:
    """The day a transfer made now would happen on: the facts of that day apply."""
    return datetime.now(UTC).date()


def dry_run(raw: bytes) -> tuple[dict[str, Any] | None, list[Violation]]:
    """The check report for a message, or the violations that make it unusable."""
    from adapters.registry import load_registry
    from gateway.intake import check_destinations, plan_deliveries
    from gateway.policy import check_report
    from gateway.schema import MessageInvalid, derive_facts, parse_message

    try:
        message = parse_message(raw)
    except MessageInvalid as exc:
        return None, exc.violations
    mappings = settings().mappings_dir
    registry = load_registry(mappings)
    problems = check_destinations(message, registry)
    if problems:
        return None, problems
    engine, _ = _engine_with_facts(registry.names())
    plans = plan_deliveries(
        message, derive_facts(message), engine=engine, registry=registry, on=_today()
    )
    render_problems = [p for plan in plans for p in plan.render_problems]
    if render_problems:
        return None, render_problems
    return check_report(plans), []


def _render_decision(title: str, view: dict[str, Any]) -> None:
    style = OUTCOME_STYLE.get(view["outcome"], "white")
    out.print(f"[bold]{title}[/bold]  [{style}]{view['outcome']}[/{style}]")
    for finding in view["findings"]:
        fstyle = OUTCOME_STYLE.get(finding["outcome"], "white")
        out.print(
            f"    [{fstyle}]{finding['outcome']:<6}[/{fstyle}] {finding['rule']}  "
            f"[dim]({finding['cite']})[/dim]"
        )
        out.print(f"           {finding['message']}")
        for fact in finding.get("facts", ()):
            out.print(f"           fact: {fact}", markup=False)
    if view["redacted"]:
        out.print(f"    removed: {', '.join(view['redacted'])}")


def render_report(report: dict[str, Any]) -> None:
    """A readable rendering of the report for a terminal."""
    for channel, view in report["channels"].items():
        if "recipients" in view:
            style = OUTCOME_STYLE.get(view["outcome"], "white")
            out.print(f"[bold]{channel}[/bold]  [{style}]{view['outcome']}[/{style}]")
            for country, sub in view["recipients"].items():
                _render_decision(f"  → {country}", sub)
        else:
            _render_decision(channel, view)


def check(
    *,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
) -> None:
    """Decide and render a message for every destination it names, storing nothing."""
    from gateway.policy.report import report_allows_delivery

    report, violations = dry_run(file.read_bytes())
    if report is None:
        if not as_json:
            err.print(f"[red]{file}: {len(violations)} violation(s)[/red]")
        _print_violations(violations, as_json=as_json)
        raise typer.Exit(EXIT_INVALID)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        render_report(report)
    raise typer.Exit(EXIT_OK if report_allows_delivery(report) else EXIT_REFUSED)


@rules_app.command("list")
def rules_list(
    channel: str = typer.Option(None, help="only this channel's pack"),
) -> None:
    """Every rule: id, outcome and citation."""
    engine = _engine()
    table = Table("rule", "outcome", "cite", show_lines=False)
    for pack, rule in engine.rules():
        if channel is None or pack.channel == channel:
            table.add_row(rule.id, rule.outcome, rule.cite)
    out.print(table)


@rules_app.command("explain")
def rules_explain(
    rule_id: str = typer.Argument(..., help="e.g. pcc_see.art31_deletion_deadline"),
) -> None:
    """One rule in full: what it checks, its expression, outcome and citation, and the dated
    facts of the parties table it reads (with who confirmed them, when, and the source)."""
    from gateway.policy.basis import rule_instruments
    from gateway.policy.overlay import describe_entry

    engine, facts_origin = _engine_with_facts()
    try:
        pack, rule = engine.rule(rule_id)
    except KeyError:
        err.print(f"[red]no rule '{rule_id}'[/red]; try 'marri-gateway rules list'")
        raise typer.Exit(EXIT_INVALID) from None
    out.print(
        f"[bold]{rule.id}[/bold]  ({pack.channel} pack {pack.version}, sha256 {pack.sha256[:12]})"
    )
    out.print(f"cite:       {rule.cite}")
    if rule.checks:
        out.print(f"checks:     {rule.checks}")
    applies = []
    if rule.products:
        applies.append("products " + ", ".join(sorted(rule.products)))
    if rule.kinds:
        applies.append("kinds " + ", ".join(sorted(rule.kinds)))
    out.print(f"applies to: {'; '.join(applies) or 'every message on this channel'}")
    out.print(f"expression: {rule.expression}", markup=False)
    out.print(f"outcome:    {rule.outcome} when the expression is false")
    if rule.redact:
        out.print(f"removes:    {', '.join(rule.redact)}")
    out.print(f"message:    {rule.message}")
    instruments = sorted(rule_instruments(rule, engine.parties))
    if not instruments:
        return
    today = _today()
    out.print(f"facts:      as of {today.isoformat()}, from {facts_origin}")
    for name in instruments:
        for entry in sorted(engine.parties.instruments[name].entries, key=lambda e: e.country):
            out.print(f"  {describe_entry(name, entry, today)}", markup=False)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("check")(check)
    app.add_typer(rules_app, name="rules")
