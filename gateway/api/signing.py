"""The gateway's public signing keys, and the signed evidence of a delivery's end."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from gateway.api.deps import caller_for, get_context
from gateway.api.models import ErrorBody
from gateway.security.identity import Identity
from gateway.services.permissions import Action

router = APIRouter(prefix="/v1", tags=["signing"])


class JwkSet(BaseModel):
    """A JWK set (RFC 7517): the public halves of every gateway signing key, newest first."""

    keys: list[dict[str, Any]] = Field(
        description="EC P-256 keys with kid, use 'sig' and alg 'ES256'; old keys stay listed"
    )


class EvidenceRecordOut(BaseModel):
    """One signed evidence record: the JWS is what counts, ``record`` is its payload."""

    key_id: str = Field(description="the gateway key that signed it (kid in the JWS header)")
    jws: str = Field(description="compact JWS, ES256, typ marri-evidence+jws")
    record: dict[str, Any] = Field(description="the JWS payload, decoded, for reading")
    stored_at: str


class EvidenceOut(BaseModel):
    """A delivery's evidence records, oldest first (a re-driven delivery may end twice)."""

    delivery_id: str
    records: list[EvidenceRecordOut]


@router.get(
    "/keys/signing",
    operation_id="getSigningKeys",
    response_model=JwkSet,
    summary="The gateway's public signing keys (JWK set)",
    description=(
        "Verifies every payload signature, evidence record and signed audit head the gateway "
        "made. Public: no token is needed. Rotated keys stay in the set."
    ),
)
async def signing_keys(request: Request) -> dict[str, Any]:
    """The JWK set to verify the gateway's signatures with."""
    return get_context(request).signing.public_jwks()


@router.get(
    "/deliveries/{delivery_id}/evidence",
    operation_id="getDeliveryEvidence",
    response_model=EvidenceOut,
    summary="Signed evidence that a delivery ended (delivered or failed)",
    description=(
        "A JWS per ending over the message and delivery ids, channel, recipient, the SHA-256 "
        "of the signed payload sent, the channel's receipt, the times, the decision and its "
        "rule-pack hash; verify it with GET /v1/keys/signing alone. Another country's delivery "
        "answers 404 like a missing one."
    ),
    responses={
        401: {"model": ErrorBody, "description": "no valid token"},
        403: {"model": ErrorBody, "description": "the token may not do this"},
        404: {"model": ErrorBody, "description": "unknown or not yours"},
    },
)
async def delivery_evidence(
    delivery_id: str,
    request: Request,
    identity: Annotated[Identity, Depends(caller_for(Action.READ_MESSAGES))],
) -> dict[str, Any]:
    """The delivery's evidence records; none while it has not ended."""
    return await get_context(request).services.evidence.of_delivery(identity, delivery_id)
