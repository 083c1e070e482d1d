"""SOAP simulators serve their WSDL at ``?wsdl``, and stacks other than ours call them with it.

suds (not the zeep our adapters use) loads the WSDL over HTTP with its default settings, builds
the request from the schema alone and gets a receipt; so does a plain zeep client. The served
WSDL names the simulator's real address, never the files' placeholder.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import zeep
from lxml import etree
from suds.client import Client as SudsClient

from adapters import load_registry
from adapters._xml import parse_xml
from simulators import SimulatorSet, start_simulators

SOAP_ADDRESS = "{http://schemas.xmlsoap.org/wsdl/soap/}address"
XS_IMPORT = "{http://www.w3.org/2001/XMLSchema}import"
ENDPOINTS = {"europol": "siena", "selec": "selec"}


@pytest.fixture(scope="module")
def running() -> Iterator[SimulatorSet]:
    with start_simulators(list(ENDPOINTS), registry=load_registry(only=list(ENDPOINTS))) as sims:
        yield sims


def _endpoint(running: SimulatorSet, channel: str) -> str:
    return running[channel] + ENDPOINTS[channel]


def _europol_request() -> dict[str, Any]:
    """A SIENA-style message as an integrator fills it in from the WSDL, without ``profile``."""
    header = {
        "MessageId": str(uuid.uuid4()),
        "OriginatorMessageId": str(uuid.uuid4()),
        "Created": "2026-03-05T14:30:00+01:00",
        "Originator": {"Country": "AL", "Agency": "State Police"},
        "MessageType": "INFORMATION",
        "Priority": "NORMAL",
        "Handling": {
            "HandlingCode": "H0",
            "Classification": "EU_RESTRICTED",
            "OnwardTransfer": "WITH_CONSENT",
        },
        "Purposes": {"Code": ["INVESTIGATION"]},
        "CrimeAreas": {"Code": ["IMMIGRANT_SMUGGLING"]},
        "LegalBasis": [{"_instrument": "EUROPOL_REGULATION"}],
    }
    return {"Header": header, "Body": {"Subject": "Smuggling route via Ohrid"}}


def _selec_request() -> dict[str, Any]:
    """A SELEC request as an integrator fills it in from the WSDL, without ``profile``."""
    return {
        "RequestId": str(uuid.uuid4()),
        "OriginatorReference": str(uuid.uuid4()),
        "Issued": "2026-03-05T14:30:00+01:00",
        "NationalFocalPoint": {"_country": "AL", "Agency": "State Police"},
        "Addressees": {"MemberState": ["ME"]},
        "RequestType": "REQUEST_FOR_INFORMATION",
        "Urgency": "URGENT",
        "Handling": {
            "Classification": "RESTRICTED",
            "Restriction": "NO_DISSEMINATION",
            "OnwardTransfer": "WITH_CONSENT",
        },
        "Purpose": ["INVESTIGATION"],
        "Offence": ["MIGRANT_SMUGGLING"],
        "LegalBasis": [{"_instrument": "SELEC_CONVENTION"}],
        "Title": "Request for vehicle owner data",
    }


CALLS = {"europol": ("SubmitMessage", _europol_request), "selec": ("SubmitRequest", _selec_request)}


@pytest.mark.parametrize("channel", list(ENDPOINTS))
def test_wsdl_names_the_simulators_real_address(running: SimulatorSet, channel: str) -> None:
    endpoint = _endpoint(running, channel)
    response = httpx.get(f"{endpoint}?wsdl", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    wsdl = parse_xml(response.content)
    assert [a.get("location") for a in wsdl.iter(SOAP_ADDRESS)] == [endpoint]
    locations = [i.get("schemaLocation") for i in wsdl.iter(XS_IMPORT)]
    assert locations
    assert all(loc.startswith(f"{endpoint}?xsd=") for loc in locations)
    for location in locations:  # every schema it names is there, pointing beside it again
        schema = parse_xml(httpx.get(location, timeout=5).content)
        assert schema.tag == "{http://www.w3.org/2001/XMLSchema}schema"
        for nested in schema.iter(XS_IMPORT):
            assert nested.get("schemaLocation", "").startswith(f"{endpoint}?xsd=")


@pytest.mark.parametrize(
    "query", ["xsd=../adapter.py", "xsd=/etc/passwd", "xsd=nothing.xsd", "xsd=", "other=1"]
)
def test_only_the_wsdls_own_schemas_are_served(running: SimulatorSet, query: str) -> None:
    response = httpx.get(f"{_endpoint(running, 'selec')}?{query}", timeout=5)
    assert response.status_code == 404


@pytest.mark.parametrize("channel", list(ENDPOINTS))
def test_suds_with_default_settings_gets_a_receipt(running: SimulatorSet, channel: str) -> None:
    simulator = running.simulator(channel)
    simulator.clear()
    client = SudsClient(f"{_endpoint(running, channel)}?wsdl")
    operation, request = CALLS[channel]
    reply = getattr(client.service, operation)(**request())
    assert reply.Reference.startswith(f"{channel.upper()}-")
    assert reply.Duplicate is False
    (entry,) = simulator.inbox()
    assert entry.reference == reply.Reference


@pytest.mark.parametrize("channel", list(ENDPOINTS))
def test_zeep_with_default_settings_gets_a_receipt(running: SimulatorSet, channel: str) -> None:
    simulator = running.simulator(channel)
    simulator.clear()
    client = zeep.Client(f"{_endpoint(running, channel)}?wsdl")
    operation, request = CALLS[channel]
    values = _zeep_values(request())
    reply = getattr(client.service, operation)(**values)
    assert reply.Reference.startswith(f"{channel.upper()}-")
    (entry,) = simulator.inbox()
    body = etree.fromstring(entry.body.encode())
    profiles = [el.get("profile") for el in body.iter() if el.get("profile") is not None]
    assert profiles == [f"{'siena' if channel == 'europol' else 'selec'}-1.0"]  # zeep's default


def _zeep_values(value: Any) -> Any:
    """suds marks attributes with a leading underscore; zeep takes them by name."""
    if isinstance(value, dict):
        return {key.lstrip("_"): _zeep_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_zeep_values(item) for item in value]
    return value


def test_the_set_says_where_each_soap_simulator_serves_its_wsdl(running: SimulatorSet) -> None:
    assert running.wsdl_url("selec") == f"{running['selec']}?wsdl"
    with start_simulators(["interpol"], registry=load_registry(only=["interpol"])) as rest:
        assert rest.wsdl_url("interpol") is None
        assert httpx.get(f"{rest['interpol']}?wsdl", timeout=5).status_code == 405
