"""Process-local counters that the store cannot answer at scrape time.

Refusals leave nothing in the store (nothing is stored for a refused message), so each API
process counts them here; everything else on ``/metrics`` is computed from the store.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES_REFUSED = Counter(
    "marri_messages_refused",
    "Messages refused at intake by this process, by error code",
    ["code"],
    registry=PROCESS_REGISTRY,
)


def count_refusal(code: str) -> None:
    """Count a refused message by its error code (never by content)."""
    MESSAGES_REFUSED.labels(code=code).inc()
