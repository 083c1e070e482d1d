"""A freshly scaffolded channel registers and passes the whole conformance kit, following the
steps ``adapters new`` prints; a kit run that proves nothing fails."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adapters._scaffold.scaffold import ScaffoldError, scaffold
from gateway.policy import PolicyEngine
from gateway.policy.errors import PolicyLoadError
from gateway.policy.pack import load_pack

REPO = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("marri-gateway")
# A name no channel will ever have, so no test mistakes a real channel for a missing one.
NAME = "kit_example"


def run(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


def _cite_for_real(root: Path) -> None:
    """Step 1 of the printed next steps: the pack's placeholders replaced by citations."""
    rules = root / "mappings" / NAME / "rules.yaml"
    text = re.sub(r"TODO: the instrument [^\n]*", "Bilateral agreement, Art. 4", rules.read_text())
    text = text.replace("TODO: instrument, article on the transfer of personal data", "Art. 9")
    rules.write_text(text, encoding="utf-8")


def _printed_command(stdout: str, prefix: str) -> list[str]:
    [line] = [x.split(": ", 1)[1] for x in stdout.splitlines() if f": {prefix}" in x]
    words = shlex.split(line)
    # The steps say `python` / `pytest`; this venv's interpreter runs them.
    return [sys.executable, *words[1:]] if words[0] == "python" else [sys.executable, "-m", *words]


@pytest.mark.slow
def test_scaffolded_channel_passes_the_kit_by_the_printed_steps(tmp_path: Path) -> None:
    created = run(CLI, "adapters", "new", NAME, "--root", tmp_path)
    assert created.returncode == 0, created.stderr
    out = created.stdout
    # Outside this repository the channel ships as a distribution: entry point, package data.
    assert '[project.entry-points."marri_gateway.adapters"]' in out
    assert f"mappings/{NAME}/ as package data" in out
    for rel in (
        f"adapters/{NAME}/adapter.py",
        f"mappings/{NAME}/codes.yaml",
        f"mappings/{NAME}/rules.yaml",
        f"simulators/{NAME}.py",
        f"contract_tests/cases/{NAME}/basic/input.json",
        f"contract_tests/cases/{NAME}/no_personal_data/decision.json",
    ):
        assert (tmp_path / rel).is_file(), rel

    parties = PolicyEngine.load(REPO / "mappings").parties
    with pytest.raises(PolicyLoadError, match="placeholder"):
        load_pack(tmp_path / "mappings" / NAME / "rules.yaml", parties)
    _cite_for_real(tmp_path)
    pack = load_pack(tmp_path / "mappings" / NAME / "rules.yaml", parties)
    assert [r.id for r in pack.rules] == [f"{NAME}.personal_data_reviewed"]

    refreshed = run(*_printed_command(out, "python -m contract_tests.refresh"))
    assert refreshed.returncode == 0, refreshed.stderr
    assert (tmp_path / f"contract_tests/cases/{NAME}/basic/payload.json").is_file()

    kit = run(*_printed_command(out, "pytest contract_tests"), "-q", "-p", "no:cacheprovider")
    assert kit.returncode == 0, kit.stdout[-3000:]
    passed = int(re.findall(r"(\d+) passed", kit.stdout)[-1])
    assert passed >= 50, kit.stdout[-500:]
    collected = run(*_printed_command(out, "pytest contract_tests"), "--collect-only", "-q")
    for check in (
        f"test_fault_gives_required_error_class[{NAME}-http_503_retry_after]",
        f"test_generated_messages_render_valid_or_refuse_cleanly[{NAME}-information_exchange]",
        # the baseline rule decides both ways: one case held for review, one allowed
        f"test_case_decision_matches_the_recorded_verdict[{NAME}-basic]",
        f"test_case_decision_matches_the_recorded_verdict[{NAME}-no_personal_data]",
    ):
        assert check in collected.stdout, check


@pytest.mark.slow
def test_a_recorded_verdict_the_rule_does_not_give_fails_the_kit(tmp_path: Path) -> None:
    assert run(CLI, "adapters", "new", NAME, "--root", tmp_path).returncode == 0
    _cite_for_real(tmp_path)
    decision = tmp_path / f"contract_tests/cases/{NAME}/no_personal_data/decision.json"
    decision.write_text(decision.read_text().replace('"allow"', '"review"'), encoding="utf-8")
    kit = run(
        *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
        *("contract_tests/test_policy.py", "--adapter-root", tmp_path, "--kit-channel", NAME),
    )
    assert kit.returncode == 1, kit.stdout[-2000:]
    assert f"{NAME}-no_personal_data: the rule pack now decides differently" in kit.stdout


@pytest.mark.slow
def test_a_kit_run_that_proves_nothing_fails(tmp_path: Path) -> None:
    assert run(CLI, "adapters", "new", NAME, "--root", tmp_path).returncode == 0
    _cite_for_real(tmp_path)
    for decision in (tmp_path / "contract_tests" / "cases" / NAME).glob("*/decision.json"):
        decision.unlink()  # every case of test_policy now skips: no verdict recorded
    kit = run(
        *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
        *("contract_tests/test_policy.py", "--adapter-root", tmp_path, "--kit-channel", NAME),
    )
    assert kit.returncode == 1, kit.stdout[-2000:]
    assert "2 skipped" in kit.stdout
    assert "conformance kit: no check passed" in kit.stdout


def test_an_unknown_kit_channel_is_an_error() -> None:
    kit = run(
        *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
        *("contract_tests/test_metadata.py", "--kit-channel", "no_such_channel"),
    )
    assert kit.returncode == pytest.ExitCode.USAGE_ERROR, kit.stdout[-2000:]
    assert "--kit-channel no_such_channel: no such adapter" in kit.stderr


@pytest.mark.slow
def test_scaffolded_channel_with_a_deleted_code_fails_the_kit_naming_it(tmp_path: Path) -> None:
    assert run(CLI, "adapters", "new", NAME, "--root", tmp_path).returncode == 0
    codes = tmp_path / f"mappings/{NAME}/codes.yaml"
    text = codes.read_text(encoding="utf-8")
    line = re.compile(r"^ +trafficking_in_human_beings: TRAFFICKING_IN_HUMAN_BEINGS\n", re.M)
    assert len(line.findall(text)) == 1
    codes.write_text(line.sub("", text), encoding="utf-8")
    kit = run(
        *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "contract_tests"),
        *("--adapter-root", tmp_path, "--kit-channel", NAME),
    )
    assert kit.returncode != 0
    refused = [line for line in kit.stderr.splitlines() if "adapter refused" in line]
    assert refused, kit.stderr[-2000:]
    assert "'trafficking_in_human_beings'" in refused[0]
    assert "'crime_area'" in refused[0]
    assert NAME in refused[0]


def test_scaffold_refuses_bad_names_and_overwrites(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="must match"):
        scaffold("Bad-Name", tmp_path)
    with pytest.raises(ScaffoldError, match="already a channel"):
        scaffold("europol", tmp_path)
    scaffold(NAME, tmp_path)
    with pytest.raises(ScaffoldError, match="already exist"):
        scaffold(NAME, tmp_path)
    shutil.rmtree(tmp_path / "adapters")
    with pytest.raises(ScaffoldError, match="already exist"):
        scaffold(NAME, tmp_path)  # its mappings, simulator and cases are still there
