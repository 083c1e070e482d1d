"""The checkers the deployment tests rely on refuse what is wrong, so a pass means something."""

from __future__ import annotations

import pytest

from tests.deploy.checks import interpolate, is_settings_env, parse_command


@pytest.mark.parametrize(
    "args",
    [["serve", "--port", "not-a-number"], ["serve", "--no-such-option"], ["no-such-command"]],
)
def test_parse_command_refuses_what_the_cli_would(args: list[str]) -> None:
    with pytest.raises(Exception, match=r"no subcommand|No such option|not a valid int"):
        parse_command(args)


def test_parse_command_returns_the_parsed_values() -> None:
    ctx = parse_command(["db", "upgrade", "--url", "sqlite:///x.db"])
    assert ctx.params["url"] == "sqlite:///x.db"
    assert parse_command(["serve", "--port", "8080"]).params["port"] == 8080


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("MARRI_DATABASE_URL", True),
        ("MARRI_CHANNELS__EUROPOL__URL", True),
        ("MARRI_CHANNELS__SELEC__RETRY__MAX_ATTEMPTS", True),
        ("MARRI_CHANNELS__SELEC__RETRY__NOPE", False),
        ("MARRI_DATABASE_URI", False),
        ("DATABASE_URL", False),
        ("MARRI_WORKER_ENABLED__X", False),
    ],
)
def test_settings_names_are_resolved_through_the_model(name: str, known: bool) -> None:
    assert is_settings_env(name) is known


def test_interpolation_follows_compose_rules() -> None:
    assert interpolate("${A:-fallback}/${B}", {"B": "b"}) == "fallback/b"
    assert interpolate("${C:?must be set}") == "placeholder-c"
