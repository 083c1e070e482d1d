"""EuropolAdapter: the siena-1.0 profile (the gateway's own, modelled on public SIENA/UMF facts).

Render builds the SienaMessage body (``render.py``), wraps it in a SOAP 1.1 envelope, and checks
the result against the profile's XSDs before returning it. Send posts the stored envelope as the
WSDL's ``SubmitMessage`` operation through zeep (``adapters/_soap.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from lxml import etree

from adapters._codes import CodeTable
from adapters._http import HttpChannel
from adapters._render import checked_tree, product_for, xml_text_of
from adapters._soap import (
    SOAP_CONTENT_TYPE,
    SoapService,
    empty_envelope,
    envelope_problems,
    envelope_tree_problems,
    reference_receipt,
)
from adapters.base import Payload, Receipt, SendContext
from adapters.europol.render import SE, build_siena_message

if TYPE_CHECKING:
    from gateway.policy.decision import Decision
    from gateway.schema.message import CanonicalMessage

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
BODY_XSD = SCHEMA_DIR / "siena-envelope-1.0.xsd"
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024


class EuropolAdapter:
    """Europol via SIENA-style SOAP messages: one delivery per message, to Europol itself."""

    name: ClassVar[str] = "europol"
    profile_version: ClassVar[str] = "siena-1.0"
    products: ClassVar[tuple[str, ...]] = ("information_exchange",)
    default_product: ClassVar[str] = "information_exchange"
    content_type: ClassVar[str] = SOAP_CONTENT_TYPE
    schema_files: ClassVar[tuple[str, ...]] = (
        "schema/siena-envelope-1.0.xsd",
        "schema/umf-entities-1.0.xsd",
        "schema/siena-1.0.wsdl",
    )
    per_recipient: ClassVar[bool] = False

    def __init__(self, codes: CodeTable) -> None:
        self.codes = codes
        self.service = SoapService(self.name, SCHEMA_DIR / "siena-1.0.wsdl", "SubmitMessage")
        if self.service.input_element != etree.QName(SE, "SienaMessage"):
            raise ValueError("WSDL input element is not se:SienaMessage")
        self.http = HttpChannel(self.name)

    def render(
        self, message: CanonicalMessage, decision: Decision, recipient: str | None = None
    ) -> Payload:
        product = product_for(self, decision)
        request, body = empty_envelope()
        with xml_text_of(self, message):
            build_siena_message(message, self.codes, recipient, parent=body)
        return checked_tree(
            self,
            request,
            self.tree_problems,
            product=product,
            max_bytes=MAX_PAYLOAD_BYTES,
            recipient=recipient,
            headers={"SOAPAction": f'"{self.service.soap_action}"'},
        )

    def validate_payload(self, body: bytes) -> list[str]:
        return envelope_problems(
            body,
            self.service.input_element,
            BODY_XSD,
            MAX_PAYLOAD_BYTES,
        )

    def tree_problems(self, root: etree._Element) -> list[str]:
        """``validate_payload`` of an envelope already parsed (or just built)."""
        return envelope_tree_problems(root, self.service.input_element, BODY_XSD)

    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        return await self.service.send(self.http, payload, context, reference_receipt)

    async def aclose(self) -> None:
        """Close this event loop's HTTP clients (shutdown, test teardown)."""
        await self.http.aclose()
