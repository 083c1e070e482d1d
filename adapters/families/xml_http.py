"""XML documents over HTTP: a root element names the document, and that root's XSD checks it.

The channel declares ``root_schemas`` (root tag in Clark notation → XSD path) and renders a tree;
``checked`` turns the tree into a payload once the same check ``validate_payload`` applies to
bytes finds nothing in it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from lxml import etree

from adapters._render import checked_tree
from adapters._signing import sign_xml_document, verify_xml_document, xml_without_signature
from adapters._xml import DEFAULT_MAX_XML_BYTES, XmlError, load_xsd, parse_xml, xsd_problems
from adapters.base import Payload, PayloadSigner
from adapters.families.http import HttpAdapter

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

__all__ = ["XmlHttpAdapter"]


class XmlHttpAdapter(HttpAdapter):
    """A channel of XML documents, each checked against the XSD of its root element."""

    content_type: ClassVar[str] = "application/xml"
    root_schemas: ClassVar[Mapping[str, Path]]
    max_payload_bytes: ClassVar[int] = DEFAULT_MAX_XML_BYTES

    def validate_payload(self, body: bytes) -> list[str]:
        """Problems against the XSD of the document's root element: paths and rules only."""
        try:
            root = parse_xml(body, max_bytes=self.max_payload_bytes)
        except XmlError as exc:
            return [f"/: {exc}"]
        return self.tree_problems(root)

    def tree_problems(self, root: etree._Element) -> list[str]:
        """``validate_payload`` of a document already parsed (or just built)."""
        schema_path = self.root_schemas.get(root.tag)
        if schema_path is None:
            return [f"/: root element is not a {self.profile_version} document"]
        return xsd_problems(load_xsd(schema_path), root)

    def checked(
        self, root: etree._Element, *, product: str, recipient: str | None = None
    ) -> Payload:
        """``root`` as the payload ``render`` returns, refused with ``RenderError`` if invalid."""
        return checked_tree(
            self,
            root,
            self.tree_problems,
            product=product,
            max_bytes=self.max_payload_bytes,
            recipient=recipient,
        )

    def sign(self, payload: Payload, signer: PayloadSigner) -> Payload:
        """An enveloped XML-DSig signature over the whole document, last child of its root."""
        return dataclasses.replace(payload, body=sign_xml_document(payload.body, signer))

    def verify_signature(self, body: bytes, headers: Mapping[str, str], keys: KeySet) -> bytes:
        """The document without its enveloped signature, once the signature holds."""
        return verify_xml_document(body, keys, max_bytes=self.max_payload_bytes)

    def without_signature(self, body: bytes) -> bytes:
        """The document without its enveloped signature, unchecked."""
        return xml_without_signature(body, max_bytes=self.max_payload_bytes)
