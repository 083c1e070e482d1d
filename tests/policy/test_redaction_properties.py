"""Whatever entities a decision removes, the redacted message is valid and nothing in it
points at a removed entity."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.policy import Decision, apply_redactions
from gateway.policy.redaction import with_dependents
from gateway.schema import CanonicalMessage
from gateway.schema.rules import REF_LISTS

from .helpers import EXAMPLES, build

MESSAGES = {p.name: build(p.name) for p in sorted(Path(EXAMPLES).glob("*.json"))}


def entity_paths(message: CanonicalMessage) -> list[str]:
    return [f"$.{name}[{i}]" for name in REF_LISTS for i in range(len(getattr(message, name)))]


def references(message: CanonicalMessage) -> set[str]:
    found = {x for link in message.links for x in (link.from_, link.to)}
    found |= {d.holder for d in message.documents if d.holder}
    found |= {c.owner for c in message.communications if c.owner}
    found |= {e.location for e in message.events if e.location}
    found |= {ref for e in message.events for ref in e.involved}
    return found


@st.composite
def removals(draw: st.DrawFn) -> tuple[CanonicalMessage, list[str]]:
    message = MESSAGES[draw(st.sampled_from(sorted(MESSAGES)))]
    paths = entity_paths(message)
    chosen = draw(st.lists(st.sampled_from(paths), unique=True)) if paths else []
    return message, chosen


@settings(max_examples=150, deadline=None)
@given(removals())
def test_any_removal_leaves_a_valid_message_without_dangling_refs(
    case: tuple[CanonicalMessage, list[str]],
) -> None:
    message, chosen = case
    decision = Decision("test", "p", "redact", redacted=tuple(with_dependents(message, chosen)))
    redacted = apply_redactions(message, decision)  # validates, or raises
    remaining = {item.ref for name in REF_LISTS for item in getattr(redacted, name)}
    assert references(redacted) <= remaining
    removed_count = len(chosen)
    before = sum(len(getattr(message, n)) for n in REF_LISTS)
    assert len(remaining) == before - removed_count
