"""The adapter conformance kit as a pytest plugin (entry point ``marri_contract_kit``).

Run it over the repository's adapters with ``pytest contract_tests``; over an out-of-tree or
freshly scaffolded channel with ``pytest --pyargs contract_tests --adapter-root PATH``.
Options:

    --adapter-root PATH   a folder laid out like the repository, adding its adapters (repeatable)
    --kit-channel NAME    run the kit for these channels only (repeatable)
    --refresh-golden      rewrite golden payloads from the current render instead of comparing

Parametrised fixtures (only inside ``contract_tests`` modules): ``adapter`` (ids ``europol``),
``adapter_product`` (``interpol-red_notice_request``), ``golden_case`` (``selec-basic``),
``example_path`` (``europol-xk-europol-information``), ``code_list`` (``selec-country``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.base import Adapter
from adapters.registry import AdapterRegistrationError, AdapterRegistry
from contract_tests import kit

_REGISTRY_KEY = pytest.StashKey[AdapterRegistry]()
_RUNNING_KIT = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("marri_contract_kit", "MARRI adapter conformance kit")
    group.addoption("--adapter-root", action="append", default=[], metavar="PATH")
    group.addoption("--kit-channel", action="append", default=[], metavar="NAME")
    group.addoption("--refresh-golden", action="store_true", default=False)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Load the registry up front when the kit runs, so a refused adapter is one clear error."""
    config = session.config
    running_kit = (
        config.getoption("adapter_root")
        or config.getoption("kit_channel")
        or any("contract_tests" in str(arg) for arg in config.args)
    )
    if running_kit:
        try:
            registry = _registry(config)
        except AdapterRegistrationError as exc:
            raise pytest.UsageError(f"adapter refused: {exc}") from exc
        unknown = [c for c in config.getoption("kit_channel") if c not in registry]
        if unknown:
            raise pytest.UsageError(
                f"--kit-channel {', '.join(unknown)}: no such adapter; found "
                f"{', '.join(registry.names())} (is its folder under --adapter-root?)"
            )
        config.stash[_RUNNING_KIT] = True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A kit run in which nothing passed proved nothing: it fails instead of ending green."""
    config = session.config
    if not config.stash.get(_RUNNING_KIT, False) or exitstatus != pytest.ExitCode.OK:
        return
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or config.getoption("collectonly") or reporter.stats.get("passed"):
        return
    reporter.write_line(
        "conformance kit: no check passed (every one skipped or none collected)", red=True
    )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _registry(config: pytest.Config) -> AdapterRegistry:
    if _REGISTRY_KEY not in config.stash:
        roots = kit.extra_roots(config.getoption("adapter_root"))
        config.stash[_REGISTRY_KEY] = kit.kit_registry(roots)
    return config.stash[_REGISTRY_KEY]


def _channels(config: pytest.Config) -> list[str]:
    registry = _registry(config)
    wanted = config.getoption("kit_channel")
    return [name for name in registry.names() if not wanted or name in wanted]


def _roots(config: pytest.Config) -> list[Path]:
    return kit.extra_roots(config.getoption("adapter_root"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if not metafunc.module.__name__.startswith("contract_tests."):
        return
    config = metafunc.config
    names = set(metafunc.fixturenames)
    if "adapter" in names:
        channels = _channels(config)
        metafunc.parametrize("adapter", channels, ids=channels, indirect=True)
    if "adapter_product" in names:
        registry = _registry(config)
        pairs = [(c, p) for c in _channels(config) for p in registry.get(c).products]
        metafunc.parametrize(
            "adapter_product", pairs, ids=[f"{c}-{p}" for c, p in pairs], indirect=True
        )
    if "golden_case" in names:
        cases = kit.golden_cases(_channels(config), _roots(config))
        metafunc.parametrize("golden_case", cases, ids=[case.id for case in cases])
    if "example_path" in names:
        pairs_ex = [(c, p) for c in _channels(config) for p in kit.examples_for(c)]
        metafunc.parametrize("example_path", pairs_ex, ids=[f"{c}-{p.stem}" for c, p in pairs_ex])
    if "code_list" in names:
        registry = _registry(config)
        lists = [(c, name) for c in _channels(config) for name in registry.entry(c).codes.entries]
        metafunc.parametrize("code_list", lists, ids=[f"{c}-{n}" for c, n in lists])


@pytest.fixture(scope="session")
def kit_registry(request: pytest.FixtureRequest) -> AdapterRegistry:
    """Every adapter under test, checked at load."""
    return _registry(request.config)


@pytest.fixture(scope="session")
def kit_roots(request: pytest.FixtureRequest) -> list[Path]:
    return _roots(request.config)


@pytest.fixture(scope="session")
def refresh_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("refresh_golden"))


@pytest.fixture
def adapter(request: pytest.FixtureRequest, kit_registry: AdapterRegistry) -> Adapter:
    """One registered adapter (parametrised over the registry)."""
    return kit_registry.get(request.param)


@pytest.fixture
def adapter_product(
    request: pytest.FixtureRequest, kit_registry: AdapterRegistry
) -> tuple[Adapter, str]:
    channel, product = request.param
    return kit_registry.get(channel), product


@pytest.fixture(scope="session")
def kit_simulators(kit_registry: AdapterRegistry, request: pytest.FixtureRequest) -> Iterator[Any]:
    """One real simulator per channel under test, on 127.0.0.1 ephemeral ports."""
    from simulators import start_simulators

    running = start_simulators(_channels(request.config), registry=kit_registry)
    yield running
    running.stop()
