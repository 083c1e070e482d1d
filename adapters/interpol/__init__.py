"""Interpol channel: draft diffusions and notice requests for the NCB, as JSON."""

from adapters.interpol.adapter import InterpolAdapter

__all__ = ["InterpolAdapter"]
