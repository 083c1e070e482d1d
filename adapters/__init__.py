"""Destination channel adapters: the contract, the error tree and the registry.

Typical use: ``registry = load_registry()``, then
``registry.get("europol").render(message, decision)`` gives the bytes for one channel.
"""

from adapters._codes import CodeTable, MappingError, NotSent
from adapters.base import Adapter, Payload, Reachability, Receipt, SendContext, Unreconciled
from adapters.errors import (
    DeliveryError,
    OutcomeUnknown,
    PermanentError,
    RenderError,
    TransientError,
)
from adapters.registry import (
    AdapterRegistrationError,
    AdapterRegistry,
    RegisteredAdapter,
    load_registry,
)

__all__ = [
    "Adapter",
    "AdapterRegistrationError",
    "AdapterRegistry",
    "CodeTable",
    "DeliveryError",
    "MappingError",
    "NotSent",
    "OutcomeUnknown",
    "Payload",
    "PermanentError",
    "Reachability",
    "Receipt",
    "RegisteredAdapter",
    "RenderError",
    "SendContext",
    "TransientError",
    "Unreconciled",
    "load_registry",
]
