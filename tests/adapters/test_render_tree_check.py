"""Renders check the tree (XML) or document (JSON) they built, not their own bytes read again:
the verdict must be the one ``validate_payload`` gives for the same payload, refusals included."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from lxml import etree

from adapters._codes import CodeTable
from adapters._soap import SOAP_ENV
from adapters._xml import parse_xml, serialize
from adapters.errors import RenderError
from adapters.interpol.adapter import InterpolAdapter
from adapters.registry import AdapterRegistry
from contract_tests import kit

# Channel → the local name of an element holding a channel code (an enumeration in its XSD).
CODE_ELEMENT = {
    "europol": "MessageType",
    "frontex": "MessageType",
    "pcc_see": "MessageType",
    "selec": "RequestType",
}
CASES = kit.golden_cases(CODE_ELEMENT)
# Text that only survives a serialise/parse round trip because lxml escapes it.
AWKWARD_TEXT = "line\r\nbreak\ttab & <tag> ]]> \"quoted\" 'single' \u00a0 \U0001f600"


@pytest.fixture(scope="module")
def registry() -> AdapterRegistry:
    return kit.kit_registry()


def _tree_problems(adapter: Any) -> Callable[[etree._Element], list[str]]:
    check: Callable[[etree._Element], list[str]] = adapter.tree_problems
    return check


def _rendered_tree(case: kit.GoldenCase, registry: AdapterRegistry) -> etree._Element:
    adapter = registry.get(case.channel)
    payload = kit.render_for_kit(adapter, case.message(), case.decision_overrides())
    return parse_xml(payload.body)


def _request(root: etree._Element) -> etree._Element:
    """The channel's document: the SOAP body's element, or the root itself."""
    body = root.find(f"{{{SOAP_ENV}}}Body")
    return root if body is None else body[0]


def _first(root: etree._Element, local_name: str) -> etree._Element:
    found = next((e for e in root.iter() if etree.QName(e).localname == local_name), None)
    assert found is not None, local_name
    return found


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_valid_tree_passes_like_its_bytes(
    case: kit.GoldenCase, registry: AdapterRegistry
) -> None:
    adapter = registry.get(case.channel)
    root = _rendered_tree(case, registry)
    assert _tree_problems(adapter)(root) == []
    assert adapter.validate_payload(serialize(root)) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_bad_value_fails_in_the_tree_as_in_the_bytes(
    case: kit.GoldenCase, registry: AdapterRegistry
) -> None:
    adapter = registry.get(case.channel)
    root = _rendered_tree(case, registry)
    _first(root, CODE_ELEMENT[case.channel]).text = "NOT-A-CODE"
    from_tree = _tree_problems(adapter)(root)
    assert from_tree, "a code outside the enumeration must fail"
    assert from_tree == adapter.validate_payload(serialize(root))
    assert not any("NOT-A-CODE" in problem for problem in from_tree)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_an_unknown_element_fails_in_the_tree_as_in_the_bytes(
    case: kit.GoldenCase, registry: AdapterRegistry
) -> None:
    adapter = registry.get(case.channel)
    root = _rendered_tree(case, registry)
    request = _request(root)
    etree.SubElement(request, f"{{{etree.QName(request).namespace}}}Unexpected")
    from_tree = _tree_problems(adapter)(root)
    assert from_tree
    assert from_tree == adapter.validate_payload(serialize(root))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_escaped_text_reads_back_unchanged_and_gets_the_same_verdict(
    case: kit.GoldenCase, registry: AdapterRegistry
) -> None:
    adapter = registry.get(case.channel)
    root = _rendered_tree(case, registry)
    subject = _first(root, "Subject" if case.channel != "selec" else "Title")
    subject.text = AWKWARD_TEXT
    body = serialize(root)
    assert _first(parse_xml(body), etree.QName(subject).localname).text == AWKWARD_TEXT
    assert _tree_problems(adapter)(root) == adapter.validate_payload(body)


def test_text_that_is_not_xml_is_refused_when_set() -> None:
    """What a parse of the bytes would refuse never gets into a built tree in the first place."""
    element = etree.Element("a")
    for bad in ("\x00", "\x01", "\x0b", "\x1f", "\ufffe"):
        with pytest.raises(ValueError, match="XML compatible"):
            element.text = f"x{bad}y"
        with pytest.raises(ValueError, match="XML compatible"):
            element.set("k", f"x{bad}y")


@pytest.mark.parametrize("channel", sorted(CODE_ELEMENT))
def test_render_refuses_a_tree_the_schema_refuses(channel: str, registry: AdapterRegistry) -> None:
    adapter = registry.get(channel)
    codes = adapter.codes
    broken = CodeTable(
        channel,
        {**codes.entries, "kind": dict.fromkeys(codes.entries["kind"], "NOT-A-CODE")},
    )
    broken_adapter = type(adapter)(broken)
    case = next(c for c in CASES if c.channel == channel)
    with pytest.raises(RenderError) as info:
        kit.render_for_kit(broken_adapter, case.message(), case.decision_overrides())
    assert info.value.violations
    assert "NOT-A-CODE" not in str(info.value)
    assert not any("NOT-A-CODE" in f"{path} {rule}" for path, rule in info.value.violations)


@pytest.mark.parametrize("channel", ["europol", "selec"])
def test_render_refuses_a_payload_over_the_size_validate_payload_reads(
    channel: str, registry: AdapterRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = registry.get(channel)
    monkeypatch.setattr(type(adapter), "max_payload_bytes", 512)
    case = next(c for c in CASES if c.channel == channel)
    with pytest.raises(RenderError) as info:
        kit.render_for_kit(adapter, case.message(), case.decision_overrides())
    assert any("exceeds the limit" in rule for _, rule in info.value.violations)


@pytest.mark.parametrize("case", kit.golden_cases(["interpol"]), ids=lambda c: c.id)
def test_interpol_checks_the_document_it_wrote_as_it_would_check_the_bytes(
    case: kit.GoldenCase, registry: AdapterRegistry
) -> None:
    adapter = registry.get("interpol")
    assert isinstance(adapter, InterpolAdapter)
    document_problems = adapter.document_problems
    payload = kit.render_for_kit(adapter, case.message(), case.decision_overrides())
    document = json.loads(payload.body)
    assert document_problems(document) == [] == adapter.validate_payload(payload.body)
    document["message_type"] = "NOT-A-CODE"
    del document["subject"]
    bad = json.dumps(document).encode()
    assert document_problems(document)
    assert document_problems(document) == adapter.validate_payload(bad)


def test_interpol_render_refuses_a_document_the_schema_refuses(registry: AdapterRegistry) -> None:
    codes = registry.get("interpol").codes
    broken = InterpolAdapter(
        CodeTable(
            "interpol",
            {**codes.entries, "kind": dict.fromkeys(codes.entries["kind"], "NOT-A-CODE")},
        )
    )
    case = kit.golden_cases(["interpol"])[0]
    with pytest.raises(RenderError) as info:
        kit.render_for_kit(broken, case.message(), case.decision_overrides())
    assert info.value.violations
    assert "NOT-A-CODE" not in str(info.value)
