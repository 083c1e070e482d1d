"""Recording when a token was last used, at most once a minute per token, off the hot path.

A request only notes the time in memory; a background task writes ``last_used_at`` so that
authentication never waits on a database write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import Connection

from gateway.security.tokens import touch_token

log = logging.getLogger("gateway.security")

Writer = Callable[[Callable[[Connection], None]], Awaitable[None]]


class LastUseRecorder:
    """Per-process memory of the last write per token id."""

    def __init__(self, write: Writer, *, interval_s: float = 60.0) -> None:
        self._write = write
        self.interval_s = interval_s
        self._written_at: dict[str, float] = {}
        self._pending: set[asyncio.Future[None]] = set()

    def note(self, token_id: str) -> bool:
        """Schedule a write unless one was made for this token within the interval."""
        now = time.monotonic()
        last = self._written_at.get(token_id)
        if last is not None and now - last < self.interval_s:
            return False
        self._written_at[token_id] = now
        task = asyncio.ensure_future(self._write(lambda conn: touch_token(conn, token_id)))
        self._pending.add(task)
        task.add_done_callback(self._finished)
        return True

    def _finished(self, task: asyncio.Future[None]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Best effort: the next request after the interval tries again.
            log.warning("could not record a token's last use: %s", type(task.exception()).__name__)

    async def drain(self) -> None:
        """Wait for scheduled writes (shutdown and tests)."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
