"""Fan-out: this process's connections by room, and room changes sent to them.

Room changes come as store notices, from this process or any other, and the
hub turns them into ``patch`` frames: coalesced to at most one per room per
flush interval, each view built once per distinct view key, diffed once
against the view its connections last got, and encoded once for all
connections that share both.

Patches: every connection keeps the view it was last sent (the same object
for every connection of a view key, so the memory is one view per key, and it
goes when the connections go). A connection that holds a view gets a
``patch`` from that view to its new one, even when its view key changed (a
player moved to another team); one that holds none (a new connection, one
that asked for ``resync``) gets a full ``state``, and so does one whose patch
would not be smaller than the state. A view, once sent, is never changed: it
is the base the next patch is computed from.

Ordering: a connection is sent a room's version only if its ``seq`` is newer
than the last one it was sent (or the same seq, whole, after a ``resync``),
so it never sees an older state after a newer one, whatever order loads
finish in. A patch goes from what the connection holds to the current view,
so skipping intermediate seqs loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from .. import protocol
from ..config import Settings
from ..errors import NotFound, StoreUnavailable
from ..game import patches, views
from ..game.kept import Heard
from ..game.models import Room
from ..game.pack import Pack
from ..metrics import Metrics
from ..protocol import CloseCode, MessageType, NoticeCode
from ..service import GameService
from ..store import parts
from . import deflate, eager
from .connection import Connection
from .deflate import Deflated

log = logging.getLogger(__name__)


# Frames written between two turns of the event loop during a flush: about
# 5 ms of socket writes on the machine the benchmarks ran on.
WRITE_SLICE = 200
CLOSE = "close"  # in a flush's frame list: close the connection once its frames are out


# Frames after which a view's stream starts again if any of its connections
# is behind it (it joined, or resynced): they get every frame compressed
# alone until then, which costs them about twice the bytes.
STREAM_RESTART = 16

# Seconds a connection stays open after it was sent its closed room: the
# replies to commands of the same commit (the host's own ``close`` among them)
# are sent by their handlers a turn or two of the event loop after the change
# is heard, and a connection already closing would drop them.
ROOM_CLOSED_GRACE = 0.5


def _close_room_connection(conn: Connection) -> None:
    asyncio.get_running_loop().call_later(
        ROOM_CLOSED_GRACE,
        conn.close_after_sending,
        CloseCode.ROOM_CLOSED,
        "the host closed the room",
    )


def _behind(conn: Connection, seq: int) -> bool:
    """Whether ``conn`` should be sent the room at ``seq``."""
    if seq == conn.last_seq_sent:
        return conn.last_view is None  # a resync: the same version, whole
    return seq > conn.last_seq_sent


def _framed(payload: bytes, wires: dict[int, bytes]) -> bytes:
    """``payload``'s frame, built once for the connections of one write that share it."""
    wire = wires.get(id(payload))
    if wire is None:
        wire = wires[id(payload)] = deflate.framed(payload)
    return wire


def _forget_sent(conn: Connection) -> None:
    """Have ``conn`` sent a full state and its ``you`` next, as a new connection is."""
    conn.last_view = None
    conn.last_private = None
    conn.private_stamp = None
    conn.stream_mark = None


def _biggest_first(group: tuple[tuple[str, int, int], list[Connection]]) -> int:
    return -len(group[1])


def _patch_frame(
    held: dict[str, Any], held_seq: int, view: dict[str, Any], seq: int
) -> bytes | None:
    """The ``patch`` from ``held`` (at ``held_seq``) to ``view``; None if a full state is no bigger."""
    ops = patches.diff(held, view)
    if any(not op[1] for op in ops):  # the whole view replaced: diff found it smaller
        return None
    return protocol.encode(MessageType.PATCH, seq=seq, base=held_seq, ops=ops)


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
        # When each room may be flushed next (loop time): a flush interval
        # after the last one started, and never sooner after it ended than it
        # took. A flush to 2,000 connections takes tens of milliseconds; back
        # to back every 100 ms, flushes alone would hold the event loop most
        # of the time and the commands of a burst would queue behind them.
        self._not_before: dict[str, float] = {}
        self._rows: dict[str, views.Rows] = {}  # view parts kept between flushes, by room
        self._tasks: set[asyncio.Task[None]] = set()
        self._flushing: set[str] = set()  # rooms whose flush is writing its frames
        self._again: set[str] = set()  # rooms to flush again once that is done
        self._streams = deflate.Streams()  # each busy view's compressed stream

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
        self._not_before.pop(code, None)
        self._rows.pop(code, None)
        self._streams.forget(code)
        self._stale.discard(code)
        self._noticed_at.pop(code, None)

    def connections(self) -> list[Connection]:
        return [c for members in self.rooms.values() for c in members]

    def live_players(self) -> dict[str, Counter[str]]:
        """Each room's players with open connections here, and how many each has."""
        live: dict[str, Counter[str]] = {}
        for code, members in self.rooms.items():
            counts = Counter(
                c.player_id for c in members if c.role == "player" and c.player_id and not c.closing
            )
            if counts:
                live[code] = counts
        return live

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
        # The service keeps its cached room current (or drops it on a gap),
        # whether or not this process has connections in the room.
        change = self.service.on_notice(code, notice)
        if code not in self.rooms and code not in self._watching:
            return
        if change is not None and change.deleted:
            for conn in list(self.rooms.get(code, ())):
                conn.close_soon(CloseCode.ROOM_GONE, "room deleted")
            return
        if change is not None:
            rows = self._rows.get(code)
            if rows is not None and rows.heard is not None and change.seq > 0:
                rows.heard.heard(change.seq, parts.changes_of(change))
            if 0 < change.seq <= self._wanted_seq.get(code, 0):
                return  # heard already (the store's echo of this process's own change)
            self._wanted_seq[code] = change.seq
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
        delay = max(0.0, self._not_before.get(code, 0.0) - loop.time())
        self._scheduled[code] = loop.call_later(delay, self._start_flush, code)

    def _start_flush(self, code: str) -> None:
        self._scheduled.pop(code, None)
        loop = asyncio.get_running_loop()
        self._not_before[code] = loop.time() + self.settings.flush_interval
        flush = self._flush_safely(code)
        if code not in self._stale and self.service.in_memory(code, self._wanted_seq.get(code, 0)):
            # Run at once, here: nearly always such a flush finishes without
            # waiting (its frames fit one slice), and a task of its own per
            # flush (and a turn of the loop to start it) was a twentieth of a
            # story line's work. Only what waits goes on in a task. A flush
            # that reads the store starts in a task: the store's calls use
            # timeouts, which need one.
            task = eager.start(flush, name=f"flush-{code}")
        else:
            task = loop.create_task(flush, name=f"flush-{code}")
        if task is not None:
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
        if code in self._flushing:
            # The last flush is still writing: this one follows it (a
            # connection's frames must go out in the order they were computed).
            self._again.add(code)
            return
        fresh = code in self._stale
        self._stale.discard(code)
        noticed = self._noticed_at.pop(code, None)
        self._flushing.add(code)
        try:
            try:
                room, pack = await self.service.current(
                    code, min_seq=self._wanted_seq.get(code, 0), fresh=fresh
                )
            except BaseException:
                if fresh:
                    self._stale.add(code)
                raise
            if fresh:
                # Changes may have gone unheard: what was kept from earlier
                # builds is not trusted to show the room read now.
                self._rows.pop(code, None)
            busy = await self._write_out(self._frames(room, pack, list(self.rooms.get(code, ()))))
            loop = asyncio.get_running_loop()
            if code in self._not_before:
                self._not_before[code] = max(self._not_before[code], loop.time() + busy)
            if noticed is not None:
                self.metrics.broadcast_latency.observe(time.perf_counter() - noticed)
        finally:
            self._flushing.discard(code)
            if code in self._again:
                self._again.discard(code)
                self.schedule(code)

    async def _write_out(self, frames: list[tuple[Connection, bytes, str]]) -> float:
        """Write ``frames`` in slices, letting the event loop run between them; returns the time spent.

        A flush to 2,000 players is 2,000 socket writes, tens of milliseconds:
        in one go it would hold up every command that arrives meanwhile (and
        their acks) for all that time. Slices of WRITE_SLICE frames keep each
        hold short; the frames were all computed from one room version before
        the first write, so what is written does not depend on what runs
        between slices.
        """
        clock = time.perf_counter
        busy = 0.0
        for first in range(0, len(frames), WRITE_SLICE):
            if first:
                await asyncio.sleep(0)
            started = clock()
            self._write(frames[first : first + WRITE_SLICE])
            busy += clock() - started
        return busy

    def _write(self, frames: list[tuple[Connection, bytes, str]]) -> None:
        """Write ``frames`` now, in order, and count them by kind.

        A connection's frames in a row (a patch and its ``you``) go in one
        socket write, and a payload many connections get is framed once.
        """
        counts: dict[str, int] = {}  # (a Counter's update costs more than the rest of a write)
        wires: dict[int, bytes] = {}  # framed payloads, by id (alive in ``frames``)
        index, end = 0, len(frames)
        while index < end:
            conn, data, kind = frames[index]
            index += 1
            if kind == CLOSE:
                _close_room_connection(conn)
                continue
            payloads, kinds = [data], [kind]
            while index < end and frames[index][0] is conn and frames[index][2] != CLOSE:
                payloads.append(frames[index][1])
                kinds.append(frames[index][2])
                index += 1
            if len(payloads) == 1:
                wire = _framed(data, wires)
            else:
                wire = b"".join([_framed(payload, wires) for payload in payloads])
            if conn.deliver_framed(wire, payloads):
                for kind in kinds:
                    counts[kind] = counts.get(kind, 0) + 1
        for kind, count in counts.items():
            self.metrics.message_out(kind, count)

    def push(self, room: Room, pack: Pack | None, members: list[Connection]) -> None:
        """Send ``room`` now to each of ``members`` that has not seen this version yet.

        While the room's flush is still writing, a connection may have frames
        computed but not yet written: anything sent now could overtake them.
        The flush then runs again once it is done, for these members too.
        """
        if room.code in self._flushing:
            self._again.add(room.code)
            return
        self._write(self._frames(room, pack, members))

    def _frames(
        self, room: Room, pack: Pack | None, members: list[Connection]
    ) -> list[tuple[Connection, bytes, str]]:
        """The frames that bring each of ``members`` to ``room``, in the order they must go out.

        As a ``patch`` from the view the connection holds, else as a full
        ``state``, then the player's ``you`` frame if it changed. Connections
        are grouped by the view they hold and the view they get: views are
        built once per view key, and each group's frame is computed and
        encoded once (in a room of 2,000 the per-connection work was most of
        a flush). Each connection is marked as holding its new view here.
        """
        now = self.service.clock()
        seq = room.seq
        players = room.players
        # (new view's key, id of the view held or 0, seq held) -> connections.
        # The views held stay alive during the push (their connections hold
        # them), so their ids are not reused.
        groups: dict[tuple[str, int, int], list[Connection]] = {}
        for conn in members:
            if conn.closing or not _behind(conn, seq):
                continue
            assert conn.role is not None
            if conn.role == "player":
                if conn.player_id not in players:
                    if conn.leaving:
                        continue  # its handler answers the leave, then closes it
                    conn.send_message("removed", reason="no longer in this room")
                    conn.close_after_sending(CloseCode.KICKED, "removed from the room")
                    continue
                key = views.view_key(room, pack, conn.role, conn.player_id)
            else:
                key = conn.role
            held = conn.last_view
            group_key = (key, 0 if held is None else id(held), conn.last_seq_sent)
            group = groups.get(group_key)
            if group is None:
                groups[group_key] = [conn]
            else:
                group.append(conn)
        frames: list[tuple[Connection, bytes, str]] = []
        if not groups:
            return frames
        rows = self._rows.get(room.code)
        if rows is None:
            # Told every change of the room from now on (``on_notice``).
            rows = self._rows[room.code] = views.Rows(Heard())
        rows.forget_gone(room)
        shared = views.Build(room, rows)  # what this push's views share
        built: dict[str, dict[str, Any]] = {}  # the new view, by view key
        squeezed: dict[bytes, Deflated] = {}  # frames compressed alone, by the frame
        streamed: set[str] = set()  # view keys whose stream has had its frame in this push
        states: dict[str, bytes] = {}  # full state frames, by view key
        closed = room.phase == "closed"
        # The biggest groups first: of the groups of one view key, only the
        # first can follow the view's stream (deflate), and it should be the
        # one most connections are in, not a player who just joined.
        # A connection is marked as holding its new view as its frames are
        # computed; if a view cannot be built (a bug), none of the frames is
        # written, so every connection of the push gets a full state next time.
        try:
            for (key, _, held_seq), conns in sorted(groups.items(), key=_biggest_first):
                first = conns[0]
                held = first.last_view
                view = built.get(key)
                made = None
                if view is None:
                    role = first.role or "screen"
                    if held is not None:
                        # Only what changed is built and diffed, when that is known.
                        made = views.patched(
                            held, held_seq, room, pack, now, role, first.player_id, shared=shared
                        )
                    view = built[key] = (
                        made[0]
                        if made is not None
                        else views.build(room, pack, now, role, first.player_id, shared=shared)
                    )
                if made is not None:
                    data: bytes | None = protocol.encode(
                        MessageType.PATCH, seq=seq, base=held_seq, ops=made[1]
                    )
                else:
                    data = None if held is None else _patch_frame(held, held_seq, view, seq)
                kind: str = MessageType.PATCH
                if data is None:
                    kind = MessageType.STATE
                    data = states.get(key)
                    if data is None:
                        data = states[key] = protocol.encode(MessageType.STATE, seq=seq, state=view)
                player = conns[0].role == "player"
                squeeze = len(data) >= deflate.WORTH_FROM and any(c.deflate for c in conns)
                # Full states go to connections that are new or resynced: never in
                # a stream, so they do not take the view's stream from the rest. A
                # patch too big for a stream's level goes alone, at a faster one.
                in_stream, follows, mark = (
                    self._stream_frame(room.code, key, conns, data, streamed)
                    if squeeze
                    and kind == MessageType.PATCH
                    and deflate.level_for(len(data)) == deflate.LEVEL
                    else (None, None, None)
                )
                for conn in conns:
                    if not squeeze or not conn.deflate:
                        frames.append((conn, data, kind))
                    elif (
                        in_stream is not None
                        and conn.deflate == deflate.STREAMS
                        and (follows is None or conn.stream_mark is follows)
                    ):
                        frames.append((conn, in_stream, kind))
                        conn.stream_mark = mark
                    elif kind == MessageType.PATCH and len(data) < deflate.PATCH_ALONE_FROM:
                        # Not worth a compression of its own; sent as it is, it
                        # leaves the client's decompressor (and the stream) alone.
                        frames.append((conn, data, kind))
                    else:
                        frames.append((conn, self._deflated(data, squeezed), kind))
                        conn.stream_mark = None
                    conn.last_seq_sent = seq
                    conn.last_view = view
                    if player:
                        private = self._private_frame(conn, room)
                        if private is not None:
                            frames.append((conn, private, "you"))
                    if closed:
                        frames.append((conn, b"", CLOSE))
        except BaseException:
            for conns in groups.values():
                for conn in conns:
                    _forget_sent(conn)
            raise
        return frames

    def _stream_frame(
        self, code: str, key: str, conns: list[Connection], data: bytes, streamed: set[str]
    ) -> tuple[Deflated | None, object, object]:
        """``data`` as the next frame of the view's stream, the mark it follows, and its own.

        For the connections of ``conns`` that take streams and got every frame
        of the stream so far (they hold the mark it follows; None: anybody can
        read it); the others get ``data`` compressed alone. When
        too many of them are behind (a quarter), or the stream is long enough
        that starting it again costs little, it starts again, with a first
        frame that refers to nothing before it: everybody is in it from then.
        No frame when the view's stream already had its frame in this push
        (another group of the same view key: only one can follow it), or
        when too few connections share the view for a compressor to pay.
        """
        if key in streamed:
            return None, None, None
        streamers = [c for c in conns if c.deflate == deflate.STREAMS]
        if len(streamers) < deflate.STREAM_FROM:
            return None, None, None
        streamed.add(key)
        stream = self._streams.get(code, key)
        if stream is not None:
            behind = sum(1 for c in streamers if c.stream_mark is not stream.mark)
            if behind and (4 * behind >= len(streamers) or stream.frames >= STREAM_RESTART):
                stream = None
        if stream is None:
            stream = self._streams.start(code, key)
            if stream is None:  # as many streams as the process keeps, all busy
                return None, None, None
            after = None  # a first frame: anybody can read it
        else:
            after = stream.mark
        frame = self._streams.deflate(stream, data)
        return frame, after, stream.mark

    @staticmethod
    def _deflated(data: bytes, squeezed: dict[bytes, Deflated]) -> Deflated:
        """``data`` compressed, once per push whatever the number of connections that get it."""
        frame = squeezed.get(data)
        if frame is None:
            frame = squeezed[data] = deflate.deflate(data)
        return frame

    def resync(self, conn: Connection) -> None:
        """The client asked for a full state: send it one with the next push, soon."""
        _forget_sent(conn)
        if conn.code is not None:
            self.schedule(conn.code)

    def _private_frame(self, conn: Connection, room: Room) -> bytes | None:
        """The player's ``you`` frame if it changed since the last one, else None."""
        assert conn.player_id is not None
        # A player's private view is their name, team and points, and in a
        # story round their vote and turn: unchanged, nothing to build (2,000
        # encodes per flush saved in a big room, 8 per line in a story).
        stamp = views.private_stamp(room, conn.player_id)
        if stamp == conn.private_stamp and conn.last_private is not None:
            return None
        conn.private_stamp = stamp
        data = protocol.encode("you", **views.private_view(room, conn.player_id))
        if data == conn.last_private:
            return None
        # A copy of exactly its size: orjson's result keeps the buffer it
        # grew (4 KiB for a 100-byte frame), and this one is kept for the
        # connection's lifetime.
        conn.last_private = data = bytes(memoryview(data))
        return data

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
