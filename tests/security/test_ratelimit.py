"""Token buckets keyed by what an unauthenticated caller sends stay bounded in memory."""

from __future__ import annotations

from gateway.security.ratelimit import RateLimiter


def test_a_bucket_refuses_past_its_burst_and_refills_with_time() -> None:
    limiter = RateLimiter(6)  # one request back every 10 s
    assert [limiter.acquire("a", now=0.0) for _ in range(6)] == [0.0] * 6
    assert limiter.acquire("a", now=0.0) == 10.0
    assert limiter.acquire("a", now=10.0) == 0.0
    assert limiter.acquire("b", now=10.0) == 0.0  # other keys have their own bucket


def test_only_the_most_recently_used_keys_are_kept() -> None:
    limiter = RateLimiter(1, max_keys=3)
    for key in ("a", "b", "c"):
        assert limiter.acquire(key, now=0.0) == 0.0
    assert limiter.acquire("a", now=1.0) > 0  # still remembered: "a" is now the newest
    assert limiter.acquire("d", now=1.0) == 0.0  # forgets "b", the least recently used
    assert limiter.acquire("c", now=1.0) > 0
    assert limiter.acquire("a", now=1.0) > 0
    assert limiter.acquire("b", now=1.0) == 0.0  # came back with a full bucket
