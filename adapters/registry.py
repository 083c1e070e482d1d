"""Which adapters exist: every channel folder ``adapters/<id>/`` of this tree, plus the
``marri_gateway.adapters`` entry-point group for channels shipped as their own distribution.

A channel in this tree is registered by its folder alone (``adapters/<id>/adapter.py`` defining
the adapter class whose ``name`` is ``<id>``), so adding or deleting a channel touches no list.
A distribution names its class in an entry point and carries its mapping folder as package data
(``<package>/mappings/<id>/``), found after the configured mappings directories.

Every adapter class is checked when the registry loads, and a bad one stops the start-up with
``AdapterRegistrationError`` naming it, never a logged skip:

- metadata are typed class attributes: ``name`` (matches ``NAME_PATTERN`` and the entry-point
  name), ``profile_version``, ``products`` (non-empty, ``default_product`` among them),
  ``content_type``, ``schema_files`` (each exists beside the adapter module);
- ``mappings/<name>/codes.yaml`` exists and maps or drops every canonical code (``_codes.py``);
- the class subclasses ``adapters.base.Adapter`` (the contract; usually through a family base
  in ``adapters/families/``), implements its abstract methods, and declares the capabilities
  ``per_recipient`` and ``needs_recipients`` as bools;
- the class is constructed as ``cls(codes)`` with that ``CodeTable``.

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
    "ADAPTERS_DIR",
    "DEFAULT_MAPPINGS_DIR",
    "ENTRY_POINT_GROUP",
    "NAME_PATTERN",
    "AdapterRegistrationError",
    "AdapterRegistry",
    "RegisteredAdapter",
    "in_tree_channels",
    "load_registry",
]

ENTRY_POINT_GROUP = "marri_gateway.adapters"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
ADAPTERS_DIR = Path(__file__).resolve().parent
DEFAULT_MAPPINGS_DIR = ADAPTERS_DIR.parent / "mappings"


def in_tree_channels(adapters_dir: Path = ADAPTERS_DIR) -> dict[str, str]:
    """Channel id -> adapter module for every channel folder of this tree.

    A folder counts when it is a package with an ``adapter.py`` and its name is a channel id;
    shared code (``_*`` modules, ``families``) has no ``adapter.py`` and is not a channel.
    """
    found: dict[str, str] = {}
    for folder in sorted(adapters_dir.iterdir()):
        if (
            folder.is_dir()
            and not folder.name.startswith("_")
            and NAME_PATTERN.match(folder.name)
            and (folder / "__init__.py").is_file()
            and (folder / "adapter.py").is_file()
        ):
            found[folder.name] = f"adapters.{folder.name}.adapter"
    return found


def _own_distribution() -> str:
    try:
        return f"marri-gateway {version('marri-gateway')} (built-in)"
    except PackageNotFoundError:
        return "marri-gateway (built-in)"


_BUILT_IN_SOURCE = _own_distribution()
_STR_ATTRS = ("name", "profile_version", "default_product", "content_type")
_BOOL_ATTRS = ("per_recipient", "needs_recipients")
_ASYNC_METHODS = ("send", "status", "ping", "aclose")


class AdapterRegistrationError(Exception):
    """An adapter that cannot be registered; the message names it and what is wrong."""


@dataclass(frozen=True)
class RegisteredAdapter:
    """One loaded, checked adapter with where it came from."""

    name: str
    adapter: Adapter
    adapter_class: type[Adapter]
    source: str
    package_dir: Path
    mapping_dir: Path
    codes: CodeTable


class AdapterRegistry:
    """The checked adapters by channel id."""

    def __init__(self, entries: Iterable[RegisteredAdapter]) -> None:
        self._entries = {entry.name: entry for entry in entries}

    def get(self, name: str) -> Adapter:
        """The adapter for ``name``; a KeyError naming the channel when none is registered."""
        try:
            return self._entries[name].adapter
        except KeyError:
            raise KeyError(f"no adapter registered for channel {name!r}") from None

    def entry(self, name: str) -> RegisteredAdapter:
        """The registration behind a channel: class, source, mapping directory and code table."""
        return self._entries[name]

    def names(self) -> list[str]:
        """Registered channel ids in a stable (sorted) order, for listings and iteration."""
        return sorted(self._entries)

    def mapping_roots(self, default: Path) -> list[Path]:
        """The folders outside ``default`` that hold a registered channel's mapping folder (a
        distribution's package data), for the policy engine to load their packs too."""
        roots = {e.mapping_dir.parent for e in self._entries.values()}
        return sorted(r for r in roots if r.resolve() != default.resolve())

    def __iter__(self) -> Iterator[Adapter]:
        return iter(self._entries[name].adapter for name in self.names())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    async def aclose(self) -> None:
        """Close every adapter's clients on the running loop (an adapter failing to close does
        not keep the others open; the first failure is raised once all were tried)."""
        failures: list[BaseException] = []
        for adapter in self:
            try:
                await adapter.aclose()
            except Exception as exc:
                failures.append(exc)
        if failures:
            raise failures[0]


def _import(target: str, name: str) -> Any:
    """The class ``target`` names: ``module:Class``, or a module holding one adapter class
    whose ``name`` is the channel id."""
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    if attr:
        return getattr(module, attr)
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Adapter)
        and value.__module__ == module.__name__
        and getattr(value, "name", None) == name
    ]
    if len(classes) != 1:
        raise AdapterRegistrationError(
            f"adapter {name!r}: {module_name} must define exactly one Adapter subclass with "
            f"name = {name!r} (found {len(classes)})"
        )
    return classes[0]


def _check_class(cls: Any, label: str) -> type[Adapter]:
    if not isinstance(cls, type) or not issubclass(cls, Adapter):
        raise AdapterRegistrationError(
            f"{label}: not a subclass of adapters.base.Adapter (or of a family base in "
            "adapters.families)"
        )
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(cls.__abstractmethods__))
        raise AdapterRegistrationError(f"{label}: methods not implemented: {missing}")
    for method in _ASYNC_METHODS:
        if not inspect.iscoroutinefunction(getattr(cls, method)):
            raise AdapterRegistrationError(f"{label}: {method} must be async")
    return cls


def check_metadata(  # noqa: C901  a flat run of checks, one error each
    cls: Any, expected_name: str
) -> type[Adapter]:
    """``cls`` as an adapter class, or ``AdapterRegistrationError`` naming what is wrong.

    An ``Adapter`` subclass has the methods by construction; what is left to check is that its
    metadata and capabilities are declared with the right types and agree with its folders.
    """
    label = f"adapter {expected_name!r} ({cls.__module__}.{cls.__qualname__})"
    adapter_class = _check_class(cls, label)
    for attr in _STR_ATTRS:
        value = getattr(adapter_class, attr, None)
        if not isinstance(value, str) or not value:
            raise AdapterRegistrationError(f"{label}: {attr} must be a non-empty str")
    if adapter_class.name != expected_name:
        raise AdapterRegistrationError(
            f"{label}: name {adapter_class.name!r} differs from its registration"
        )
    if not NAME_PATTERN.match(adapter_class.name):
        raise AdapterRegistrationError(f"{label}: name must match {NAME_PATTERN.pattern}")
    products = getattr(adapter_class, "products", None)
    if not isinstance(products, tuple) or not products:
        raise AdapterRegistrationError(f"{label}: products must be a non-empty tuple")
    if not all(isinstance(p, str) and NAME_PATTERN.match(p) for p in products):
        raise AdapterRegistrationError(f"{label}: products must be snake_case names")
    if adapter_class.default_product not in products:
        raise AdapterRegistrationError(f"{label}: default_product is not among products")
    for capability in _BOOL_ATTRS:
        if not isinstance(getattr(adapter_class, capability), bool):
            raise AdapterRegistrationError(f"{label}: {capability} must be a bool")
    schema_files = getattr(adapter_class, "schema_files", None)
    if not isinstance(schema_files, tuple) or not schema_files:
        raise AdapterRegistrationError(f"{label}: schema_files must be a non-empty tuple")
    package_dir = Path(inspect.getfile(adapter_class)).resolve().parent
    for rel in schema_files:
        if not isinstance(rel, str) or not (package_dir / rel).is_file():
            raise AdapterRegistrationError(f"{label}: schema file {rel!r} not found")
    return adapter_class


def register_class(
    cls: type[Any], name: str, source: str, mappings_dirs: Sequence[Path]
) -> RegisteredAdapter:
    """Check one adapter class, load its code table, and instantiate it."""
    adapter_class = check_metadata(cls, name)
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
        adapter = adapter_class(codes)
    except Exception as exc:
        raise AdapterRegistrationError(
            f"adapter {name!r}: construction failed ({type(exc).__name__}: {exc})"
        ) from exc
    return RegisteredAdapter(
        name=name,
        adapter=adapter,
        adapter_class=adapter_class,
        source=source,
        package_dir=Path(inspect.getfile(adapter_class)).resolve().parent,
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

    A channel folder of this tree and an entry point naming a class of that same folder are one
    adapter; two different places claiming one name are refused, naming both.
    """
    dirs = [mappings_dir or DEFAULT_MAPPINGS_DIR, *extra_mappings]
    wanted = set(only) if only is not None else None
    found: dict[str, tuple[str, str]] = {
        name: (target, _BUILT_IN_SOURCE) for name, target in in_tree_channels().items()
    }
    if include_entry_points:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in found:
                if ep.module != found[ep.name][0].partition(":")[0]:
                    raise AdapterRegistrationError(
                        f"adapter {ep.name!r}: registered twice ({found[ep.name][0]}, {ep.value})"
                    )
                continue
            found[ep.name] = (ep.value, _entry_point_source(ep))
    entries: list[RegisteredAdapter] = []
    for name, (target, source) in sorted(found.items()):
        if wanted is not None and name not in wanted:
            continue
        try:
            cls = _import(target, name)
        except (ImportError, AttributeError) as exc:
            raise AdapterRegistrationError(f"adapter {name!r}: cannot import {target}") from exc
        # A distribution carries its mapping folder as package data beside its adapter.
        own = [Path(inspect.getfile(cls)).parent / "mappings"] if isinstance(cls, type) else []
        entries.append(register_class(cls, name, source, [*dirs, *own]))
    for cls in extra:
        extra_name = getattr(cls, "name", None)
        if not isinstance(extra_name, str):
            raise AdapterRegistrationError(f"adapter class {cls.__qualname__}: no name")
        if extra_name in found:
            raise AdapterRegistrationError(f"adapter {extra_name!r}: name already registered")
        entries.append(register_class(cls, extra_name, f"extra {cls.__module__}", dirs))
    return AdapterRegistry(entries)
