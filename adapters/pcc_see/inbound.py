"""Answers from PCC SEE parties: pushed to the gateway as XML (``PccSeeAnswer``, 1.0).

Why push: PCC SEE exchange is bilateral between national central units, each sending to the
other (Convention Art. 4: written requests, by fax or e-mail allowed; ``research/
destinations.md`` §5 and §7.2). There is no central service to ask; the answering party's unit
sends its answer to ours, so the gateway offers ``POST /v1/channels/pcc_see/inbound``, the
mirror of the HTTPS POST it uses to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from lxml import etree

from adapters._inbound_xml import parse_plain_reply
from adapters.inbound import DEFAULT_MAX_INBOUND_BYTES, InboundMessage

REPLY_NS = "urn:marri:gateway:pcc-see-answer:1.0"
REPLY_ROOT = etree.QName(REPLY_NS, "PccSeeAnswer")
REPLY_XSD = Path(__file__).resolve().parent / "schema" / "pcc-see-answer-1.0.xsd"


class PccSeeInbound:
    """The push side of the pcc_see channel."""

    name: ClassVar[str] = "pcc_see"
    # The answering country when an answer names none (the PCC SEE Secretariat sits in Ljubljana).
    seat_country: ClassVar[str] = "SI"
    inbound_schema_files: ClassVar[tuple[str, ...]] = ("schema/pcc-see-answer-1.0.xsd",)

    def parse_inbound(self, body: bytes, headers: Mapping[str, str]) -> InboundMessage:
        """One party's answer, checked against pcc-see-answer-1.0.xsd before it is read."""
        return parse_plain_reply(body, self.name, REPLY_ROOT, REPLY_XSD, DEFAULT_MAX_INBOUND_BYTES)
