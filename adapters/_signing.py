"""The gateway's signature on every payload, in the form each transport expects, and its check.

Three forms, one key (EC P-256; ES256 / ``ecdsa-sha256``), named by its key id:

- XML documents: an enveloped XML-DSig signature (``signxml``), the last child of the root,
  over the whole document (``URI=""``, enveloped-signature and exclusive c14n transforms).
- SOAP 1.1 envelopes: a WS-Security ``Security`` header holding an XML-DSig signature whose one
  reference is the ``Body``, found by its ``wsu:Id``. The body element itself is untouched, so
  the channel's body XSD still checks it.
- JSON documents: a detached JWS (RFC 7515 Appendix F; compact, ``alg`` ES256, ``kid``) over
  the exact body bytes, in the ``X-Marri-Signature`` header; the body is unchanged.

Checking (the simulators, and anyone holding the gateway's published JWK set) trusts only the
key set it is given: the ``KeyName`` or ``kid`` picks a key there, an XML signature's own
``KeyValue`` is replaced by that key before it is checked, and only the one expected reference
counts (the whole document, or the ``Body``), so a wrapped or re-keyed copy is refused.
Errors name what failed, never the content.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from adapters._xml import DEFAULT_MAX_XML_BYTES, XmlError, parse_xml, serialize
from adapters.base import PayloadSigner

# signxml's debug lines quote the canonicalised document, that is the payload with its personal
# data: whatever level the process logs at, they are never written.
logging.getLogger("signxml").setLevel(logging.WARNING)

__all__ = [
    "SIGNATURE_HEADER",
    "SignatureInvalid",
    "sign_json",
    "sign_soap_envelope",
    "sign_xml_document",
    "soap_without_signature",
    "trusted_keys",
    "verify_json",
    "verify_soap_envelope",
    "verify_xml_document",
    "xml_without_signature",
]

SIGNATURE_HEADER = "X-Marri-Signature"
JWS_ALGORITHM = "ES256"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
DSIG11 = "http://www.w3.org/2009/xmldsig11#"
BODY_ID = "marri-body"

_HEADER = f"{{{SOAP_ENV}}}Header"
_BODY = f"{{{SOAP_ENV}}}Body"
_SECURITY = f"{{{WSSE}}}Security"
_SIGNATURE = f"{{{DS}}}Signature"
_WSU_ID = f"{{{WSU}}}Id"
_EXPECTED = SignatureConfiguration(
    require_x509=False,
    signature_methods=frozenset({SignatureMethod.ECDSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
)


class SignatureInvalid(ValueError):
    """A payload whose signature is missing, from an unknown key, or does not match."""


def _signer() -> XMLSigner:
    return XMLSigner(
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )


def sign_xml_document(body: bytes, signer: PayloadSigner) -> bytes:
    """``body`` with an enveloped signature appended to its root."""
    root = parse_xml(body)
    signed = _signer().sign(root, key=signer.private_key, key_name=signer.key_id)
    return serialize(signed)


def sign_soap_envelope(body: bytes, signer: PayloadSigner) -> bytes:
    """``body`` (a SOAP 1.1 envelope) with a WS-Security header signing its Body."""
    root = parse_xml(body)
    soap_body = root.find(_BODY)
    if soap_body is None:
        raise SignatureInvalid("the envelope has no Body to sign")
    header = root.find(_HEADER)
    if header is None:
        header = etree.Element(_HEADER)
        root.insert(0, header)
    security = etree.SubElement(header, _SECURITY, nsmap={"wsse": WSSE})
    etree.SubElement(security, _SIGNATURE, Id="placeholder", nsmap={"ds": DS})
    soap_body.set(_WSU_ID, BODY_ID)
    signed = _signer().sign(
        root, key=signer.private_key, key_name=signer.key_id, reference_uri=f"#{BODY_ID}"
    )
    return serialize(signed)


def sign_json(body: bytes, signer: PayloadSigner) -> str:
    """The detached compact JWS over ``body``: ``protected..signature``."""
    key = ECKey.import_key(signer.private_key)
    token = jws.serialize_compact({"alg": JWS_ALGORITHM, "kid": signer.key_id}, body, key)
    return str(jws.detach_content(token))


def trusted_keys(jwks: Mapping[str, Any]) -> KeySet:
    """The published JWK set as keys to check against; ValueError when it is not one."""
    try:
        return KeySet.import_key_set(dict(jwks))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"not a usable JWK set ({type(exc).__name__})") from None


def _public_der(keys: KeySet, kid: str | None) -> bytes:
    if not kid:
        raise SignatureInvalid("the signature names no key")
    try:
        key = keys.get_by_kid(kid)
    except (JoseError, ValueError, KeyError):
        raise SignatureInvalid(f"the signature's key {kid} is not in the trusted key set") from None
    if not isinstance(key, ECKey):
        raise SignatureInvalid(f"the key {kid} is not an EC key")
    return key.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _verify_tree(root: etree._Element, signature: etree._Element, keys: KeySet) -> Any:
    """Check ``signature`` (in ``root``) with the trusted key its KeyName picks."""
    key_info = signature.find(f"{{{DS}}}KeyInfo")
    key_name = key_info.find(f"{{{DS}}}KeyName") if key_info is not None else None
    der = _public_der(keys, key_name.text if key_name is not None else None)
    assert key_info is not None  # a KeyName was found inside it
    for child in list(key_info):
        if child is not key_name:
            key_info.remove(child)
    trusted = etree.SubElement(
        key_info, f"{{{DSIG11}}}DEREncodedKeyValue", nsmap={"dsig11": DSIG11}
    )
    trusted.text = base64.b64encode(der).decode("ascii")
    try:
        return XMLVerifier().verify(root, expect_config=_EXPECTED)
    except (SignXMLException, InvalidSignature, ValueError) as exc:
        # signxml lets cryptography's InvalidSignature through on key-value signatures.
        raise SignatureInvalid(
            f"the XML signature does not verify ({type(exc).__name__})"
        ) from None


def _parse(body: bytes, max_bytes: int) -> etree._Element:
    try:
        return parse_xml(body, max_bytes=max_bytes)
    except XmlError as exc:
        raise SignatureInvalid(f"the payload is not readable XML: {exc}") from None


def verify_xml_document(
    body: bytes, keys: KeySet, *, max_bytes: int = DEFAULT_MAX_XML_BYTES
) -> bytes:
    """The document as signed (without its signature) when the enveloped signature holds."""
    root = _parse(body, max_bytes)
    signatures = [child for child in root if child.tag == _SIGNATURE]
    if len(signatures) != 1 or len(root.findall(f".//{_SIGNATURE}")) != 1:
        raise SignatureInvalid("expected exactly one enveloped signature on the root")
    result = _verify_tree(root, signatures[0], keys)
    references = result.signed_xml
    if references is None or references.tag != root.tag:
        raise SignatureInvalid("the signature does not cover the whole document")
    return serialize(references)


def verify_soap_envelope(
    body: bytes, keys: KeySet, *, max_bytes: int = DEFAULT_MAX_XML_BYTES
) -> bytes:
    """The envelope as rendered (no Security header, no Body id) when the signature holds."""
    root = _parse(body, max_bytes)
    header = root.find(_HEADER)
    security = header.find(_SECURITY) if header is not None else None
    signature = security.find(_SIGNATURE) if security is not None else None
    soap_body = root.find(_BODY)
    if signature is None or soap_body is None or header is None or security is None:
        raise SignatureInvalid("no WS-Security signature in the SOAP header")
    if len(root.findall(f".//{_SIGNATURE}")) != 1 or soap_body.get(_WSU_ID) != BODY_ID:
        raise SignatureInvalid("expected one signature and one signed Body")
    result = _verify_tree(root, signature, keys)
    signed = result.signed_xml
    if signed is None or signed.tag != _BODY or signed.get(_WSU_ID) != BODY_ID:
        raise SignatureInvalid("the signature does not reference the SOAP Body")
    header.remove(security)
    if len(header) == 0:
        root.remove(header)
    del soap_body.attrib[_WSU_ID]
    etree.cleanup_namespaces(root)
    return serialize(root)


def xml_without_signature(body: bytes, *, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> bytes:
    """The document with its enveloped signature taken off, unchecked (for a receiver told
    not to check); a document without one is returned as it came."""
    try:
        root = parse_xml(body, max_bytes=max_bytes)
    except XmlError:
        return body
    signatures = [child for child in root if child.tag == _SIGNATURE]
    if not signatures:
        return body
    for signature in signatures:
        root.remove(signature)
    return serialize(root)


def soap_without_signature(body: bytes, *, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> bytes:
    """The envelope without its WS-Security header and Body id, unchecked."""
    try:
        root = parse_xml(body, max_bytes=max_bytes)
    except XmlError:
        return body
    header = root.find(_HEADER)
    security = header.find(_SECURITY) if header is not None else None
    if header is None or security is None:
        return body
    header.remove(security)
    if len(header) == 0:
        root.remove(header)
    soap_body = root.find(_BODY)
    if soap_body is not None and _WSU_ID in soap_body.attrib:
        del soap_body.attrib[_WSU_ID]
    etree.cleanup_namespaces(root)
    return serialize(root)


def verify_json(body: bytes, signature: str | None, keys: KeySet) -> None:
    """Refuse (``SignatureInvalid``) ``body`` unless ``signature`` is a detached JWS over it."""
    if not signature:
        raise SignatureInvalid(f"no {SIGNATURE_HEADER} header")
    _protected, dot, rest = signature.partition(".")
    if not dot or not rest.startswith("."):
        raise SignatureInvalid("the signature is not a detached compact JWS")
    try:
        jws.deserialize_compact(signature, keys, algorithms=[JWS_ALGORITHM], payload=body)
    except (JoseError, ValueError, KeyError) as exc:
        raise SignatureInvalid(f"the JWS does not verify ({type(exc).__name__})") from None
