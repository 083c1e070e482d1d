"""The registry refuses a bad adapter at load, naming it; good ones are usable by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from adapters import load_registry
from adapters.base import Adapter, Payload, Receipt, SendContext
from adapters.europol import EuropolAdapter
from adapters.registry import AdapterRegistrationError
from contract_tests import kit

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


class Demo(Adapter):
    """Borrows the europol mapping folder layout under the name 'europol_demo'."""

    name: ClassVar[str] = "europol_demo"
    profile_version: ClassVar[str] = "demo-1.0"
    products: ClassVar[tuple[str, ...]] = ("information_exchange",)
    default_product: ClassVar[str] = "information_exchange"
    content_type: ClassVar[str] = "application/json"
    schema_files: ClassVar[tuple[str, ...]] = ("test_framework_registry.py",)

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
    # Named as defined here: the registry finds schema files beside the class's module.
    return type("Variant", (Demo,), {"__module__": __name__, **attrs})


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
        ({"needs_recipients": 1}, "needs_recipients must be a bool"),
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


def test_sync_lifecycle_method_refused(demo_mappings: Path) -> None:
    def aclose(self: Any) -> None:
        return None

    with pytest.raises(AdapterRegistrationError, match="aclose must be async"):
        load_registry(only=[], extra=[variant(aclose=aclose)], extra_mappings=[demo_mappings])


def test_a_class_outside_the_contract_is_refused(demo_mappings: Path) -> None:
    """Same metadata and methods, but not an ``Adapter``: it would lack the lifecycle."""
    lookalike = type("Lookalike", (), {k: v for k, v in vars(Demo).items() if k[:2] != "__"})
    with pytest.raises(AdapterRegistrationError) as info:
        load_registry(only=[], extra=[lookalike], extra_mappings=[demo_mappings])
    assert "europol_demo" in str(info.value)
    assert "not a subclass of adapters.base.Adapter" in str(info.value)


def test_an_unimplemented_method_is_named(demo_mappings: Path) -> None:
    attrs = {k: v for k, v in vars(Demo).items() if k[:2] != "__" and k != "validate_payload"}
    partial = type("Partial", (Adapter,), attrs)
    with pytest.raises(AdapterRegistrationError, match="methods not implemented: validate_payload"):
        load_registry(only=[], extra=[partial], extra_mappings=[demo_mappings])


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


def test_a_new_channel_declares_it_needs_recipients_without_touching_the_schema(
    demo_mappings: Path,
) -> None:
    from gateway.intake import check_destinations
    from gateway.schema.message import Destination

    bilateral = variant(needs_recipients=True)
    registry = load_registry(only=["europol"], extra=[bilateral], extra_mappings=[demo_mappings])
    case = kit.golden_cases(["europol"])[0]
    message = case.message().model_copy(
        update={
            "destinations": (Destination(channel="europol"), Destination(channel="europol_demo"))
        }
    )
    problems = [(v.path, v.type) for v in check_destinations(message, registry)]
    assert problems == [("$.destinations[1].to", "missing")]
