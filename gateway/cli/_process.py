"""Set-up that belongs to a process starting a server or a worker, not to importing a module.

Importing the gateway or the adapters changes nothing outside them; the commands that start a
long-running process (``serve``, ``sandbox``, ``worker``, and each API process that
``serve --processes N`` spawns) call ``block_absent_sniffio`` first.
"""

from __future__ import annotations

import importlib.util
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
