"""Simulators for SOAP 1.1 channels: receipts in the WSDL's response element, faults as SOAP.

``GET <endpoint>?wsdl`` serves the channel's WSDL with the simulator's own address, and
``GET <endpoint>?xsd=<file>`` the schemas it imports (``adapters/_wsdl.py``), so a SOAP stack
other than ours can be pointed at a simulator as at a real service.

A schema-invalid request is answered with a SOAP ``Client`` fault (HTTP 500, as SOAP 1.1 over
HTTP requires for faults); ``soap_client_fault`` and ``soap_server_fault`` inject the two fault
codes; ``malformed`` answers 200 with a truncated envelope.
"""

from __future__ import annotations

from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters._soap import SOAP_CONTENT_TYPE, envelope, fault_envelope
from adapters._wsdl import ServiceDescription
from adapters._xml import serialize
from adapters.families.soap import SoapAdapter
from simulators._base import ChannelSimulator, Fault, InboxEntry, SimReply

_XML = "text/xml; charset=utf-8"

__all__ = ["SoapSimulator"]


class SoapSimulator(ChannelSimulator):
    """Answers with ``receipt_element`` (children Reference, Duplicate) in a SOAP body."""

    receipt_element: etree.QName

    def extra_routes(self) -> list[Route]:
        if not isinstance(self.adapter, SoapAdapter):
            raise TypeError(f"{self.channel}: a SOAP simulator needs a SOAP adapter")
        self.description = ServiceDescription(self.adapter.wsdl)
        return [
            Route("/", self._description, methods=["GET"]),
            Route("/{path:path}", self._description, methods=["GET"]),
        ]

    async def _description(self, request: Request) -> Response:
        """``?wsdl`` or ``?xsd=<file>`` at any endpoint path; anything else is not here."""
        address = self.endpoint(request)
        if "wsdl" in request.query_params:
            return Response(self.description.wsdl_at(address), media_type=_XML)
        schema = self.description.schema_at(request.query_params.get("xsd", ""), address)
        if schema is not None:
            return Response(schema, media_type=_XML)
        return JSONResponse({"error": "ask for ?wsdl or ?xsd=<file>"}, status_code=404)

    def success_reply(self, entry: InboxEntry, duplicate: bool) -> SimReply:
        ns = self.receipt_element.namespace
        receipt = etree.Element(self.receipt_element.text, nsmap={"r": ns} if ns else None)
        etree.SubElement(
            receipt, f"{{{ns}}}Reference" if ns else "Reference"
        ).text = entry.reference
        etree.SubElement(receipt, f"{{{ns}}}Duplicate" if ns else "Duplicate").text = (
            "true" if duplicate else "false"
        )
        return SimReply(200, serialize(envelope(receipt)), SOAP_CONTENT_TYPE)

    def rejection_reply(self, problems: list[str]) -> SimReply:
        text = "payload rejected: " + "; ".join(problems[:5])
        return SimReply(500, fault_envelope("Client", text), SOAP_CONTENT_TYPE)

    def fault_reply(self, fault: Fault) -> SimReply:
        for kind, code, default in (
            ("soap_client_fault", "Client", "injected client fault"),
            ("soap_server_fault", "Server", "injected server fault"),
        ):
            if fault.kind == kind:
                faultcode = f"{code}.{fault.code}" if fault.code else code
                envelope = fault_envelope(faultcode, fault.text or default)
                return SimReply(500, envelope, SOAP_CONTENT_TYPE)
        return super().fault_reply(fault)

    def malformed_reply(self) -> SimReply:
        whole = self.success_reply(InboxEntry("X", None, None, None, {}, ""), duplicate=False).body
        return SimReply(200, whole[: len(whole) // 2], SOAP_CONTENT_TYPE)
