"""Which adapters exist: built-ins plus the ``marri_gateway.adapters`` entry-point group.

Every adapter class is checked when the registry loads, and a bad one stops the start-up with
``AdapterRegistrationError`` naming it, never a logged skip:

- metadata are typed class attributes: ``name`` (matches ``NAME_PATTERN`` and the entry-point
  name), ``profile_version``, ``products`` (non-empty, ``default_product`` among them),
  ``content_type``, ``schema_files`` (each exists beside the adapter module), ``per_recipient``;
- ``mappings/<name>/codes.yaml`` exists and maps or drops every canonical code (``_codes.py``);
- the class is constructed as ``cls(codes)`` with that ``CodeTable`` and satisfies ``Adapter``.

Extra adapters (a channel scaffolded in a temporary folder, an out-of-tree package under test)
come in through ``extra`` classes and ``extra_mappings`` folders.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from pathlib import Path
from typing import Any

from adapters._codes import CodeTable, MappingError, load_code_table
from adapters.base import Adapter

__all__ = [
    "DEFAULT_MAPPINGS_DIR",
    "ENTRY_POINT_GROUP",
    "NAME_PATTERN",
    "AdapterRegistrationError",
    "AdapterRegistry",
    "RegisteredAdapter",
    "load_registry",
]

ENTRY_POINT_GROUP = "marri_gateway.adapters"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
DEFAULT_MAPPINGS_DIR = Path(__file__).resolve().parent.parent / "mappings"
BUILT_INS: dict[str, str] = {
    "europol": "adapters.europol.adapter:EuropolAdapter",
    "interpol": "adapters.interpol.adapter:InterpolAdapter",
    "frontex": "adapters.frontex.adapter:FrontexAdapter",
    "selec": "adapters.selec.adapter:SelecAdapter",
    "pcc_see": "adapters.pcc_see.adapter:PccSeeAdapter",
}


def _own_distribution() -> str:
    try:
        return f"marri-gateway {version('marri-gateway')} (built-in)"
    except PackageNotFoundError:
        return "marri-gateway (built-in)"


_BUILT_IN_SOURCE = _own_distribution()
_STR_ATTRS = ("name", "profile_version", "default_product", "content_type")


class AdapterRegistrationError(Exception):
    """An adapter that cannot be registered; the message names it and what is wrong."""


@dataclass(frozen=True)
class RegisteredAdapter:
    """One loaded, checked adapter with where it came from."""

    name: str
    adapter: Adapter
    adapter_class: type[Any]
    source: str
    package_dir: Path
    mapping_dir: Path
    codes: CodeTable


class AdapterRegistry:
    """The checked adapters by channel id."""

    def __init__(self, entries: Iterable[RegisteredAdapter]) -> None:
        self._entries = {entry.name: entry for entry in entries}

    def get(self, name: str) -> Adapter:
        try:
            return self._entries[name].adapter
        except KeyError:
            raise KeyError(f"no adapter registered for channel {name!r}") from None

    def entry(self, name: str) -> RegisteredAdapter:
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __iter__(self) -> Iterator[Adapter]:
        return iter(self._entries[name].adapter for name in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def check_metadata(cls: type[Any], expected_name: str) -> None:
    """Raise ``AdapterRegistrationError`` unless ``cls`` declares well-typed metadata."""
    label = f"adapter {expected_name!r} ({cls.__module__}.{cls.__qualname__})"
    for attr in _STR_ATTRS:
        value = getattr(cls, attr, None)
        if not isinstance(value, str) or not value:
            raise AdapterRegistrationError(f"{label}: {attr} must be a non-empty str")
    if cls.name != expected_name:
        raise AdapterRegistrationError(f"{label}: name {cls.name!r} differs from its registration")
    if not NAME_PATTERN.match(cls.name):
        raise AdapterRegistrationError(f"{label}: name must match {NAME_PATTERN.pattern}")
    products = getattr(cls, "products", None)
    if not isinstance(products, tuple) or not products:
        raise AdapterRegistrationError(f"{label}: products must be a non-empty tuple")
    if not all(isinstance(p, str) and NAME_PATTERN.match(p) for p in products):
        raise AdapterRegistrationError(f"{label}: products must be snake_case names")
    if cls.default_product not in products:
        raise AdapterRegistrationError(f"{label}: default_product is not among products")
    if not isinstance(getattr(cls, "per_recipient", None), bool):
        raise AdapterRegistrationError(f"{label}: per_recipient must be a bool")
    schema_files = getattr(cls, "schema_files", None)
    if not isinstance(schema_files, tuple) or not schema_files:
        raise AdapterRegistrationError(f"{label}: schema_files must be a non-empty tuple")
    package_dir = Path(inspect.getfile(cls)).resolve().parent
    for rel in schema_files:
        if not isinstance(rel, str) or not (package_dir / rel).is_file():
            raise AdapterRegistrationError(f"{label}: schema file {rel!r} not found")
    for method in ("render", "validate_payload", "send"):
        if not callable(getattr(cls, method, None)):
            raise AdapterRegistrationError(f"{label}: method {method} missing")
    if not inspect.iscoroutinefunction(cls.send):
        raise AdapterRegistrationError(f"{label}: send must be async")


def register_class(
    cls: type[Any], name: str, source: str, mappings_dirs: Sequence[Path]
) -> RegisteredAdapter:
    """Check one adapter class, load its code table, and instantiate it."""
    check_metadata(cls, name)
    mapping_dir = next(
        (d / name for d in mappings_dirs if (d / name / "codes.yaml").is_file()), None
    )
    if mapping_dir is None:
        raise AdapterRegistrationError(f"adapter {name!r}: mappings/{name}/codes.yaml not found")
    try:
        codes = load_code_table(name, mapping_dir / "codes.yaml")
    except MappingError as exc:
        raise AdapterRegistrationError(f"adapter {name!r}: {exc}") from exc
    try:
        adapter = cls(codes)
    except Exception as exc:
        raise AdapterRegistrationError(
            f"adapter {name!r}: construction failed ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(adapter, Adapter):
        raise AdapterRegistrationError(f"adapter {name!r}: does not satisfy the Adapter protocol")
    return RegisteredAdapter(
        name=name,
        adapter=adapter,
        adapter_class=cls,
        source=source,
        package_dir=Path(inspect.getfile(cls)).resolve().parent,
        mapping_dir=mapping_dir,
        codes=codes,
    )


def _entry_point_source(ep: EntryPoint) -> str:
    dist = ep.dist
    return f"{dist.name} {dist.version}" if dist is not None else "entry point"


def load_registry(
    mappings_dir: Path | None = None,
    *,
    extra: Iterable[type[Any]] = (),
    extra_mappings: Sequence[Path] = (),
    include_entry_points: bool = True,
    only: Iterable[str] | None = None,
) -> AdapterRegistry:
    """Load, check and instantiate every adapter; the first bad one raises.

    Built-ins and entry points naming the same class are one adapter; two different classes
    claiming one name are refused.
    """
    dirs = [mappings_dir or DEFAULT_MAPPINGS_DIR, *extra_mappings]
    wanted = set(only) if only is not None else None
    found: dict[str, tuple[str, str]] = {}
    for name, target in BUILT_INS.items():
        found[name] = (target, _BUILT_IN_SOURCE)
    if include_entry_points:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in found and found[ep.name][0] != ep.value:
                raise AdapterRegistrationError(
                    f"adapter {ep.name!r}: registered twice ({found[ep.name][0]}, {ep.value})"
                )
            source = found[ep.name][1] if ep.name in found else _entry_point_source(ep)
            found[ep.name] = (ep.value, source)
    entries: list[RegisteredAdapter] = []
    for name, (target, source) in sorted(found.items()):
        if wanted is not None and name not in wanted:
            continue
        try:
            cls = _import(target)
        except (ImportError, AttributeError) as exc:
            raise AdapterRegistrationError(f"adapter {name!r}: cannot import {target}") from exc
        entries.append(register_class(cls, name, source, dirs))
    for cls in extra:
        extra_name = getattr(cls, "name", None)
        if not isinstance(extra_name, str):
            raise AdapterRegistrationError(f"adapter class {cls.__qualname__}: no name")
        if extra_name in found:
            raise AdapterRegistrationError(f"adapter {extra_name!r}: name already registered")
        entries.append(register_class(cls, extra_name, f"extra {cls.__module__}", dirs))
    return AdapterRegistry(entries)
