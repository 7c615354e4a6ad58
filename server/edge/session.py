"""One connection's conversation: who it is, and the commands its role may send.

A connection says who it is in its first message (join, rejoin, host or
screen); every later frame is parsed against the schemas its role may use
and handed to the command table. Replies to the sender (ack, error) go
straight to its queue; room changes reach it through the hub.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Any

from .. import protocol
from ..errors import BadRequest, ErrorCode, Forbidden, NotFound, RitrovoError
from ..game import changes, circles, flow, rooms
from ..game.models import Player, Role, Room
from ..game.pack import Pack
from ..protocol import CloseCode, MessageType
from ..service import GameService, NoChange, hash_token, new_token, normalize_code
from .commands import HOST_COMMANDS, PLAYER_COMMANDS, Caller
from .connection import Connection
from .guards import AttemptLimiter
from .health import StoreHealth
from .hub import RoomHub
from .presence import Presence
from .routing import Router

log = logging.getLogger(__name__)

# Failed openings that count against the attempt limit of the address.
GUESSES = frozenset({ErrorCode.ROOM_NOT_FOUND, ErrorCode.BAD_HOST_TOKEN, ErrorCode.UNKNOWN_TOKEN})

SCHEMAS: dict[Role, dict[str, type[protocol.Message]]] = {
    "player": protocol.PLAYER,
    "host": protocol.HOST,
    "screen": protocol.SCREEN,
}


class Session:
    """Handles the frames of one connection: its opening, then its commands."""

    __slots__ = ("attempts", "conn", "health", "hub", "presence", "router", "service")

    def __init__(
        self,
        conn: Connection,
        service: GameService,
        hub: RoomHub,
        health: StoreHealth,
        presence: Presence,
        attempts: AttemptLimiter,
        router: Router | None = None,
    ) -> None:
        self.conn = conn
        self.router = router
        self.service = service
        self.hub = hub
        self.health = health
        self.presence = presence
        self.attempts = attempts

    def allowed(self) -> dict[str, type[protocol.Message]]:
        """The schemas this connection may send now."""
        return protocol.OPENING if self.conn.role is None else SCHEMAS[self.conn.role]

    async def handle(self, msg: protocol.Message) -> None:
        conn = self.conn
        if conn.role is None:
            await self.open(msg)
            return
        if isinstance(msg, protocol.Ping):
            conn.send_message(MessageType.PONG, id=msg.id, server_time=self.service.clock())
            return
        if isinstance(msg, protocol.Resync):  # answered by a full state, not an ack
            self.hub.resync(conn)
            return
        assert conn.code is not None
        table = PLAYER_COMMANDS if conn.role == "player" else HOST_COMMANDS
        command = table.get(type(msg))
        if command is None:  # the schemas let through only what the tables hold
            raise BadRequest("unsupported message", code=ErrorCode.UNKNOWN_TYPE)
        self.health.require()
        caller = Caller(self.service, conn.code, conn.player_id or "")
        # A flush may run before this handler resumes: it must leave a
        # leaving player's connection to the ack and close below.
        conn.leaving = isinstance(msg, protocol.Leave)
        try:
            if self.router is None:
                result = await command(caller, msg)
            else:  # at the owner of a hot room, if another process owns it
                result = await self.router.run(caller, msg, command)
        except BaseException:
            if conn.leaving:
                # Refused (or its answer lost). A flush meanwhile may have
                # left this connection alone for the leave while its player
                # was removed another way (kicked): the next one tells it.
                conn.leaving = False
                self.hub.schedule(conn.code)
            raise
        reply: dict[str, Any] = {"id": msg.id, "of": msg.type}
        if result is not None:
            reply["result"] = result
        conn.send_message(MessageType.ACK, **reply)
        if isinstance(msg, protocol.Leave):
            conn.close_after_sending(CloseCode.NORMAL, "left the room")

    # -- opening -------------------------------------------------------------

    async def open(self, msg: protocol.Message) -> None:
        self.health.require()
        async with self.attempts.attempt("join", self.conn.address) as attempt:
            typed = getattr(msg, "room", "")
            if not typed:
                raise BadRequest("room code missing", code=ErrorCode.INVALID_FIELD)
            code = normalize_code(typed)
            try:
                if not code:  # cannot be a room: answered as an unknown one, and counted
                    raise NotFound("no such room", code=ErrorCode.ROOM_NOT_FOUND)
                with self.hub.watching(code):
                    await self._open(code, msg)
            except (NotFound, Forbidden) as exc:
                # What guessing looks like: a code, a host token or a resume
                # token that does not exist. A kicked player, a full room or a
                # team since deleted is not a guess and is not counted.
                attempt.failed = exc.code in GUESSES
                raise

    async def _open(self, code: str, msg: protocol.Message) -> None:
        if isinstance(msg, protocol.Join):
            await self._join(code, msg)
        elif isinstance(msg, protocol.Rejoin):
            await self._rejoin(code, msg)
        elif isinstance(msg, protocol.Host):
            room = await self.service.load(code, fresh=True)
            if not hmac.compare_digest(hash_token(msg.token), room.host_token_hash):
                raise Forbidden("wrong host token", code=ErrorCode.BAD_HOST_TOKEN)
            rooms.require_open(room)
            seen = room.seq
            if rooms.is_unused(room):
                # The facilitator opened the console: the room is in use, and
                # keeps its place for the full TTL, not the unused-room one.
                seen = await self._mark_used(code)
            await self._enter("host", code, None, {"role": "host", "room": code}, seen)
        else:
            room = await self.service.load(code, fresh=True)
            rooms.require_open(room)
            await self._enter("screen", code, None, {"role": "screen", "room": code}, room.seq)

    async def _mark_used(self, code: str) -> int:
        """Commit the room's first change; returns the seq the host must be sent at least."""

        def use(room: Room, pack: Pack | None, now: float) -> int:
            if not rooms.is_unused(room):
                raise NoChange
            changes.meta(room)
            return room.seq + 1  # the version this commit writes

        _, seq = await self.service.execute(code, use)
        return seq or 0

    async def _join(self, code: str, msg: protocol.Join) -> None:
        if msg.device is not None and not circles.valid_token(msg.device):
            raise BadRequest(
                "device must be 22 to 64 URL-safe characters", code=ErrorCode.INVALID_FIELD
            )
        token = new_token()
        instance = self.presence.instance
        circle: dict[str, str] = {}
        seats: list[int] = []

        def action(room: Room, pack: Pack | None, now: float) -> dict[str, str]:
            player = rooms.join(
                room, name=msg.name, team_id=msg.team, token_hash=hash_token(token), now=now
            )
            rooms.connect(room, player, now, instance)
            flow.on_player_joined(room, pack, player.id, now)
            if room.circle:
                circle.update(id=room.circle, name=room.circle_name)
            seats[:] = [room.max_players]
            return _who(player)

        await self.presence.track(code, self.hub.rooms)
        _, player = await self.service.execute(code, action)
        extra: dict[str, Any] = {"token": token}
        if circle:
            extra["circle"] = circle
            if msg.device is not None:
                await self._arrive(code, circle["id"], msg.device, player, seats[0])
        await self._enter_as_player(code, player, extra)

    async def _arrive(
        self, code: str, circle_id: str, device: str, player: dict[str, str], seats: int
    ) -> None:
        """The joined player is a member of the room's circle: a returning one, or a new one.

        After the join: a name the room refuses makes no member. A circle gone
        meanwhile, full or unreachable leaves the player in the room as a guest,
        as does a new member past the room's share (``seats``, its player limit:
        a room code alone cannot fill a circle by joining and leaving).
        """
        circles_service = self.service.circles
        if circles_service is None:
            return
        player_id = player["id"]

        def remember(member: str) -> Callable[[Room, Pack | None, float], None]:
            def rule(room: Room, pack: Pack | None, now: float) -> None:
                if not rooms.set_member(room, player_id, member):
                    raise NoChange

            return rule

        try:
            member = await circles_service.arrive(
                circle_id, device, player["name"], room=code, room_limit=seats
            )
            if member is not None:
                await self.service.execute(code, remember(member))
        except RitrovoError as exc:  # full, or a store failing: the join stands
            log.info("joined as a guest of the circle: %s", exc.code, extra=self.conn.log_extra)

    async def _rejoin(self, code: str, msg: protocol.Rejoin) -> None:
        token_hash = hash_token(msg.token)
        instance = self.presence.instance
        circle: dict[str, str] = {}

        def action(room: Room, pack: Pack | None, now: float) -> dict[str, str]:
            rooms.require_open(room)
            player = rooms.player_by_token(room, token_hash)
            rooms.connect(room, player, now, instance)
            flow.on_presence_changed(room, pack, now)
            if room.circle:
                circle.update(id=room.circle, name=room.circle_name)
            return _who(player)

        await self.presence.track(code, self.hub.rooms)
        _, player = await self.service.execute(code, action)
        await self._enter_as_player(code, player, {"circle": circle} if circle else {})

    async def _enter_as_player(
        self, code: str, player: dict[str, str], extra: dict[str, Any]
    ) -> None:
        # Who the player is comes from the command's own result: by the time
        # this runs, the shared room may hold the next commands' changes.
        welcome = {"role": "player", "room": code, **extra, "player": player}
        await self._enter("player", code, player["id"], welcome)

    async def _enter(
        self,
        role: Role,
        code: str,
        player_id: str | None,
        welcome: dict[str, Any],
        seen: int = 0,
    ) -> None:
        """Join the hub, say welcome, and send the room as committed (``seen`` or newer)."""
        conn = self.conn
        conn.role, conn.code, conn.player_id = role, code, player_id
        self.hub.add(conn)
        log.info("entered room as %s", role, extra=conn.log_extra)
        conn.send_message(MessageType.WELCOME, server_time=self.service.clock(), **welcome)
        current, pack = await self.service.current(code, min_seq=seen)
        self.hub.push(current, pack, [conn])
        self.hub.caught_up(code, current.seq)


def _who(player: Player) -> dict[str, str]:
    """The player as the ``welcome`` message names them."""
    return {"id": player.id, "name": player.name, "team_id": player.team_id}
