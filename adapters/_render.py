"""What every adapter's ``render`` ends with: the product it renders, and its own schema check.

A payload leaves ``render`` only after the adapter's schema check found nothing; the problems
become a ``RenderError`` naming paths and rules, never values. XML channels check the tree they
have just built (``checked_tree``) rather than parsing their own bytes again, which was about a
third of the check's cost: lxml refuses text that is not XML when it is set and escapes every
character it accepts so that parsing the bytes gives the same tree back, so both checks reach
the same verdict (``tests/adapters/test_render_tree_check.py``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING

from lxml import etree

from adapters._xml import DEFAULT_MAX_XML_BYTES, UnsafeXmlError, check_size, serialize
from adapters.base import Adapter, Payload
from adapters.errors import RenderError

if TYPE_CHECKING:
    from gateway.policy.decision import Decision
    from gateway.schema.message import CanonicalMessage

# What XML 1.0 cannot carry at all (its Char production): C0 controls but tab, LF and CR,
# lone surrogates and U+FFFE/U+FFFF. lxml refuses such text with a ValueError when it is set.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _paths_with(pattern: re.Pattern[str], data: object, path: str = "$") -> Iterator[str]:
    if isinstance(data, str):
        if pattern.search(data):
            yield path
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield from _paths_with(pattern, value, f"{path}.{key}")
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            yield from _paths_with(pattern, value, f"{path}[{index}]")


@contextlib.contextmanager
def xml_text_of(adapter: Adapter, message: CanonicalMessage) -> Iterator[None]:
    """Building an XML profile's document: text XML 1.0 cannot carry (control characters in a
    message built without the schema, which refuses them) is a ``RenderError`` naming the
    fields, not a crash."""
    try:
        yield
    except ValueError as exc:
        data = message.model_dump(mode="json", by_alias=True, exclude_none=True)
        paths = list(_paths_with(_NOT_XML, data))
        if not paths:
            raise  # not the text: a fault of the adapter, not of the message
        raise RenderError(
            f"{adapter.name}: the message holds characters XML 1.0 cannot carry",
            [(path, "holds a control character XML 1.0 cannot carry") for path in paths],
        ) from exc


def product_for(adapter: Adapter, decision: Decision) -> str:
    """The decision's product (or the channel's default), refused when the channel lacks it."""
    product = decision.product or adapter.default_product
    if product not in adapter.products:
        raise RenderError(
            f"{adapter.name}: unknown product {product!r}", [("$.destinations", "unknown product")]
        )
    return product


def checked_payload(
    adapter: Adapter,
    body: bytes,
    *,
    product: str,
    recipient: str | None = None,
    headers: Mapping[str, str] | None = None,
    problems: list[str] | None = None,
) -> Payload:
    """``body`` as a Payload once it passes the adapter's own schema check.

    ``problems`` are those already found in the tree ``body`` was written from; without them
    the adapter's ``validate_payload`` checks ``body`` itself.
    """
    if problems is None:
        problems = adapter.validate_payload(body)
    if problems:
        raise RenderError(
            f"{adapter.name}: rendered {product} fails the {adapter.profile_version} schema",
            # validate_payload's problems are "<path>: <rule>" and never carry values.
            [(path, rule.strip()) for path, _, rule in (p.partition(":") for p in problems)],
        )
    return Payload(
        body=body,
        content_type=adapter.content_type,
        product=product,
        recipient=recipient,
        headers=dict(headers or {}),
    )


def checked_tree(
    adapter: Adapter,
    root: etree._Element,
    tree_problems: Callable[[etree._Element], list[str]],
    *,
    product: str,
    max_bytes: int = DEFAULT_MAX_XML_BYTES,
    recipient: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Payload:
    """``root`` serialised, once ``tree_problems`` (the adapter's schema check of a parsed
    payload) finds nothing in it and the bytes are within what ``validate_payload`` reads."""
    body = serialize(root)
    try:
        check_size(body, max_bytes)
    except UnsafeXmlError as exc:
        problems = [f"/: {exc}"]
    else:
        problems = tree_problems(root)
    return checked_payload(
        adapter, body, product=product, recipient=recipient, headers=headers, problems=problems
    )
