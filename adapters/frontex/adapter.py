"""``FrontexAdapter``: EUROSUR-style event reports and Art 90 personal data, XML over HTTPS."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from lxml import etree

from adapters._codes import CodeTable
from adapters._render import product_for, xml_text_of
from adapters.base import Payload
from adapters.families.xml_http import XmlHttpAdapter
from adapters.frontex.common import NAMESPACE, PROFILE
from adapters.frontex.event_report import render_event_report
from adapters.frontex.inbound import FrontexInbound
from adapters.frontex.personal_data import render_operational_personal_data
from adapters.source import RenderSource, source_for

if TYPE_CHECKING:
    from gateway.policy.decision import Decision
    from gateway.schema import CanonicalMessage

SCHEMA_DIR = Path(__file__).parent / "schema"
_RENDERERS: Mapping[str, Callable[[Mapping[str, Any], CodeTable], etree._Element]] = {
    "event_report": render_event_report,
    "operational_personal_data": render_operational_personal_data,
}


class FrontexAdapter(FrontexInbound, XmlHttpAdapter):
    """Frontex: ``event_report`` (default, counts only) and ``operational_personal_data``."""

    name: ClassVar[str] = "frontex"
    profile_version: ClassVar[str] = PROFILE
    products: ClassVar[tuple[str, ...]] = ("event_report", "operational_personal_data")
    default_product: ClassVar[str] = "event_report"
    schema_files: ClassVar[tuple[str, ...]] = (
        "schema/frontex-common-1.0.xsd",
        "schema/frontex-event-report-1.0.xsd",
        "schema/frontex-operational-personal-data-1.0.xsd",
    )
    root_schemas: ClassVar[Mapping[str, Path]] = {
        f"{{{NAMESPACE}}}EventReport": SCHEMA_DIR / "frontex-event-report-1.0.xsd",
        f"{{{NAMESPACE}}}OperationalPersonalData": SCHEMA_DIR
        / "frontex-operational-personal-data-1.0.xsd",
    }

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
        return self.checked(root, product=product)
