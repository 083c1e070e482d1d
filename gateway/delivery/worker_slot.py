"""A stable name for the worker that ``serve`` runs in each of its processes.

A worker's leases are handed back at its start only when it starts under the name it had
(``DeliveryWorker.recover``). ``worker --id`` is given one by the operator; the embedded worker
of ``serve`` takes one here: host, data directory and the lowest free slot number. A slot is
held with an exclusive ``flock`` on a file in the data directory for as long as the process
lives, so ``serve --processes N`` gets slots 0..N-1, a second ``serve`` on the same data takes
the next ones, and after a crash (the kernel drops the locks of a dead process) the restarted
processes take the same slots back, and with them their in-flight deliveries, at once instead
of after the lease.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("gateway.delivery")

MAX_SLOTS = 256
SLOTS_DIR = "worker-slots"


def _place(data_dir: Path, database_url: str) -> str:
    """Eight hex digits naming this data directory and store (one-way: no URL secrets)."""
    seed = f"{data_dir.resolve()}\n{database_url}".encode()
    return hashlib.sha256(seed).hexdigest()[:8]


def _take_slot(directory: Path) -> tuple[int, int] | None:
    """Lock the lowest free slot file: (slot, descriptor); None when all are taken."""
    for slot in range(MAX_SLOTS):
        fd = os.open(directory / f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return slot, fd
    return None


@contextmanager
def embedded_worker_id(data_dir: Path, database_url: str) -> Iterator[str | None]:
    """``serve-<host>-<place>-<slot>`` while the block runs, the same after a restart; None
    (a random name is used then) when the data directory cannot hold the slot files."""
    directory = data_dir / SLOTS_DIR
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        taken = _take_slot(directory)
    except OSError as exc:
        log.warning("no stable worker name (%s); leases lapse after a crash", type(exc).__name__)
        taken = None
    if taken is None:
        yield None
        return
    slot, fd = taken
    host = socket.gethostname().split(".")[0][:32]
    try:
        yield f"serve-{host}-{_place(data_dir, database_url)}-{slot}"
    finally:
        os.close(fd)  # closing the file drops the lock
