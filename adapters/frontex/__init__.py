"""Frontex channel: event reports (counts only) and operational personal data, as XML."""

from adapters.frontex.adapter import FrontexAdapter

__all__ = ["FrontexAdapter"]
