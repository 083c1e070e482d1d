"""SelecAdapter: the selec-1.0 profile (the gateway's own, modelled on public SELEC facts).

One request per message, addressed through the sender's National Focal Point to the member
states the decision names; evaluation, handling and onward transfer travel with it. Render
builds the SelecRequest with lxml and checks it against the profile XSD; send posts it as the
WSDL's ``SubmitRequest`` operation through zeep (``adapters/_soap.py``).
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
from adapters.selec.render import SL, build_selec_request

if TYPE_CHECKING:
    from gateway.policy.decision import Decision
    from gateway.schema.message import CanonicalMessage

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
BODY_XSD = SCHEMA_DIR / "selec-request-1.0.xsd"
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024


class SelecAdapter:
    """SELEC via its National Focal Point: one SOAP request naming every addressed member state."""

    name: ClassVar[str] = "selec"
    profile_version: ClassVar[str] = "selec-1.0"
    products: ClassVar[tuple[str, ...]] = ("information_exchange",)
    default_product: ClassVar[str] = "information_exchange"
    content_type: ClassVar[str] = SOAP_CONTENT_TYPE
    schema_files: ClassVar[tuple[str, ...]] = (
        "schema/selec-request-1.0.xsd",
        "schema/selec-1.0.wsdl",
    )
    per_recipient: ClassVar[bool] = False

    def __init__(self, codes: CodeTable) -> None:
        self.codes = codes
        self.service = SoapService(self.name, SCHEMA_DIR / "selec-1.0.wsdl", "SubmitRequest")
        if self.service.input_element != etree.QName(SL, "SelecRequest"):
            raise ValueError("WSDL input element is not sl:SelecRequest")
        self.http = HttpChannel(self.name)

    def render(
        self, message: CanonicalMessage, decision: Decision, recipient: str | None = None
    ) -> Payload:
        product = product_for(self, decision)
        recipients = list(decision.recipients) or ([recipient] if recipient else [])
        request, body = empty_envelope()
        with xml_text_of(self, message):
            build_selec_request(message, self.codes, recipients, parent=body)
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
