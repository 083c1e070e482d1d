"""Stand-in for the europol channel: a SIENA-style SOAP endpoint for the siena-1.0 profile."""

from __future__ import annotations

from lxml import etree

from adapters.base import Adapter
from adapters.europol.render import SE
from simulators._soap import SoapSimulator


class EuropolSimulator(SoapSimulator):
    """Validates with the adapter's schema and answers with a SubmissionReceipt."""

    receipt_element = etree.QName(SE, "SubmissionReceipt")


def build(adapter: Adapter) -> EuropolSimulator:
    return EuropolSimulator(adapter)
