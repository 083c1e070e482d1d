"""What the three transport families share: the code table, the channel's one ``HttpChannel``,
and the lifecycle (``send``, ``ping``, ``aclose``) on top of it."""

from __future__ import annotations

from adapters._codes import CodeTable, load_code_table
from adapters._http import HttpChannel, HttpReply, parse_json_receipt
from adapters.base import Adapter, Payload, Reachability, Receipt, SendContext
from adapters.registry import DEFAULT_MAPPINGS_DIR

__all__ = ["HttpAdapter"]


class HttpAdapter(Adapter):
    """A channel that POSTs each stored payload over HTTP(S) and reads a receipt back.

    Constructed as ``cls(codes)`` by the registry with the checked code table; without one
    (a script, a test) it loads the table shipped in ``mappings/<name>/codes.yaml``.
    """

    def __init__(self, codes: CodeTable | None = None) -> None:
        if codes is None:
            codes = load_code_table(self.name, DEFAULT_MAPPINGS_DIR / self.name / "codes.yaml")
        super().__init__(codes)
        self.http = HttpChannel(self.name)

    def read_receipt(self, reply: HttpReply) -> Receipt:
        """The receipt in a 2xx reply; raising anything makes the outcome unknown."""
        return parse_json_receipt(reply)

    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        """POST the stored bytes unchanged; the family's ``read_receipt`` reads the 2xx reply."""
        return await self.http.send(payload, context, self.read_receipt)

    async def ping(self, context: SendContext) -> Reachability:
        """Any HTTP answer counts as reachable: ``HttpChannel.ping`` raises when none comes."""
        await self.http.ping(context)
        return Reachability.ANSWERED

    async def aclose(self) -> None:
        """Close the HTTP clients this channel opened, on every event loop it used."""
        await self.http.aclose()
