"""Destination channel adapters: the contract, the error tree and the registry.

from adapters import load_registry, Payload, SendContext, TransientError
registry = load_registry()
payload = registry.get("europol").render(message, decision)
"""

from adapters._codes import CodeTable, MappingError, NotSent
from adapters.base import Adapter, Payload, Receipt, SendContext
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
    "Receipt",
    "RegisteredAdapter",
    "RenderError",
    "SendContext",
    "TransientError",
    "load_registry",
]
