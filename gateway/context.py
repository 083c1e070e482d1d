"""Everything a gateway process holds once: settings, store, keys, policy engine, adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial

from adapters.registry import AdapterRegistry, load_registry
from gateway.config import Settings
from gateway.delivery.redecide import Redecider, Reopener, reopener
from gateway.events.replies import install as install_reply_events
from gateway.exchange.receive import InboundService
from gateway.intake import IntakeService
from gateway.policy import PolicyEngine
from gateway.security.audit_keys import install_chain_keys
from gateway.security.keys import open_keyring
from gateway.security.signing_key import SigningKeys, open_signing_keys
from gateway.services.bundle import Services, build_services
from gateway.services.facts import FactActions
from gateway.store.crypto import Keyring
from gateway.store.engine import Store
from gateway.store.facts import LivePolicy


@dataclass
class GatewayContext:
    """Everything a running process shares, built once at start by ``build_context``."""

    settings: Settings
    store: Store
    keyring: Keyring
    engine: PolicyEngine
    registry: AdapterRegistry
    intake: IntakeService
    services: Services
    # The engine for the newest facts in the database (``engine`` is the shipped one).
    policy: LivePolicy
    facts: FactActions
    # The gateway's signing keys: payloads, evidence records and the audit head.
    signing: SigningKeys

    def reopener(self, on: date) -> Reopener:
        """Decides a stored delivery again with the newest facts, as of ``on``."""
        return reopener(self._redecider(), self.policy, on)

    def _redecider(self) -> Redecider:
        signer = self.signing.signer() if self.settings.sign_payloads else None
        return Redecider(self.keyring, self.registry, signer=signer)

    # Answers from the channels; built from the fields above.
    inbound: InboundService = field(init=False)

    def __post_init__(self) -> None:
        # Every answer this process stores tells its sender in the same transaction.
        install_reply_events()
        self.inbound = InboundService(
            store=self.store, keyring=self.keyring, registry=self.registry, settings=self.settings
        )

    def close(self) -> None:
        """Release the database pool; the other parts hold nothing that needs closing."""
        self.store.close()


def build_context(settings: Settings) -> GatewayContext:
    """Load and validate everything; a bad rule pack, adapter or key file stops the start here
    (``KeyringError`` for either key file, one line naming it).

    The signing keys also key this process's audit appends (``install_chain_keys``).
    """
    registry = load_registry(settings.mappings_dir)
    engine = PolicyEngine.load(
        settings.mappings_dir, extra_dirs=registry.mapping_roots(settings.mappings_dir)
    )
    store = Store(settings.database_url)
    try:
        keyring = open_keyring(settings, store)
        signing = open_signing_keys(settings.signing_key_file, store)
    except BaseException:
        store.close()
        raise
    install_chain_keys(signing)
    signer = signing.signer() if settings.sign_payloads else None
    policy = LivePolicy(engine)
    intake = IntakeService(
        store=store,
        keyring=keyring,
        engine=engine,
        registry=registry,
        settings=settings,
        policy=policy,
        signer=signer,
    )
    redecider = Redecider(keyring, registry, signer=signer)
    reopen_for = partial(reopener, redecider, policy)
    services = build_services(
        store, settings, keyring, registry.names(), reopen_for=reopen_for, probes=registry
    )
    facts = FactActions(store, settings, policy, redecider)
    return GatewayContext(
        settings, store, keyring, engine, registry, intake, services, policy, facts, signing
    )
