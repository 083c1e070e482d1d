"""Stand-in for a PCC SEE national central unit taking pcc-see-1.0 XML messages."""

from __future__ import annotations

from adapters.base import Adapter
from simulators._base import ChannelSimulator


class PccSeeSimulator(ChannelSimulator):
    """Checks arrivals with the adapter's own validate_payload; JSON receipts (201, 200 repeat)."""


def build(adapter: Adapter) -> PccSeeSimulator:
    return PccSeeSimulator(adapter)
