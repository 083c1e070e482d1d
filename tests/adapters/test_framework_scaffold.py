"""A freshly scaffolded sixth channel registers and passes the whole conformance kit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adapters._scaffold.scaffold import ScaffoldError, scaffold

REPO = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).with_name("marri-gateway")


def run(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


@pytest.mark.slow
def test_scaffolded_channel_passes_the_conformance_kit(tmp_path: Path) -> None:
    created = run(CLI, "adapters", "new", "sepca", "--root", tmp_path)
    assert created.returncode == 0, created.stderr
    assert 'sepca = "adapters.sepca.adapter:SepcaAdapter"' in created.stdout
    for rel in (
        "adapters/sepca/adapter.py",
        "mappings/sepca/codes.yaml",
        "mappings/sepca/rules.yaml",
        "simulators/sepca.py",
        "contract_tests/cases/sepca/basic/input.json",
    ):
        assert (tmp_path / rel).is_file(), rel
    refreshed = run(
        sys.executable, "-m", "contract_tests.refresh", "sepca", "--adapter-root", tmp_path
    )
    assert refreshed.returncode == 0, refreshed.stderr
    assert (tmp_path / "contract_tests/cases/sepca/basic/payload.json").is_file()

    kit = run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "contract_tests",
        "--adapter-root",
        tmp_path,
        "--kit-channel",
        "sepca",
    )
    assert kit.returncode == 0, kit.stdout[-3000:]
    passed = int(re.findall(r"(\d+) passed", kit.stdout)[-1])
    assert passed >= 50, kit.stdout[-500:]
    ids = run(
        sys.executable,
        "-m",
        "pytest",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "contract_tests",
        "--adapter-root",
        tmp_path,
        "--kit-channel",
        "sepca",
    )
    assert "test_fault_gives_required_error_class[sepca-http_503_retry_after]" in ids.stdout
    assert "test_generated_messages_render_valid_or_refuse_cleanly[sepca-information_exchange]" in (
        ids.stdout
    )


@pytest.mark.slow
def test_scaffolded_channel_with_a_deleted_code_fails_the_kit_naming_it(tmp_path: Path) -> None:
    assert run(CLI, "adapters", "new", "sepca", "--root", tmp_path).returncode == 0
    codes = tmp_path / "mappings/sepca/codes.yaml"
    text = codes.read_text(encoding="utf-8")
    line = re.compile(r"^ +trafficking_in_human_beings: TRAFFICKING_IN_HUMAN_BEINGS\n", re.M)
    assert len(line.findall(text)) == 1
    codes.write_text(line.sub("", text), encoding="utf-8")
    kit = run(
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "contract_tests",
        "--adapter-root",
        tmp_path,
        "--kit-channel",
        "sepca",
    )
    assert kit.returncode != 0
    refused = [line for line in kit.stderr.splitlines() if "adapter refused" in line]
    assert refused, kit.stderr[-2000:]
    assert "'trafficking_in_human_beings'" in refused[0]
    assert "'crime_area'" in refused[0]
    assert "sepca" in refused[0]


def test_scaffold_refuses_bad_names_and_overwrites(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="must match"):
        scaffold("Bad-Name", tmp_path)
    with pytest.raises(ScaffoldError, match="built-in"):
        scaffold("europol", tmp_path)
    scaffold("sepca", tmp_path)
    with pytest.raises(ScaffoldError, match="already exist"):
        scaffold("sepca", tmp_path)
    shutil.rmtree(tmp_path / "adapters")
