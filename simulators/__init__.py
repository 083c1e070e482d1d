"""Destination simulators: real HTTP servers standing in for each channel.

``start_simulators(["europol", "selec"])`` starts one server per channel on 127.0.0.1 and
returns a ``SimulatorSet`` (a ``dict`` channel → URL that also holds the running servers).
Each channel's module ``simulators/<channel>.py`` exposes ``build(adapter)``; the framework is in
``simulators/_base.py`` (REST) and ``simulators/_soap.py`` (SOAP 1.1).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from adapters.base import Adapter
from simulators._answers import AnswerPlan
from simulators._base import ChannelSimulator, Fault, InboxEntry, SimReply
from simulators._server import SimulatorServer
from simulators._soap import SoapSimulator

__all__ = [
    "AnswerPlan",
    "ChannelSimulator",
    "Fault",
    "InboxEntry",
    "SimReply",
    "SimulatorServer",
    "SimulatorSet",
    "build_simulator",
    "start_simulators",
]


def build_simulator(adapter: Adapter) -> ChannelSimulator:
    """The simulator ``simulators/<adapter.name>.py`` builds for ``adapter``."""
    module = importlib.import_module(f"simulators.{adapter.name}")
    simulator: ChannelSimulator = module.build(adapter)
    return simulator


class SimulatorSet(dict[str, str]):
    """Channel → base URL of running simulators; ``stop()`` shuts them all down."""

    def __init__(self) -> None:
        super().__init__()
        self.servers: dict[str, SimulatorServer] = {}

    def simulator(self, channel: str) -> ChannelSimulator:
        return self.servers[channel].simulator

    def wsdl_url(self, channel: str) -> str | None:
        """Where a SOAP channel's simulator serves its WSDL; None for other channels."""
        if isinstance(self.simulator(channel), SoapSimulator):
            return f"{self[channel]}?wsdl"
        return None

    def answer_every_message(
        self, gateway_url: str, credentials: dict[str, str], *, seconds: float = 1.0
    ) -> None:
        """Make each simulator reply to every message it accepts, after ``seconds``: push
        channels POST to the gateway's inbound endpoint with their credential, poll channels
        hold the reply for the gateway to fetch (as ``make run`` sets them up)."""
        base = gateway_url.rstrip("/")
        for channel, server in self.servers.items():
            answers = server.simulator.answers
            answers.configure_push(
                f"{base}/v1/channels/{channel}/inbound", credentials.get(channel)
            )
            answers.auto_answer = AnswerPlan(seconds=seconds)

    def stop(self) -> None:
        for server in self.servers.values():
            server.request_stop()  # all at once, then wait for each
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        self.clear()

    def __enter__(self) -> SimulatorSet:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_simulators(
    channels: Iterable[str] | None = None,
    *,
    port_base: int = 0,
    registry: Any = None,
    jwks: Mapping[str, Any] | None = None,
) -> SimulatorSet:
    """Start simulators for ``channels`` (default: every registered channel).

    ``jwks`` (the gateway's published JWK set) makes every simulator check the gateway's
    signature on each payload it receives and refuse a missing or broken one.

    ``port_base`` 0 gives each an ephemeral port; otherwise channels get consecutive ports from
    it in name order. ``registry`` defaults to ``adapters.registry.load_registry()``.
    """
    if registry is None:
        from adapters.registry import load_registry

        registry = load_registry(only=None if channels is None else list(channels))
    names = sorted(channels) if channels is not None else registry.names()
    started = SimulatorSet()
    try:
        for offset, name in enumerate(names):
            port = port_base + offset if port_base else 0
            simulator = build_simulator(registry.get(name))
            simulator.trust(jwks)
            server = SimulatorServer(simulator, port=port).start()
            started.servers[name] = server
            started[name] = server.url
    except BaseException:
        started.stop()
        raise
    return started
