"""The Containerfile, checked without a container engine: stages, user, health check, contents."""

from __future__ import annotations

import json
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.checks import DEPLOY, ROOT, is_settings_env, parse_command


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arg for kw, arg in self.instructions if kw == keyword]


def read_stages(path: Path) -> list[Stage]:
    """Instructions per stage, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    stages: list[Stage] = []
    for entry in logical:
        keyword, _, arg = entry.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = arg.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else ""
            stages.append(Stage(name, words[0]))
        elif stages:
            stages[-1].instructions.append((keyword, arg.strip()))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return read_stages(DEPLOY / "Containerfile")


@pytest.fixture(scope="module")
def pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_two_stages_build_then_slim_python_311_runtime(stages: list[Stage]) -> None:
    assert [s.name for s in stages] == ["build", "runtime"]
    text = (DEPLOY / "Containerfile").read_text(encoding="utf-8")
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert any("--wheel" in run for run in stages[0].all("RUN"))
    # The runtime installs only the wheels built in the first stage, from no index.
    installs = [r for r in stages[1].all("RUN") if "pip install" in r]
    assert installs
    assert all("from=build" in r and "--no-index" in r for r in installs)


def test_runs_as_uid_10001_after_every_privileged_step(stages: list[Stage]) -> None:
    runtime = stages[-1].instructions
    users = [i for i, (kw, _) in enumerate(runtime) if kw == "USER"]
    runs = [i for i, (kw, _) in enumerate(runtime) if kw == "RUN"]
    assert users, "no USER in the runtime stage"
    assert runtime[users[-1]][1].split(":")[0] == "10001"
    assert max(runs) < users[-1], "a RUN after USER would run unprivileged or be a mistake"
    assert any("--uid 10001" in runtime[i][1] for i in runs)


def test_health_check_probes_the_liveness_endpoint(stages: list[Stage]) -> None:
    (check,) = stages[-1].all("HEALTHCHECK")
    assert "CMD" in check
    assert "/healthz" in check
    assert "--timeout=" in check


def test_entrypoint_is_the_console_script_and_cmd_a_real_command(
    stages: list[Stage], pyproject: dict[str, object]
) -> None:
    (entrypoint,) = stages[-1].all("ENTRYPOINT")
    (cmd,) = stages[-1].all("CMD")
    scripts = pyproject["project"]["scripts"]  # type: ignore[index]
    assert json.loads(entrypoint) == ["marri-gateway"]
    assert "marri-gateway" in scripts
    parse_command(json.loads(cmd))


def test_every_package_and_the_mappings_are_copied(
    stages: list[Stage], pyproject: dict[str, object]
) -> None:
    copied = {c.split()[0] for c in stages[0].all("COPY") if not c.startswith("--")}
    copied |= {c.split()[-2] for c in stages[0].all("COPY") if len(c.split()) > 2}
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]  # type: ignore[index]
    for pattern in include:
        assert pattern.rstrip("*") in copied, f"package {pattern} is not copied into the build"
    for source in copied:
        assert (ROOT / source).exists(), source
    runtime_env = " ".join(stages[-1].all("ENV"))
    mapping_copy = [c for c in stages[-1].all("COPY") if c.startswith("mappings ")]
    assert mapping_copy, "the rule packs are not in the image"
    target = mapping_copy[0].split()[1]
    assert f"MARRI_MAPPINGS_DIR={target}" in runtime_env


def test_environment_names_are_settings(stages: list[Stage]) -> None:
    names = [
        word.split("=", 1)[0]
        for env in stages[-1].all("ENV")
        for word in env.split()
        if "=" in word and word.startswith("MARRI_")
    ]
    assert names
    assert [n for n in names if not is_settings_env(n)] == []


def test_ignore_file_keeps_what_the_build_copies() -> None:
    rules = (DEPLOY / "Containerfile.dockerignore").read_text(encoding="utf-8").split()
    kept = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    assert "*" in rules
    copied = {"pyproject.toml", "README.md", "gateway", "adapters", "simulators", "mappings"}
    assert copied <= kept


def test_the_wheel_holds_the_packages_their_data_and_the_console_script(
    tmp_path: Path,
) -> None:
    """What the build stage does, here: a wheel, then a look inside it."""
    import subprocess
    import sys

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=120,
    )
    (wheel,) = tmp_path.glob("marri_gateway-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    assert any(n.startswith("gateway/api/") for n in names)
    assert any(n.startswith("adapters/") and n.endswith((".xsd", ".json")) for n in names)
    assert "gateway/py.typed" in names
    assert "marri-gateway = gateway.cli:main" in scripts
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)
