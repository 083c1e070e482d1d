"""SOAP 1.1 channels: envelopes built with lxml, WSDL operations driven by zeep.

The WSDL is loaded with zeep once per adapter (``SoapService``) under strict, hardened settings.
Render builds the request body with lxml builders and wraps it in a SOAP 1.1 envelope (cheaper
than zeep's serializer, which also skips the XSD facets; see docs/adapters.md); the body must be the
WSDL operation's input element, and ``envelope_problems`` checks structure and XSD on every
payload.

Sending posts the stored envelope through zeep's ``AsyncTransport`` (its POST goes through the
channel's ``HttpChannel``: explicit timeouts, capped reply, httpx errors mapped there) and reads
the reply with the WSDL binding's ``process_reply``. This module is the one place zeep
exceptions become ours::

    SOAP Fault, faultcode Client[.*] ............. PermanentError
    SOAP Fault, faultcode Server[.*] ............. TransientError
    other fault codes (VersionMismatch, ...) ..... PermanentError
    408 / 429 / 502-504 whatever the body ........ TransientError (+ Retry-After)
    2xx reply zeep cannot read (any shape) ....... OutcomeUnknown
    non-2xx reply that is no fault ............... by HTTP status (see adapters/_http.py)

Fault strings are never copied into our error messages (destinations may echo personal data
in them); code and string ride along as the error's ``remote``, for the gateway to scrub.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import httpx
import requests
from lxml import etree
from zeep import Client, Settings
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError
from zeep.transports import AsyncTransport, Transport

from adapters._http import HttpChannel, HttpReply, classify_status, wire_headers
from adapters._xml import XmlError, load_xsd, parse_xml, serialize, xsd_problems
from adapters.base import Payload, Receipt, SendContext
from adapters.errors import (
    DeliveryError,
    OutcomeUnknown,
    PermanentError,
    RemoteError,
    TransientError,
)

__all__ = [
    "SOAP_CONTENT_TYPE",
    "SOAP_ENV",
    "SoapService",
    "empty_envelope",
    "envelope",
    "envelope_problems",
    "envelope_tree_problems",
    "fault_envelope",
    "translate_zeep_errors",
    "zeep_settings",
]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
_ALWAYS_RETRY = frozenset({408, 429, 502, 503, 504})
_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"
_BODY = f"{{{SOAP_ENV}}}Body"

ReceiptReader = Callable[[Any, int], Receipt]


def zeep_settings() -> Settings:
    """Strict parsing; no DTDs, entities or external fetches; no huge trees."""
    return Settings(
        strict=True,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
        xml_huge_tree=False,
    )


def envelope(body_child: etree._Element) -> etree._Element:
    """A SOAP 1.1 envelope with an empty header and ``body_child`` as the only body element."""
    env = etree.Element(etree.QName(SOAP_ENV, "Envelope"), nsmap={"soapenv": SOAP_ENV})
    body = etree.SubElement(env, etree.QName(SOAP_ENV, "Body"))
    body.append(body_child)
    return env


def empty_envelope() -> tuple[etree._Element, etree._Element]:
    """A SOAP 1.1 envelope and its empty Body, for a request built in place: cheaper than
    ``envelope``, which moves a finished request, node by node, into the envelope's document."""
    env = etree.Element(_ENVELOPE, nsmap={"soapenv": SOAP_ENV})
    return env, etree.SubElement(env, _BODY)


def fault_envelope(code: str, text: str) -> bytes:
    """A SOAP 1.1 fault (``code`` is ``Client`` or ``Server``); used by the simulators."""
    env = etree.Element(etree.QName(SOAP_ENV, "Envelope"), nsmap={"soapenv": SOAP_ENV})
    body = etree.SubElement(env, etree.QName(SOAP_ENV, "Body"))
    fault = etree.SubElement(body, etree.QName(SOAP_ENV, "Fault"))
    etree.SubElement(fault, "faultcode").text = f"soapenv:{code}"
    etree.SubElement(fault, "faultstring").text = text
    return serialize(env)


def envelope_problems(
    body: bytes, expected: etree.QName, body_xsd: Path, max_bytes: int
) -> list[str]:
    """Structure and schema problems of a SOAP 1.1 request; empty when it is valid.

    ``body_xsd`` declares ``expected``, the operation's input element; it may import others.
    """
    try:
        root = parse_xml(body, max_bytes=max_bytes)
    except XmlError as exc:
        return [f"/: {exc}"]
    return envelope_tree_problems(root, expected, body_xsd)


def envelope_tree_problems(
    root: etree._Element, expected: etree.QName, body_xsd: Path
) -> list[str]:
    """``envelope_problems`` of an envelope already parsed, or just built by ``render``."""
    if root.tag != _ENVELOPE:
        return ["/: root is not a SOAP 1.1 Envelope"]
    soap_body = root.find(f"{{{SOAP_ENV}}}Body")
    if soap_body is None:
        return ["/Envelope: no Body"]
    children = [child for child in soap_body if isinstance(child.tag, str)]
    if len(children) != 1 or children[0].tag != expected.text:
        return [f"/Envelope/Body: expected exactly one {expected.localname} element"]
    return xsd_problems(load_xsd(body_xsd), etree.ElementTree(children[0]))


def _fault_class(code: str | None) -> type[DeliveryError] | None:
    if not code:
        return None
    local = code.rsplit(":", 1)[-1].split(".", 1)[0]
    if local == "Client":
        return PermanentError
    if local == "Server":
        return TransientError
    return PermanentError


@contextlib.contextmanager
def translate_zeep_errors(channel: str, status: int, headers: httpx.Headers) -> Iterator[None]:
    """Turn zeep errors raised while reading a reply into delivery errors (chained)."""
    try:
        yield
    except Fault as exc:
        error_class = _fault_class(exc.code)
        if error_class is None:
            by_status = classify_status(channel, status, headers)
            if by_status is None:
                raise OutcomeUnknown(
                    f"{channel}: HTTP {status} with a fault of no code", http_status=status
                ) from exc
            raise by_status from exc
        code = str(exc.code).rsplit(":", 1)[-1]
        remote = RemoteError.bounded(str(exc.code), exc.message)
        raise error_class(
            f"{channel}: SOAP fault {code}", http_status=status, remote=remote
        ) from exc
    except (TransportError, ZeepError, etree.LxmlError, XmlError, LookupError, TypeError) as exc:
        # zeep also fails with IndexError/KeyError/TypeError on well-formed replies of an
        # unexpected shape (an empty Body, say): unreadable all the same.
        by_status = classify_status(channel, status, headers)
        if by_status is None:
            raise OutcomeUnknown(
                f"{channel}: HTTP {status}, SOAP reply unreadable ({type(exc).__name__})",
                http_status=status,
            ) from exc
        raise by_status from exc


class _NoRemoteLoads:
    """What zeep's ``AsyncTransport`` gets as its WSDL client. SOAP channels load their WSDL
    from files before any send, so a remote WSDL or XSD asked for during a send is refused
    rather than fetched, and no client is left open to be closed."""

    headers: dict[str, str]

    def __init__(self) -> None:
        self.headers = {}

    def get(self, url: str) -> NoReturn:
        raise PermanentError("remote WSDL and XSD loading is disabled")


class _ChannelTransport(AsyncTransport):
    """zeep's async transport posting through the channel's HttpChannel for one attempt."""

    def __init__(self, http: HttpChannel, context: SendContext):
        super().__init__(  # type: ignore[no-untyped-call]
            client=http.slot(context).client,
            wsdl_client=_NoRemoteLoads(),
            timeout=context.connect_timeout_s,
            operation_timeout=context.read_timeout_s,
        )
        self._http = http
        self._context = context

    async def post(self, address: str, message: bytes, headers: dict[str, str]) -> HttpReply:
        return await self._http.exchange(address, message, headers, self._context)

    def new_response(self, response: HttpReply) -> requests.Response:
        converted = requests.Response()
        converted._content = response.body
        converted.status_code = response.status
        converted.headers.update(response.headers)
        converted.encoding = "utf-8"
        return converted


class SoapService:
    """One WSDL operation of one channel, loaded once with zeep.

    Nothing stays open once it is loaded: the loading session is closed at once, and each send
    posts through the channel's ``HttpChannel``, which the adapter closes.
    """

    def __init__(
        self,
        channel: str,
        wsdl: Path,
        operation: str,
        *,
        load_timeout_s: float = 10.0,
    ) -> None:
        self.channel = channel
        self.wsdl = wsdl
        transport = Transport(  # type: ignore[no-untyped-call]
            timeout=load_timeout_s, operation_timeout=load_timeout_s
        )
        try:
            self.client = Client(  # type: ignore[no-untyped-call]
                str(wsdl), transport=transport, settings=zeep_settings()
            )
        finally:
            transport.session.close()
        service = next(iter(self.client.wsdl.services.values()))
        port = next(iter(service.ports.values()))
        self.binding = port.binding
        self.operation = self.binding.get(operation)
        self.soap_action: str = self.operation.soapaction or ""
        body = self.operation.input.body
        self.input_element = etree.QName(body.qname)

    async def send(
        self,
        http: HttpChannel,
        payload: Payload,
        context: SendContext,
        read_receipt: ReceiptReader,
    ) -> Receipt:
        """POST the stored envelope through zeep and turn the reply into a Receipt."""
        transport = _ChannelTransport(http, context)
        headers = wire_headers(payload, context)
        headers.setdefault("SOAPAction", f'"{self.soap_action}"')
        reply: HttpReply = await transport.post(context.url, payload.body, headers)
        if reply.status in _ALWAYS_RETRY:
            error = classify_status(self.channel, reply.status, reply.headers, reply.body)
            assert error is not None
            raise error
        with translate_zeep_errors(self.channel, reply.status, reply.headers):
            if reply.body:
                parse_xml(reply.body, max_bytes=context.max_reply_bytes)
            result = self.binding.process_reply(
                self.client, self.operation, transport.new_response(reply)
            )
        try:
            return read_receipt(result, reply.status)
        except DeliveryError:
            raise
        except Exception as exc:
            raise OutcomeUnknown(
                f"{self.channel}: HTTP {reply.status}, receipt unreadable ({type(exc).__name__})",
                http_status=reply.status,
            ) from exc


def reference_receipt(result: Any, status: int) -> Receipt:
    """A receipt part with ``Reference`` and ``Duplicate`` (both SOAP profiles use it)."""
    return Receipt(
        reference=str(result.Reference), http_status=status, duplicate=bool(result.Duplicate)
    )
