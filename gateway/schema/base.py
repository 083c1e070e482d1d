"""What every canonical model shares: the strict model settings and per-field error raising."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from gateway.schema.rules import Problem

MAX_ENTITIES = 1000  # generous cap per entity list; bounds the work one message can cause


class FrozenModel(BaseModel):
    """Every canonical object: unknown fields refused, values frozen, aliases both ways."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        allow_inf_nan=False,
    )


def given(*names: str) -> dict[str, Any]:
    """JSON Schema: each of ``names`` is there and not null (null reads as absent here)."""
    return {
        "required": list(names),
        "properties": {name: {"not": {"type": "null"}} for name in names},
    }


def given_iff(condition: dict[str, Any], *names: str) -> dict[str, Any]:
    """JSON Schema: ``names`` are given when ``condition`` holds, and absent when it does not."""
    return {"if": condition, "then": given(*names), "else": {"not": given(*names)}}


def raise_field_errors(title: str, problems: list[Problem]) -> None:
    """Raise one error per problem, each at its own field, so paths point at the culprit."""
    if problems:
        raise ValidationError.from_exception_data(
            title,
            [
                InitErrorDetails(type=PydanticCustomError(kind, text), loc=loc, input=None)
                for loc, kind, text in problems
            ],
        )
