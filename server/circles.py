"""Circles in the store: load a circle, apply a rule of ``game/circles.py``, compare-and-set.

The twin of ``service.py`` for circles, far smaller: a circle changes seldom
(a room is opened, records its session, a member is forgotten), so a writer
that loses the compare-and-set reads the circle again and retries, after a
short random pause. Arrivals are not such writes: a whole room may join at
once, so an arrival is one atomic store step (``arrive_circle``) that
leaves the circle's version alone, and a returning member under the name
they had costs no write at all. A circle is stored as parts in one hash
(``store/keys.circle``): ``meta`` (name, the facilitator token's hash, the
last room), ``m:<member>`` (one member: name, the device token's hash, first
and last seen), ``d:<device hash>`` (the member of a device), ``n`` (the
last member number), ``s:<room code>`` (one session: its coffee groups
and team rosters as member ids, its members' names then) and ``k:<room
code>`` (the session's keepsake once its room ended, read only by those who
need it: the export, a member's page, forgetting), at most ``keep`` sessions
and ``max_members`` members. Every write gives the circle ``ttl`` more seconds:
a circle unused for that long (180 days by default) is gone, with
everything it kept.

A room adds at most ``room_limit`` new members (its player limit), so a
room code alone cannot fill a circle by joining and leaving with fresh
device tokens; and a full circle makes room by forgetting the members in
none of its kept sessions and not seen for ``idle_days``.

Tokens are never stored, only their sha256; a member is found by the hash of
the device token their browser keeps.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
import orjson

from .errors import ErrorCode, LimitExceeded, RitrovoError, StoreUnavailable
from .game import circles, keepsake
from .game.circles import Circle, CircleMember, CircleMeta, CircleSession
from .game.models import Room
from .game.pack import Pack
from .game.pairing import session_groups
from .store.base import CircleStorage, Stored

T = TypeVar("T")
Clock = Callable[[], float]
# The room as committed and its pack (``GameService.current``).
CurrentRoom = Callable[[str], Awaitable[tuple[Room, Pack | None]]]

log = logging.getLogger(__name__)

# Retries of a write that lost its compare-and-set (circle writes are rare:
# losing this many times in a row means something is wrong), each after a
# random pause of up to RETRY_PAUSE doubled per attempt.
ATTEMPTS = 8
RETRY_PAUSE = 0.002
# Rooms whose last recorded session this process remembers (to skip writes
# that would change nothing, such as the teams at every riddle).
RECORDED_ROOMS = 1000
# Rooms whose recording may be waiting at once (``record_soon``): past it a
# recording is skipped (logged); the room's next one writes the whole session.
RECORDING_ROOMS = 256
# What ``known_before`` computed, by (circle, its version, room, started at).
KNOWN_CACHED = 64
# Seconds a stopping process gives the recordings still running.
RECORDING_GRACE = 1.0


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_circle_id() -> str:
    """16 URL-safe characters (96 random bits): the circle's link, unguessable."""
    return secrets.token_urlsafe(12)


def decode(circle_id: str, stored: Stored, *, keepsakes: bool = True) -> Circle:
    """The circle from its parts (an unreadable part: ``StoreUnavailable``, as a store failing).

    ``keepsakes``: whether ``stored`` holds the keepsake parts (else
    ``Circle.keepsakes`` is None: not loaded).
    """
    try:
        meta = msgspec.json.decode(stored.parts[circles.META], type=CircleMeta)
        circle = Circle(circle_id, meta, keepsakes={} if keepsakes else None)
        for name, data in stored.parts.items():
            if name.startswith(circles.MEMBER):
                member = msgspec.json.decode(data, type=CircleMember)
                circle.members[member.id] = member
            elif name.startswith(circles.SESSION):
                session = msgspec.json.decode(data, type=CircleSession)
                circle.sessions[session.room] = session
            elif name.startswith(circles.KEEPSAKE) and circle.keepsakes is not None:
                kept = msgspec.json.decode(data, type=dict[str, Any])
                circle.keepsakes[name[len(circles.KEEPSAKE) :]] = circles.upgrade_keepsake(kept)
    except (msgspec.DecodeError, KeyError, TypeError, IndexError) as exc:
        raise StoreUnavailable(
            "this circle cannot be read", code=ErrorCode.STORE_UNAVAILABLE
        ) from exc
    return circle


def encode_part(circle: Circle, name: str) -> bytes | None:
    """A part's bytes, or None when the circle no longer has it."""
    value: Any
    if name == circles.META:
        value = circle.meta
    elif name.startswith(circles.DEVICE):
        found = circle.member_by_device(name[len(circles.DEVICE) :])
        return None if found is None else found.id.encode()
    elif name.startswith(circles.MEMBER):
        value = circle.members.get(name[len(circles.MEMBER) :])
    elif name.startswith(circles.KEEPSAKE):
        value = (circle.keepsakes or {}).get(name[len(circles.KEEPSAKE) :])
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
        idle_days: float = circles.DEFAULT_IDLE_DAYS,
        max_circles: int = 10000,
        keepsake_bytes: int = keepsake.CIRCLE_MAX_BYTES,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ttl = ttl
        self.keep = keep
        self.max_members = max_members
        self.idle = idle_days * 24 * 3600
        self.max_circles = max_circles
        self.keepsake_bytes = keepsake_bytes
        # room code -> (circle, what was last recorded): see ``record``.
        self._recorded: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        # Recordings in the background (``record_soon``), one task per room,
        # and the rooms to record once more when their task is done.
        self._recording: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._known: OrderedDict[tuple[str, int, str, float], keepsake.KnownBefore] = OrderedDict()

    async def create(self, name: object) -> tuple[Circle, str]:
        """A new circle and its facilitator token (refused: a bad name, ``max_circles`` reached)."""
        now = self.clock()
        token = secrets.token_urlsafe(24)
        circle = circles.new_circle(new_circle_id(), name, _hash(token), now)
        if await self.store.count_circles(now) >= self.max_circles:
            raise LimitExceeded(
                "this server keeps its maximum number of circles", code=ErrorCode.TOO_MANY_CIRCLES
            )
        for _ in range(5):
            parts = {circles.META: orjson.dumps(circle.meta)}
            if await self.store.create_circle(circle.id, parts, ttl=self.ttl, now=now):
                return circle, token
            circle.id = new_circle_id()
        raise StoreUnavailable("could not find a free circle id", code=ErrorCode.BUSY)

    async def _load(self, circle_id: str, now: float, keepsakes: bool) -> Stored | None:
        without = None if keepsakes else circles.KEEPSAKE
        return await self.store.load_circle(circle_id, now=now, without=without)

    async def load(self, circle_id: str, *, keepsakes: bool = False) -> Circle | None:
        """The circle, or None (no such circle; an id of the wrong shape is not looked up).

        ``keepsakes``: with the sessions' kept keepsakes (the export, a
        member's page); else ``Circle.keepsakes`` is None and they stay in the store.
        """
        if not circles.valid_id(circle_id):
            return None
        stored = await self._load(circle_id, self.clock(), keepsakes)
        return None if stored is None else decode(circle_id, stored, keepsakes=keepsakes)

    async def facilitated(
        self, circle_id: str, token: str, *, keepsakes: bool = False
    ) -> Circle | None:
        """The circle if ``token`` is its facilitator token; None for no circle and a wrong token alike."""
        if not circles.valid_token(token):
            return None
        circle = await self.load(circle_id, keepsakes=keepsakes)
        if circle is None or not hmac.compare_digest(_hash(token), circle.meta.token_hash):
            return None
        return circle

    async def member(
        self, circle_id: str, device_token: str, *, keepsakes: bool = False
    ) -> tuple[Circle, str] | None:
        """The circle and the member of ``device_token``; None for no circle and no member alike."""
        if not circles.valid_token(device_token):
            return None
        circle = await self.load(circle_id, keepsakes=keepsakes)
        if circle is None:
            return None
        found = circle.member_by_device(_hash(device_token))
        return None if found is None else (circle, found.id)

    async def change(
        self,
        circle_id: str,
        rule: Callable[[Circle, float], tuple[list[str], T]],
        *,
        keepsakes: bool = False,
    ) -> T | None:
        """Apply ``rule`` (returns the parts it changed and a result) and commit; None if no circle.

        ``keepsakes``: load the kept keepsakes for the rule (forgetting a
        member rewrites them); without, a rule may still write or drop one
        by name (recording a session), the others stay as stored.
        """
        for attempt in range(ATTEMPTS):
            if not circles.valid_id(circle_id):
                return None
            if attempt:
                await asyncio.sleep(random.uniform(0, RETRY_PAUSE * 2**attempt))
            now = self.clock()
            stored = await self._load(circle_id, now, keepsakes)
            if stored is None:
                return None
            circle = decode(circle_id, stored, keepsakes=keepsakes)
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

    async def arrive(
        self, circle_id: str, device_token: str, name: str, *, room: str, room_limit: int
    ) -> str | None:
        """The member id of ``device_token`` in the circle (a new member the first time); None if no circle.

        One store step (``arrive_circle``), whatever else arrives at once.
        Refused (``circle_full``): a new member in a full circle with nobody
        idle to forget, or the ``room_limit``-th new member room ``room`` adds.
        """
        if not circles.valid_id(circle_id):
            return None
        device_hash = _hash(device_token)
        now = self.clock()
        raw = orjson.dumps(circles.new_member("", device_hash, name, now))  # refused: a bad name
        head = b'{"id":"'
        assert raw.startswith(head + b'"')
        evicted = False
        for _ in range(3):
            arrival = await self.store.arrive_circle(
                circle_id,
                device_hash,
                (head, raw[len(head) :]),
                room=room,
                max_members=self.max_members,
                room_limit=room_limit,
                ttl=self.ttl,
                now=now,
            )
            if arrival is None:
                return None
            if arrival.refused == "circle" and not evicted:
                evicted = True
                if await self.evict_idle(circle_id):
                    continue
            if arrival.refused:
                raise LimitExceeded(
                    "this circle has no room for more members", code=ErrorCode.CIRCLE_FULL
                )
            if arrival.new:
                return arrival.member
            try:
                member = msgspec.json.decode(arrival.data, type=CircleMember)
            except msgspec.DecodeError as exc:
                raise StoreUnavailable(
                    "this circle cannot be read", code=ErrorCode.STORE_UNAVAILABLE
                ) from exc
            if not circles.returning(member, name, now):
                return member.id
            if await self.store.put_circle_member(
                circle_id, device_hash, member.id, orjson.dumps(member), ttl=self.ttl, now=now
            ):
                return member.id
            # Forgotten meanwhile: they arrive again, as a new member.
        raise StoreUnavailable("the circle is too busy; try again", code=ErrorCode.BUSY)

    async def evict_idle(self, circle_id: str) -> bool:
        """Forget the members in no kept session, not seen for ``idle_days``; whether any was."""

        def rule(circle: Circle, now: float) -> tuple[list[str], bool]:
            changed = circles.evict_idle(circle, now, self.idle)
            return changed, bool(changed)

        evicted = bool(await self.change(circle_id, rule, keepsakes=True))
        if evicted:
            self._recorded.clear()  # as in ``forget``
        return evicted

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

    async def known_before(self, room: Room) -> keepsake.KnownBefore:
        """Who among ``room``'s players met whom in its circle's earlier sessions, by player id:
        ``keepsake.build``'s ``known_before``. Nobody outside a circle.

        Computed once per version of the circle for the room (the last
        ``KNOWN_CACHED``): the keepsake's routes ask at every request.
        Reads what it needs of ``room`` before its first ``await``.
        """
        circle_id, code, started_at = room.circle, room.code, room.created_at
        members = self._members(room)
        if not circle_id or len(members) < 2 or not circles.valid_id(circle_id):
            return keepsake.NOBODY_KNOWN
        stored = await self._load(circle_id, self.clock(), False)
        if stored is None:
            return keepsake.NOBODY_KNOWN
        key = (circle_id, stored.version, code, started_at)
        known = self._known.get(key)
        if known is None:
            circle = decode(circle_id, stored, keepsakes=False)
            known = circles.known_before(circle, code, started_at)
            self._known[key] = known
            while len(self._known) > KNOWN_CACHED:
                self._known.popitem(last=False)
        self._known.move_to_end(key)
        return circles.for_players(known, members)

    async def record(self, room: Room, pack: Pack | None = None) -> None:
        """Keep the room's coffee groups and team rosters (as member ids) as its session of the circle.

        Once the room has ended (finished or closed), its keepsake too
        (``keepsake.for_circle``, with ``pack``). Read from ``room`` before
        the first ``await``. Costs nothing when this process recorded the
        same for the room last time.
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
        names = {p.member: p.name for p in room.players.values() if p.member}
        kept = (
            keepsake.for_circle(room, pack, max_bytes=self.keepsake_bytes)
            if room.phase in ("finished", "closed")
            else None
        )
        # A digest of the keepsake: this process remembers up to RECORDED_ROOMS of them.
        digest = None if kept is None else hashlib.sha256(orjson.dumps(kept)).digest()
        what = (groups, teams, names, digest)
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
                names=names,
                keepsake=kept,
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

    def record_soon(self, code: str, current: CurrentRoom) -> None:
        """Record room ``code``'s session in its circle in the background (``record``).

        What a command or a commit that ended the room calls: it answers at
        once, whatever the circle's store says or how long it takes. One task
        per room (a call while it runs has it record once more, with the room
        as it is then), at most ``RECORDING_ROOMS`` rooms at once; every
        failure is logged, never raised. ``current``: the room as committed
        and its pack (``GameService.current``).
        """
        if code in self._recording:
            self._again.add(code)
            return
        if len(self._recording) >= RECORDING_ROOMS:
            log.warning("too many sessions being recorded: room %s is not, this time", code)
            return
        task = asyncio.get_running_loop().create_task(
            self._record_later(code, current), name=f"circle-record-{code}"
        )
        self._recording[code] = task

    async def _record_later(self, code: str, current: CurrentRoom) -> None:
        try:
            again = True
            while again:
                self._again.discard(code)
                try:
                    await self.record(*await current(code))
                except RitrovoError as exc:
                    log.warning("could not record room %s in its circle: %s", code, exc.code)
                except Exception:  # a background task has nobody else to tell
                    log.exception("could not record room %s in its circle", code)
                again = code in self._again
        finally:
            self._again.discard(code)
            self._recording.pop(code, None)

    async def settled(self) -> None:
        """Wait for the recordings in the background (and those they start) to end."""
        while self._recording:
            await asyncio.wait(list(self._recording.values()))

    async def close(self) -> None:
        """At shutdown: give the recordings under way ``RECORDING_GRACE``, then cancel them."""
        tasks = list(self._recording.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=RECORDING_GRACE)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def forget(self, circle_id: str, member_id: str) -> bool:
        """Take a member and every trace of them out of the circle; whether there was such a member."""

        def rule(circle: Circle, now: float) -> tuple[list[str], bool]:
            changed = circles.forget(circle, member_id)
            return changed, bool(changed)

        forgotten = bool(await self.change(circle_id, rule, keepsakes=True))
        # A room that recorded them may record the same groups again: without them now.
        self._recorded.clear()
        return forgotten

    async def delete(self, circle_id: str) -> bool:
        return await self.store.delete_circle(circle_id)
