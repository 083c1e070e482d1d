"""Holds a change of facts lifts: held deliveries decided again, released when nothing holds.

A delivery is held for review when some rule of its channel could not be satisfied with
certainty; many such rules rest on a fact of the parties table no source confirmed yet
(``parties.unconfirmed.<instrument>``). When a legal officer changes a fact of an instrument,
the held deliveries whose findings name a rule reading that instrument are decided again with
the new facts, on this day. Those the new decision lets go (allow or redact) are queued, each
with its own audit entry; every other hold stays as it was, for an approver.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from gateway.delivery.redecide import Redecider
from gateway.events.outbox import EventType, record_delivery_events
from gateway.policy import PolicyEngine
from gateway.policy.basis import rule_instruments
from gateway.security.audit import append_audit
from gateway.store.facts import LivePolicy
from gateway.store.states import DeliveryState
from gateway.store.tables import deliveries
from gateway.store.wakeup import announce_new_deliveries

HELD = DeliveryState.HELD.value
ACTOR = "gateway"


@dataclass(frozen=True)
class LiftedHolds:
    """What a change of facts did to the held deliveries it could concern."""

    released: tuple[str, ...]
    still_held: tuple[str, ...]


def held_on(engine: PolicyEngine, instrument: str) -> Callable[[str], bool]:
    """Whether a held delivery's findings (JSON) name a rule that reads ``instrument``."""

    def reads(rule_id: str) -> bool:
        try:
            _, rule = engine.rule(rule_id)
        except KeyError:
            return False
        return instrument in rule_instruments(rule, engine.parties)

    def concerned(findings_json: str) -> bool:
        return any(reads(str(f.get("rule", ""))) for f in json.loads(findings_json))

    return concerned


def candidates(conn: Connection, engine: PolicyEngine, instrument: str) -> list[str]:
    """Held deliveries whose hold may rest on a fact of ``instrument``."""
    concerned = held_on(engine, instrument)
    rows = conn.execute(
        select(deliveries.c.id, deliveries.c.findings_json).where(deliveries.c.state == HELD)
    )
    return [row.id for row in rows if concerned(row.findings_json)]


def release_if_lifted(
    conn: Connection,
    delivery_id: str,
    *,
    policy: LivePolicy,
    redecider: Redecider,
    change_seq: int,
    changed_by: str,
    now: datetime,
    deadline_s: Callable[[str], float],
) -> bool:
    """Decide one held delivery again; queue it (audited) when the new decision lets it go."""
    row = conn.execute(
        select(deliveries.c.id, deliveries.c.message_id, deliveries.c.channel, deliveries.c.state)
        .where(deliveries.c.id == delivery_id)
        .with_for_update()
    ).first()
    if row is None or row.state != HELD:
        return False
    redecision = redecider.redecide(conn, delivery_id, engine=policy.engine_at(conn), on=now.date())
    if redecision is None or not redecision.decision.allows_delivery:
        return False
    values = redecision.values | {
        "state": DeliveryState.QUEUED.value,
        "updated_at": now,
        "next_attempt_at": now,
        "attempts": 0,
        "deadline_at": now + timedelta(seconds=deadline_s(row.channel)),
        "lease_owner": None,
        "lease_until": None,
        "review_actor": ACTOR,
        "review_reason": f"hold lifted by fact change {change_seq}",
    }
    changed = conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.state == HELD)
        .values(**values)
    ).rowcount
    if changed != 1:
        return False
    basis = redecision.decision.basis
    append_audit(
        conn,
        actor=ACTOR,
        action="delivery.auto_release",
        subject=f"delivery:{delivery_id}",
        reason=f"the hold rested only on facts changed by fact change {change_seq}",
        details={
            "message_id": row.message_id,
            "channel": row.channel,
            "from": HELD,
            "to": DeliveryState.QUEUED.value,
            "outcome": redecision.decision.outcome,
            "rules": redecision.rules,
            "fact_change": change_seq,
            "changed_by": changed_by,
            "as_of": basis.as_of.isoformat() if basis else None,
        },
    )
    record_delivery_events(
        conn, EventType.DELIVERY_RELEASED, [delivery_id], now=now, extra={"released_by": ACTOR}
    )
    announce_new_deliveries(conn)
    return True
