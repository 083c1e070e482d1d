"""Metadata agree with code and folders: one channel id everywhere, schema files load."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

from adapters._xml import load_xsd, parse_xml
from adapters.base import Adapter
from adapters.registry import ENTRY_POINT_GROUP, NAME_PATTERN, AdapterRegistry, in_tree_channels
from contract_tests import kit


def test_channel_id_is_the_same_everywhere(
    adapter: Adapter, kit_registry: AdapterRegistry, kit_roots: list[Path]
) -> None:
    entry = kit_registry.entry(adapter.name)
    assert NAME_PATTERN.match(adapter.name)
    assert entry.mapping_dir.name == adapter.name
    assert (entry.mapping_dir / "codes.yaml").is_file()
    points = {ep.name: ep.module for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if adapter.name in points and adapter.name not in in_tree_channels():
        # A distribution: its entry point names its own module, its mappings ride along.
        assert type(adapter).__module__ == points[adapter.name]
        assert entry.mapping_dir.parent == entry.package_dir / "mappings"
        return
    # Registered by its folder in this tree, or handed to the kit from another root laid out
    # the same way: one id for the package, the mapping folder, the simulator and the cases.
    assert type(adapter).__module__ == f"adapters.{adapter.name}.adapter"
    assert entry.package_dir.name == adapter.name
    assert entry.package_dir.parent.name == "adapters"
    root = entry.package_dir.parent.parent
    assert (root / "simulators" / f"{adapter.name}.py").is_file()
    assert any((base / adapter.name).is_dir() for base in kit.case_dirs(kit_roots))
    if adapter.name not in in_tree_channels():
        assert entry.source.startswith("extra"), entry.source


def test_metadata_are_well_typed(adapter: Adapter) -> None:
    assert adapter.products
    assert adapter.default_product in adapter.products
    assert all(NAME_PATTERN.match(product) for product in adapter.products)
    assert "/" in adapter.content_type
    assert isinstance(adapter.per_recipient, bool)
    assert adapter.profile_version.strip() == adapter.profile_version != ""


def test_schema_files_load_and_carry_the_profile_version(
    adapter: Adapter, kit_registry: AdapterRegistry
) -> None:
    package_dir = kit_registry.entry(adapter.name).package_dir
    for rel in adapter.schema_files:
        path = package_dir / rel
        if path.suffix == ".xsd":
            load_xsd(path)
        elif path.suffix == ".wsdl":
            parse_xml(path.read_bytes())
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        else:
            raise AssertionError(f"unknown schema file kind {rel}")
        version = adapter.profile_version.rsplit("-", 1)[-1]
        assert version in path.name, f"{rel}: schema files are versioned in their names"


def test_every_channel_has_golden_cases(adapter: Adapter, kit_roots: list[Path]) -> None:
    assert kit.golden_cases([adapter.name], kit_roots), f"no cases for {adapter.name}"
