"""The public surfaces name only what exists."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "adapters",
        "adapters._xml",
        "adapters._codes",
        "adapters._http",
        "adapters._soap",
        "adapters.base",
        "adapters.families",
        "adapters.families.json_http",
        "adapters.registry",
        "simulators",
        "simulators._base",
    ],
)
def test_all_names_resolve(module: str) -> None:
    loaded = importlib.import_module(module)
    names = loaded.__all__
    assert names == sorted(set(names), key=names.index), "no repeats"
    missing = [name for name in names if not hasattr(loaded, name)]
    assert missing == []
