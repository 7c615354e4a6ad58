"""Which rooms this process serves, and players' connections that drop.

Presence is counted per process (``rooms.connect``/``rooms.disconnect`` take
the instance name), so that the connections of a process that dies can be
taken back by the timer lease holder (see ``timers.py``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection, Mapping

from ..errors import NotFound, RitrovoError, StoreUnavailable
from ..game import flow, rooms
from ..game.models import Room
from ..game.pack import Pack
from ..service import GameService, NoChange
from ..store.base import PresenceRegistry


class Presence:
    """This process's share of the players' connection counts."""

    def __init__(self, service: GameService, registry: PresenceRegistry, instance: str) -> None:
        self.service = service
        self.registry = registry
        self.instance = instance  # names this process in the counts and the heartbeats
        self._tracked: set[str] = set()  # rooms already recorded under this instance
        self._lost: list[tuple[str, str]] = []  # (room, player) disconnects not saved in an outage

    async def track(self, code: str, served: Collection[str]) -> None:
        """Record, before counting a connection there, that this process serves ``code``.

        Done before the count is committed, so a process that dies at any point
        after it can have its connections found and taken back.
        """
        if code not in served and code not in self._tracked:
            await self.registry.beat(self.instance, time.time(), [code])
            self._tracked.add(code)

    async def disconnect(self, code: str, player_id: str) -> None:
        """Record that one of the player's connections dropped."""

        def action(room: Room, pack: Pack | None, now: float) -> None:
            rooms.disconnect(room, player_id, now, self.instance)
            flow.on_presence_changed(room, pack, now)

        try:
            await self.service.execute(code, action)
        except StoreUnavailable:
            # Saved when the store is back, or the player would look connected
            # forever. Connections are counted, so the replay is correct even if
            # the player reconnected meanwhile.
            self._lost.append((code, player_id))
        except RitrovoError:
            pass

    async def revive(self, live: Mapping[str, Mapping[str, int]]) -> None:
        """Count this process's live connections again after it was taken for dead.

        A process frozen past the instance timeout (a SIGSTOP, a stalled VM)
        has its connections dropped by the lease holder. When it runs again
        its sockets are still open: ``live`` (room -> player -> open
        connections here) puts them back at once, instead of leaving those
        players away until they reconnect.
        """
        self._tracked.clear()  # the registry forgot our rooms: record them again
        for code, players in live.items():

            def restore(
                room: Room, pack: Pack | None, now: float, players: Mapping[str, int] = players
            ) -> None:
                if not rooms.restore_process(room, self.instance, players, now):
                    raise NoChange
                flow.on_presence_changed(room, pack, now)

            # A store outage propagates: the caller tries again at its next beat.
            with contextlib.suppress(NotFound):  # the room is gone
                await self.service.execute(code, restore)

    async def replay_lost(self) -> None:
        """Save the disconnects an outage kept from the store (it is back)."""
        lost, self._lost = self._lost, []
        for code, player_id in lost:
            await self.disconnect(code, player_id)
