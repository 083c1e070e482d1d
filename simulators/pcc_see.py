"""Stand-in for a PCC SEE national central unit taking pcc-see-1.0 XML messages.

It answers (when told to) with a ``PccSeeAnswer`` posted to the gateway, naming our
``MessageId`` as the request it answers and the addressed party as the answering one.
"""

from __future__ import annotations

from adapters._inbound_xml import reply_element
from adapters._xml import serialize
from adapters.base import Adapter
from adapters.inbound import InboundMessage
from adapters.pcc_see.inbound import REPLY_ROOT
from simulators._base import ChannelSimulator


class PccSeeSimulator(ChannelSimulator):
    """Checks arrivals with the adapter's own validate_payload; JSON receipts (201, 200 repeat)."""

    originator_field = "MessageId"

    def answer_payload(self, answer: InboundMessage) -> tuple[bytes, str]:
        return serialize(reply_element(REPLY_ROOT, answer)), "application/xml"


def build(adapter: Adapter) -> PccSeeSimulator:
    return PccSeeSimulator(adapter)
