"""``facts list|confirm|withdraw|set`` and ``rules explain`` as a legal officer uses them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli_basics import run

RULE = "interpol.art4_membership_confirmed"
SOURCE = "https://www.interpol.int/Who-we-are/Member-countries: Montenegro is listed"


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {
        "MARRI_DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}",
        "MARRI_KEY_FILE": str(tmp_path / "keys.json"),
        "MARRI_SIGNING_KEY_FILE": str(tmp_path / "signing-key.json"),
        "MARRI_SANDBOX_TOKENS": str(tmp_path / "no-sandbox-tokens.json"),
    }
    assert run("db", "upgrade", env=env).returncode == 0
    return env


def _token(env: dict[str, str], role: str, *extra: str) -> str:
    created = run("token", "create", "--role", role, *extra, env=env)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().splitlines()[-1]


def _fact(env: dict[str, str], instrument: str, country: str) -> dict[str, object]:
    listed = run("facts", "list", "--instrument", instrument, "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    [fact] = [f for f in json.loads(listed.stdout) if f["country"] == country]
    result: dict[str, object] = fact
    return result


def test_a_legal_officer_changes_facts_from_the_command_line(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    env["MARRI_TOKEN"] = _token(env, "legal")

    withdrawn = run("facts", "withdraw", "interpol_members", "ME", "--source", "unsure", env=env)
    assert withdrawn.returncode == 0, withdrawn.stderr
    assert _fact(env, "interpol_members", "ME")["confirmed"] is False
    confirmed = run("facts", "confirm", "interpol_members", "ME", "--source", SOURCE, env=env)
    assert confirmed.returncode == 0, confirmed.stderr
    assert "released 0 held" in confirmed.stdout
    fact = _fact(env, "interpol_members", "ME")
    assert (fact["confirmed"], fact["source"], fact["changed_by"]) == (True, SOURCE, "legal")

    dated = run(
        "facts",
        *("set", "europol_operational_agreement", "ME"),
        *("--since", "2014-09-29", "--until", "2030-01-01", "--source", "agreement text"),
        env=env,
    )
    assert dated.returncode == 0, dated.stderr
    fact = _fact(env, "europol_operational_agreement", "ME")
    assert (fact["since"], fact["until"]) == ("2014-09-29", "2030-01-01")

    explained = run("rules", "explain", RULE, env={**env, "COLUMNS": "400"})
    assert explained.returncode == 0, explained.stderr
    [line] = [x for x in explained.stdout.splitlines() if "interpol_members ME:" in x]
    assert "confirmed by legal on" in line
    assert SOURCE in line


def test_refusals_say_why_and_change_nothing(tmp_path: Path) -> None:
    env = _environment(tmp_path)
    sender = _token(env, "sender", "--country", "ME", "--agency", "Police")
    refused = run(
        "facts", "confirm", "interpol_members", "ME", "--source", SOURCE, "--token", sender, env=env
    )
    assert refused.returncode == 1
    assert "forbidden" in refused.stderr
    env["MARRI_TOKEN"] = _token(env, "legal")
    no_source = run("facts", "confirm", "interpol_members", "ME", env=env)
    assert no_source.returncode == 2
    assert "--source" in no_source.stderr
    bad_date = run(
        "facts", "set", "interpol_members", "ME", "--since", "soon", "--source", "x", env=env
    )
    assert bad_date.returncode == 2
    assert "YYYY-MM-DD" in bad_date.stderr
    unknown = run("facts", "confirm", "no_such", "ME", "--source", SOURCE, env=env)
    assert unknown.returncode == 1
    assert "not_found" in unknown.stderr
    assert _fact(env, "interpol_members", "ME")["changed_by"] is None
