"""How a REST channel is reached and how its answers read, declared rather than assumed.

A channel's adapter sets ``transport = RestShape(...)``: the path appended to the configured
destination URL, the statuses that mean delivered, the statuses that mean "already received"
(a duplicate, not an error), and where the receipt's reference and duplicate flag sit in the
JSON answer. The defaults are the shape the built-in channels share, so a new REST channel that
differs declares the difference instead of needing a new family.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters.base import Receipt

if TYPE_CHECKING:
    from adapters._http import HttpReply

__all__ = ["RestShape"]

_SUCCESS = frozenset(range(200, 300))


def _at(document: Any, dotted: str) -> Any:
    """The value at ``a.b.0`` in a JSON document; KeyError/IndexError/TypeError when absent."""
    node = document
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


@dataclass(frozen=True)
class RestShape:
    """The transport shape of one REST channel; see the module docstring."""

    path: str = ""
    success: frozenset[int] = field(default=_SUCCESS)
    duplicate: frozenset[int] = frozenset()
    reference_field: str = "reference"
    duplicate_field: str | None = "duplicate"

    def __post_init__(self) -> None:
        if self.path and not self.path.startswith("/"):
            raise ValueError(f"endpoint path {self.path!r} must start with '/'")
        if self.success & self.duplicate:
            raise ValueError("a status cannot mean both delivered and duplicate")
        if not self.success or any(not 200 <= s < 300 for s in self.success):
            raise ValueError("success statuses are 2xx")

    def url(self, base: str) -> str:
        """The endpoint: the configured URL with the declared path appended."""
        return base.rstrip("/") + self.path if self.path else base

    def receipt(self, reply: HttpReply) -> Receipt:
        """The receipt in an answer whose status is declared delivered or duplicate; anything
        unreadable raises (the caller turns it into OutcomeUnknown)."""
        document = json.loads(reply.body)
        reference = _at(document, self.reference_field)
        if not isinstance(reference, str) or not reference:
            raise ValueError("receipt without a reference")
        try:
            flagged = bool(_at(document, self.duplicate_field)) if self.duplicate_field else False
        except (KeyError, IndexError, TypeError):
            flagged = False
        return Receipt(
            reference=reference,
            http_status=reply.status,
            duplicate=flagged or reply.status in self.duplicate,
        )
