"""SOAP 1.1 over a WSDL: the request body is the operation's input element, in an envelope.

A SOAP channel declares its WSDL, operation, body element and body XSD, and builds the body in
``build_body``; the family loads the WSDL (checking the operation's input element is the body
element), wraps and checks every render, validates arriving envelopes, and sends through zeep
(``adapters/_soap.py``: faults, unreadable replies and HTTP statuses mapped there).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from lxml import etree

from adapters._codes import CodeTable
from adapters._render import checked_tree, product_for, xml_text_of
from adapters._signing import sign_soap_envelope, soap_without_signature, verify_soap_envelope
from adapters._soap import (
    SOAP_CONTENT_TYPE,
    SoapService,
    empty_envelope,
    envelope_problems,
    envelope_tree_problems,
    reference_receipt,
)
from adapters._xml import DEFAULT_MAX_XML_BYTES
from adapters.base import Payload, PayloadSigner, Receipt, SendContext
from adapters.families.http import HttpAdapter

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

    from gateway.policy.decision import Decision
    from gateway.schema.message import CanonicalMessage

__all__ = ["SoapAdapter"]


class SoapAdapter(HttpAdapter):
    """A channel speaking one WSDL operation; a subclass is constants plus ``build_body``."""

    content_type: ClassVar[str] = SOAP_CONTENT_TYPE
    wsdl: ClassVar[Path]
    operation: ClassVar[str]
    # The operation's input element, which ``build_body`` writes into the SOAP Body.
    body_element: ClassVar[etree.QName]
    # The XSD declaring ``body_element`` (it may import others).
    body_xsd: ClassVar[Path]
    max_payload_bytes: ClassVar[int] = DEFAULT_MAX_XML_BYTES

    def __init__(self, codes: CodeTable | None = None) -> None:
        super().__init__(codes)
        self.service = SoapService(self.name, self.wsdl, self.operation)
        if self.service.input_element != self.body_element:
            raise ValueError(f"the WSDL's input element is not {self.body_element.localname}")
        self._headers = {"SOAPAction": f'"{self.service.soap_action}"'}

    @abc.abstractmethod
    def build_body(
        self,
        message: CanonicalMessage,
        decision: Decision,
        recipient: str | None,
        parent: etree._Element,
    ) -> None:
        """Append ``body_element`` for the message to ``parent`` (the envelope's Body)."""

    def render(
        self, message: CanonicalMessage, decision: Decision, recipient: str | None = None
    ) -> Payload:
        """Pure: the envelope around ``build_body``'s request, checked before it is returned."""
        product = product_for(self, decision)
        request, body = empty_envelope()
        with xml_text_of(self, message):
            self.build_body(message, decision, recipient, body)
        return checked_tree(
            self,
            request,
            self.tree_problems,
            product=product,
            max_bytes=self.max_payload_bytes,
            recipient=recipient,
            headers=self._headers,
        )

    def validate_payload(self, body: bytes) -> list[str]:
        """Whole-envelope check: size, SOAP envelope, then the body element against the body XSD."""
        return envelope_problems(body, self.body_element, self.body_xsd, self.max_payload_bytes)

    def tree_problems(self, root: etree._Element) -> list[str]:
        """``validate_payload`` of an envelope already parsed (or just built)."""
        return envelope_tree_problems(root, self.body_element, self.body_xsd)

    def read_result(self, result: Any, http_status: int) -> Receipt:
        """The receipt in the operation's output as zeep read it (``Reference``, ``Duplicate``)."""
        return reference_receipt(result, http_status)

    def sign(self, payload: Payload, signer: PayloadSigner) -> Payload:
        """A WS-Security header whose XML-DSig signature references the Body by ``wsu:Id``."""
        return dataclasses.replace(payload, body=sign_soap_envelope(payload.body, signer))

    def verify_signature(self, body: bytes, headers: Mapping[str, str], keys: KeySet) -> bytes:
        """The envelope as rendered (no Security header), once the Body's signature holds."""
        return verify_soap_envelope(body, keys, max_bytes=self.max_payload_bytes)

    def without_signature(self, body: bytes) -> bytes:
        """The envelope without its WS-Security header, unchecked."""
        return soap_without_signature(body, max_bytes=self.max_payload_bytes)

    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        """Send through zeep over the family's HTTP client, so SOAP faults map like HTTP errors."""
        return await self.service.send(self.http, payload, context, self.read_result)
