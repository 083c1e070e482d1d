"""Who is calling: the identity a token (or client certificate) stands for."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.services.permissions import Role, can_see_country

__all__ = ["Identity", "Role"]


@dataclass(frozen=True)
class Identity:
    """A caller. Senders are bound to one country and agency; operators and approvers to a set
    of countries (empty = regional, every country)."""

    token_id: str
    role: Role
    label: str
    country: str | None = None
    agency: str | None = None
    scope_countries: tuple[str, ...] = ()

    @property
    def actor(self) -> str:
        """How the audit log names this caller (no personal data: role and token id)."""
        return f"{self.role.value}:{self.token_id}"

    def can_see_country(self, country: str) -> bool:
        """Tenancy: whose messages this identity may read (the permission table's reach)."""
        return can_see_country(self, country)
