"""Answers from Frontex: fetched by polling (``FeedbackBatch``, frontex-feedback-1.0).

Why poll: reports reach Frontex through EUROSUR's National Coordination Centres and JORA,
where the Frontex Situation Centre validates them (``research/destinations.md`` §3(b)-(c));
both are systems the national side reads, and nothing there calls a national system. So the
gateway asks, with a cursor it keeps in its database, for the feedback written since it last
asked (``GET <poll url>?after=<cursor>``).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from lxml import etree

from adapters._inbound_http import fetch_after
from adapters._inbound_xml import parse_checked, read_reply
from adapters._xml import load_xsd, xsd_problems
from adapters.inbound import InboundError, PollBatch, PollContext

FEEDBACK_NS = "urn:marri:gateway:frontex-feedback:1.0"
FEEDBACK_ROOT = etree.QName(FEEDBACK_NS, "FeedbackBatch")
FEEDBACK_XSD = Path(__file__).resolve().parent / "schema" / "frontex-feedback-1.0.xsd"


def parse_feedback_batch(body: bytes, max_bytes: int) -> PollBatch:
    """A fetched batch, checked against its schema before any value is read."""
    tree = parse_checked(body, max_bytes)
    if tree.tag != FEEDBACK_ROOT.text:
        raise InboundError(
            "schema_invalid", "the answer does not match its schema", ["/: not a FeedbackBatch"]
        )
    problems = xsd_problems(load_xsd(FEEDBACK_XSD), tree)
    if problems:
        raise InboundError("schema_invalid", "the answer does not match its schema", problems)
    following = tree.find(f"{{{FEEDBACK_NS}}}Next")
    items = tuple(
        read_reply(item, FEEDBACK_NS, "frontex")
        for item in tree.findall(f"{{{FEEDBACK_NS}}}Feedback")
    )
    return PollBatch(items, following.text if following is not None else None)


class FrontexInbound:
    """The poll side of the frontex channel."""

    name: ClassVar[str] = "frontex"
    # The answering country when an answer names none (Frontex sits in Warsaw).
    seat_country: ClassVar[str] = "PL"
    inbound_schema_files: ClassVar[tuple[str, ...]] = ("schema/frontex-feedback-1.0.xsd",)
    poll_path: ClassVar[str] = "feedback"

    async def poll(self, context: PollContext) -> PollBatch:
        """Frontex answers in XML feedback batches read after the stored cursor."""
        body = await fetch_after(self.name, context, accept="application/xml")
        return parse_feedback_batch(body, context.max_bytes)
