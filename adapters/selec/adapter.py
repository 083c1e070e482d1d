"""SelecAdapter: the selec-1.0 profile (the gateway's own, modelled on public SELEC facts).

One request per message, addressed through the sender's National Focal Point to the member
states the decision names; evaluation, handling and onward transfer travel with it. Render
builds the SelecRequest (``render.py``) inside a SOAP 1.1 envelope, checked against the profile
XSD; send posts it as the WSDL's ``SubmitRequest`` operation (the SOAP family,
``adapters/families/soap.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from lxml import etree

from adapters.families.soap import SoapAdapter
from adapters.selec.inbound import SelecInbound
from adapters.selec.render import SL, build_selec_request

if TYPE_CHECKING:
    from gateway.policy.decision import Decision
    from gateway.schema.message import CanonicalMessage

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"


class SelecAdapter(SelecInbound, SoapAdapter):
    """SELEC via its National Focal Point: one SOAP request naming every addressed member state."""

    name: ClassVar[str] = "selec"
    profile_version: ClassVar[str] = "selec-1.0"
    products: ClassVar[tuple[str, ...]] = ("information_exchange",)
    default_product: ClassVar[str] = "information_exchange"
    schema_files: ClassVar[tuple[str, ...]] = (
        "schema/selec-request-1.0.xsd",
        "schema/selec-1.0.wsdl",
    )
    # One request names every addressee, so the destination must list them.
    needs_recipients: ClassVar[bool] = True
    wsdl: ClassVar[Path] = SCHEMA_DIR / "selec-1.0.wsdl"
    operation: ClassVar[str] = "SubmitRequest"
    body_element: ClassVar[etree.QName] = etree.QName(SL, "SelecRequest")
    body_xsd: ClassVar[Path] = SCHEMA_DIR / "selec-request-1.0.xsd"
    max_payload_bytes: ClassVar[int] = 16 * 1024 * 1024

    def build_body(
        self,
        message: CanonicalMessage,
        decision: Decision,
        recipient: str | None,
        parent: etree._Element,
    ) -> None:
        """One SELEC request names every recipient country at once: all the decision's go in."""
        recipients = list(decision.recipients) or ([recipient] if recipient else [])
        build_selec_request(message, self.codes, recipients, parent=parent)
