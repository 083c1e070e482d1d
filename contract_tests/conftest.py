"""The conformance suite's fixtures live in ``contract_tests/plugin.py`` (the ``adapter``
fixture, parametrised over the registry, among them). The plugin is normally loaded through its
``pytest11`` entry point; this registers it when that entry point is not installed or was
disabled with ``-p no:marri_contract_kit``.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("marri_contract_kit"):
        from contract_tests import plugin

        config.pluginmanager.register(plugin, "marri_contract_kit")
