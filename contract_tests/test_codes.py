"""Code tables: every canonical code mapped or dropped with a reason; a gap fails by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from adapters._codes import MappingError, NotSent, canonical_code_lists, load_code_table
from adapters.registry import AdapterRegistry


def test_every_canonical_code_is_mapped_or_dropped_with_a_reason(
    code_list: tuple[str, str], kit_registry: AdapterRegistry
) -> None:
    channel, list_name = code_list
    table = kit_registry.entry(channel).codes
    for code in canonical_code_lists()[list_name]:
        mapped = table.map(list_name, code)
        if isinstance(mapped, NotSent):
            assert mapped.reason.strip(), f"{channel}/{list_name}/{code}: reason is empty"
        else:
            assert mapped.strip(), f"{channel}/{list_name}/{code}: empty channel value"


def _delete_one_code(raw: dict[str, object], list_name: str) -> str:
    """Remove one explicitly listed code of ``list_name``; return it."""
    entry = raw["lists"][list_name]  # type: ignore[index]
    for key in ("map", "overrides", "not_sent"):
        codes = entry.get(key) or {}
        if codes:
            code = sorted(codes)[0]
            del codes[code]
            return str(code)
    pytest.fail(f"{list_name} lists no code explicitly")


def test_deleting_one_code_makes_loading_fail_naming_it(
    code_list: tuple[str, str], kit_registry: AdapterRegistry, tmp_path: Path
) -> None:
    channel, list_name = code_list
    source = kit_registry.entry(channel).mapping_dir / "codes.yaml"
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    removed = _delete_one_code(raw, list_name)
    copy = tmp_path / "codes.yaml"
    copy.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_code_table(channel, copy)
    message = str(info.value)
    assert f"'{removed}'" in message
    assert f"'{list_name}'" in message
    assert channel in message
