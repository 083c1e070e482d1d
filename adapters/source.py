"""One message as the channels' renders read it, prepared once for all of them.

Intake renders a message for several channels in a row, and a per-recipient channel once per
recipient. The caller makes one ``RenderSource`` for the message and hands it to every
``render``: the JSON form of the message is dumped once, and a channel may keep what it built
from the message (``derived``) for its next render of the same source. Everything lives in the
object the caller holds and drops with the message, so a render's result depends on its
arguments alone.

``render(message, decision, recipient=None)`` stays the contract every caller may use; an
adapter that reads the prepared source takes it as the keyword ``source`` as well, and
``render_payload`` passes it only to adapters whose ``render`` takes it, so adapters written
without it keep working unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Hashable, Mapping
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from adapters.base import Adapter, Payload
    from gateway.policy.decision import Decision
    from gateway.schema import CanonicalMessage

__all__ = ["RenderSource", "render_payload", "source_for"]


class RenderSource:
    """``message`` (already redacted by its decision) and what renders derive from it.

    One fan-out owns a source and renders from it in one thread; it is never shared between
    messages. ``data`` and whatever is kept in ``derived`` are read, or copied, never changed:
    the next render reads the same objects.
    """

    def __init__(self, message: CanonicalMessage) -> None:
        self.message = message
        # What a channel built from this message, under a key naming the channel's adapter.
        self.derived: dict[Hashable, object] = {}

    @cached_property
    def data(self) -> Mapping[str, Any]:
        """``message`` as JSON data (by alias, without None), dumped on the first read."""
        return self.message.model_dump(mode="json", by_alias=True, exclude_none=True)


def source_for(message: CanonicalMessage, source: RenderSource | None) -> RenderSource:
    """``source`` when the caller prepared it from ``message``; else one for this render alone."""
    if source is None:
        return RenderSource(message)
    if source.message is not message:
        raise ValueError("the render source was prepared from another message")
    return source


class _RendersFromSource(Protocol):
    def render(
        self,
        message: CanonicalMessage,
        decision: Decision,
        recipient: str | None = None,
        *,
        source: RenderSource | None = None,
    ) -> Payload: ...


@cache
def _takes_source(adapter_class: type[Any]) -> bool:
    """Whether the class's ``render`` has a ``source`` parameter (looked at once per class)."""
    return "source" in inspect.signature(adapter_class.render).parameters


def render_payload(
    adapter: Adapter, source: RenderSource, decision: Decision, recipient: str | None = None
) -> Payload:
    """``adapter.render`` of ``source.message``, given ``source`` when the adapter reads it."""
    if _takes_source(type(adapter)):
        renders = cast("_RendersFromSource", adapter)
        return renders.render(source.message, decision, recipient, source=source)
    return adapter.render(source.message, decision, recipient)
