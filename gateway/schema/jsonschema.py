"""The JSON Schema of canonical v1, as served at ``GET /v1/schema`` and checked in under docs/.

Run ``python -m gateway.schema`` after changing the models; a test fails while the
checked-in file differs from a fresh export.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gateway.schema.codes import CODE_LIST_MARK, COUNTRY_CODES
from gateway.schema.message import SCHEMA_ID, CanonicalMessage

SCHEMA_URI = "urn:marri:exchange:1"
DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "schema" / "canonical-v1.json"


#: Code lists that are not enums in Python (country codes are checked against a set), listed
#: once in ``$defs`` and referred to wherever a field takes one.
CODE_LISTS: dict[str, dict[str, Any]] = {
    "CountryCode": {
        "type": "string",
        "enum": sorted(COUNTRY_CODES),
        "description": "ISO 3166-1 alpha-2 in upper case, or XK (Kosovo*)",
        "title": "CountryCode",
    }
}


def _refer_to_code_lists(node: Any) -> Any:
    """Every node marked as a code list becomes a ``$ref`` to its one definition."""
    if isinstance(node, dict):
        name = node.get(CODE_LIST_MARK)
        if name is not None:
            return {"$ref": f"#/$defs/{name}"}
        return {key: _refer_to_code_lists(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_refer_to_code_lists(item) for item in node]
    return node


def canonical_json_schema() -> dict[str, Any]:
    """The validation-mode schema with wire names (``schema``, ``from``)."""
    generated = CanonicalMessage.model_json_schema(by_alias=True, mode="validation")
    schema: dict[str, Any] = _refer_to_code_lists(generated)
    schema["$defs"].update(CODE_LISTS)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_URI
    schema["title"] = f"Canonical message {SCHEMA_ID}"
    return schema


def render_json_schema() -> str:
    """The exact text of the checked-in file: sorted keys, indent 2, trailing newline."""
    return json.dumps(canonical_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json_schema(path: Path = DOC_PATH) -> Path:
    """Write the JSON Schema (docs/schema by default); the file is checked in, so diffs show."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_json_schema(), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m gateway.schema [PATH]``; prints the path written."""
    args = sys.argv[1:] if argv is None else argv
    target = write_json_schema(Path(args[0]) if args else DOC_PATH)
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
