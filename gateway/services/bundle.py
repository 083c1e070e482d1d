"""The services of one process, built once with its context and shared by API and console."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date

from gateway.config import Settings
from gateway.delivery.redecide import Reopener
from gateway.events.egress import egress_policy
from gateway.services.activity import ChannelActivityReads
from gateway.services.audit_log import AuditReads
from gateway.services.channels import ChannelActions
from gateway.services.deliveries import DeliveryActions
from gateway.services.events import EventAccess
from gateway.services.evidence import EvidenceReads
from gateway.services.messages import MessageReads
from gateway.services.probe import AdapterLookup, ChannelProbe
from gateway.services.search import MessageSearch
from gateway.services.sender_keys import SenderKeyAdmin
from gateway.store.crypto import Keyring
from gateway.store.engine import Store


@dataclass(frozen=True)
class Services:
    """Every service of the process, built once with its context."""

    deliveries: DeliveryActions
    channels: ChannelActions
    messages: MessageReads
    audit: AuditReads
    events: EventAccess
    search: MessageSearch
    activity: ChannelActivityReads
    probe: ChannelProbe
    sender_keys: SenderKeyAdmin
    evidence: EvidenceReads


def build_services(
    store: Store,
    settings: Settings,
    keyring: Keyring,
    adapters: Collection[str],
    reopen_for: Callable[[date], Reopener] | None = None,
    probes: AdapterLookup | None = None,
) -> Services:
    """``reopen_for``: decides a delivery put back on its way again, on that day;
    ``probes``: the adapters whose ``ping`` tests a channel's connection."""
    return Services(
        deliveries=DeliveryActions(store, settings, reopen_for=reopen_for),
        channels=ChannelActions(store, settings, adapters, reopen_for=reopen_for),
        messages=MessageReads(store, keyring),
        audit=AuditReads(store),
        events=EventAccess(store, keyring, egress_policy(settings)),
        search=MessageSearch(store, keyring),
        activity=ChannelActivityReads(store),
        probe=ChannelProbe(store, settings, probes),
        sender_keys=SenderKeyAdmin(store),
        evidence=EvidenceReads(store),
    )
