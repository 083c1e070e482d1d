"""Stand-in for the interpol channel: the NCB endpoint taking interpol-notice-1.0 JSON."""

from __future__ import annotations

from adapters.base import Adapter
from simulators._base import ChannelSimulator


class InterpolSimulator(ChannelSimulator):
    """Checks arrivals with the adapter's own validate_payload; JSON receipts (201, 200 repeat)."""


def build(adapter: Adapter) -> InterpolSimulator:
    return InterpolSimulator(adapter)
