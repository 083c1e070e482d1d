"""Process set-up happens in the commands that start servers and workers, never on import."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Prints what ``sys.modules`` holds for sniffio: ``None`` means the import is blocked.
SHOW_SNIFFIO = "import sys; print(repr(sys.modules.get('sniffio', 'absent')))"

needs_sniffio_absent = pytest.mark.skipif(
    importlib.util.find_spec("sniffio") is not None, reason="sniffio is installed here"
)


def python(code: str, *, pythonpath: Path | None = None) -> str:
    """Run ``code`` in a fresh interpreter (the blocking is process-wide); its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARRI_CHANNELS")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_the_gateway_and_the_adapters_blocks_nothing() -> None:
    imports = "import adapters._http, adapters.registry, gateway.api.app, gateway.delivery.worker"
    assert python(f"{imports}; {SHOW_SNIFFIO}") != "None"


@needs_sniffio_absent
def test_block_absent_sniffio_fails_the_import_at_once() -> None:
    code = (
        "from gateway.cli._process import block_absent_sniffio\n"
        "block_absent_sniffio(); block_absent_sniffio()\n"
        "try:\n"
        "    import sniffio\n"
        "except ImportError:\n"
        "    print('refused')\n"
        f"{SHOW_SNIFFIO}\n"
    )
    assert python(code).splitlines() == ["refused", "None"]


def test_an_installed_sniffio_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "sniffio.py").write_text("def current_async_library():\n    return 'asyncio'\n")
    code = (
        "from gateway.cli._process import block_absent_sniffio\n"
        "block_absent_sniffio()\n"
        "import sniffio\n"
        "print(sniffio.current_async_library())\n"
    )
    assert python(code, pythonpath=tmp_path) == "asyncio"


@needs_sniffio_absent
def test_the_worker_command_blocks_an_absent_sniffio_before_it_starts() -> None:
    # No channels configured: the command stops with exit code 2 right after its set-up.
    code = (
        "import sys\n"
        "from gateway.cli import app\n"
        "try:\n"
        "    app(['worker'])\n"
        "except SystemExit as exc:\n"
        "    print('exit', exc.code)\n"
        f"{SHOW_SNIFFIO}\n"
    )
    assert python(code).splitlines()[-2:] == ["exit 2", "None"]


def test_the_sandbox_shows_a_token_once_and_only_to_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gateway.cli.serve_cmd import print_tokens

    tokens = {"operator": {"token": "mgw_new_secret"}, "auditor": {"token": "mgw_old_secret"}}
    print_tokens(tokens, ["operator"], terminal=True)
    shown = capsys.readouterr().out
    assert "mgw_new_secret" in shown
    assert "mgw_old_secret" not in shown  # made by an earlier start: only in the file
    print_tokens(tokens, ["operator"], terminal=False)
    logged = capsys.readouterr().out
    assert "operator" in logged
    assert "auditor" in logged
    assert "mgw_" not in logged
