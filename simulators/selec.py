"""Stand-in for the selec channel: a SOAP endpoint for the selec-1.0 profile."""

from __future__ import annotations

from lxml import etree

from adapters.base import Adapter
from adapters.selec.render import SL
from simulators._soap import SoapSimulator


class SelecSimulator(SoapSimulator):
    """Validates with the adapter's schema and answers with a RequestReceipt."""

    receipt_element = etree.QName(SL, "RequestReceipt")


def build(adapter: Adapter) -> SelecSimulator:
    return SelecSimulator(adapter)
