"""What the three transport families share: the code table, the channel's one ``HttpChannel``,
and the lifecycle (``send``, ``ping``, ``aclose``) on top of it."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from adapters._codes import CodeTable, load_code_table
from adapters._http import HttpChannel, HttpReply
from adapters._shape import RestShape
from adapters.base import Adapter, Payload, Reachability, Receipt, SendContext
from adapters.registry import DEFAULT_MAPPINGS_DIR

__all__ = ["HttpAdapter"]


class HttpAdapter(Adapter):
    """A channel that POSTs each stored payload over HTTP(S) and reads a receipt back.

    Constructed as ``cls(codes)`` by the registry with the checked code table; without one
    (a script, a test) it loads the table shipped in ``mappings/<name>/codes.yaml``.

    ``transport`` declares the channel's shape (endpoint path, success and duplicate statuses,
    where the receipt's fields sit); the default is the JSON receipt the built-ins share.
    """

    transport: ClassVar[RestShape] = RestShape()

    def __init__(self, codes: CodeTable | None = None) -> None:
        if codes is None:
            codes = load_code_table(self.name, DEFAULT_MAPPINGS_DIR / self.name / "codes.yaml")
        super().__init__(codes)
        self.http = HttpChannel(self.name)

    def read_receipt(self, reply: HttpReply) -> Receipt:
        """The receipt in a delivered (or duplicate) reply, read as ``transport`` declares;
        raising anything makes the outcome unknown."""
        return self.transport.receipt(reply)

    async def send(self, payload: Payload, context: SendContext) -> Receipt:
        """POST the stored bytes unchanged to the declared endpoint; ``read_receipt`` reads
        the reply."""
        return await self.http.send(payload, context, self.read_receipt, self.transport)

    async def ping(self, context: SendContext) -> Reachability:
        """Any HTTP answer from the endpoint counts as reachable: ``HttpChannel.ping`` raises
        when none comes."""
        await self.http.ping(dataclasses.replace(context, url=self.transport.url(context.url)))
        return Reachability.ANSWERED

    async def aclose(self) -> None:
        """Close the HTTP clients this channel opened, on every event loop it used."""
        await self.http.aclose()
