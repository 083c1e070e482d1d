"""A SOAP channel's service description as another stack fetches it: ``GET <endpoint>?wsdl``.

The WSDL and XSD files in an adapter's ``schema/`` folder name each other by file name and
carry a placeholder ``soap:address``. Served, the WSDL's address is the endpoint it was asked
for (or the one configured), and every ``schemaLocation`` becomes ``<endpoint>?xsd=<file>``, so
a client that loads the WSDL over HTTP (suds, zeep, wsimport, svcutil) finds its schemas and
posts to the right place. Only the files the WSDL reaches are served; other names are refused.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from adapters._xml import parse_xml, serialize

__all__ = ["ServiceDescription"]

_SOAP_ADDRESS = "{http://schemas.xmlsoap.org/wsdl/soap/}address"
_XS = "http://www.w3.org/2001/XMLSchema"
_SCHEMA_REFERENCES = (f"{{{_XS}}}import", f"{{{_XS}}}include", f"{{{_XS}}}redefine")


class ServiceDescription:
    """One channel's WSDL and the schema files it reaches, ready to serve at an address."""

    def __init__(self, wsdl: Path) -> None:
        self.wsdl = wsdl
        self.folder = wsdl.parent
        self.schema_files = self._reachable(wsdl)

    def _reachable(self, start: Path) -> frozenset[str]:
        """File names of every schema ``start`` imports or includes, transitively."""
        seen: set[str] = set()
        todo = [start]
        while todo:
            root = parse_xml(todo.pop().read_bytes())
            for name in _references(root):
                if name not in seen and (self.folder / name).is_file():
                    seen.add(name)
                    todo.append(self.folder / name)
        return frozenset(seen)

    def wsdl_at(self, address: str) -> bytes:
        """The WSDL with every ``soap:address`` at ``address`` and its schemas served beside it."""
        root = parse_xml(self.wsdl.read_bytes())
        for port_address in root.iter(_SOAP_ADDRESS):
            port_address.set("location", address)
        self._point_schemas(root, address)
        return serialize(root)

    def schema_at(self, name: str, address: str) -> bytes | None:
        """Schema file ``name`` if the WSDL reaches it (else None), its references beside it."""
        if name not in self.schema_files:
            return None
        root = parse_xml((self.folder / name).read_bytes())
        self._point_schemas(root, address)
        return serialize(root)

    def _point_schemas(self, root: etree._Element, address: str) -> None:
        for reference in root.iter(*_SCHEMA_REFERENCES):
            name = reference.get("schemaLocation")
            if name in self.schema_files:
                reference.set("schemaLocation", f"{address}?xsd={name}")


def _references(root: etree._Element) -> list[str]:
    """The bare file names a WSDL or XSD refers to (paths or URLs are not followed)."""
    names = []
    for reference in root.iter(*_SCHEMA_REFERENCES):
        location = reference.get("schemaLocation") or ""
        if location and "/" not in location and "\\" not in location and ":" not in location:
            names.append(location)
    return names
