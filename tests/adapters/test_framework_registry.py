"""The registry refuses a bad adapter at load, naming it; good ones are usable by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from adapters import load_registry
from adapters.base import Payload, Receipt, SendContext
from adapters.europol import EuropolAdapter
from adapters.registry import AdapterRegistrationError

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


class Demo:
    """Borrows the europol mapping folder layout under the name 'europol_demo'."""

    name: ClassVar[str] = "europol_demo"
    profile_version: ClassVar[str] = "demo-1.0"
    products: ClassVar[tuple[str, ...]] = ("information_exchange",)
    default_product: ClassVar[str] = "information_exchange"
    content_type: ClassVar[str] = "application/json"
    schema_files: ClassVar[tuple[str, ...]] = ("test_framework_registry.py",)
    per_recipient: ClassVar[bool] = False

    def __init__(self, codes: Any) -> None:
        self.codes = codes

    def render(self, message: Any, decision: Any, recipient: str | None = None) -> Payload:
        raise NotImplementedError

    def validate_payload(self, body: bytes) -> list[str]:
        return []

    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        raise NotImplementedError


@pytest.fixture
def demo_mappings(tmp_path: Path) -> Path:
    folder = tmp_path / "europol_demo"
    folder.mkdir()
    text = (MAPPINGS / "europol" / "codes.yaml").read_text(encoding="utf-8")
    (folder / "codes.yaml").write_text(
        text.replace("channel: europol", "channel: europol_demo"), encoding="utf-8"
    )
    return tmp_path


def variant(**attrs: Any) -> type[Any]:
    return type("Variant", (Demo,), attrs)


def test_built_ins_load_and_are_found_by_name() -> None:
    registry = load_registry(only=["europol", "selec"])
    assert registry.names() == ["europol", "selec"]
    assert isinstance(registry.get("europol"), EuropolAdapter)
    assert "selec" in registry
    assert registry.entry("selec").source.startswith("marri-gateway")
    with pytest.raises(KeyError, match="no adapter registered for channel 'nope'"):
        registry.get("nope")


def test_extra_adapter_class_registers(demo_mappings: Path) -> None:
    registry = load_registry(only=[], extra=[Demo], extra_mappings=[demo_mappings])
    assert registry.names() == ["europol_demo"]
    assert registry.entry("europol_demo").codes.map("restriction", "other") == "H3"


@pytest.mark.parametrize(
    ("attrs", "complaint"),
    [
        ({"name": "Bad Name"}, "name must match"),
        ({"products": ()}, "products must be a non-empty tuple"),
        ({"default_product": "other"}, "default_product is not among products"),
        ({"profile_version": 1}, "profile_version must be a non-empty str"),
        ({"schema_files": ("missing.xsd",)}, "schema file 'missing.xsd' not found"),
        ({"per_recipient": "no"}, "per_recipient must be a bool"),
    ],
)
def test_bad_metadata_refused_naming_the_adapter(
    demo_mappings: Path, attrs: dict[str, Any], complaint: str
) -> None:
    name = attrs.get("name", "europol_demo")
    with pytest.raises(AdapterRegistrationError) as info:
        load_registry(only=[], extra=[variant(**attrs)], extra_mappings=[demo_mappings])
    assert complaint in str(info.value)
    if name != "Bad Name":
        assert "europol_demo" in str(info.value)


def test_sync_send_refused(demo_mappings: Path) -> None:
    def send(self: Any, payload: Payload, context: SendContext) -> Receipt:
        raise NotImplementedError

    with pytest.raises(AdapterRegistrationError, match="send must be async"):
        load_registry(only=[], extra=[variant(send=send)], extra_mappings=[demo_mappings])


def test_missing_or_incomplete_mapping_refused(demo_mappings: Path, tmp_path: Path) -> None:
    with pytest.raises(
        AdapterRegistrationError, match=r"mappings/europol_demo/codes.yaml not found"
    ):
        load_registry(only=[], extra=[Demo], extra_mappings=[tmp_path / "empty"])
    codes = demo_mappings / "europol_demo" / "codes.yaml"
    codes.write_text(
        codes.read_text(encoding="utf-8").replace("no_judicial_use: H1, ", ""), encoding="utf-8"
    )
    with pytest.raises(AdapterRegistrationError) as info:
        load_registry(only=[], extra=[Demo], extra_mappings=[demo_mappings])
    assert "'europol_demo'" in str(info.value)
    assert "'no_judicial_use'" in str(info.value)


def test_duplicate_name_refused(demo_mappings: Path) -> None:
    with pytest.raises(AdapterRegistrationError, match="already registered"):
        load_registry(only=[], extra=[variant(name="europol")], extra_mappings=[demo_mappings])
