"""Transport families: a channel is its profile, its render and its constants.

Each family carries the transport, the receipts and the error mapping of one way of talking to
a destination, so a channel subclasses one and adds only what is its own::

    Adapter (adapters/base.py)          the contract and its lifecycle defaults
    └── HttpAdapter (http.py)           code table, one HttpChannel, send/ping/aclose
        ├── SoapAdapter (soap.py)       SOAP 1.1 over a WSDL: envelope, operation, faults
        ├── XmlHttpAdapter (xml_http.py)  XML documents checked by root element's XSD
        └── JsonHttpAdapter (json_http.py)  JSON documents checked by one JSON Schema

The REST families declare their transport shape in ``transport`` (``adapters/_shape.py``:
endpoint path, success and duplicate statuses, where the receipt's reference and duplicate
flag sit); the default is a JSON receipt ``{"reference", "duplicate"}`` at the configured URL
on any 2xx. SOAP channels read ``Reference`` and ``Duplicate`` from the operation's output. A
receipt no shape describes overrides ``read_receipt`` (REST) or ``read_result`` (SOAP).
"""

from adapters.families.http import HttpAdapter
from adapters.families.json_http import JsonHttpAdapter
from adapters.families.soap import SoapAdapter
from adapters.families.xml_http import XmlHttpAdapter

__all__ = ["HttpAdapter", "JsonHttpAdapter", "SoapAdapter", "XmlHttpAdapter"]
