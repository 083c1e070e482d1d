"""The europol channel: UMF-style entities in a SIENA-style envelope over SOAP 1.1."""

from adapters.europol.adapter import EuropolAdapter

__all__ = ["EuropolAdapter"]
