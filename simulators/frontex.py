"""Stand-in for the frontex channel: the endpoint taking frontex-event-1.0 XML reports."""

from __future__ import annotations

from adapters.base import Adapter
from simulators._base import ChannelSimulator


class FrontexSimulator(ChannelSimulator):
    """Checks arrivals with the adapter's own validate_payload; JSON receipts (201, 200 repeat)."""


def build(adapter: Adapter) -> FrontexSimulator:
    return FrontexSimulator(adapter)
