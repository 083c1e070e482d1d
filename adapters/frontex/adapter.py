"""``FrontexAdapter``: EUROSUR-style event reports and Art 90 personal data, XML over HTTPS."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from lxml import etree

from adapters._codes import CodeTable, load_code_table
from adapters._http import HttpChannel, parse_json_receipt
from adapters._render import checked_tree, product_for, xml_text_of
from adapters._xml import XmlError, load_xsd, parse_xml, xsd_problems
from adapters.base import Payload, Receipt, SendContext
from adapters.frontex.common import NAMESPACE, PROFILE
from adapters.frontex.event_report import render_event_report
from adapters.frontex.personal_data import render_operational_personal_data
from adapters.source import RenderSource, source_for

if TYPE_CHECKING:
    from gateway.policy.decision import Decision
    from gateway.schema import CanonicalMessage

SCHEMA_DIR = Path(__file__).parent / "schema"
CODES_FILE = Path(__file__).resolve().parents[2] / "mappings" / "frontex" / "codes.yaml"
# Root element → the XSD that checks it.
ROOT_SCHEMAS: Mapping[str, Path] = {
    f"{{{NAMESPACE}}}EventReport": SCHEMA_DIR / "frontex-event-report-1.0.xsd",
    f"{{{NAMESPACE}}}OperationalPersonalData": SCHEMA_DIR
    / "frontex-operational-personal-data-1.0.xsd",
}
_RENDERERS: Mapping[str, Callable[[Mapping[str, Any], CodeTable], etree._Element]] = {
    "event_report": render_event_report,
    "operational_personal_data": render_operational_personal_data,
}


class FrontexAdapter:
    """Frontex: ``event_report`` (default, counts only) and ``operational_personal_data``."""

    name: ClassVar[str] = "frontex"
    profile_version: ClassVar[str] = PROFILE
    products: ClassVar[tuple[str, ...]] = ("event_report", "operational_personal_data")
    default_product: ClassVar[str] = "event_report"
    content_type: ClassVar[str] = "application/xml"
    schema_files: ClassVar[tuple[str, ...]] = (
        "schema/frontex-common-1.0.xsd",
        "schema/frontex-event-report-1.0.xsd",
        "schema/frontex-operational-personal-data-1.0.xsd",
    )
    per_recipient: ClassVar[bool] = False

    def __init__(self, codes: CodeTable | None = None) -> None:
        # The registry passes the checked table; standalone use loads the shipped one.
        self.codes = codes if codes is not None else load_code_table(self.name, CODES_FILE)
        self._http = HttpChannel(self.name)

    def render(
        self,
        message: CanonicalMessage,
        decision: Decision,
        recipient: str | None = None,
        *,
        source: RenderSource | None = None,
    ) -> Payload:
        """Pure: the XML document for the decision's product, validated before it is returned."""
        product = product_for(self, decision)
        renderer = _RENDERERS[product]
        data = source_for(message, source).data
        with xml_text_of(self, message):
            root = renderer(data, self.codes)
        return checked_tree(self, root, self.tree_problems, product=product)

    def validate_payload(self, body: bytes) -> list[str]:
        """Problems against the XSD of the document's root element: paths and rules only."""
        try:
            root = parse_xml(body)
        except XmlError as exc:
            return [f"/: {exc}"]
        return self.tree_problems(root)

    def tree_problems(self, root: etree._Element) -> list[str]:
        """``validate_payload`` of a document already parsed (or just built)."""
        schema_path = ROOT_SCHEMAS.get(root.tag)
        if schema_path is None:
            return ["/: root element is not a frontex-event-1.0 document"]
        return xsd_problems(load_xsd(schema_path), root)

    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        """POST the stored XML; the endpoint answers with a JSON receipt."""
        return await self._http.send(payload, context, parse_json_receipt)

    async def aclose(self) -> None:
        await self._http.aclose()
