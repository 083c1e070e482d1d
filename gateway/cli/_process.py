"""Set-up that belongs to a process starting a server or a worker, not to importing a module.

Importing the gateway or the adapters changes nothing outside them; the commands that start a
long-running process (``serve``, ``sandbox``, ``worker``, and each API process that
``serve --processes N`` spawns) call ``block_absent_sniffio`` first; each spawned API process
also calls ``exit_with_parent``.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import sys


def block_absent_sniffio() -> None:
    """Make ``import sniffio`` fail at once when the package is not installed.

    httpcore tries that import several times per request, to tell asyncio from trio. Without
    the package every failed try searches ``sys.path`` again, a cost paid on each delivery and
    each request a channel sends; a ``None`` entry in ``sys.modules``, the import system's
    documented way to block a module, fails it without a search. An installed sniffio is left
    alone, and a second call changes nothing.
    """
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]  # blocked, see above


PR_SET_PDEATHSIG = 1  # linux/prctl.h
PARENT_POLL_S = 1.0


def exit_with_parent() -> None:
    """Make this process (an API process of ``serve --processes N``) stop when its parent dies.

    A SIGKILL of the parent runs none of its code, so uvicorn cannot stop its children and they
    would keep serving the port a restart needs. On Linux the kernel sends this process SIGTERM
    when its parent dies (``prctl(PR_SET_PDEATHSIG)``), which uvicorn takes as a graceful stop
    (the embedded worker hands its leases back); elsewhere a thread watches the parent's pid. A
    parent that died before the call is caught by comparing the pid with the spawning one.
    """
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return
    parent_pid = parent.pid
    if not sys.platform.startswith("linux") or not _set_parent_death_signal():
        _watch_parent(parent_pid)
    if os.getppid() != parent_pid:
        raise SystemExit("the serving process that started this one is gone")


def _set_parent_death_signal() -> bool:
    """Ask the kernel for SIGTERM on the parent's death; False when prctl is not there."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    """A daemon thread that sends this process SIGTERM once its parent has gone."""
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
