"""The benchmark harness keeps working: its smallest section runs end to end and writes its
figures, so ``make bench`` cannot rot unnoticed between releases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.deploy.checks import ROOT


def test_quick_claim_section_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "latest.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--quick",
            "--only",
            "claim",
            "--backend",
            "sqlite",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    sqlite = figures["sqlite"]
    assert "errors" not in sqlite, sqlite.get("errors")
    assert sqlite["claim_rows_small"] < sqlite["claim_rows_large"]
    assert sqlite["claim_ms_small"] > 0
    assert sqlite["claim_ms_large"] > 0
    verdict = figures["targets"]["sqlite"]["claim_ms_large <= 3 x claim_ms_small"]
    assert verdict in ("holds", "MISSED")
    assert figures["targets"]["sqlite"]["intake_msgs_per_s >= 800"] == "not measured"
    assert "claim_ms_small" in result.stdout


def test_a_failing_section_is_recorded_and_the_run_still_finishes(tmp_path: Path) -> None:
    """PostgreSQL pointed at a closed port: the set records why, the file is still written."""
    out = tmp_path / "latest.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--quick",
            "--only",
            "claim",
            "--backend",
            "postgresql",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "BENCH_POSTGRES_URL": "postgresql://postgres@127.0.0.1:9/none"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert "does not answer" in figures["postgresql"]["errors"]["backend"]
    verdicts = figures["targets"]["postgresql"]
    assert verdicts["claim_ms_large <= 3 x claim_ms_small"] == "not measured"


def test_quick_inbound_section_measures_stored_answers(tmp_path: Path) -> None:
    """The inbound section sends a message, checks that its answer is stored as matched, then
    measures the answers and the bare insert of the same bytes; no answer is refused."""
    out = tmp_path / "latest.json"
    result = subprocess.run(
        [
            *(sys.executable, "-m", "benchmarks.run", "--quick", "--only", "inbound"),
            *("--backend", "sqlite", "--out", str(out)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    sqlite = json.loads(out.read_text(encoding="utf-8"))["sqlite"]
    assert "errors" not in sqlite, sqlite.get("errors")
    assert sqlite["inbound_non_2xx"] == 0
    assert sqlite["inbound_answers_per_s"] > 0
    assert sqlite["inbound_baseline_per_s"] > 0
    ratio = sqlite["inbound_answers_per_s"] / sqlite["inbound_baseline_per_s"]
    assert sqlite["inbound_ratio"] == round(ratio, 3)
    assert "inbound_ratio" in result.stdout
