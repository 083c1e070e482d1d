"""The parties table's facts for legal officers: list, confirm, withdraw, set.

Every change needs a source, is audited with it and takes effect on the next decision of every
process; the answer lists the held deliveries the change released. Only the legal role may
change facts; staff may read them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from gateway.api.deps import caller_for, get_context
from gateway.api.models import ErrorBody
from gateway.security.identity import Identity
from gateway.services.facts import FactChanged, FactEdit, FactView
from gateway.services.permissions import Action

router = APIRouter(prefix="/v1", tags=["facts"])

Reader = Annotated[Identity, Depends(caller_for(Action.READ_FACTS))]
Officer = Annotated[Identity, Depends(caller_for(Action.CHANGE_FACTS))]
InstrumentName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
Country = Annotated[str, Path(pattern=r"^[A-Z]{2}$")]
Text = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"\S")]

ERRORS: dict[int | str, dict[str, object]] = {
    403: {"model": ErrorBody, "description": "this role may not do this"},
    404: {"model": ErrorBody, "description": "no such instrument, or it does not list the country"},
    422: {"model": ErrorBody, "description": "no source, or dates that do not fit"},
}


class FactOut(BaseModel):
    """One party fact as the parties table holds it now, with its source and status."""

    instrument: str
    title: str
    country: str
    party: bool
    since: date | None
    until: date | None
    confirmed: bool
    source: str
    note: str
    changed_by: str | None = Field(description="role of whoever last changed it; None: shipped")
    changed_on: date | None
    change_seq: int | None


class FactChangeOut(BaseModel):
    """What a fact change did: its number, the fact as it now stands, holds released or kept."""

    change_seq: int = Field(description="the change's number: the facts version it made")
    action: str
    fact: FactOut
    released: list[str] = Field(description="held deliveries the new facts let go (queued)")
    still_held: list[str] = Field(description="held deliveries concerned that stay held")


class SourceRequest(BaseModel):
    """A fact action needs a source: where the fact is stated."""

    source: Text = Field(description="where the fact is stated (URL and what it says)")
    note: str = Field("", max_length=2000)


class SetRequest(SourceRequest):
    """A fact as set: party or not, the dates it holds between, confirmed or not."""

    party: bool = True
    since: date | None = None
    until: date | None = Field(None, description="the first day it no longer holds")
    confirmed: bool = True


def _fact(view: FactView) -> FactOut:
    return FactOut.model_validate(view.as_dict())


def _changed(changed: FactChanged) -> FactChangeOut:
    return FactChangeOut(
        change_seq=changed.change_seq,
        action=changed.action.value,
        fact=_fact(changed.fact),
        released=list(changed.lifted.released),
        still_held=list(changed.lifted.still_held),
    )


@router.get(
    "/facts",
    operation_id="listFacts",
    response_model=list[FactOut],
    summary="The parties table's facts",
)
async def list_facts(
    request: Request,
    identity: Reader,
    *,
    instrument: Annotated[str | None, Query(max_length=64)] = None,
    unconfirmed: Annotated[bool, Query(description="only facts no source confirms")] = False,
) -> list[FactOut]:
    """The parties table's facts, optionally one instrument's or only the unconfirmed ones."""
    facts = await get_context(request).facts.list(identity, instrument)
    return [_fact(f) for f in facts if not unconfirmed or not f.confirmed]


@router.post(
    "/facts/{instrument}/{country}/confirm",
    operation_id="confirmFact",
    response_model=FactChangeOut,
    summary="Confirm a fact with its source",
    description="Legal role only. The held deliveries whose hold rested only on unconfirmed "
    "facts of this instrument are decided again and released.",
    responses=ERRORS,
)
async def confirm_fact(
    request: Request,
    instrument: InstrumentName,
    country: Country,
    identity: Officer,
    body: SourceRequest,
) -> FactChangeOut:
    """A source states the fact as listed: it is confirmed, and holds resting on it may release."""
    facts = get_context(request).facts
    return _changed(await facts.confirm(identity, instrument, country, body.source, body.note))


@router.post(
    "/facts/{instrument}/{country}/withdraw",
    operation_id="withdrawFact",
    response_model=FactChangeOut,
    summary="Withdraw a fact: it counts as unconfirmed",
    description="Legal role only. Rules resting on the fact hold messages for review again.",
    responses=ERRORS,
)
async def withdraw_fact(
    request: Request,
    instrument: InstrumentName,
    country: Country,
    identity: Officer,
    body: SourceRequest,
) -> FactChangeOut:
    """The fact may no longer be relied on: deliveries resting on it are held again."""
    facts = get_context(request).facts
    return _changed(await facts.withdraw(identity, instrument, country, body.source, body.note))


@router.put(
    "/facts/{instrument}/{country}",
    operation_id="setFact",
    response_model=FactChangeOut,
    summary="Add a party or change its standing or dates",
    description="Legal role only. since/until date the fact; until is the first day it no "
    "longer holds.",
    responses=ERRORS,
)
async def set_fact(
    request: Request,
    instrument: InstrumentName,
    country: Country,
    identity: Officer,
    body: SetRequest,
) -> FactChangeOut:
    """Add a party fact or change its standing or dates; audited, with the source given."""
    edit = FactEdit(body.party, body.since, body.until, body.confirmed, body.note)
    facts = get_context(request).facts
    return _changed(await facts.set(identity, instrument, country, body.source, edit))
