"""Stand-in for the selec channel: a SOAP endpoint for the selec-1.0 profile.

It answers (when told to) with a ``SelecReply`` pushed to the gateway, echoing the request's
``OriginatorReference``; the answering member is the country the request was addressed to.
"""

from __future__ import annotations

from lxml import etree

from adapters._inbound_xml import soap_reply
from adapters._soap import SOAP_CONTENT_TYPE
from adapters._xml import serialize
from adapters.base import Adapter
from adapters.inbound import InboundMessage
from adapters.selec.inbound import REPLY_ROOT
from adapters.selec.render import SL
from simulators._soap import SoapSimulator


class SelecSimulator(SoapSimulator):
    """Validates with the adapter's schema and answers with a RequestReceipt."""

    receipt_element = etree.QName(SL, "RequestReceipt")
    originator_field = "OriginatorReference"
    answer_content_type = SOAP_CONTENT_TYPE

    def answer_payload(self, answer: InboundMessage) -> tuple[bytes, str]:
        return serialize(soap_reply(REPLY_ROOT, answer)), SOAP_CONTENT_TYPE


def build(adapter: Adapter) -> SelecSimulator:
    return SelecSimulator(adapter)
