"""EuropolAdapter: the siena-1.0 profile (the gateway's own, modelled on public SIENA/UMF facts).

Render builds the SienaMessage body (``render.py``) inside a SOAP 1.1 envelope, checked against
the profile's XSDs before it is returned; send posts the stored envelope as the WSDL's
``SubmitMessage`` operation (the SOAP family, ``adapters/families/soap.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from lxml import etree

from adapters.europol.inbound import EuropolInbound
from adapters.europol.render import SE, build_siena_message
from adapters.families.soap import SoapAdapter

if TYPE_CHECKING:
    from gateway.policy.decision import Decision
    from gateway.schema.message import CanonicalMessage

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"


class EuropolAdapter(EuropolInbound, SoapAdapter):
    """Europol via SIENA-style SOAP messages: one delivery per message, to Europol itself."""

    name: ClassVar[str] = "europol"
    profile_version: ClassVar[str] = "siena-1.0"
    products: ClassVar[tuple[str, ...]] = ("information_exchange",)
    default_product: ClassVar[str] = "information_exchange"
    schema_files: ClassVar[tuple[str, ...]] = (
        "schema/siena-envelope-1.0.xsd",
        "schema/umf-entities-1.0.xsd",
        "schema/siena-1.0.wsdl",
    )
    wsdl: ClassVar[Path] = SCHEMA_DIR / "siena-1.0.wsdl"
    operation: ClassVar[str] = "SubmitMessage"
    body_element: ClassVar[etree.QName] = etree.QName(SE, "SienaMessage")
    body_xsd: ClassVar[Path] = SCHEMA_DIR / "siena-envelope-1.0.xsd"
    max_payload_bytes: ClassVar[int] = 64 * 1024 * 1024

    def build_body(
        self,
        message: CanonicalMessage,
        decision: Decision,
        recipient: str | None,
        parent: etree._Element,
    ) -> None:
        """SIENA addresses one Europol unit per envelope, so the body carries only ``recipient``."""
        build_siena_message(message, self.codes, recipient, parent=parent)
