"""``adapters list``, ``adapters new NAME`` and ``render --channel C FILE``.

``render`` prints exactly the bytes channel C would receive for the message: decided by the
channel's rule pack, redacted as the decision says, rendered by the adapter and validated
against its schema, the same path intake takes. Nothing is stored or sent.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from gateway.cli._common import EXIT_INVALID, EXIT_OK, EXIT_REFUSED, err, out, settings

adapters_app = typer.Typer(help="Destination channel adapters.", no_args_is_help=True)

REPO_ROOT = Path(__file__).resolve().parents[2]


@adapters_app.command("list")
def list_adapters() -> None:
    """Every registered adapter: profile, products, content type, where it comes from."""
    from adapters.registry import AdapterRegistrationError, load_registry

    try:
        registry = load_registry(settings().mappings_dir)
    except AdapterRegistrationError as exc:
        err.print(f"[red]adapter refused:[/red] {exc}")
        raise typer.Exit(EXIT_INVALID) from exc
    table = Table(title="Registered adapters")
    for column in ("name", "profile", "products", "content type", "source"):
        table.add_column(column)
    for name in registry.names():
        entry = registry.entry(name)
        adapter = entry.adapter
        products = ", ".join(
            f"[bold]{p}[/bold]" if p == adapter.default_product else p for p in adapter.products
        )
        table.add_row(name, adapter.profile_version, products, adapter.content_type, entry.source)
    out.print(table)


@adapters_app.command("new")
def new_adapter(
    name: Annotated[str, typer.Argument(help="channel id, snake_case (e.g. sepca)")],
    root: Annotated[
        Path, typer.Option(help="repository root to write into", file_okay=False)
    ] = REPO_ROOT,
) -> None:
    """Scaffold a channel: adapter, JSON Schema, complete code table, rule pack, simulator, case."""
    from adapters._scaffold.scaffold import ScaffoldError, scaffold

    try:
        written = scaffold(name, root)
    except ScaffoldError as exc:
        err.print(f"[red]cannot scaffold:[/red] {exc}")
        raise typer.Exit(EXIT_INVALID) from exc
    for path in written:
        out.print(f"  created {path.relative_to(root)}")
    out.print(next_steps(name, root), markup=False, highlight=False, soft_wrap=True)


def next_steps(name: str, root: Path) -> str:
    """What a developer does after ``adapters new``, as commands to paste, in order."""
    outside = "" if root.resolve() == REPO_ROOT else f" --adapter-root {root}"
    # The rules pages are written for the channels of this repository's mappings.
    page = (
        ""
        if outside
        else f"; then\n     write docs/channels/{name}.md: python -m gateway.policy.docs"
    )
    if outside:
        register = (
            f"  4. ship it as its own distribution: a pyproject.toml naming the entry point\n"
            f'     {name} = "<package>.adapter:<Class>" in [project.entry-points.'
            '"marri_gateway.adapters"]\n'
            f"     with mappings/{name}/ as package data beside adapter.py, then pip install it\n"
            "     next to the gateway: marri-gateway adapters list shows it\n"
        )
    else:
        register = (
            f"  4. it is registered by its folder adapters/{name}/: marri-gateway adapters list\n"
            f"  5. send its example in the sandbox (make run in another terminal):\n"
            f"     marri-gateway send mappings/{name}/message.json\n"
        )
    return (
        "\nNext steps:\n"
        f"  1. write the legal basis into mappings/{name}/rules.yaml: the instrument and each\n"
        "     rule's citation (a pack that still cites TODO refuses to load); each rule's passing\n"
        f"     and failing case in mappings/{name}/cases.yaml, and the parties facts of the\n"
        f"     instruments only this channel relies on in mappings/{name}/parties.yaml{page}\n"
        f"  2. write the golden payloads: python -m contract_tests.refresh {name}{outside}\n"
        f"  3. run the conformance kit: pytest contract_tests --kit-channel {name}{outside}\n"
        f"{register}"
    ).rstrip("\n")


def render(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    channel: Annotated[str, typer.Option("--channel", "-c", help="destination channel")],
    product: Annotated[str | None, typer.Option(help="channel product")] = None,
    recipient: Annotated[
        str | None, typer.Option(help="recipient country (per-recipient channels)")
    ] = None,
) -> None:
    """Print exactly what CHANNEL would receive for the message in FILE."""
    from adapters.registry import load_registry
    from gateway.intake import plan_deliveries
    from gateway.policy import PolicyEngine
    from gateway.schema import MessageInvalid, derive_facts, parse_message
    from gateway.schema.message import Destination

    try:
        message = parse_message(file.read_bytes())
    except MessageInvalid as exc:
        for v in exc.violations:
            err.print(f"  [bold]{v.path}[/bold]  {v.type}: {v.message}")
        raise typer.Exit(EXIT_INVALID) from exc
    mappings = settings().mappings_dir
    registry = load_registry(mappings)
    if channel not in registry:
        err.print(
            f"[red]unknown channel[/red] {channel}; registered: {', '.join(registry.names())}"
        )
        raise typer.Exit(EXIT_INVALID)
    named = next((d for d in message.destinations if d.channel == channel), None)
    to = (recipient,) if recipient else (named.to if named else ())
    destination = Destination.model_construct(
        channel=channel, to=to, product=product or (named.product if named else None)
    )
    message = message.model_copy(update={"destinations": (destination,)})
    engine = PolicyEngine.load(mappings, required_channels=registry.names())
    plans = plan_deliveries(message, derive_facts(message), engine=engine, registry=registry)
    plan = next((p for p in plans if recipient is None or p.recipient in (None, recipient)), None)
    if plan is None or plan.payload is None:
        if plan is not None:
            for problem in plan.render_problems:
                err.print(f"  [bold]{problem.path}[/bold]  {problem.message}")
            for finding in plan.decision.findings:
                err.print(
                    f"  [{finding.outcome}] {finding.rule} ({finding.cite}): {finding.message}"
                )
            if plan.decision.outcome == "deny":
                err.print(f"[red]{channel}: denied[/red]; nothing would be sent")
                raise typer.Exit(EXIT_REFUSED)
        raise typer.Exit(EXIT_INVALID)
    if plan.decision.outcome != "allow":
        err.print(f"{channel}: decision {plan.decision.outcome}; payload after its redactions")
    sys.stdout.buffer.write(plan.payload.body)
    sys.stdout.buffer.flush()
    raise typer.Exit(EXIT_OK)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(adapters_app, name="adapters")
    app.command("render")(render)
