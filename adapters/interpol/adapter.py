"""``InterpolAdapter``: draft diffusions and notice requests as JSON, posted over HTTPS REST."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from adapters._render import product_for
from adapters.base import Payload
from adapters.families.json_http import JsonHttpAdapter
from adapters.interpol.inbound import InterpolInbound
from adapters.interpol.render import PROFILE, render_document
from adapters.source import RenderSource, source_for

if TYPE_CHECKING:
    from gateway.policy.decision import Decision
    from gateway.schema import CanonicalMessage

SCHEMA_FILE = "interpol-notice-1.0.schema.json"


class InterpolAdapter(InterpolInbound, JsonHttpAdapter):
    """Interpol via the NCB: diffusions (default) and red/yellow/blue/green/purple requests."""

    name: ClassVar[str] = "interpol"
    profile_version: ClassVar[str] = PROFILE
    products: ClassVar[tuple[str, ...]] = (
        "diffusion",
        "red_notice_request",
        "yellow_notice_request",
        "blue_notice_request",
        "green_notice_request",
        "purple_notice_request",
    )
    default_product: ClassVar[str] = "diffusion"
    schema_files: ClassVar[tuple[str, ...]] = (f"schema/{SCHEMA_FILE}",)
    json_schema: ClassVar[Path] = Path(__file__).parent / "schema" / SCHEMA_FILE

    def render(
        self,
        message: CanonicalMessage,
        decision: Decision,
        recipient: str | None = None,
        *,
        source: RenderSource | None = None,
    ) -> Payload:
        """Pure: the JSON document for the decision's product, validated before it is returned."""
        product = product_for(self, decision)
        data = source_for(message, source).data
        return self.checked(render_document(data, product, self.codes), product=product)
