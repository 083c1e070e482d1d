"""Removing what a decision redacts, so that the result is still a valid canonical message.

Paths are ``$.<list>[i]``, ``$.<list>[i].<field>`` or ``$.<list>[i].<field>[k]``, always
indexes into the message the decision was made for. Removing an entity also removes what
pointed at it (links, a document's holder, a communication's owner, an event's location and
its ``involved`` entries); ``with_dependents`` lists those paths too, so a decision records
everything that is taken out.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from gateway.policy.decision import Decision
from gateway.schema import CanonicalMessage
from gateway.schema.rules import REF_LISTS

Step = str | int
_PATH = re.compile(r"^\$((?:\.[A-Za-z_]\w*|\[\d+\])+)$")
_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[(\d+)\]")
_REMOVED = object()


def parse_path(path: str) -> tuple[Step, ...]:
    """``$.persons[1].description`` → ``("persons", 1, "description")``."""
    match = _PATH.match(path)
    if match is None:
        raise ValueError(f"not a redaction path: {path}")
    return tuple(name if name else int(index) for name, index in _STEP.findall(match.group(1)))


def format_path(steps: tuple[Step, ...]) -> str:
    """A JSON path such as ``$.persons[0].names``, as findings and redactions name fields."""
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)


def _sort_key(steps: tuple[Step, ...]) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, s) if isinstance(s, int) else (1, s) for s in steps)


def _removed_refs(message: CanonicalMessage, steps: list[tuple[Step, ...]]) -> set[str]:
    refs: set[str] = set()
    for path in steps:
        if len(path) == 2 and path[0] in REF_LISTS and isinstance(path[1], int):
            items = getattr(message, str(path[0]))
            if path[1] < len(items):
                refs.add(items[path[1]].ref)
    return refs


def with_dependents(message: CanonicalMessage, paths: list[str]) -> list[str]:
    """``paths`` plus every reference to an entity they remove; sorted, no duplicates."""
    return steps_with_dependents(message, [parse_path(p) for p in paths])


def steps_with_dependents(message: CanonicalMessage, steps: list[tuple[Step, ...]]) -> list[str]:
    """``with_dependents`` for paths already split into steps (what selectors give)."""
    removed = _removed_refs(message, steps)
    extra: list[tuple[Step, ...]] = []
    if removed:
        for j, link in enumerate(message.links):
            if link.from_ in removed or link.to in removed:
                extra.append(("links", j))
        for j, document in enumerate(message.documents):
            if document.holder in removed:
                extra.append(("documents", j, "holder"))
        for j, communication in enumerate(message.communications):
            if communication.owner in removed:
                extra.append(("communications", j, "owner"))
        for j, event in enumerate(message.events):
            if event.location in removed:
                extra.append(("events", j, "location"))
            extra.extend(
                ("events", j, "involved", k)
                for k, ref in enumerate(event.involved)
                if ref in removed
            )
    unique = set(steps) | set(extra)
    # A field of an entity that is removed as a whole need not be listed separately.
    whole = {s for s in unique if len(s) == 2}
    kept = [s for s in unique if len(s) == 2 or s[:2] not in whole]
    return [format_path(s) for s in sorted(kept, key=_sort_key)]


def _mark(data: dict[str, Any], steps: tuple[Step, ...]) -> None:
    node: Any = data
    for step in steps[:-1]:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                raise ValueError(f"redaction path does not exist: {format_path(steps)}")
            node = node[step]
        else:
            if not isinstance(node, dict):
                raise ValueError(f"redaction path does not exist: {format_path(steps)}")
            node = node.get(step)
        if node is _REMOVED or node is None:
            return  # inside something already removed, or an absent optional field
    last = steps[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise ValueError(f"redaction path does not exist: {format_path(steps)}")
        node[last] = _REMOVED
    elif isinstance(node, dict):
        node.pop(last, None)


def _sweep(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _sweep(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_sweep(v) for v in node if v is not _REMOVED]
    return node


def apply_redactions(message: CanonicalMessage, decision: Decision) -> CanonicalMessage:
    """The message without the decision's redacted paths and what pointed at them; pure."""
    if not decision.redacted:
        return message
    paths = with_dependents(message, list(decision.redacted))
    data = message.model_dump(mode="json", by_alias=True, exclude_none=True)
    for path in paths:
        _mark(data, parse_path(path))
    # Retention dates were checked at intake; a redacted copy is only re-checked for structure.
    return CanonicalMessage.model_validate(_sweep(data), context={"today": date.min})
