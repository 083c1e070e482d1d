"""What the pcc-see-1.0 builders share: namespace, element builder, code look-ups.

pcc-see-1.0 is the gateway's own profile modelled on public facts about the PCC SEE Convention
(which prescribes no message format); it is not an official format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from adapters._codes import CodeTable
from adapters.errors import RenderError

PROFILE = "pcc-see-1.0"
NAMESPACE = "urn:marri:gateway:pcc-see:1.0"
_NSMAP: dict[Any, str] = {None: NAMESPACE}  # default namespace, no prefix

Msg = Mapping[str, Any]


class Node:
    """An element to be: built as plain objects, then turned into lxml once, top-down.

    Appending finished lxml subtrees moves every node once per ancestor (each element starts
    in its own document); one top-down pass with ``SubElement`` touches each node once.
    """

    __slots__ = ("attrib", "children", "tag", "text")

    def __init__(self, tag: str, children: tuple[Node | str, ...], attrib: dict[str, str]) -> None:
        self.tag = f"{{{NAMESPACE}}}{tag}"
        self.attrib = attrib
        self.text: str | None = None
        self.children: list[Node] = []
        for child in children:
            if isinstance(child, str):
                self.text = child
            else:
                self.children.append(child)

    def set(self, key: str, value: str) -> None:
        self.attrib[key] = value

    def build(self) -> etree._Element:
        """The lxml tree of this node, declaring the profile's namespace at its root."""
        root = etree.Element(self.tag, self.attrib, nsmap=_NSMAP)
        root.text = self.text
        _build_children(root, self)
        return root


def _build_children(parent: etree._Element, spec: Node) -> None:
    for child in spec.children:
        element = etree.SubElement(parent, child.tag, child.attrib)
        element.text = child.text
        if child.children:
            _build_children(element, child)


def node(tag: str, *children: Node | str, **attributes: str) -> Node:
    """One element of the profile's namespace: text or child nodes, attributes."""
    return Node(tag, children, attributes)


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


def optional(children: list[Any], tag: str, value: Any) -> None:
    """Append ``<tag>value</tag>`` only when there is a value."""
    if value is not None and value != "":
        children.append(node(tag, str(value)))
