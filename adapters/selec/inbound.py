"""Answers from SELEC: pushed to the gateway as SOAP (``SelecReply``, selec-reply-1.0).

Why push: requests go to SELEC through the National Focal Point and liaison officers in
Bucharest, and the answering member's liaison office sends its answer back the same way, as a
message to the requesting side (``research/destinations.md`` §4: exchange through liaison
officers; no query service is described). The gateway offers the SOAP endpoint
``POST /v1/channels/selec/inbound`` in the framing it already uses towards SELEC.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from lxml import etree

from adapters._inbound_xml import parse_soap_reply
from adapters.inbound import DEFAULT_MAX_INBOUND_BYTES, InboundMessage

REPLY_NS = "urn:marri:gateway:profile:selec-reply:1.0"
REPLY_ROOT = etree.QName(REPLY_NS, "SelecReply")
REPLY_XSD = Path(__file__).resolve().parent / "schema" / "selec-reply-1.0.xsd"


class SelecInbound:
    """The push side of the selec channel."""

    name: ClassVar[str] = "selec"
    # The answering country when an answer names none (SELEC sits in Bucharest).
    seat_country: ClassVar[str] = "RO"
    inbound_schema_files: ClassVar[tuple[str, ...]] = ("schema/selec-reply-1.0.xsd",)

    def parse_inbound(self, body: bytes, headers: Mapping[str, str]) -> InboundMessage:
        """One SELEC reply in a SOAP 1.1 envelope, checked against selec-reply-1.0.xsd."""
        return parse_soap_reply(body, self.name, REPLY_ROOT, REPLY_XSD, DEFAULT_MAX_INBOUND_BYTES)
