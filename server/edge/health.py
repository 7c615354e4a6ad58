"""Store outages as this process's clients see them.

While the store cannot be reached, commands are refused at once
(``store_unavailable``), every client is told the game is paused, and
``/healthz`` answers 503; when it is back, clients are told, lost disconnects
are saved and every room is resent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ..errors import ErrorCode, RitrovoError, StoreUnavailable
from ..metrics import Metrics
from ..protocol import MessageType, NoticeCode
from .hub import RoomHub
from .presence import Presence

log = logging.getLogger(__name__)

PAUSED_MESSAGE = "the game store is unreachable: the game is paused and will resume by itself"
RESUMED_MESSAGE = "the game store is back: the game goes on"


class StoreHealth:
    """Whether this process can reach its store, and what changes when that flips."""

    def __init__(
        self,
        ping: Callable[[], Awaitable[None]],
        hub: RoomHub,
        presence: Presence,
        metrics: Metrics,
    ) -> None:
        self.ping = ping
        self.hub = hub
        self.presence = presence
        self.metrics = metrics
        self.available = True

    def require(self) -> None:
        """Refuse a command at once while the store is known to be down."""
        if not self.available:
            raise StoreUnavailable(PAUSED_MESSAGE, code=ErrorCode.STORE_UNAVAILABLE)

    def lost(self) -> None:
        if not self.available:
            return
        self.available = False
        self.metrics.store_up.set(0)
        log.error("store unreachable: game paused on this process")
        self.hub.broadcast(
            MessageType.NOTICE, code=NoticeCode.STORE_UNAVAILABLE, message=PAUSED_MESSAGE
        )

    async def back(self) -> None:
        if self.available:
            return
        self.available = True
        self.metrics.store_up.set(1)
        log.warning("store reachable again: resuming")
        await self.presence.replay_lost()
        self.hub.broadcast(
            MessageType.NOTICE, code=NoticeCode.STORE_AVAILABLE, message=RESUMED_MESSAGE
        )
        self.hub.resync_all()

    async def check(self, timeout: float) -> None:
        """Ping the store and record what it said.

        A timed-out ping is asked again before it counts: a ping also times
        out when something else held this process's event loop past the
        timeout while Redis answered at once, and one stalled loop must not
        pause every game on the process. A store that is really gone fails
        the second ping too (or is refused at once, with no timeout at all).
        """
        for last_try in (False, True):
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for may eat a
                # cancellation, and the watcher must stop when the app does.
                async with asyncio.timeout(timeout):
                    await self.ping()
            except TimeoutError:
                if last_try:
                    self.lost()
                continue
            except RitrovoError:
                self.lost()
            except Exception:
                log.exception("store health check failed")
                self.lost()
            else:
                await self.back()
            return

    async def watch(self, interval: float) -> None:
        """Check the store every ``interval`` seconds, until cancelled."""
        while True:
            await self.check(max(interval, 1.0))
            await asyncio.sleep(interval)
