"""Processes under test: started on 127.0.0.1, waited for, measured, always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _vm_hwm_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text(encoding="ascii").split()]
    return found


class Process:
    """One child process with its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        # The caller's own MARRI_* settings must not leak into the system under test.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("MARRI_")}
        full_env = {**inherited, **env}
        self._log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            args,
            env=full_env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def peak_rss_mb(self) -> float | None:
        """Peak resident set size so far (VmHWM) in MiB of the largest process of its tree (a
        server started with several processes is a supervisor and its children); None once
        the process is gone."""
        peaks = [p for p in (_vm_hwm_mb(pid) for pid in self.tree()) if p is not None]
        return max(peaks) if peaks else None

    def tree(self) -> list[int]:
        """This process and its descendants, as /proc lists them now."""
        found = [self.pid]
        index = 0
        while index < len(found):
            found += _children(found[index])
            index += 1
        return found

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace_s: float = 10.0) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait(timeout=5)
        self._log.close()


def wait_http(url: str, process: Process, timeout_s: float = 30.0) -> None:
    """Until ``url`` answers 2xx; fails early, with the log tail, if the process dies."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited: {process.tail()}")
        try:
            if httpx.get(url, timeout=1.0).is_success:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not answer {url} within {timeout_s:.0f} s")


class ProcessGroup:
    """Every process a section starts; stopping the group stops them all, last first."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: list[Process] = []

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> Process:
        process = Process(name, args, env or {}, self.log_dir)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()


@contextlib.contextmanager
def process_group(log_dir: Path) -> Iterator[ProcessGroup]:
    group = ProcessGroup(log_dir)
    try:
        yield group
    finally:
        group.stop_all()


CHANNELS = ("europol", "interpol", "frontex", "selec", "pcc_see")


def start_simulators(group: ProcessGroup, timeout_s: float = 30.0) -> dict[str, str]:
    """Each channel's simulator in its own process; returns channel → URL.

    One process per channel rather than one for all: the simulators then do not share a GIL
    (they would cap the direct-post baseline and the worker alike), and the first schema loads
    of several channels cannot run at the same moment in one process, which lxml does not
    survive (an ``XMLSchemaParseError`` "internal error" was seen with all five in one).
    """
    processes = {
        channel: group.start(f"simulator-{channel}", [sys.executable, "-m", "simulators", channel])
        for channel in CHANNELS
    }
    deadline = time.monotonic() + timeout_s
    urls: dict[str, str] = {}
    while time.monotonic() < deadline:
        for channel, process in processes.items():
            if not process.alive():
                raise RuntimeError(f"simulator {channel} exited: {process.tail()}")
            if channel in urls:
                continue
            for line in process.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[0] == channel and parts[1].startswith("http://"):
                    urls[channel] = parts[1]
        if len(urls) == len(CHANNELS):
            return urls
        time.sleep(0.1)
    raise RuntimeError(f"simulators did not report their URLs within {timeout_s:.0f} s")


def gateway_command(*args: str) -> list[str]:
    return [str(BIN / "marri-gateway"), *args]
