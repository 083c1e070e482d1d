"""Rule packs: ``mappings/<channel>/rules.yaml`` read, checked and compiled once.

A pack is reviewed data, in the manner of a Kubernetes ValidatingAdmissionPolicy: each rule
has an ``id``, a ``cite`` (instrument and article), optional ``applies`` (products, message
kinds), a CEL ``expression`` that must be TRUE for the message to pass, the ``outcome`` when it
is not (``deny``, ``redact`` with named selectors, ``review``) and a human ``message``.
Everything that can be checked before a message arrives is checked here, so a typo in a pack
stops the start instead of surfacing as a held message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import cel
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from gateway.policy.errors import PolicyLoadError
from gateway.policy.parties import UNCONFIRMED, PartiesTable
from gateway.policy.selectors import parse_selector
from gateway.policy.vocabulary import (
    VARIABLES,
    fact_names,
    referenced_attributes,
    unconfirmed_instruments,
)
from gateway.schema import CanonicalMessage
from gateway.schema.codes import Kind

RuleOutcome = Literal["deny", "redact", "review"]
_KINDS = frozenset(k.value for k in Kind)
_SENDER_FIELDS = frozenset({"country", "agency"})
_DESTINATION_FIELDS = frozenset({"channel", "product", "recipients"})
# The variable a comprehension macro binds: ``.all(c, ...)``, ``.exists(c, ...)``, ...
_MACRO_VARIABLE = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


# A citation still holding the scaffold's placeholder: a rule that cites nothing must not load.
_PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b", re.IGNORECASE)


def _real_citation(value: str) -> str:
    if _PLACEHOLDER.search(value):
        raise ValueError("is a placeholder: name the instrument and article it rests on")
    return value


Citation = Annotated[str, AfterValidator(_real_citation)]


def _message_fields() -> frozenset[str]:
    return frozenset(f.alias or name for name, f in CanonicalMessage.model_fields.items())


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppliesSpec(_Spec):
    """Which products and message kinds a rule applies to; empty means all."""

    products: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()


class RuleSpec(_Spec):
    """One rule as written in a pack file."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")
    cite: Citation = Field(min_length=3)
    applies: AppliesSpec = AppliesSpec()
    expression: str = Field(min_length=1)
    outcome: RuleOutcome
    redact: tuple[str, ...] = ()
    message: str = Field(min_length=3)
    checks: str | None = None


class PackSpec(_Spec):
    """A rule pack file as written, checked before any expression is compiled."""

    channel: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    version: str = Field(min_length=1)
    instrument: Citation = Field(min_length=1)
    products: tuple[str, ...] = ()
    default_product: str | None = None
    rules: tuple[RuleSpec, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Rule:
    """One compiled rule; ``program`` is built once at load."""

    id: str
    cite: str
    expression: str
    outcome: RuleOutcome
    message: str
    redact: tuple[str, ...]
    products: frozenset[str]
    kinds: frozenset[str]
    checks: str
    program: Any  # cel.Program (the library ships no usable stub for mypy)
    references: dict[str, set[str] | None]

    @property
    def reads_destination(self) -> bool:
        """True when the expression reads ``destination``: it is evaluated per destination."""
        return self.references["destination"] != set()

    def applies_to(self, product: str, kind: str) -> bool:
        """Whether the rule applies to a delivery of ``product`` for a message of ``kind``."""
        return (not self.products or product in self.products) and (
            not self.kinds or kind in self.kinds
        )


@dataclass(frozen=True)
class RulePack:
    """A channel's rules, with the hash of the exact file they were read from."""

    channel: str
    version: str
    instrument: str
    products: tuple[str, ...]
    default_product: str
    rules: tuple[Rule, ...]
    path: Path
    sha256: str


def _fail(path: Path, problem: str, rule: str | None = None) -> PolicyLoadError:
    return PolicyLoadError(path, problem, rule=rule)


def _check_references(
    path: Path, rule: RuleSpec, references: dict[str, set[str] | None], parties: PartiesTable
) -> None:
    allowed: dict[str, frozenset[str]] = {
        "message": _message_fields(),
        "facts": fact_names(),
        "sender": _SENDER_FIELDS,
        "destination": _DESTINATION_FIELDS,
        "parties": frozenset(parties.names()) | {UNCONFIRMED},
    }
    for variable, names in references.items():
        if names is None:
            continue
        unknown = sorted(names - allowed[variable])
        if unknown:
            raise _fail(path, f"'{variable}' has no field(s) {unknown}", rule.id)
    unknown_instruments = sorted(unconfirmed_instruments(rule.expression) - set(parties.names()))
    if unknown_instruments:
        raise _fail(path, f"parties.unconfirmed has no {unknown_instruments}", rule.id)


def _compile(path: Path, spec: PackSpec, rule: RuleSpec, parties: PartiesTable) -> Rule:
    if not rule.id.startswith(f"{spec.channel}."):
        raise _fail(path, f"rule ids must start with '{spec.channel}.'", rule.id)
    if rule.outcome == "redact" and not rule.redact:
        raise _fail(path, "a redact rule must name what it removes in 'redact'", rule.id)
    if rule.outcome != "redact" and rule.redact:
        raise _fail(path, "only a redact rule may have 'redact'", rule.id)
    for selector in rule.redact:
        try:
            parse_selector(selector)
        except ValueError as exc:
            raise _fail(path, str(exc), rule.id) from None
    unknown_kinds = sorted(set(rule.applies.kinds) - _KINDS)
    if unknown_kinds:
        raise _fail(path, f"applies.kinds has unknown kinds {unknown_kinds}", rule.id)
    if spec.products:
        unknown_products = sorted(set(rule.applies.products) - set(spec.products))
        if unknown_products:
            raise _fail(path, f"applies.products not offered: {unknown_products}", rule.id)
    if "\n" in rule.expression.strip():
        raise _fail(path, "an expression is one line", rule.id)
    try:
        program = cel.compile(rule.expression)
    except (ValueError, RuntimeError, TypeError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise _fail(path, f"expression does not compile: {first_line}", rule.id) from None
    bound = set(_MACRO_VARIABLE.findall(rule.expression))
    unknown_variables = sorted(set(program.variables()) - set(VARIABLES) - bound)
    if unknown_variables:
        raise _fail(path, f"unknown variables {unknown_variables}; use {list(VARIABLES)}", rule.id)
    references = {
        "message": referenced_attributes(rule.expression, "message"),
        "facts": referenced_attributes(rule.expression, "facts"),
        "sender": referenced_attributes(rule.expression, "sender"),
        "destination": referenced_attributes(rule.expression, "destination"),
        "parties": referenced_attributes(rule.expression, "parties"),
    }
    _check_references(path, rule, references, parties)
    return Rule(
        id=rule.id,
        cite=rule.cite,
        expression=rule.expression.strip(),
        outcome=rule.outcome,
        message=rule.message.strip(),
        redact=rule.redact,
        products=frozenset(rule.applies.products),
        kinds=frozenset(rule.applies.kinds),
        checks=(rule.checks or "").strip(),
        program=program,
        references=references,
    )


def _validation_problem(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_input=False)[0]
    loc = ".".join(str(p) for p in error["loc"])
    return f"{loc}: {error['msg']}"


def load_pack(path: Path, parties: PartiesTable) -> RulePack:
    """Read, check and compile one pack; PolicyLoadError names the file, rule and problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.__class__.__name__})") from None
    try:
        document = yaml.load(raw, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        raise _fail(path, f"is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(document, dict):
        raise _fail(path, "must be a mapping with channel, version, instrument and rules")
    rule_ids = _raw_rule_ids(document)
    try:
        spec = PackSpec.model_validate(document)
    except ValidationError as exc:
        problem = _validation_problem(exc)
        index = _rule_index(exc)
        rule_id = rule_ids[index] if index is not None and index < len(rule_ids) else None
        raise _fail(path, problem, rule_id) from None
    if spec.channel != path.parent.name:
        raise _fail(path, f"channel '{spec.channel}' does not match its folder")
    if spec.default_product is not None and spec.default_product not in spec.products:
        raise _fail(path, "default_product must be one of products")
    seen: set[str] = set()
    rules: list[Rule] = []
    for rule in spec.rules:
        if rule.id in seen:
            raise _fail(path, "rule id used twice", rule.id)
        seen.add(rule.id)
        rules.append(_compile(path, spec, rule, parties))
    return RulePack(
        channel=spec.channel,
        version=spec.version,
        instrument=spec.instrument.strip(),
        products=spec.products,
        default_product=spec.default_product or (spec.products[0] if spec.products else ""),
        rules=tuple(rules),
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def channel_folders(dirs: Sequence[Path]) -> list[Path]:
    """The channel mapping folders in ``dirs`` (each a folder of channel folders), in load
    order; names starting with ``.`` or ``_`` are not channels."""
    folders = [p for d in dirs if d.is_dir() for p in sorted(d.iterdir()) if p.is_dir()]
    return [p for p in folders if not p.name.startswith((".", "_"))]


def load_packs(dirs: Sequence[Path], parties: PartiesTable, file_name: str) -> dict[str, RulePack]:
    """The pack of every channel folder in ``dirs``, by channel; a folder without one, a channel
    with two, or a rule id used twice is a load error."""
    packs: dict[str, RulePack] = {}
    seen_ids: dict[str, Path] = {}
    for folder in channel_folders(dirs):
        path = folder / file_name
        if not path.is_file():
            raise PolicyLoadError(path, f"channel '{folder.name}' has no rule pack")
        pack = load_pack(path, parties)
        if pack.channel in packs:
            raise PolicyLoadError(path, f"channel '{pack.channel}' has a rule pack already")
        for rule in pack.rules:
            if rule.id in seen_ids:
                raise PolicyLoadError(path, f"id already used in {seen_ids[rule.id]}", rule=rule.id)
            seen_ids[rule.id] = path
        packs[pack.channel] = pack
    return packs


def _raw_rule_ids(document: dict[str, Any]) -> list[str | None]:
    rules = document.get("rules")
    if not isinstance(rules, list):
        return []
    return [
        r.get("id") if isinstance(r, dict) and isinstance(r.get("id"), str) else None for r in rules
    ]


def _rule_index(exc: ValidationError) -> int | None:
    loc = exc.errors(include_url=False, include_input=False)[0]["loc"]
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        return loc[1]
    return None
