"""Control characters never reach a render through intake: the canonical schema refuses them.
A message built without validation (``model_copy``) still meets the renders' own guard: text XML
1.0 cannot carry is a render refusal naming the field, never a crash of the XML renders."""

from __future__ import annotations

import pytest

from adapters.errors import RenderError
from adapters.registry import AdapterRegistry
from contract_tests import kit
from gateway.schema import MessageInvalid, parse_message

XML_CHANNELS = ["europol", "frontex", "pcc_see", "selec"]


@pytest.fixture(scope="module")
def registry() -> AdapterRegistry:
    return kit.kit_registry()


@pytest.mark.parametrize("channel", XML_CHANNELS)
def test_a_control_character_is_refused_with_its_path(
    channel: str, registry: AdapterRegistry
) -> None:
    adapter = registry.get(channel)
    case = next(c for c in kit.golden_cases([channel]))
    message = case.message()
    tainted = message.model_copy(
        update={"subject": "before\x01after", "summary": "summary\x1bescape"}
    )
    with pytest.raises(MessageInvalid) as refused:
        parse_message(tainted.model_dump_json(by_alias=True).encode())
    assert {v.path for v in refused.value.violations} == {"$.subject", "$.summary"}
    with pytest.raises(RenderError) as info:
        kit.render_for_kit(adapter, tainted, case.decision_overrides())
    paths = {path for path, _ in info.value.violations}
    assert paths <= {"$.subject", "$.summary"}
    assert paths
    assert "before" not in str(info.value)
    assert all("after" not in rule for _, rule in info.value.violations)


@pytest.mark.parametrize("channel", XML_CHANNELS)
def test_tab_and_line_breaks_are_carried(channel: str, registry: AdapterRegistry) -> None:
    adapter = registry.get(channel)
    case = next(c for c in kit.golden_cases([channel]))
    message = case.message().model_copy(update={"summary": "line\r\nbreak\ttab"})
    assert kit.render_for_kit(adapter, message, case.decision_overrides()).body
