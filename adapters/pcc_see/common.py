"""What the pcc-see-1.0 builders share: namespace, element builder, code look-ups.

pcc-see-1.0 is the gateway's own profile modelled on public facts about the PCC SEE Convention
(which prescribes no message format); it is not an official format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters._codes import CodeTable
from adapters._tree import ElementFactory, ElementSpec
from adapters.errors import RenderError

PROFILE = "pcc-see-1.0"
NAMESPACE = "urn:marri:gateway:pcc-see:1.0"

Msg = Mapping[str, Any]


Node = ElementSpec
node = ElementFactory(NAMESPACE)
optional = node.optional


def codes_element(tag: str, values: list[str]) -> Node:
    """``<tag><Code>..</Code>...</tag>`` for a list of channel codes."""
    return node(tag, *[node("Code", v) for v in values])


def channel_code(codes: CodeTable, list_name: str, code: str) -> str:
    """The channel value of ``code``; the pcc_see table sends every canonical code."""
    value = codes.value(list_name, code)
    if value is None:  # the pcc_see table sends every code; a gap is a mapping bug
        raise RenderError(
            f"pcc_see: code list {list_name} does not send a code", [("$", list_name)]
        )
    return value


def country_code(codes: CodeTable, code: str) -> str:
    """The channel's country code (ISO 3166-1 alpha-2, with XK stated)."""
    return channel_code(codes, "country", code)


def effective_priority(message: Msg) -> str:
    """An alert is at least urgent, whatever priority was sent."""
    priority = str(message.get("priority", "routine"))
    return "urgent" if message["kind"] == "alert" and priority == "routine" else priority
