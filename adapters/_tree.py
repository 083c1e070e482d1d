"""Building a profile's XML as plain objects first, then as lxml in one top-down pass.

Appending finished lxml subtrees moves every node once per ancestor (each element starts in its
own document); building ``ElementSpec`` objects and turning them into lxml once with
``SubElement`` touches each node once. ``ElementFactory(namespace)`` gives a profile its
``node(tag, *children, **attributes)`` builder.
"""

from __future__ import annotations

from typing import Any

from lxml import etree


class ElementSpec:
    """An element to be: qualified tag, attributes, text and child specs."""

    __slots__ = ("attrib", "children", "nsmap", "tag", "text")

    def __init__(
        self,
        tag: str,
        children: tuple[ElementSpec | str, ...],
        attrib: dict[str, str],
        nsmap: dict[Any, str],
    ) -> None:
        self.tag = tag
        self.attrib = attrib
        self.nsmap = nsmap
        self.text: str | None = None
        self.children: list[ElementSpec] = []
        for child in children:
            if isinstance(child, str):
                self.text = child
            else:
                self.children.append(child)

    def get(self, key: str) -> str | None:
        return self.attrib.get(key)

    def set(self, key: str, value: str) -> None:
        self.attrib[key] = value

    def build(self) -> etree._Element:
        """The lxml tree of this spec, declaring the profile's namespace at its root."""
        root = etree.Element(self.tag, self.attrib, nsmap=self.nsmap)
        root.text = self.text
        _build_children(root, self)
        return root


def _build_children(parent: etree._Element, spec: ElementSpec) -> None:
    for child in spec.children:
        element = etree.SubElement(parent, child.tag, child.attrib)
        element.text = child.text
        if child.children:
            _build_children(element, child)


class ElementFactory:
    """``node(tag, *children, **attributes)`` for one namespace (declared without a prefix)."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._nsmap: dict[Any, str] = {None: namespace}

    def __call__(self, tag: str, *children: ElementSpec | str, **attributes: str) -> ElementSpec:
        return ElementSpec(f"{{{self.namespace}}}{tag}", children, attributes, self._nsmap)

    def optional(self, children: list[Any], tag: str, value: Any) -> None:
        """Append ``<tag>value</tag>`` only when there is a value."""
        if value is not None and value != "":
            children.append(self(tag, str(value)))
