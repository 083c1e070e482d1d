"""``PccSeeAdapter``: one XML message per receiving party, POSTed over HTTPS."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from lxml import etree

from adapters._render import checked_tree, product_for, xml_text_of
from adapters.base import Payload
from adapters.errors import RenderError
from adapters.families.xml_http import XmlHttpAdapter
from adapters.pcc_see.common import NAMESPACE, PROFILE
from adapters.pcc_see.inbound import PccSeeInbound
from adapters.pcc_see.render import readdressed, render_message
from adapters.source import RenderSource, source_for

if TYPE_CHECKING:
    from gateway.policy.decision import Decision
    from gateway.schema import CanonicalMessage

SCHEMA_DIR = Path(__file__).parent / "schema"
SCHEMA_FILE = "pcc-see-message-1.0.xsd"
SCHEMA_PATH = SCHEMA_DIR / SCHEMA_FILE
ROOT = f"{{{NAMESPACE}}}PccSeeMessage"


class PccSeeAdapter(PccSeeInbound, XmlHttpAdapter):
    """PCC SEE: ``message`` to each party named in ``destinations[].to``, one delivery each."""

    name: ClassVar[str] = "pcc_see"
    profile_version: ClassVar[str] = PROFILE
    products: ClassVar[tuple[str, ...]] = ("message",)
    default_product: ClassVar[str] = "message"
    schema_files: ClassVar[tuple[str, ...]] = (f"schema/{SCHEMA_FILE}",)
    root_schemas: ClassVar[Mapping[str, Path]] = {ROOT: SCHEMA_PATH}
    per_recipient: ClassVar[bool] = True
    needs_recipients: ClassVar[bool] = True

    def render(
        self,
        message: CanonicalMessage,
        decision: Decision,
        recipient: str | None = None,
        *,
        source: RenderSource | None = None,
    ) -> Payload:
        """Pure: the XML for ``recipient`` (one of the destination's ``to``), validated."""
        product = product_for(self, decision)
        source = source_for(message, source)
        data = source.data
        destination = next((d for d in data["destinations"] if d["channel"] == self.name), None)
        parties = destination.get("to", []) if destination else []
        if recipient is None or recipient not in parties:
            raise RenderError(
                "pcc_see: one payload per recipient named in the destination",
                [("$.destinations", "recipient missing or not among the destination's 'to'")],
            )
        with xml_text_of(self, message):
            root = self._message_for(source, recipient)
        return checked_tree(
            self,
            root,
            self.tree_problems,
            product=product,
            recipient=recipient,
        )

    def _message_for(self, source: RenderSource, recipient: str) -> etree._Element:
        """The message built once per source, for its first recipient; for the others, a copy
        readdressed.

        Intake renders one source for each recipient in turn and only ``<Recipient>`` differs,
        so copying the first tree (in C) replaces building it again in Python.
        """
        built = source.derived.get(self)
        if isinstance(built, etree._Element):
            return readdressed(built, recipient, self.codes)
        tree = render_message(source.data, recipient, self.codes)
        source.derived[self] = tree
        return tree
