"""The checked-in JSON Schema is the one the models export today."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from gateway.schema import SCHEMA_ID, canonical_json_schema
from gateway.schema.jsonschema import DOC_PATH, main, render_json_schema
from gateway.schema.parse import SCHEMA_DEPTH

from .conftest import BASE


def test_checked_in_schema_is_fresh() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render_json_schema(), (
        "docs/schema/canonical-v1.json is stale: run `python -m gateway.schema`"
    )


def test_main_writes_sorted_indented_text(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    assert main([str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert json.loads(text) == canonical_json_schema()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_schema_uses_wire_names() -> None:
    schema = canonical_json_schema()
    assert SCHEMA_ID in schema["title"]
    assert schema["$id"]
    assert schema["properties"]["schema"]["const"] == SCHEMA_ID
    assert "from" in schema["$defs"]["Link"]["properties"]
    assert "from_" not in json.dumps(schema)
    assert schema["additionalProperties"] is False


def test_base_message_validates_against_the_schema() -> None:
    jsonschema.validate(BASE, canonical_json_schema())


@pytest.mark.parametrize(
    "breakage",
    [
        {"colour": "red"},
        {"kind": "gossip"},
        {"sender": {"country": "al", "agency": "x"}},
        {"sent_at": 5},
    ],
)
def test_schema_refuses_what_the_models_refuse(breakage: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**BASE, **breakage}, canonical_json_schema())


def _depth(node: Any, defs: dict[str, Any]) -> int:
    """How deep arrays and objects can nest in documents this schema node accepts."""
    if "$ref" in node:
        return _depth(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in node and "type" not in node:  # an anyOf beside a type only constrains it
        return max(_depth(option, defs) for option in node["anyOf"])
    if node.get("type") == "array":
        return 1 + _depth(node.get("items", {}), defs)
    if node.get("type") == "object":
        children = [
            *node.get("properties", {}).values(),
            *node.get("patternProperties", {}).values(),
        ]
        return 1 + max((_depth(child, defs) for child in children), default=0)
    return 0


def test_schema_depth_constant_matches_the_schema() -> None:
    schema = canonical_json_schema()
    assert _depth(schema, schema["$defs"]) == SCHEMA_DEPTH


def test_no_object_is_published_as_a_union_of_its_conditions() -> None:
    """Client generators read an object's own anyOf/oneOf as a union and drop its fields."""
    schema = canonical_json_schema()
    for name, node in [("CanonicalMessage", schema), *schema["$defs"].items()]:
        if node.get("type") == "object":
            assert not {"anyOf", "oneOf"} & set(node), name
