"""Sender agencies' public signing keys: list (with the JWK set), register, revoke.

A country's admin (a token issued with that country) manages them; the permission table
(``Action.MANAGE_SENDER_KEYS``) refuses every other token, and another country's key answers 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, field_validator

from gateway.api.deps import caller_for, get_context
from gateway.api.models import ErrorBody
from gateway.errors import ErrorKind, GatewayError
from gateway.security.identity import Identity
from gateway.security.sender_keys import ALGORITHMS
from gateway.services.permissions import Action
from gateway.services.sender_keys import KeyRequest

router = APIRouter(prefix="/v1", tags=["sender keys"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no valid token"},
    403: {"model": ErrorBody, "description": "not an admin token issued for that country"},
}

_EXAMPLE_JWK: dict[str, Any] = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
}


class SenderKeyIn(BaseModel):
    """A public key to register for one agency; its private half never leaves the sender."""

    model_config = {
        "extra": "forbid",
        "json_schema_extra": {
            "examples": [
                {
                    "country": "AL",
                    "agency": "Albanian State Police",
                    "kid": "asp-2027-01",
                    "alg": "ES256",
                    "jwk": _EXAMPLE_JWK,
                    "not_before": "2027-01-01T00:00:00Z",
                    "not_after": "2028-01-31T00:00:00Z",
                }
            ]
        },
    }

    country: str = Field(pattern=r"^[A-Z]{2}$", description="the agency's country")
    agency: str = Field(min_length=1, max_length=200, description="as in sender.agency")
    jwk: dict[str, Any] = Field(description="the public key (EC P-256 or OKP Ed25519)")
    kid: str | None = Field(None, description="the key id signatures name; default: the JWK's")
    alg: str | None = Field(None, description=f"one of {', '.join(ALGORITHMS)}; default: JWK's")
    not_before: datetime | None = Field(None, description="valid from (default: now)")
    not_after: datetime | None = Field(None, description="valid until (default: a year later)")

    @field_validator("not_before", "not_after")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time-zone offset")
        return value


class SenderKeyOut(BaseModel):
    """A registered key with its status now."""

    id: str
    country: str
    agency: str
    kid: str
    alg: str
    thumbprint: str = Field(description="RFC 7638 SHA-256 thumbprint of the public key")
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    status: str = Field(description="valid, not_yet_valid, expired or revoked")
    jwk: dict[str, str] = Field(description="the key as a JWK set member")


class SenderKeyList(BaseModel):
    """Keys of the caller's countries, and the JWK set of those that verify now."""

    items: list[SenderKeyOut]
    jwks: dict[str, list[dict[str, str]]] = Field(
        description="RFC 7517 JWK set of the keys listed that verify signatures now"
    )


class RevokeIn(BaseModel):
    """Why a key is revoked (kept in the audit log)."""

    model_config = {"extra": "forbid"}

    reason: str | None = Field(None, max_length=500)


@router.get(
    "/sender-keys",
    operation_id="listSenderKeys",
    response_model=SenderKeyList,
    summary="Sender agencies' signing keys of the caller's countries",
    responses=ERRORS,
)
async def list_keys(
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.MANAGE_SENDER_KEYS))],
    country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    agency: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> dict[str, Any]:
    """Every key with its status; ``jwks`` holds the ones that verify signatures now."""
    items = await get_context(request).services.sender_keys.keys(
        identity, country=country, agency=agency
    )
    valid = [item["jwk"] for item in items if item["status"] == "valid"]
    return {"items": items, "jwks": {"keys": valid}}


@router.post(
    "/sender-keys",
    operation_id="registerSenderKey",
    status_code=201,
    response_model=SenderKeyOut,
    summary="Register a sender agency's public signing key",
    description=(
        "Keys overlap for rotation: register the next key while the current one is valid, move "
        "the national system to it, then revoke the old key. A private key is refused (422)."
    ),
    responses={
        **ERRORS,
        409: {"model": ErrorBody, "description": "kid taken, or the key is registered already"},
        422: {"model": ErrorBody, "description": "not a usable public ES256/EdDSA key"},
    },
)
async def add_key(
    body: SenderKeyIn,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.MANAGE_SENDER_KEYS))],
) -> dict[str, Any]:
    """Register the key for the agency named; the caller must be that country's admin."""
    return await get_context(request).services.sender_keys.add(
        identity,
        KeyRequest(
            country=body.country,
            agency=body.agency,
            jwk=body.jwk,
            alg=body.alg,
            kid=body.kid,
            not_before=body.not_before,
            not_after=body.not_after,
        ),
    )


@router.post(
    "/sender-keys/{key_id}/revoke",
    operation_id="revokeSenderKey",
    response_model=SenderKeyOut,
    summary="Revoke a sender key at once",
    responses={
        **ERRORS,
        404: {"model": ErrorBody, "description": "no such key of the caller's countries"},
        409: {"model": ErrorBody, "description": "revoked already"},
    },
)
async def revoke_key(
    key_id: str,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.MANAGE_SENDER_KEYS))],
    body: RevokeIn | None = None,
) -> dict[str, Any]:
    """From now on the key verifies nothing; signatures it verified before stay recorded."""
    if len(key_id) > 36:
        raise GatewayError(ErrorKind.NOT_FOUND, "not_found", "no such sender key")
    return await get_context(request).services.sender_keys.revoke(
        identity, key_id, reason=body.reason if body else None
    )
