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
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import orjson

from .errors import ErrorCode, LimitExceeded, RitrovoError, StoreUnavailable
from .game import circles, keepsake
from .game.circles import Circle, CircleMember, CircleMeta, CircleSession
from .game.models import ENDED_PHASES, Room
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
# Rooms whose room is being read for a record at once (``record_soon``);
# past it a room waits its turn, and past RECORDING_QUEUE waiting rooms or
# queued records (``Recording``: up to a keepsake's 32 KiB each) a record is
# refused, logged as an error.
RECORDING_ROOMS = 256
RECORDING_QUEUE = 1024
# Records of one circle folded into one compare-and-set by its writer.
RECORDS_FOLDED = 8
# A record that failed (a store error, BUSY) is tried again after a pause
# doubled each time from RECORD_PAUSE up to RECORD_PAUSE_CAP, until
# RECORD_RETRY_FOR seconds after it was queued: then it is dropped, logged
# as an error.
RECORD_PAUSE = 0.05
RECORD_PAUSE_CAP = 5.0
RECORD_RETRY_FOR = 60.0
# What ``known_before`` computed, by (circle, its version, room, started at).
KNOWN_CACHED = 64
# Seconds a stopping process gives the recordings still running.
RECORDING_GRACE = 1.0


@dataclass(slots=True)
class Recording:
    """One record of a room's session in its circle (``CircleService.snapshot``): a copy of
    what ``circles.record_session`` needs, taken from the room at once, so that it
    records the room as it was then (a game's end as committed), whatever the room
    does after."""

    circle: str
    room: str
    started_at: float
    seq: int
    groups: list[list[str]]
    teams: list[list[str]]
    names: dict[str, str]
    keepsake: dict[str, Any] | None  # the room ended: its keepsake (``keepsake.for_circle``)
    digest: bytes | None  # the keepsake's sha256
    queued_at: float = 0.0  # monotonic: when it was queued (``RECORD_RETRY_FOR``)

    def what(self) -> tuple[Any, ...]:
        return (self.groups, self.teams, self.names, self.digest)


def _folded(queued: list[Recording], new: Recording) -> list[Recording]:
    """A room's queued records with ``new``: what writing them all in ``seq`` order would
    leave, the room's last end record (its keepsake) and its newest record after it."""
    records = sorted([*queued, new], key=lambda r: (r.seq, r.keepsake is not None))
    ends = [r for r in records if r.keepsake is not None]
    newest = records[-1]
    return [ends[-1], newest] if ends and ends[-1] is not newest else [newest]


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
                circles.load_keepsake(circle, name[len(circles.KEEPSAKE) :], kept)
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
        retry_pause: float = RECORD_PAUSE,
        retry_pause_cap: float = RECORD_PAUSE_CAP,
        retry_for: float = RECORD_RETRY_FOR,
        monotonic: Clock = time.monotonic,
    ) -> None:
        self.store = store
        self.clock = clock
        self.ttl = ttl
        self.keep = keep
        self.max_members = max_members
        self.idle = idle_days * 24 * 3600
        self.max_circles = max_circles
        self.keepsake_bytes = keepsake_bytes
        self.retry_pause = retry_pause
        self.retry_pause_cap = retry_pause_cap
        self.retry_for = retry_for
        self.monotonic = monotonic
        # room code -> (circle, what was last recorded): see ``record``.
        self._recorded: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        # Rooms being read for a record (``record_soon``), one task per room;
        # the rooms to read once more when their task is done; the rooms
        # waiting for a task (past RECORDING_ROOMS).
        self._reading: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._waiting: OrderedDict[str, CurrentRoom] = OrderedDict()
        # Records not written yet, by circle then room (``_folded``: one or
        # two a room), RECORDING_QUEUE at most in all; one writer task per
        # circle with records, so that this process never contends with
        # itself on a circle's compare-and-set.
        self._pending: dict[str, dict[str, list[Recording]]] = {}
        self._queued = 0
        self._writers: dict[str, asyncio.Task[None]] = {}
        self._closing = False
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

    def snapshot(self, room: Room, pack: Pack | None = None) -> Recording | None:
        """What recording ``room``'s session in its circle needs, copied from it now; None
        outside a circle.

        The coffee groups and team rosters as member ids, the members' names
        and, once the room has ended (finished or closed), its keepsake
        (``keepsake.for_circle``, with ``pack``). O(the room's players), and
        the keepsake's build only at a game's end.
        """
        if not room.circle:
            return None
        members = self._members(room)
        rotations = session_groups(room.pairings.past)
        if room.pairings.current is not None:
            rotations.extend(room.pairings.current.groups)
        groups = [[members[p] for p in g if p in members] for g in rotations]
        teams = [[p.member for p in room.team_players(t.id) if p.member] for t in room.teams]
        kept: dict[str, Any] | None = None
        digest: bytes | None = None
        if room.phase in ENDED_PHASES:
            # Through JSON: a copy that shares nothing with the room.
            raw = orjson.dumps(keepsake.for_circle(room, pack, max_bytes=self.keepsake_bytes))
            kept, digest = orjson.loads(raw), hashlib.sha256(raw).digest()
        return Recording(
            circle=room.circle,
            room=room.code,
            started_at=room.created_at,
            seq=room.seq,
            groups=[g for g in groups if len(g) > 1],
            teams=[t for t in teams if len(t) > 1],
            names={p.member: p.name for p in room.players.values() if p.member},
            keepsake=kept,
            digest=digest,
        )

    def _unchanged(self, record: Recording) -> bool:
        return self._recorded.get(record.room) == (record.circle, record.what())

    async def _write(self, circle_id: str, records: list[Recording]) -> None:
        """Write ``records`` (of one circle, in ``seq`` order per room) in one compare-and-set."""

        def rule(circle: Circle, now: float) -> tuple[list[str], None]:
            changed: list[str] = []
            for r in records:
                changed += circles.record_session(
                    circle,
                    r.room,
                    started_at=r.started_at,
                    seq=r.seq,
                    groups=r.groups,
                    teams=r.teams,
                    names=r.names,
                    keepsake=r.keepsake,
                    keep=self.keep,
                )
            if changed:
                circle.meta.used_at = now
                changed.append(circles.META)
            return changed, None

        await self.change(circle_id, rule)
        for r in records:
            self._recorded[r.room] = (circle_id, r.what())
            self._recorded.move_to_end(r.room)
        while len(self._recorded) > RECORDED_ROOMS:
            self._recorded.popitem(last=False)

    def record_soon(self, code: str, current: CurrentRoom) -> None:
        """Record room ``code``'s session in its circle in the background, as it is then.

        What a command calls (``start_pairing``, ``next``...): it answers at
        once, whatever the circle's store says or how long it takes. One
        task per room reads the room (a call while it runs has it read once
        more), at most ``RECORDING_ROOMS`` at once: the others wait their
        turn, ``RECORDING_QUEUE`` at most. The record then goes to its
        circle's writer (``queue``). ``current``: the room as committed and
        its pack (``GameService.current``).
        """
        if self._closing:
            log.warning("stopping: room %s's session is not recorded", code)
            return
        if code in self._reading:
            self._again.add(code)
            return
        if len(self._reading) >= RECORDING_ROOMS:
            if code not in self._waiting and len(self._waiting) >= RECORDING_QUEUE:
                log.error("too many rooms waiting to be recorded: room %s is not, this time", code)
                return
            self._waiting[code] = current
            return
        self._reading[code] = asyncio.get_running_loop().create_task(
            self._read_and_queue(code, current), name=f"circle-record-{code}"
        )

    async def _read_and_queue(self, code: str, current: CurrentRoom) -> None:
        try:
            again = True
            while again:
                self._again.discard(code)
                try:
                    room, pack = await current(code)
                    # A room that ended had its session queued, keepsake and
                    # all, by the commit that ended it (``GameService._ended``):
                    # a snapshot here would build the keepsake a second time.
                    record = None if room.phase in ENDED_PHASES else self.snapshot(room, pack)
                    if record is not None:
                        self.queue(record)
                except RitrovoError as exc:
                    log.warning("could not read room %s for its circle: %s", code, exc.code)
                except Exception:  # a background task has nobody else to tell
                    log.exception("could not read room %s for its circle", code)
                again = code in self._again
        finally:
            self._again.discard(code)
            self._reading.pop(code, None)
            if self._waiting and not self._closing:
                waiting, waiting_current = self._waiting.popitem(last=False)
                self.record_soon(waiting, waiting_current)

    def queue(self, record: Recording) -> None:
        """Have ``record`` written to its circle in the background, retried until it is.

        What the commit that ends a room calls (``GameService._ended``), with
        the room as committed (``snapshot``). One writer per circle in this
        process folds its queued records (``RECORDS_FOLDED`` at once) into one
        compare-and-set; a failed write is tried again after a pause (from
        ``retry_pause``, doubled, up to ``retry_pause_cap``) until
        ``retry_for`` seconds after the record was queued, then dropped and
        logged as an error. Refused (logged as an error): past
        ``RECORDING_QUEUE`` records queued, or once ``close`` began.
        """
        if self._closing:
            log.error("stopping: room %s's session is not recorded in its circle", record.room)
            return
        rooms = self._pending.get(record.circle, {})
        queued = rooms.get(record.room, [])
        if not queued and self._unchanged(record):
            return
        folded = _folded(queued, record)
        grows = len(folded) - len(queued)
        if grows > 0 and self._queued + grows > RECORDING_QUEUE:
            log.error(
                "too many sessions waiting to be recorded in their circles: room %s's is not",
                record.room,
            )
            return
        record.queued_at = self.monotonic()
        self._pending.setdefault(record.circle, rooms)[record.room] = folded
        self._queued += grows
        if record.circle not in self._writers:
            self._writers[record.circle] = asyncio.get_running_loop().create_task(
                self._write_queued(record.circle), name=f"circle-write-{record.circle}"
            )

    def _unqueue(self, circle_id: str, records: list[Recording]) -> None:
        """Take ``records`` (written or given up) out of the circle's queue, if still there."""
        rooms = self._pending.get(circle_id, {})
        for r in records:
            queued = rooms.get(r.room, [])
            if any(q is r for q in queued):
                queued = [q for q in queued if q is not r]
                self._queued -= 1
                if queued:
                    rooms[r.room] = queued
                else:
                    del rooms[r.room]

    async def _write_queued(self, circle_id: str) -> None:
        pause = self.retry_pause
        try:
            while rooms := self._pending.get(circle_id):
                records = [r for code in list(rooms)[:RECORDS_FOLDED] for r in rooms[code]]
                try:
                    await self._write(circle_id, records)
                except Exception as exc:  # noqa: BLE001 - logged, tried again
                    code = exc.code if isinstance(exc, RitrovoError) else repr(exc)
                    now = self.monotonic()
                    late = [r for r in records if now - r.queued_at >= self.retry_for]
                    if late:
                        log.error(
                            "gave up recording the sessions of rooms %s in circle %s: %s",
                            ", ".join(sorted({r.room for r in late})),
                            circle_id,
                            code,
                        )
                        self._unqueue(circle_id, late)
                    else:
                        log.warning(
                            "could not record sessions in circle %s (%s): trying again",
                            circle_id,
                            code,
                        )
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, self.retry_pause_cap)
                    continue
                pause = self.retry_pause
                self._unqueue(circle_id, records)
        finally:
            self._writers.pop(circle_id, None)
            if not self._pending.get(circle_id):
                self._pending.pop(circle_id, None)

    def _tasks(self) -> list[asyncio.Task[None]]:
        return [*self._reading.values(), *self._writers.values()]

    async def settled(self) -> None:
        """Wait for the recordings in the background (and those they start) to end."""
        while tasks := self._tasks():
            await asyncio.wait(tasks)

    async def close(self) -> None:
        """At shutdown: refuse new recordings, give those under way ``RECORDING_GRACE``,
        then cancel them; the sessions left unrecorded are logged."""
        self._closing = True
        loop = asyncio.get_running_loop()
        until = loop.time() + RECORDING_GRACE
        while (tasks := self._tasks()) and (left := until - loop.time()) > 0:
            await asyncio.wait(tasks, timeout=left)
        tasks = self._tasks()
        lost = sorted(
            {
                *self._reading,
                *self._waiting,
                *(c for rooms in self._pending.values() for c in rooms),
            }
        )
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        self._waiting.clear()
        if lost:
            log.error(
                "stopping: %d sessions not recorded in their circles (rooms %s)",
                len(lost),
                ", ".join(lost),
            )

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
