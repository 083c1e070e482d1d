"""Code tables: complete by construction, gaps named by channel, list and code."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from adapters._codes import MappingError, NotSent, load_code_table

CANONICAL = {
    "sex": ("female", "male", "other", "unknown"),
    "country": ("AL", "RS", "XK"),
}


def write(tmp_path: Path, lists: dict[str, object], channel: str = "demo") -> Path:
    path = tmp_path / "codes.yaml"
    path.write_text(yaml.safe_dump({"channel": channel, "lists": lists}), encoding="utf-8")
    return path


def complete_lists() -> dict[str, object]:
    return {
        "sex": {"map": {"female": "F", "male": "M", "unknown": "U"}, "not_sent": {"other": "none"}},
        "country": {"default": "iso_alpha2", "overrides": {"XK": "KOS"}},
    }


def test_complete_table_maps_and_drops(tmp_path: Path) -> None:
    table = load_code_table("demo", write(tmp_path, complete_lists()), CANONICAL)
    assert table.map("sex", "female") == "F"
    assert table.map("sex", "other") == NotSent("none")
    assert table.value("sex", "other") is None
    assert table.map("country", "RS") == "RS"
    assert table.map("country", "XK") == "KOS"
    assert table.values("sex", ["male", "other", "male"]) == ["M"]


def test_missing_code_is_named(tmp_path: Path) -> None:
    lists = complete_lists()
    lists["sex"] = {"map": {"female": "F", "male": "M"}, "not_sent": {"other": "none"}}
    with pytest.raises(MappingError, match=r"demo: list 'sex': code 'unknown'"):
        load_code_table("demo", write(tmp_path, lists), CANONICAL)


def test_kosovo_must_be_explicit_even_with_iso_default(tmp_path: Path) -> None:
    lists = complete_lists()
    lists["country"] = {"default": "iso_alpha2"}
    with pytest.raises(MappingError, match="'XK'"):
        load_code_table("demo", write(tmp_path, lists), CANONICAL)
    lists["country"] = {"default": "iso_alpha2", "not_sent": {"XK": "not a party"}}
    table = load_code_table("demo", write(tmp_path, lists), CANONICAL)
    assert isinstance(table.map("country", "XK"), NotSent)


def test_unknown_code_and_unknown_list_refused(tmp_path: Path) -> None:
    lists = complete_lists()
    lists["sex"] = {
        "map": {"female": "F", "male": "M", "unknown": "U", "femal": "F"},
        "not_sent": {"other": "x"},
    }
    with pytest.raises(MappingError, match="'femal' is not a canonical code"):
        load_code_table("demo", write(tmp_path, lists), CANONICAL)
    lists = {**complete_lists(), "colour": {"map": {}}}
    with pytest.raises(MappingError, match="unknown code list 'colour'"):
        load_code_table("demo", write(tmp_path, lists), CANONICAL)


def test_missing_list_and_wrong_channel_refused(tmp_path: Path) -> None:
    lists = complete_lists()
    del lists["sex"]
    with pytest.raises(MappingError, match="list 'sex' is missing"):
        load_code_table("demo", write(tmp_path, lists), CANONICAL)
    with pytest.raises(MappingError, match="declares channel 'other'"):
        load_code_table("demo", write(tmp_path, complete_lists(), channel="other"), CANONICAL)


def test_code_both_mapped_and_dropped_refused(tmp_path: Path) -> None:
    lists = complete_lists()
    lists["sex"] = {
        "map": {"female": "F", "male": "M", "unknown": "U", "other": "X"},
        "not_sent": {"other": "none"},
    }
    with pytest.raises(MappingError, match="both mapped and not sent"):
        load_code_table("demo", write(tmp_path, lists), CANONICAL)
