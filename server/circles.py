"""Circles in the store: load a circle, apply a rule of ``game/circles.py``, compare-and-set.

The twin of ``service.py`` for circles, far smaller: a circle changes seldom
(a member arrives, a room records its session), so a writer that loses the
compare-and-set reads the circle again and retries. A circle is stored as
parts in one hash (``store/keys.circle``): ``meta`` (name, the facilitator
token's hash, the last room), ``m:<member>`` (one member: name, the device
token's hash, first and last seen) and ``s:<room code>`` (one session: its
coffee groups and team rosters as member ids), at most ``keep`` sessions and
``max_members`` members. Every write gives the circle ``ttl`` more seconds:
a circle unused for that long (180 days by default) is gone, with
everything it kept.

Tokens are never stored, only their sha256; a member is found by the hash of
the device token their browser keeps.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import orjson

from .errors import ErrorCode, StoreUnavailable
from .game import circles
from .game.circles import Circle, CircleMember, CircleMeta, CircleSession
from .game.models import Room
from .game.pairing import session_groups
from .store.base import CircleStorage, Stored

T = TypeVar("T")
Clock = Callable[[], float]

# Retries of a write that lost its compare-and-set (circle writes are rare:
# losing this many times in a row means something is wrong).
ATTEMPTS = 8
# Rooms whose last recorded session this process remembers (to skip writes
# that would change nothing, such as the teams at every riddle).
RECORDED_ROOMS = 1000


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_circle_id() -> str:
    """16 URL-safe characters (96 random bits): the circle's link, unguessable."""
    return secrets.token_urlsafe(12)


def decode(circle_id: str, stored: Stored) -> Circle:
    meta = msgspec.json.decode(stored.parts[circles.META], type=CircleMeta)
    circle = Circle(circle_id, meta)
    for name, data in stored.parts.items():
        if name.startswith(circles.MEMBER):
            member = msgspec.json.decode(data, type=CircleMember)
            circle.members[member.id] = member
        elif name.startswith(circles.SESSION):
            session = msgspec.json.decode(data, type=CircleSession)
            circle.sessions[session.room] = session
    return circle


def encode_part(circle: Circle, name: str) -> bytes | None:
    """A part's bytes, or None when the circle no longer has it."""
    value: Any
    if name == circles.META:
        value = circle.meta
    elif name.startswith(circles.MEMBER):
        value = circle.members.get(name[len(circles.MEMBER) :])
    else:
        value = circle.sessions.get(name[len(circles.SESSION) :])
    return None if value is None else orjson.dumps(value)


class CircleService:
    """Circles over a ``CircleStorage``: creation, members, sessions, history, export."""

    def __init__(
        self,
        store: CircleStorage,
        clock: Clock = time.time,
        *,
        ttl: float = 180 * 24 * 3600,
        keep: int = circles.DEFAULT_KEEP_SESSIONS,
        max_members: int = circles.DEFAULT_MAX_MEMBERS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ttl = ttl
        self.keep = keep
        self.max_members = max_members
        # room code -> (circle, what was last recorded): see ``record``.
        self._recorded: OrderedDict[str, tuple[str, Any]] = OrderedDict()

    async def create(self, name: object) -> tuple[Circle, str]:
        """A new circle and its facilitator token (refused: a bad name)."""
        now = self.clock()
        token = secrets.token_urlsafe(24)
        circle = circles.new_circle(new_circle_id(), name, _hash(token), now)
        for _ in range(5):
            parts = {circles.META: orjson.dumps(circle.meta)}
            if await self.store.create_circle(circle.id, parts, ttl=self.ttl, now=now):
                return circle, token
            circle.id = new_circle_id()
        raise StoreUnavailable("could not find a free circle id", code=ErrorCode.BUSY)

    async def load(self, circle_id: str) -> Circle | None:
        """The circle, or None (no such circle; an id of the wrong shape is not looked up)."""
        if not circles.valid_id(circle_id):
            return None
        stored = await self.store.load_circle(circle_id, now=self.clock())
        return None if stored is None else decode(circle_id, stored)

    async def facilitated(self, circle_id: str, token: str) -> Circle | None:
        """The circle if ``token`` is its facilitator token; None for no circle and a wrong token alike."""
        if not circles.valid_token(token):
            return None
        circle = await self.load(circle_id)
        if circle is None or not hmac.compare_digest(_hash(token), circle.meta.token_hash):
            return None
        return circle

    async def member(self, circle_id: str, device_token: str) -> tuple[Circle, str] | None:
        """The circle and the member of ``device_token``; None for no circle and no member alike."""
        if not circles.valid_token(device_token):
            return None
        circle = await self.load(circle_id)
        if circle is None:
            return None
        found = circle.member_by_device(_hash(device_token))
        return None if found is None else (circle, found.id)

    async def change(
        self, circle_id: str, rule: Callable[[Circle, float], tuple[list[str], T]]
    ) -> T | None:
        """Apply ``rule`` (returns the parts it changed and a result) and commit; None if no circle."""
        for _ in range(ATTEMPTS):
            if not circles.valid_id(circle_id):
                return None
            now = self.clock()
            stored = await self.store.load_circle(circle_id, now=now)
            if stored is None:
                return None
            circle = decode(circle_id, stored)
            changed, result = rule(circle, now)
            if not changed:
                return result
            written: dict[str, bytes] = {}
            gone: list[str] = []
            for name in dict.fromkeys(changed):
                data = encode_part(circle, name)
                if data is None:
                    gone.append(name)
                else:
                    written[name] = data
            ok = await self.store.commit_circle(
                circle_id, stored.version, written, gone, ttl=self.ttl, now=now
            )
            if ok:
                return result
        raise StoreUnavailable("the circle is too busy; try again", code=ErrorCode.BUSY)

    async def opened(self, circle_id: str, code: str) -> None:
        """A room was opened in the circle: it is in use, and its link leads to that room."""

        def rule(circle: Circle, now: float) -> tuple[list[str], None]:
            circle.meta.room = code
            circle.meta.used_at = now
            return [circles.META], None

        await self.change(circle_id, rule)

    async def arrive(self, circle_id: str, device_token: str, name: str) -> str | None:
        """The member id of ``device_token`` in the circle (a new member the first time); None if no circle."""
        device_hash = _hash(device_token)

        def rule(circle: Circle, now: float) -> tuple[list[str], str]:
            member, changed = circles.arrive(
                circle, device_hash, name, now, max_members=self.max_members
            )
            return changed, member.id

        return await self.change(circle_id, rule)

    def _members(self, room: Room) -> dict[str, str]:
        return {p.id: p.member for p in room.players.values() if p.member}

    async def history(self, room: Room) -> tuple[list[list[str]], list[list[str]]]:
        """The circle's coffee groups and team rosters of its other sessions, as ``room``'s player ids.

        Reads what it needs of ``room`` before its first ``await`` (the
        caller's room may be the service's shared one).
        """
        circle_id, code, members = room.circle, room.code, self._members(room)
        if not circle_id or len(members) < 2:
            return [], []
        circle = await self.load(circle_id)
        if circle is None:
            return [], []
        return (
            circles.pair_history(circle, code, members),
            circles.team_history(circle, code, members),
        )

    async def record(self, room: Room) -> None:
        """Keep the room's coffee groups and team rosters (as member ids) as its session of the circle.

        Read from ``room`` before the first ``await``. Costs nothing when this
        process recorded the same for the room last time.
        """
        if not room.circle:
            return
        members = self._members(room)
        rotations = session_groups(room.pairings.past)
        if room.pairings.current is not None:
            rotations.extend(room.pairings.current.groups)
        groups = [[members[p] for p in g if p in members] for g in rotations]
        teams = [[p.member for p in room.team_players(t.id) if p.member] for t in room.teams]
        groups = [g for g in groups if len(g) > 1]
        teams = [t for t in teams if len(t) > 1]
        what = (groups, teams)
        if self._recorded.get(room.code) == (room.circle, what):
            return
        code, started_at, seq, circle_id = room.code, room.created_at, room.seq, room.circle

        def rule(circle: Circle, now: float) -> tuple[list[str], None]:
            changed = circles.record_session(
                circle,
                code,
                started_at=started_at,
                seq=seq,
                groups=groups,
                teams=teams,
                keep=self.keep,
            )
            if changed:
                circle.meta.used_at = now
                changed.append(circles.META)
            return changed, None

        await self.change(circle_id, rule)
        self._recorded[code] = (circle_id, what)
        self._recorded.move_to_end(code)
        while len(self._recorded) > RECORDED_ROOMS:
            self._recorded.popitem(last=False)

    async def forget(self, circle_id: str, member_id: str) -> None:
        """Take a member and every trace of them out of the circle."""
        await self.change(circle_id, lambda circle, now: (circles.forget(circle, member_id), None))
        # A room that recorded them may record the same groups again: without them now.
        self._recorded.clear()

    async def delete(self, circle_id: str) -> bool:
        return await self.store.delete_circle(circle_id)
