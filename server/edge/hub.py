"""Fan-out: this process's connections by room, and room changes sent to them.

Room changes come as store notices, from this process or any other, and the
hub turns them into ``state`` frames: coalesced to at most one per room per
flush interval, built once per distinct view and encoded once for all
connections that share it.

Ordering: a connection is sent a room's state only if its ``seq`` is newer
than the last one it was sent, so it never sees an older state after a newer
one, whatever order loads finish in. Every state is complete, so skipping
intermediate seqs loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson

from .. import protocol
from ..config import Settings
from ..errors import NotFound, StoreUnavailable
from ..game import views
from ..game.models import Room
from ..game.pack import Pack
from ..metrics import Metrics
from ..protocol import CloseCode, MessageType, NoticeCode
from ..service import GameService
from .connection import Connection

log = logging.getLogger(__name__)


class RoomHub:
    """This process's connections, grouped by room, and the fan-out of room changes."""

    def __init__(
        self, service: GameService, settings: Settings, metrics: Metrics | None = None
    ) -> None:
        self.service = service
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.rooms: dict[str, set[Connection]] = {}
        self.connected: set[Connection] = set()  # every open connection, identified or not
        self._wanted_seq: dict[str, int] = {}
        self._watching: Counter[str] = Counter()  # openings in progress, by room
        self._stale: set[str] = set()  # rooms to reload from the store, not the cache
        self._noticed_at: dict[str, float] = {}  # first unflushed notice, for the latency metric
        self._scheduled: dict[str, asyncio.TimerHandle] = {}
        self._last_flush: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- connections -------------------------------------------------------

    def opened(self, conn: Connection) -> None:
        self.connected.add(conn)

    def closed(self, conn: Connection) -> None:
        self.connected.discard(conn)
        self.remove(conn)

    def add(self, conn: Connection) -> None:
        assert conn.code is not None
        self.rooms.setdefault(conn.code, set()).add(conn)

    def remove(self, conn: Connection) -> None:
        if conn.code is None:
            return
        members = self.rooms.get(conn.code)
        if members is not None:
            members.discard(conn)
            if not members:
                del self.rooms[conn.code]
                self._forget(conn.code)

    @contextlib.contextmanager
    def watching(self, code: str) -> Iterator[None]:
        """Record the room's notices while a connection is entering it.

        The entering connection is sent the room as loaded or committed by its
        opening; a change committed meanwhile by another process would be
        ignored if nobody here watched the room yet, leaving a gap until the
        next change. Watching records its seq so ``caught_up`` can send it.
        """
        self._watching[code] += 1
        try:
            yield
        finally:
            self._watching[code] -= 1
            if self._watching[code] <= 0:
                del self._watching[code]
                if code not in self.rooms:
                    self._forget(code)

    def caught_up(self, code: str, seq: int) -> None:
        """After a snapshot at ``seq``: flush if the room has moved on since."""
        if self._wanted_seq.get(code, 0) > seq:
            self.schedule(code)

    def _forget(self, code: str) -> None:
        if code in self._watching:
            return
        handle = self._scheduled.pop(code, None)
        if handle is not None:
            handle.cancel()
        self._wanted_seq.pop(code, None)
        self._last_flush.pop(code, None)
        self._stale.discard(code)
        self._noticed_at.pop(code, None)

    def connections(self) -> list[Connection]:
        return [c for members in self.rooms.values() for c in members]

    def broadcast(self, kind: str, **fields: Any) -> None:
        """One message to every open connection of this process."""
        data = protocol.encode(kind, **fields)
        for conn in list(self.connected):
            conn.send(data, kind)

    # -- room changes --------------------------------------------------------

    async def on_notice(self, code: str, notice: bytes) -> None:
        """A room changed somewhere (this process or another)."""
        if code == "":
            self.resync_all()
            return
        if code not in self.rooms and code not in self._watching:
            return
        try:
            body = orjson.loads(notice)
        except orjson.JSONDecodeError:
            body = {}
        if body.get("deleted"):
            for conn in list(self.rooms.get(code, ())):
                conn.close_soon(CloseCode.ROOM_GONE, "room deleted")
            return
        seq = body.get("seq")
        if isinstance(seq, int):
            self._wanted_seq[code] = max(seq, self._wanted_seq.get(code, 0))
        self._noticed_at.setdefault(code, time.perf_counter())
        self.schedule(code)

    def resync_all(self) -> None:
        """Notices may have been lost (store outage, pub/sub reconnect): reload every room."""
        for code in list(self.rooms):
            self._stale.add(code)
            self.schedule(code)

    def schedule(self, code: str) -> None:
        """Flush now if the room has been quiet, else at the end of the flush interval."""
        if code in self._scheduled or code not in self.rooms:
            return
        loop = asyncio.get_running_loop()
        delay = max(
            0.0, self._last_flush.get(code, 0.0) + self.settings.flush_interval - loop.time()
        )
        self._scheduled[code] = loop.call_later(delay, self._start_flush, code)

    def _start_flush(self, code: str) -> None:
        self._scheduled.pop(code, None)
        self._last_flush[code] = asyncio.get_running_loop().time()
        task = asyncio.get_running_loop().create_task(self._flush_safely(code))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_safely(self, code: str) -> None:
        try:
            await self.flush(code)
        except NotFound:
            for conn in list(self.rooms.get(code, ())):
                conn.close_soon(CloseCode.ROOM_GONE, "room not found")
        except StoreUnavailable:
            # The outage watcher resyncs every room when the store is back;
            # retrying here as well covers a blip it did not see.
            log.warning("store unavailable; will resync", extra={"room": code})
            self._stale.add(code)
            asyncio.get_running_loop().call_later(1.0, self.schedule, code)
        except Exception:
            log.exception("flush failed", extra={"room": code})

    async def flush(self, code: str) -> None:
        members = self.rooms.get(code)
        if not members:
            return
        fresh = code in self._stale
        self._stale.discard(code)
        noticed = self._noticed_at.pop(code, None)
        try:
            room = await self.service.load(code, fresh=fresh, min_seq=self._wanted_seq.get(code, 0))
        except BaseException:
            if fresh:
                self._stale.add(code)
            raise
        pack = await self.service.get_pack(room.pack_id)
        self.push(room, pack, list(self.rooms.get(code, ())))
        if noticed is not None:
            self.metrics.broadcast_latency.observe(time.perf_counter() - noticed)

    def push(self, room: Room, pack: Pack | None, members: list[Connection]) -> None:
        """Send ``room`` to each connection that has not seen this version yet."""
        now = self.service.clock()
        encoded: dict[str, bytes] = {}
        boards: dict[tuple[bool, str | None], list[dict[str, Any]]] = {}  # shared by the views
        for conn in members:
            if conn.last_seq_sent >= room.seq or conn.closing:
                continue
            assert conn.role is not None
            if conn.role == "player":
                player = room.players.get(conn.player_id or "")
                if player is None:
                    conn.send_message("removed", reason="no longer in this room")
                    conn.close_after_sending(CloseCode.KICKED, "removed from the room")
                    continue
            key = views.view_key(room, pack, conn.role, conn.player_id)
            data = encoded.get(key)
            if data is None:
                state = views.build(room, pack, now, conn.role, conn.player_id, boards=boards)
                data = encoded[key] = protocol.encode("state", seq=room.seq, state=state)
            conn.send(data, "state")
            conn.last_seq_sent = room.seq
            if conn.role == "player" and conn.player_id:
                self._send_private(conn, room, pack, now)
            if room.phase == "closed":
                conn.close_after_sending(CloseCode.ROOM_CLOSED, "the host closed the room")

    def _send_private(self, conn: Connection, room: Room, pack: Pack | None, now: float) -> None:
        assert conn.player_id is not None
        data = protocol.encode("you", **views.private_view(room, conn.player_id))
        if data != conn.last_private:
            conn.last_private = data
            conn.send(data, "you")

    # -- shutdown ------------------------------------------------------------

    async def close_all(self, code: int, reason: str, timeout: float = 2.0) -> None:
        """Tell every client to reconnect, let queued frames go out, and close (bounded)."""
        conns = list(self.connected)
        for conn in conns:
            conn.send_message(MessageType.NOTICE, code=NoticeCode.SERVICE_RESTART, message=reason)
            conn.close_after_sending(code, reason)
        senders = [c.sender for c in conns if c.sender is not None and not c.sender.done()]
        if senders:
            await asyncio.wait(senders, timeout=timeout)
        stragglers = [
            asyncio.ensure_future(c.ws.close(code=code, message=reason.encode()))
            for c in conns
            if not c.ws.closed
        ]
        if stragglers:
            await asyncio.wait(stragglers, timeout=timeout)
