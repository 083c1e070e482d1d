"""Role names are written in the permission table and nowhere else in the product code.

Another module that wants to know what a role may do asks ``gateway.services.permissions``; a
role name spelt out elsewhere would be a second, silent rule. The scan reads every string in
the code (docstrings aside) and every template; the few strings that merely share a role's
spelling are listed below with what they are.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gateway.services.permissions import ROLES
from tests.conftest import ROOT

TABLE = Path("gateway/services/permissions.py")
NAMES = frozenset(role.value for role in ROLES)
# (file, string) -> what the string is, when it is not a role
NOT_ROLES = {
    ("gateway/policy/vocabulary.py", "sender"): "the rules' variable for the message's sender",
    ("gateway/policy/pack.py", "sender"): "the same variable, looked up in a rule's expression",
    ("gateway/api/operator.py", "operator"): "the OpenAPI tag of the operator endpoints",
    ("gateway/api/activity.py", "operator"): "the same OpenAPI tag, on the channel activity",
}


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _keys(tree: ast.AST) -> set[int]:
    """Strings used as a mapping key (``view["sender"]``, ``{"sender": ...}``): data fields."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            found.add(id(node.slice))
        elif isinstance(node, ast.Dict):
            found.update(id(key) for key in node.keys if key is not None)
    return found


def role_names_in_code(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _docstrings(tree) | _keys(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in NAMES
        and id(node) not in skipped
    ]


def role_names_in_template(path: Path) -> list[tuple[int, str]]:
    names = "|".join(sorted(NAMES))
    quoted = re.compile(rf"""["']({names})["']""")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [(n, m.group(1)) for n, line in enumerate(lines, 1) for m in quoted.finditer(line)]


def test_role_names_appear_only_in_the_permission_table() -> None:
    found = []
    for folder in ("gateway", "adapters"):
        for path in sorted((ROOT / folder).rglob("*")):
            relative = path.relative_to(ROOT)
            if relative == TABLE or "migrations" in relative.parts:
                continue
            if path.suffix == ".py":
                hits = role_names_in_code(path)
            elif path.suffix == ".html":
                hits = role_names_in_template(path)
            else:
                continue
            found += [
                f"{relative}:{line}: {name!r}"
                for line, name in hits
                if (relative.as_posix(), name) not in NOT_ROLES
            ]
    assert found == [], "ask gateway.services.permissions instead of naming a role"


def test_the_scan_finds_a_role_name_where_one_is_written(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        '"""A docstring may say sender."""\n'
        'view = {"sender": 1}\n'
        'country = view["sender"]\n'
        'ALLOWED = ("operator", "admin")\n'
    )
    assert sorted(role_names_in_code(module)) == [(4, "admin"), (4, "operator")]
    template = tmp_path / "page.html"
    template.write_text('<p role="status">{% if role == "approver" %}x{% endif %}</p>\n')
    assert role_names_in_template(template) == [(1, "approver")]
