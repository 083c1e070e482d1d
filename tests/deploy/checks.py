"""What the deployment tests share: the real command line, the real Settings, the channel ids."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import typer.main
from pydantic import BaseModel
from typer.testing import CliRunner

from gateway.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"

_INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def parse_command(args: list[str]) -> Any:
    """Parse ``marri-gateway ARGS`` the way the CLI would, without running anything.

    Walks groups to the leaf command and builds its context, so unknown subcommands, unknown
    options and values of the wrong type fail here exactly as they would in a container.
    (Typer ships its own copy of click, so the objects are used by what they offer.)
    """
    from gateway.cli import app

    command: Any = typer.main.get_command(app)
    ctx = command.context_class(command, info_name="marri-gateway")
    name = "marri-gateway"
    rest = list(args)
    while hasattr(command, "list_commands"):
        assert rest, f"{args!r} names a command group, not a command"
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"marri-gateway has no subcommand {rest[0]!r} (in {args!r})"
        parent, name = ctx, rest[0]
        ctx = sub.context_class(sub, info_name=name, parent=parent)
        command, rest = sub, rest[1:]
    return command.make_context(name, rest, parent=ctx.parent)


def help_exits_cleanly(args: list[str]) -> str:
    """``marri-gateway ARGS --help`` through typer's runner; returns the help text."""
    from gateway.cli import app

    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, f"{args!r} --help exited {result.exit_code}: {result.output}"
    return result.output


def _model_of(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def is_settings_env(name: str) -> bool:
    """True when ``name`` sets a real Settings field (``MARRI_`` prefix, ``__`` nesting)."""
    if not name.startswith("MARRI_"):
        return False
    parts = name.removeprefix("MARRI_").lower().split("__")
    model: type[BaseModel] = Settings
    index = 0
    while True:
        field = model.model_fields.get(parts[index])
        if field is None:
            return False
        index += 1
        if index == len(parts):
            return True
        annotation = field.annotation
        if typing.get_origin(annotation) is dict:
            index += 1  # the dict key, e.g. the channel id
            if index == len(parts):
                return True
            annotation = typing.get_args(annotation)[1]
        nested = _model_of(annotation)
        if nested is None:
            return False
        model = nested


def otel_env_names() -> set[str]:
    """Every variable the installed OpenTelemetry API and SDK define."""
    from opentelemetry import environment_variables as api_env
    from opentelemetry.sdk import environment_variables as sdk_env

    names = set()
    for module in (api_env, sdk_env):
        names |= {
            v for k, v in vars(module).items() if k.startswith("OTEL_") and isinstance(v, str)
        }
    return names


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose-style ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` with a given env."""
    env = env or {}

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if name in env:
            return env[name]
        if op in (":-", "-"):
            return arg or ""
        return f"placeholder-{name.lower()}"

    return _INTERPOLATION.sub(replace, value)


def channel_ids() -> set[str]:
    """Channel ids the gateway registers (its channel folders and any installed distribution)."""
    from adapters.registry import load_registry

    return set(load_registry().names())


def command_path(words: list[str]) -> list[str]:
    """The subcommand path at the start of ``words`` (``keys rotate --print-only`` →
    ``keys rotate``); fails when a word where a subcommand belongs names none."""
    from gateway.cli import app

    command: Any = typer.main.get_command(app)
    ctx = command.context_class(command, info_name="marri-gateway")
    path: list[str] = []
    rest = list(words)
    while hasattr(command, "list_commands"):
        assert rest, f"{words!r} stops at a command group"
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"marri-gateway has no subcommand {' '.join([*path, rest[0]])!r}"
        path.append(rest.pop(0))
        ctx = sub.context_class(sub, info_name=path[-1], parent=ctx)
        command = sub
    return path
