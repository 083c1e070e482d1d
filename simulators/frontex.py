"""Stand-in for the frontex channel: the endpoint taking frontex-event-1.0 XML reports.

Replies (when told to) are held as feedback for the gateway to fetch from ``GET /feedback``:
a ``FeedbackBatch`` naming our ``ReportId``, without persons (EUROSUR, Art. 89).
"""

from __future__ import annotations

from lxml import etree

from adapters._inbound_xml import reply_element
from adapters._xml import serialize
from adapters.base import Adapter
from adapters.frontex.inbound import FEEDBACK_NS, FEEDBACK_ROOT
from adapters.inbound import InboundMessage
from simulators._base import ChannelSimulator

FEEDBACK = etree.QName(FEEDBACK_NS, "Feedback")


class FrontexSimulator(ChannelSimulator):
    """Checks arrivals with the adapter's own validate_payload; JSON receipts (201, 200 repeat)."""

    originator_field = "ReportId"
    answers_carry_persons = False

    def held_payload(self, answers: list[InboundMessage], cursor: str) -> tuple[bytes, str]:
        batch = etree.Element(FEEDBACK_ROOT.text, nsmap={None: FEEDBACK_NS})  # type: ignore[dict-item]
        etree.SubElement(batch, f"{{{FEEDBACK_NS}}}Next").text = cursor
        for answer in answers:
            batch.append(reply_element(FEEDBACK, answer))
        return serialize(batch), "application/xml"


def build(adapter: Adapter) -> FrontexSimulator:
    return FrontexSimulator(adapter)
