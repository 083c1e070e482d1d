"""Answers from Europol: pushed to the gateway as SOAP (``SienaReply``, siena-reply-1.0).

Why push: SIENA is a messaging system that delivers a case's messages to each participant's
national unit as they are written; a national system does not ask SIENA for them
(``research/destinations.md`` §1(c): SIENA is operated as a message exchange, its only documented
system-to-system service, QUEST, is a search). The gateway therefore offers SIENA an endpoint,
``POST /v1/channels/europol/inbound``, with the same SOAP 1.1 framing it uses to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from lxml import etree

from adapters._inbound_xml import parse_soap_reply
from adapters.inbound import DEFAULT_MAX_INBOUND_BYTES, InboundMessage

REPLY_NS = "urn:marri:gateway:profile:siena-reply:1.0"
REPLY_ROOT = etree.QName(REPLY_NS, "SienaReply")
REPLY_XSD = Path(__file__).resolve().parent / "schema" / "siena-reply-1.0.xsd"


class EuropolInbound:
    """The push side of the europol channel."""

    name: ClassVar[str] = "europol"
    # The answering country when an answer names none (Europol sits in The Hague).
    seat_country: ClassVar[str] = "NL"
    inbound_schema_files: ClassVar[tuple[str, ...]] = ("schema/siena-reply-1.0.xsd",)

    def parse_inbound(self, body: bytes, headers: Mapping[str, str]) -> InboundMessage:
        """One SIENA-style reply; the SOAP envelope and its body are checked before reading."""
        return parse_soap_reply(body, self.name, REPLY_ROOT, REPLY_XSD, DEFAULT_MAX_INBOUND_BYTES)
