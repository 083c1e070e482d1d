"""The selec channel: requests through the National Focal Point, SOAP 1.1."""

from adapters.selec.adapter import SelecAdapter

__all__ = ["SelecAdapter"]
