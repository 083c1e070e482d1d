"""Everything a gateway process holds once: settings, store, keys, policy engine, adapters."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.registry import AdapterRegistry, load_registry

from gateway.config import Settings
from gateway.intake import IntakeService
from gateway.policy import PolicyEngine
from gateway.store.crypto import Keyring, load_or_create_keyring
from gateway.store.engine import Store


@dataclass
class GatewayContext:
    settings: Settings
    store: Store
    keyring: Keyring
    engine: PolicyEngine
    registry: AdapterRegistry
    intake: IntakeService

    def close(self) -> None:
        self.store.close()


def load_keyring(settings: Settings) -> Keyring:
    if settings.keys_json is not None:
        return Keyring.from_json(settings.keys_json.get_secret_value())
    return load_or_create_keyring(settings.key_file)


def build_context(settings: Settings) -> GatewayContext:
    """Load and validate everything; a bad rule pack or adapter stops the start here."""
    registry = load_registry(settings.mappings_dir)
    engine = PolicyEngine.load(settings.mappings_dir)
    store = Store(settings.database_url)
    keyring = load_keyring(settings)
    intake = IntakeService(
        store=store, keyring=keyring, engine=engine, registry=registry, settings=settings
    )
    return GatewayContext(settings, store, keyring, engine, registry, intake)
