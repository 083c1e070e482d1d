"""Token buckets: the API's per-token rate limit and the console's sign-in throttle.

In memory and per process: several replicas each allow the configured rate; put a shared
limiter in the front proxy if the sum matters.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by key: ``per_minute`` requests, bursts up to the same number.

    Keys an unauthenticated caller chooses (addresses, token prefixes) could grow the table
    without end, so it keeps the ``max_keys`` most recently used; a forgotten bucket comes back
    full, which is what an idle one would have refilled to.
    """

    def __init__(self, per_minute: int, *, max_keys: int = 100_000) -> None:
        self.capacity = float(max(per_minute, 1))
        self.refill_per_s = self.capacity / 60.0
        self.max_keys = max_keys
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, key: str, *, now: float | None = None) -> float:
        """Take one request from ``key``'s bucket: 0.0 when allowed, else seconds to wait."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
            if len(self._buckets) >= self.max_keys:
                del self._buckets[next(iter(self._buckets))]  # the least recently used
        self._buckets[key] = bucket
        bucket.tokens = min(
            self.capacity, bucket.tokens + (now - bucket.updated) * self.refill_per_s
        )
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.refill_per_s


def retry_after_header(wait_s: float) -> str:
    """Seconds to wait as ``Retry-After`` wants them: whole, at least one."""
    return str(max(1, math.ceil(wait_s)))
