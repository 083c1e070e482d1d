"""Stand-in for the europol channel: a SIENA-style SOAP endpoint for the siena-1.0 profile.

It answers (when told to) with a ``SienaReply`` pushed to the gateway, echoing the envelope's
``OriginatorMessageId``.
"""

from __future__ import annotations

from lxml import etree

from adapters._inbound_xml import soap_reply
from adapters._soap import SOAP_CONTENT_TYPE
from adapters._xml import serialize
from adapters.base import Adapter
from adapters.europol.inbound import REPLY_ROOT
from adapters.europol.render import SE
from adapters.inbound import InboundMessage
from simulators._soap import SoapSimulator


class EuropolSimulator(SoapSimulator):
    """Validates with the adapter's schema and answers with a SubmissionReceipt."""

    receipt_element = etree.QName(SE, "SubmissionReceipt")
    originator_field = "OriginatorMessageId"
    answer_content_type = SOAP_CONTENT_TYPE

    def answer_payload(self, answer: InboundMessage) -> tuple[bytes, str]:
        return serialize(soap_reply(REPLY_ROOT, answer)), SOAP_CONTENT_TYPE


def build(adapter: Adapter) -> EuropolSimulator:
    return EuropolSimulator(adapter)
