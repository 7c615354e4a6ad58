"""The WebSocket edge: connections, the per-process room hub, and commands.

A connection says who it is in its first message (join, rejoin, host or
screen); every later frame is parsed against the schemas its role may use and
handed to ``GameService``. Replies to the sender (ack, error) go straight to
its queue. Room changes come back as store notices, from this process or any
other, and the hub turns them into ``state`` frames: coalesced to at most one
per room per flush interval, built once per distinct view and encoded once
for all connections that share it.

Ordering: a connection is sent a room's state only if its ``seq`` is newer
than the last one it was sent, so it never sees an older state after a newer
one, whatever order loads finish in. Every state is complete, so skipping
intermediate seqs loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from . import protocol
from .config import Settings
from .errors import BadRequest, Forbidden, LimitExceeded, NotFound, RitrovoError, StoreUnavailable
from .game import flow, riddles, rooms, stories, views
from .game.models import Role, Room
from .game.pack import Pack
from .http import check_origin, client_address
from .metrics import Metrics
from .service import GameService, hash_token, new_token, normalize_code

log = logging.getLogger(__name__)
_connection_ids = itertools.count(1)
STRIKE_WINDOW = 10.0  # seconds over which rate-limited messages add up to abuse

ATTEMPT_WINDOW_SECONDS = 60
PAUSED_MESSAGE = "the game store is unreachable: the game is paused and will resume by itself"
RESUMED_MESSAGE = "the game store is back: the game goes on"


class Connection:
    """One WebSocket and its bounded send queue."""

    def __init__(
        self, ws: web.WebSocketResponse, address: str, settings: Settings, metrics: Metrics
    ) -> None:
        self.ws = ws
        self.id = next(_connection_ids)
        self.address = address
        self.metrics = metrics
        self.role: Role | None = None
        self.code: str | None = None
        self.player_id: str | None = None
        self.last_seq_sent = -1
        self.last_private: bytes | None = None
        self.queue: asyncio.Queue[bytes | tuple[int, str]] = asyncio.Queue(
            maxsize=settings.send_queue_frames + 1
        )
        self.sender: asyncio.Task[None] | None = None
        self.closing = False
        self._rate = settings.messages_per_second
        self._burst = float(settings.message_burst)
        self._tokens = self._burst
        self._refilled = time.monotonic()
        self.strikes = 0  # rate-limited messages in the current strike window
        self._strikes_since = time.monotonic()

    def strike(self) -> int:
        """Count a rate-limited message; return the count for this window.

        Only sustained flooding closes a connection: the count starts over
        every STRIKE_WINDOW seconds.
        """
        now = time.monotonic()
        if now - self._strikes_since > STRIKE_WINDOW:
            self.strikes, self._strikes_since = 0, now
        self.strikes += 1
        return self.strikes

    @property
    def log_extra(self) -> dict[str, Any]:
        return {"conn": self.id, "room": self.code}

    def send(self, data: bytes, kind: str) -> None:
        """Queue an encoded frame without waiting; a client too slow to drain its queue is dropped."""
        if self.closing:
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            log.info("connection too slow; dropping it", extra=self.log_extra)
            self.close_soon(protocol.CLOSE_TOO_SLOW, "too slow: reconnect to resync")
            return
        self.metrics.message_out(kind)

    def send_message(self, kind: str, **fields: Any) -> None:
        self.send(protocol.encode(kind, **fields), kind)

    def send_error(self, exc: RitrovoError, request_id: str | int | None = None) -> None:
        self.metrics.error(exc.code)
        self.send(protocol.error(exc.code, exc.message, request_id), "error")

    def close_soon(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        asyncio.get_running_loop().create_task(self.ws.close(code=code, message=reason.encode()))

    def close_after_sending(self, code: int, reason: str) -> None:
        """Close once every frame queued so far has gone out (a final state, an ack)."""
        if self.closing:
            return
        self.closing = True
        try:
            self.queue.put_nowait((code, reason))
        except asyncio.QueueFull:
            asyncio.get_running_loop().create_task(
                self.ws.close(code=code, message=reason.encode())
            )

    async def run_sender(self) -> None:
        while True:
            item = await self.queue.get()
            if self.ws.closed:
                return
            if isinstance(item, tuple):
                await self.ws.close(code=item[0], message=item[1].encode())
                return
            await self.ws.send_frame(item, WSMsgType.TEXT)

    def take_token(self) -> bool:
        """Token bucket: ``message_burst`` at once, ``messages_per_second`` sustained."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class RoomHub:
    """This process's connections, grouped by room, and the fan-out of room changes."""

    def __init__(
        self, service: GameService, settings: Settings, metrics: Metrics | None = None
    ) -> None:
        self.service = service
        self.settings = settings
        self.metrics = metrics or Metrics()
        # Names this process in the players' connection counts, so that the
        # counts of a process that dies can be taken back (see timers.py).
        self.instance = ""
        self._tracked: set[str] = set()  # rooms already recorded under this instance
        self.rooms: dict[str, set[Connection]] = {}
        self.connected: set[Connection] = set()  # every open connection, identified or not
        self.per_address: Counter[str] = Counter()
        self.store_available = True
        self.closing = False  # shutting down: no new connections
        self._wanted_seq: dict[str, int] = {}
        self._watching: Counter[str] = Counter()  # openings in progress, by room
        self._stale: set[str] = set()  # rooms to reload from the store, not the cache
        self._noticed_at: dict[str, float] = {}  # first unflushed notice, for the latency metric
        self._scheduled: dict[str, asyncio.TimerHandle] = {}
        self._last_flush: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lost_disconnects: list[tuple[str, str]] = []  # (room, player) not saved in an outage

    # -- connections -------------------------------------------------------

    def admit(self, address: str) -> None:
        """Check that one more connection from ``address`` may open (before the upgrade)."""
        if self.closing:
            raise StoreUnavailable(
                "the server is restarting; connect again", code="server_restarting"
            )
        if self.per_address[address] >= self.settings.max_connections_per_address:
            raise LimitExceeded(
                f"too many connections from your address (at most {self.settings.max_connections_per_address})",
                code="too_many_connections",
            )

    def opened(self, conn: Connection) -> None:
        self.connected.add(conn)
        self.per_address[conn.address] += 1

    def closed(self, conn: Connection) -> None:
        self.connected.discard(conn)
        self.per_address[conn.address] -= 1
        if self.per_address[conn.address] <= 0:
            del self.per_address[conn.address]
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
                conn.close_soon(protocol.CLOSE_ROOM_GONE, "room deleted")
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
                conn.close_soon(protocol.CLOSE_ROOM_GONE, "room not found")
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
                    conn.close_after_sending(protocol.CLOSE_KICKED, "removed from the room")
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
                conn.close_after_sending(protocol.CLOSE_ROOM_CLOSED, "the host closed the room")

    def _send_private(self, conn: Connection, room: Room, pack: Pack | None, now: float) -> None:
        assert conn.player_id is not None
        data = protocol.encode("you", **views.private_view(room, conn.player_id))
        if data != conn.last_private:
            conn.last_private = data
            conn.send(data, "you")

    # -- store outages -------------------------------------------------------

    def store_lost(self) -> None:
        if not self.store_available:
            return
        self.store_available = False
        self.metrics.store_up.set(0)
        log.error("store unreachable: game paused on this process")
        self.broadcast("notice", code="store_unavailable", message=PAUSED_MESSAGE)

    async def store_back(self) -> None:
        if self.store_available:
            return
        self.store_available = True
        self.metrics.store_up.set(1)
        log.warning("store reachable again: resuming")
        lost, self._lost_disconnects = self._lost_disconnects, []
        for code, player_id in lost:
            await disconnect_player(self, code, player_id)
        self.broadcast("notice", code="store_available", message=RESUMED_MESSAGE)
        self.resync_all()

    async def track_room(self, code: str) -> None:
        """Record, before counting a connection there, that this process serves ``code``.

        Done before the count is committed, so a process that dies at any point
        after it can have its connections found and taken back.
        """
        if code not in self.rooms and code not in self._tracked:
            await self.service.store.beat(self.instance, time.time(), [code])
            self._tracked.add(code)

    def remember_disconnect(self, code: str, player_id: str) -> None:
        self._lost_disconnects.append((code, player_id))

    def require_store(self) -> None:
        """Refuse a command at once while the store is known to be down."""
        if not self.store_available:
            raise StoreUnavailable(PAUSED_MESSAGE, code="store_unavailable")

    # -- shutdown ------------------------------------------------------------

    async def close_all(self, code: int, reason: str, timeout: float = 2.0) -> None:
        """Tell every client to reconnect, let queued frames go out, and close (bounded)."""
        self.closing = True
        conns = list(self.connected)
        for conn in conns:
            conn.send_message("notice", code="service_restart", message=reason)
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


Action = Callable[[Room, Pack | None, float], Any]


class Session:
    """Handles the frames of one connection once it knows its role."""

    def __init__(self, conn: Connection, hub: RoomHub, settings: Settings) -> None:
        self.conn = conn
        self.hub = hub
        self.service = hub.service
        self.settings = settings

    # -- opening ---------------------------------------------------------

    async def _check_attempts(self) -> None:
        """Refuse openings from an address that failed too often this minute.

        Only failures count (unknown room, wrong token): a whole office behind
        one address may join at once, while guessing room codes or tokens is
        nothing but failures. The count is shared by every process.
        """
        failures = await self.service.store.hit(
            "join:" + self.conn.address, ATTEMPT_WINDOW_SECONDS, self.service.clock(), amount=0
        )
        if failures >= self.settings.join_attempts_per_minute:
            raise LimitExceeded(
                "too many attempts to enter rooms; wait a minute", code="too_many_attempts"
            )

    async def _count_failed_attempt(self) -> None:
        with contextlib.suppress(RitrovoError):
            await self.service.store.hit(
                "join:" + self.conn.address, ATTEMPT_WINDOW_SECONDS, self.service.clock()
            )

    async def open(self, msg: protocol.Message) -> None:
        self.hub.require_store()
        await self._check_attempts()
        code = normalize_code(getattr(msg, "room", ""))
        if not code:
            raise BadRequest("room code missing", code="invalid_field")
        try:
            with self.hub.watching(code):
                await self._open(code, msg)
        except (NotFound, Forbidden) as exc:
            # What guessing looks like. A stale link (kicked, unknown token, a
            # team since deleted) is an honest mistake and is not counted.
            if exc.code in ("room_not_found", "bad_host_token"):
                await self._count_failed_attempt()
            raise

    async def _open(self, code: str, msg: protocol.Message) -> None:
        if isinstance(msg, protocol.Join):
            await self._join(code, msg)
        elif isinstance(msg, protocol.Rejoin):
            await self._rejoin(code, msg)
        elif isinstance(msg, protocol.Host):
            room = await self.service.load(code, fresh=True)
            if not hmac.compare_digest(hash_token(msg.token), room.host_token_hash):
                raise Forbidden("wrong host token", code="bad_host_token")
            rooms.require_open(room)
            await self._enter("host", code, None, room, {"role": "host", "room": code})
        else:
            room = await self.service.load(code, fresh=True)
            rooms.require_open(room)
            await self._enter("screen", code, None, room, {"role": "screen", "room": code})

    async def _join(self, code: str, msg: protocol.Join) -> None:
        token = new_token()

        def action(room: Room, pack: Pack | None, now: float) -> str:
            player = rooms.join(
                room, name=msg.name, team_id=msg.team, token_hash=hash_token(token), now=now
            )
            rooms.connect(room, player, now, self.hub.instance)
            flow.on_player_joined(room, pack, player.id, now)
            return player.id

        await self.hub.track_room(code)
        room, player_id = await self.service.execute(code, action)
        player = room.players[player_id]
        welcome = {
            "role": "player",
            "room": code,
            "token": token,
            "player": {"id": player.id, "name": player.name, "team_id": player.team_id},
        }
        await self._enter("player", code, player_id, room, welcome)

    async def _rejoin(self, code: str, msg: protocol.Rejoin) -> None:
        token_hash = hash_token(msg.token)

        def action(room: Room, pack: Pack | None, now: float) -> str:
            rooms.require_open(room)
            player = rooms.player_by_token(room, token_hash)
            rooms.connect(room, player, now, self.hub.instance)
            flow.on_presence_changed(room, pack, now)
            return player.id

        await self.hub.track_room(code)
        room, player_id = await self.service.execute(code, action)
        player = room.players[player_id]
        welcome = {
            "role": "player",
            "room": code,
            "player": {"id": player.id, "name": player.name, "team_id": player.team_id},
        }
        await self._enter("player", code, player_id, room, welcome)

    async def _enter(
        self,
        role: Role,
        code: str,
        player_id: str | None,
        room: Room,
        welcome: dict[str, Any],
    ) -> None:
        conn = self.conn
        conn.role, conn.code, conn.player_id = role, code, player_id
        self.hub.add(conn)
        log.info("entered room as %s", role, extra=conn.log_extra)
        conn.send_message("welcome", server_time=self.service.clock(), **welcome)
        pack = await self.service.get_pack(room.pack_id)
        self.hub.push(room, pack, [conn])
        self.hub.caught_up(code, room.seq)

    # -- commands --------------------------------------------------------

    def allowed(self) -> dict[str, type[protocol.Message]]:
        if self.conn.role is None:
            return protocol.OPENING
        return {"player": protocol.PLAYER, "host": protocol.HOST, "screen": protocol.SCREEN}[
            self.conn.role
        ]

    async def handle(self, msg: protocol.Message) -> None:
        conn = self.conn
        if conn.role is None:
            await self.open(msg)
            return
        if msg.type == "ping":
            conn.send_message("pong", id=msg.id, server_time=self.service.clock())
            return
        assert conn.code is not None
        action = (self._player_action if conn.role == "player" else self._host_action)(msg)
        self.hub.require_store()
        if isinstance(msg, protocol.ChoosePack) and await self.service.get_pack(msg.pack) is None:
            # Checked here, not in the rule: an uploaded pack is looked up in the store.
            raise NotFound("no such pack", code="pack_not_found")
        _, result = await self.service.execute(conn.code, action)
        reply: dict[str, Any] = {"id": msg.id, "of": msg.type}
        if result is not None:
            reply["result"] = result
        conn.send_message("ack", **reply)
        if msg.type == "leave":
            conn.close_after_sending(1000, "left the room")

    def _player_action(self, msg: protocol.Message) -> Action:
        player_id = self.conn.player_id
        assert player_id is not None

        def me(room: Room) -> None:
            rooms.require_open(room)
            rooms.get_player(room, player_id)

        if isinstance(msg, protocol.GuessMsg):
            text = msg.text

            def guess(room: Room, pack: Pack | None, now: float) -> dict[str, Any]:
                me(room)
                outcome = riddles.guess(room, pack, player_id, text, now)
                return {
                    "verdict": outcome.verdict,
                    "nudge": outcome.nudge,
                    "points": outcome.points,
                }

            return guess
        if isinstance(msg, protocol.Hint):

            def hint(room: Room, pack: Pack | None, now: float) -> dict[str, Any]:
                me(room)
                return {"hint": riddles.open_hint(room, pack, player_id, now)}

            return hint
        if isinstance(msg, protocol.Line):
            line_text = msg.text

            def line(room: Room, pack: Pack | None, now: float) -> None:
                me(room)
                stories.submit_line(room, flow.story_round(room, pack), player_id, line_text, now)

            return line
        if isinstance(msg, protocol.Vote):
            team = msg.team

            def vote(room: Room, pack: Pack | None, now: float) -> None:
                me(room)
                flow.story_round(room, pack)
                stories.vote(room, player_id, team, now)

            return vote
        if isinstance(msg, protocol.Leave):

            def leave(room: Room, pack: Pack | None, now: float) -> None:
                rooms.leave(room, player_id, now)
                flow.on_presence_changed(room, pack, now)

            return leave
        raise BadRequest("unsupported message", code="unknown_type")

    def _host_action(self, msg: protocol.Message) -> Action:
        if self.conn.role != "host":
            raise Forbidden("only the host can do that", code="forbidden")
        kind = msg.type
        m: Any = msg
        simple: dict[str, Action] = {
            "create_team": lambda r, p, now: {"team": rooms.create_team(r, m.name).id},
            "rename_team": lambda r, p, now: _none(rooms.rename_team(r, m.team, m.name)),
            "delete_team": lambda r, p, now: rooms.delete_team(r, m.team),
            "move_player": lambda r, p, now: flow.move_player(r, p, m.player, m.team, now),
            "kick": lambda r, p, now: flow.kick(r, p, m.player, now),
            "lock": lambda r, p, now: rooms.set_locked(r, m.locked),
            "close": lambda r, p, now: flow.close(r, now),
            "next": lambda r, p, now: {"step": flow.advance(r, p, now)},
            "pause": lambda r, p, now: flow.pause(r, p, now),
            "resume": lambda r, p, now: flow.resume(r, p, now),
            "extend": lambda r, p, now: flow.extend(r, p, m.seconds, now),
            "reveal": lambda r, p, now: flow.reveal(r, p, now),
            "skip": lambda r, p, now: riddles.skip(r, p, now),
            "accept_guess": lambda r, p, now: riddles.accept_guess(r, p, m.team, m.guess, now),
            "hide_line": lambda r, p, now: _in_story(
                r, p, lambda: stories.hide_line(r, m.team, m.line, m.hidden)
            ),
            "auto_advance": lambda r, p, now: flow.set_auto_advance(r, m.enabled),
            "end_writing": lambda r, p, now: _in_story(r, p, lambda: stories.end_writing(r, now)),
            "close_voting": lambda r, p, now: stories.close_voting(r, flow.story_round(r, p), now),
            "finish": lambda r, p, now: flow.finish(r, now, p),
        }
        if kind == "choose_pack":
            pack_id = m.pack

            def choose(r: Room, p: Pack | None, now: float) -> None:
                flow.choose_pack(r, pack_id)

            return choose
        action = simple.get(kind)
        if action is None:
            raise BadRequest("unsupported message", code="unknown_type")

        def guarded(room: Room, pack: Pack | None, now: float) -> Any:
            rooms.require_open(room)
            return action(room, pack, now)

        return guarded


def _none(_: object) -> None:
    """Run for the side effect (or the check) only; the ack carries no result."""
    return


def _in_story(room: Room, pack: Pack | None, action: Callable[[], None]) -> None:
    """Run a story command only while a story round is running."""
    flow.story_round(room, pack)
    action()


async def websocket_handler(request: web.Request) -> web.StreamResponse:
    from .app import HUB, SETTINGS  # the app module imports this one

    settings = request.app[SETTINGS]
    hub = request.app[HUB]
    # Both checks answer with a plain HTTP error before the upgrade (403, 429),
    # which browsers and libraries report clearly.
    check_origin(request, settings)
    address = client_address(request, settings.trusted_proxies)
    hub.admit(address)
    # The soft limit answers an over-size frame with an error and keeps the
    # connection; aiohttp's hard limit (4x) closes it with 1009.
    # compress=False: per-message deflate compresses every state frame again
    # for each connection and keeps ~120 KiB of compressor state per socket;
    # the bench measured it as the largest cost of a broadcast.
    ws = web.WebSocketResponse(
        max_msg_size=settings.max_frame_bytes * 4, heartbeat=20.0, timeout=2.0, compress=False
    )
    conn = Connection(ws, address, settings, hub.metrics)
    # Counted before the first await, so a burst of upgrades cannot overshoot.
    hub.opened(conn)
    hello_timer: asyncio.TimerHandle | None = None
    try:
        await ws.prepare(request)
        log.info("connection opened", extra=conn.log_extra)
        session = Session(conn, hub, settings)
        conn.sender = asyncio.create_task(conn.run_sender(), name=f"ws-send-{conn.id}")

        def hello_timeout() -> None:
            if conn.role is None:
                conn.close_soon(protocol.CLOSE_HELLO_TIMEOUT, "say who you are first")

        hello_timer = asyncio.get_running_loop().call_later(settings.hello_timeout, hello_timeout)
        async for frame in ws:
            await _receive(session, frame)
    finally:
        if hello_timer is not None:
            hello_timer.cancel()
        hub.closed(conn)
        if conn.role == "player" and conn.code and conn.player_id:
            await disconnect_player(hub, conn.code, conn.player_id)
        if conn.sender is not None:
            conn.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await conn.sender
        log.info("connection closed (%s)", ws.close_code, extra=conn.log_extra)
    return ws


async def _receive(session: Session, frame: Any) -> None:
    conn = session.conn
    metrics = session.hub.metrics
    request_id: str | int | None = None
    if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
        return  # close, error: aiohttp ends the loop and answers the peer itself
    kind = "invalid"
    try:
        if frame.type == WSMsgType.BINARY:
            kind = "binary"
            raise BadRequest(
                "binary frames are not supported; send JSON text", code="binary_not_supported"
            )
        if not conn.take_token():
            kind = "rate_limited"
            if conn.strike() >= session.settings.abuse_strikes:
                log.warning("closing a flooding connection", extra=conn.log_extra)
                conn.close_soon(protocol.CLOSE_ABUSE, "too many messages")
            raise LimitExceeded("slow down: too many messages", code="rate_limited")
        data: str = frame.data
        if len(data.encode()) > session.settings.max_frame_bytes:
            raise BadRequest(
                f"message larger than {session.settings.max_frame_bytes} bytes",
                code="frame_too_large",
            )
        msg = protocol.parse(data, session.allowed())
        kind = msg.type
        request_id = msg.id
        await session.handle(msg)
    except RitrovoError as exc:
        if (
            request_id is None
            and frame.type == WSMsgType.TEXT
            and len(frame.data) <= 4 * session.settings.max_frame_bytes
        ):
            request_id = protocol.request_id_of(frame.data)
        conn.send_error(exc, request_id)
    except Exception:
        log.exception("unexpected error", extra=conn.log_extra)
        conn.metrics.error("internal_error")
        conn.send(
            protocol.error("internal_error", "something went wrong on the server", request_id),
            "error",
        )
    finally:
        metrics.message_in(kind)


async def disconnect_player(hub: RoomHub, code: str, player_id: str) -> None:
    """Record that one of the player's connections dropped (presence)."""

    def action(room: Room, pack: Pack | None, now: float) -> None:
        rooms.disconnect(room, player_id, now, hub.instance)
        flow.on_presence_changed(room, pack, now)

    try:
        await hub.service.execute(code, action)
    except StoreUnavailable:
        # Saved when the store is back, or the player would look connected
        # forever. Connections are counted, so the replay is correct even if
        # the player reconnected meanwhile.
        hub.remember_disconnect(code, player_id)
    except RitrovoError:
        pass


async def watch_store(hub: RoomHub, interval: float) -> None:
    """Ping the store; tell this process's clients when the game pauses and resumes."""
    while True:
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for may eat a
            # cancellation, and this task must stop when the app does.
            async with asyncio.timeout(max(interval, 1.0)):
                await hub.service.store.ping()
        except (RitrovoError, TimeoutError):
            hub.store_lost()
        except Exception:
            log.exception("store health check failed")
            hub.store_lost()
        else:
            await hub.store_back()
        await asyncio.sleep(interval)
