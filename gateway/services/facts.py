"""What a legal officer does to the facts of the parties table: list, confirm, withdraw, set.

Each change is checked against the permission table, stored (``fact_changes``) with its audit
entry in one transaction, and takes effect on the next decision of every process. Then the
held deliveries whose hold may rest on the changed instrument are decided again, and those the
new facts let go are released, each audited (``gateway.delivery.lifted``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import Connection

from gateway.config import Settings
from gateway.delivery.lifted import LiftedHolds, candidates, release_if_lifted
from gateway.delivery.redecide import Redecider
from gateway.errors import ErrorKind, GatewayError
from gateway.policy.overlay import FactAction, FactProblem, checked_entry
from gateway.policy.parties import PartiesTable, PartyEntry
from gateway.security.audit import append_audit
from gateway.security.identity import Identity
from gateway.services.permissions import Action, check
from gateway.store.engine import Store
from gateway.store.facts import LivePolicy, insert_change
from gateway.store.tables import utcnow
from gateway.store.wakeup import deliveries_stored

DEFAULT_DEADLINE_S = 24 * 3600.0


@dataclass(frozen=True)
class FactView:
    """One fact as a legal officer reads it."""

    instrument: str
    title: str
    country: str
    party: bool
    since: date | None
    until: date | None
    confirmed: bool
    source: str
    note: str
    changed_by: str
    changed_on: date | None
    change_seq: int | None

    def as_dict(self) -> dict[str, object]:
        """The fact as JSON values, for the API, the CLI and the audit record."""
        return {
            "instrument": self.instrument,
            "title": self.title,
            "country": self.country,
            "party": self.party,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "confirmed": self.confirmed,
            "source": self.source,
            "note": self.note,
            "changed_by": self.changed_by or None,
            "changed_on": self.changed_on.isoformat() if self.changed_on else None,
            "change_seq": self.change_seq,
        }


@dataclass(frozen=True)
class FactChanged:
    """A stored change, the fact it left, and the holds it lifted."""

    change_seq: int
    action: FactAction
    fact: FactView
    lifted: LiftedHolds


@dataclass(frozen=True)
class FactEdit:
    """A ``set``: a new party of an instrument, or its standing or dates changed."""

    party: bool = True
    since: date | None = None
    until: date | None = None
    confirmed: bool = True
    note: str = ""


# What a change leaves of the fact as listed now (None: the instrument does not list it).
Edit = Callable[[PartyEntry | None], FactEdit]


def _view(table: PartiesTable, instrument: str, entry: PartyEntry) -> FactView:
    return FactView(
        instrument,
        table.instruments[instrument].title,
        entry.country,
        entry.party,
        entry.since,
        entry.until,
        entry.confirmed,
        entry.source,
        entry.note,
        entry.changed_by,
        entry.changed_on,
        entry.change_seq,
    )


class FactActions:
    """The facts actions of one process (built once, with the process context)."""

    def __init__(
        self, store: Store, settings: Settings, policy: LivePolicy, redecider: Redecider
    ) -> None:
        self._store = store
        self._settings = settings
        self._policy = policy
        self._redecider = redecider

    async def list(self, identity: Identity, instrument: str | None = None) -> list[FactView]:
        """Every fact (or one instrument's) as the next decision will read it."""
        check(identity, Action.READ_FACTS)
        table = (await self._policy.engine(self._store)).parties
        if instrument is not None and instrument not in table.instruments:
            raise GatewayError(ErrorKind.NOT_FOUND, "not_found", "no such instrument")
        return [
            _view(table, name, entry)
            for name in table.names()
            if instrument is None or name == instrument
            for entry in sorted(table.instruments[name].entries, key=lambda e: e.country)
        ]

    async def confirm(
        self, identity: Identity, instrument: str, country: str, source: str, note: str = ""
    ) -> FactChanged:
        """A source states the fact as the table has it: it is confirmed from now on."""

        def edit(entry: PartyEntry | None) -> FactEdit:
            listed = _listed(entry)
            return FactEdit(
                listed.party, listed.since, listed.until, confirmed=True, note=note or listed.note
            )

        return await self._change(identity, FactAction.CONFIRM, instrument, country, source, edit)

    async def withdraw(
        self, identity: Identity, instrument: str, country: str, source: str, note: str = ""
    ) -> FactChanged:
        """The fact may no longer be relied on: rules resting on it hold again."""

        def edit(entry: PartyEntry | None) -> FactEdit:
            listed = _listed(entry)
            return FactEdit(
                listed.party, listed.since, listed.until, confirmed=False, note=note or listed.note
            )

        return await self._change(identity, FactAction.WITHDRAW, instrument, country, source, edit)

    async def set(
        self, identity: Identity, instrument: str, country: str, source: str, fact: FactEdit
    ) -> FactChanged:
        """A new party of an instrument, or a changed standing or dates, with its source."""
        return await self._change(
            identity, FactAction.SET, instrument, country, source, lambda _: fact
        )

    async def _change(
        self,
        identity: Identity,
        action: FactAction,
        instrument: str,
        country: str,
        source: str,
        edit: Edit,
    ) -> FactChanged:
        check(identity, Action.CHANGE_FACTS)
        now = utcnow()

        def store_change(conn: Connection) -> tuple[int, FactView]:
            table = self._policy.engine_at(conn).parties
            if instrument not in table.instruments:
                raise GatewayError(ErrorKind.NOT_FOUND, "not_found", "no such instrument")
            before = table.instruments[instrument].entry(country)
            wanted = edit(before)
            try:
                entry = checked_entry(
                    table,
                    instrument,
                    country,
                    party=wanted.party,
                    since=wanted.since,
                    until=wanted.until,
                    confirmed=wanted.confirmed,
                    source=source,
                    note=wanted.note,
                )
            except FactProblem as exc:
                raise GatewayError(ErrorKind.UNPROCESSABLE, "invalid_fact", str(exc)) from None
            seq = insert_change(
                conn,
                instrument=instrument,
                action=action,
                entry=entry,
                actor=identity.actor,
                at=now,
            )
            append_audit(
                conn,
                actor=identity.actor,
                action=f"fact.{action.value}",
                subject=f"fact:{instrument}:{country}",
                reason=entry.source,
                details={
                    "change_seq": seq,
                    "instrument": instrument,
                    "country": country,
                    "source": entry.source,
                    "before": None if before is None else _entry_details(before),
                    "after": _entry_details(entry),
                },
            )
            stored = replace(entry, changed_by=identity.role, changed_on=now.date(), change_seq=seq)
            return seq, _view(table, instrument, stored)

        seq, fact = await self._store.write(store_change)
        lifted = await self._lift_holds(instrument, seq, identity)
        return FactChanged(seq, action, fact, lifted)

    async def _lift_holds(self, instrument: str, seq: int, identity: Identity) -> LiftedHolds:
        """Release, one transaction each, the held deliveries the new facts let go."""
        engine = await self._policy.engine(self._store)
        held = await self._store.read(lambda conn: candidates(conn, engine, instrument))
        released: list[str] = []
        still: list[str] = []
        for delivery_id in held:
            now = utcnow()

            def release(
                conn: Connection, delivery_id: str = delivery_id, now: datetime = now
            ) -> bool:
                return release_if_lifted(
                    conn,
                    delivery_id,
                    policy=self._policy,
                    redecider=self._redecider,
                    change_seq=seq,
                    changed_by=identity.actor,
                    now=now,
                    deadline_s=self._deadline_s,
                )

            try:
                lifted = await self._store.write(release)
            except GatewayError:
                lifted = False  # a purged or unreadable message stays held for a person
            (released if lifted else still).append(delivery_id)
        if released:
            deliveries_stored()
        return LiftedHolds(tuple(released), tuple(still))

    def _deadline_s(self, channel: str) -> float:
        channel_settings = self._settings.channel(channel)
        return channel_settings.retry.deadline_s if channel_settings else DEFAULT_DEADLINE_S


def _listed(entry: PartyEntry | None) -> PartyEntry:
    if entry is None:
        raise GatewayError(
            ErrorKind.NOT_FOUND,
            "not_found",
            "the instrument does not list this country; add it with 'set'",
        )
    return entry


def _entry_details(entry: PartyEntry) -> dict[str, object]:
    return {
        "party": entry.party,
        "since": entry.since.isoformat() if entry.since else None,
        "until": entry.until.isoformat() if entry.until else None,
        "confirmed": entry.confirmed,
    }
