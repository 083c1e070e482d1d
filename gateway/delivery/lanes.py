"""Channel lanes: per channel, the sends in flight, the deliveries leased ahead, and whether a
claim for it is worth making now.

A lane bounds its channel's sends in flight to ``limit`` slots. Pacing decides what to claim:
a lane whose last claim or look found nothing is ``dry`` until a poll interval passes or new
deliveries are announced; a lane whose last claim got all it asked for is ``backlogged``, and
only then does a claim take a round more than the free slots, so that one claim serves many
sends (without a backlog, leases taken ahead would wait here while other workers sit idle).
The breaker's state lives in the store and the claim consults it (``breaker.py``); a lane
carries the channel's breaker and retry policies to its attempts.
"""

from __future__ import annotations

import logging
import ssl
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from adapters.base import Adapter
from gateway.config import ChannelSettings, Settings
from gateway.delivery.claim import ClaimedDelivery
from gateway.security.tls import channel_ssl_context

log = logging.getLogger("gateway.delivery")


class AdapterLookup(Protocol):
    """Where the worker finds each channel's adapter (the registry, or a test's own)."""

    def get(self, name: str) -> Adapter:
        """The adapter registered for channel ``name``."""


@dataclass
class ChannelLane:
    """One channel's slots and leased-ahead deliveries in this worker."""

    name: str
    settings: ChannelSettings
    adapter: Adapter
    limit: int
    verify: ssl.SSLContext | bool = True
    in_flight: int = 0
    # Leased ahead, waiting for a slot; in claim order (priority, then oldest due).
    ready: deque[ClaimedDelivery] = field(default_factory=deque)
    dry: bool = False
    backlogged: bool = False

    def room(self, *, ahead: bool) -> int:
        """How many a claim should take: the free slots, and a round more when claiming ahead
        into a backlog."""
        wanted = self.limit * (2 if ahead and self.backlogged else 1)
        return max(0, wanted - self.in_flight - len(self.ready))

    def running_low(self) -> bool:
        """Fewer leased-ahead deliveries left than half a round, and not known to be dry."""
        if self.dry or self.room(ahead=True) == 0:
            return False
        return len(self.ready) < (self.limit + 1) // 2

    def next_to_start(self) -> ClaimedDelivery | None:
        """The next leased delivery, taking one of the slots; None when all are taken."""
        if not self.ready or self.in_flight >= self.limit:
            return None
        self.in_flight += 1
        return self.ready.popleft()

    def free_slot(self) -> None:
        """An attempt is done with the destination (its record may still be pending)."""
        self.in_flight -= 1


class ChannelLanes:
    """Every configured channel's lane, and what the worker knows about where work is due."""

    def __init__(self, lanes: Iterable[ChannelLane]) -> None:
        self._lanes = {lane.name: lane for lane in lanes}
        # Set when there is reason to believe deliveries are due (a full claim, an
        # announcement): the next claim skips its read-only look first.
        self.expect_work = False
        # Counts announcements, so that a claim or look that began before one does not mark
        # a lane dry on a snapshot older than the announced deliveries.
        self.announcements = 0

    @classmethod
    def configured(
        cls, settings: Settings, registry: AdapterLookup, concurrency: int | None
    ) -> ChannelLanes:
        """A lane per configured channel that has an adapter; ``concurrency`` overrides each
        channel's own bound on sends in flight."""
        lanes = []
        for name, channel_settings in settings.all_channels().items():
            try:
                adapter = registry.get(name)
            except KeyError:
                log.warning("channel %s is configured but no adapter is registered", name)
                continue
            lanes.append(
                ChannelLane(
                    name,
                    channel_settings,
                    adapter,
                    concurrency or channel_settings.concurrency,
                    channel_ssl_context(channel_settings),
                )
            )
        return cls(lanes)

    def __iter__(self) -> Iterator[ChannelLane]:
        return iter(self._lanes.values())

    def __getitem__(self, name: str) -> ChannelLane:
        return self._lanes[name]

    def names(self) -> list[str]:
        """Channel ids with a lane here, sorted so claims go round them in a stable order."""
        return sorted(self._lanes)

    def announced(self) -> None:
        """New deliveries were stored: every lane may have work again."""
        self.expect_work = True
        self.announcements += 1
        self.poll_passed()

    def poll_passed(self) -> None:
        """Retries fall due and breakers close with time: no lane stays dry past a poll."""
        for lane in self._lanes.values():
            lane.dry = False

    def running_low(self) -> bool:
        """True when some lane's leased-ahead work is about to run out, so a claim is due."""
        return any(lane.running_low() for lane in self._lanes.values())

    def wants(self, *, ahead: bool) -> dict[str, int]:
        """Per lane with room, how many a claim should take."""
        return {lane.name: n for lane in self._lanes.values() if (n := lane.room(ahead=ahead)) > 0}

    def found_nothing(self, names: Iterable[str], *, since: int) -> None:
        """A look begun at announcement count ``since`` found nothing due in these lanes."""
        if since == self.announcements:
            for name in names:
                self._lanes[name].dry = True

    def file_claim(
        self, claimed: Sequence[ClaimedDelivery], wants: dict[str, int], *, since: int
    ) -> list[ChannelLane]:
        """Queue what a claim (begun at announcement count ``since``) leased, in claim order,
        and learn from what it got; the lanes it asked for, to start sends in."""
        got: dict[str, int] = {}
        for item in claimed:
            self._lanes[item.channel].ready.append(item)
            got[item.channel] = got.get(item.channel, 0) + 1
        asked = []
        for name, wanted in wants.items():
            lane = self._lanes[name]
            lane.dry = got.get(name, 0) == 0 and since == self.announcements
            lane.backlogged = got.get(name, 0) >= wanted
            if lane.backlogged:
                self.expect_work = True  # it took all it asked for: probably more due
            asked.append(lane)
        return asked

    def take_unsent(self) -> list[ClaimedDelivery]:
        """Empty every lane's leased-ahead queue (to hand those leases back)."""
        unsent = [item for lane in self._lanes.values() for item in lane.ready]
        for lane in self._lanes.values():
            lane.ready.clear()
        return unsent
