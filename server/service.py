"""The one place where game rules meet the store.

Every change to a room goes through ``GameService.execute``: load the room,
apply a pure rule with ``now`` and the room's pack, and commit it with a
compare-and-set on the room's version. On a conflict (another connection or
process wrote first) the rule is simply applied again to the newer room, so
rules must be deterministic functions of (room, pack, now, arguments).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from .circles import CircleService, Recording
from .errors import Conflict, ErrorCode, LimitExceeded, NotFound, RitrovoError, StoreUnavailable
from .game import changes, flow, rooms
from .game.models import DEFAULT_MAX_PLAYERS, ENDED_PHASES, Room
from .game.pack import Pack
from .packs.loader import PackLibrary
from .protocol import CODE_ALPHABET, CODE_LENGTH
from .store import parts
from .store.base import Claim, RoomStore, Stored
from .store.codec import decode_pack, encode_pack

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]

MAX_COMMIT_ATTEMPTS = 50
UPLOAD_PREFIX = "upload:"
# Uploaded packs decoded in this process, least recently used first out: at
# most this many, and this many bytes of their stored (JSON) form.
PACK_CACHE_ENTRIES = 500
PACK_CACHE_BYTES = 64 * 1024 * 1024


def new_room_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: object) -> str:
    """A room code as typed, in its one spelling; "" if it cannot be one.

    Codes are case-insensitive and may be typed with spaces or dashes. Anything
    that is not then CODE_LENGTH characters of CODE_ALPHABET is no room: it is
    refused before any lookup, tracking or logging, so a 16,000-character
    "code" costs nothing and leaves nothing behind.
    """
    if not isinstance(code, str) or len(code) > 4 * CODE_LENGTH:
        return ""
    code = "".join(ch for ch in code.upper() if ch not in " -")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return ""
    return code


def uploaded_to(pack_id: str) -> str | None:
    """The code of the room an uploaded pack's id names (``upload:<code>:<sha256>``), or None."""
    key = pack_id.removeprefix(UPLOAD_PREFIX)
    code, sep, _ = key.partition(":")
    return code if sep and pack_id.startswith(UPLOAD_PREFIX) else None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


# Seconds a decoded room stays cached with no command and no connection here
# (GameService.forget_idle).
ROOM_IDLE = 30.0


class NoChange(Exception):
    """Raised by an action that found nothing to do: nothing is committed."""


@dataclass(slots=True)
class Cached:
    """A room this process works with: its version, decoded, and its parts as stored.

    The parts are what lets a lost compare-and-set cost what changed: the
    parts a failed command touched are put back from them, and the changes
    another process committed meanwhile are applied, instead of reading and
    decoding the whole room again.
    """

    version: int
    room: Room
    parts: dict[str, bytes]
    used_at: float = 0.0  # time.monotonic() when last remembered (a command, a read)

    @classmethod
    def of(cls, stored: Stored) -> Cached:
        return cls(stored.version, parts.join(stored.parts), stored.parts)

    def record(self, version: int, written: dict[str, bytes], gone: list[str], whole: bool) -> None:
        """The stored parts after a change (the decoded room already shows it)."""
        if whole:
            self.parts = dict(written)
        else:
            self.parts.update(written)
            for name in gone:
                self.parts.pop(name, None)
        self.version = version

    def undo(self, written: dict[str, bytes], gone: list[str], whole: bool) -> None:
        """Put back the room as stored, after a command changed it and could not commit."""
        if whole:
            self.room = parts.join(self.parts)
            return
        touched = [*written, *gone]
        if any(name.startswith(parts.MOMENT) for name in written):
            # A new moment may have cut the list back to its last 30: the
            # moments it dropped are in slots the commit did not write.
            touched += [name for name in self.parts if name.startswith(parts.MOMENT)]
        restore = {name: self.parts[name] for name in touched if name in self.parts}
        added = [name for name in written if name not in self.parts]
        parts.apply(self.room, restore, added)
        self.room.seq = self.version


@dataclass(frozen=True, slots=True)
class _Command:
    """A command waiting for the room's lock, and where its outcome goes."""

    action: Callable[[Room, Pack | None, float], Any]
    done: asyncio.Future[tuple[Room, Any]]


def _refusal(exc: BaseException) -> BaseException:
    """``exc`` as a command's future takes it: a refusal without its traceback.

    The traceback's frames (the committer's, the rule's) hold the batch, so
    the futures, so the exception: every refused command (an unknown room, a
    rule's no) was a reference cycle that only a full collection freed, and
    a flood of refused openings piled them up. A refusal is answered to its
    client and never logged with a traceback; an unexpected error keeps its.
    """
    if isinstance(exc, RitrovoError):
        exc.__traceback__ = None
    return exc


def _settle(batch: list[_Command], outcomes: list[tuple[bool, Any]], room: Room) -> None:
    for command, (ok, value) in zip(batch, outcomes, strict=True):
        if command.done.done():
            continue
        if ok:
            command.done.set_result((room, value))
        else:
            command.done.set_exception(_refusal(value))


def _fail(batch: list[_Command], exc: BaseException) -> None:
    for command in batch:
        if not command.done.done():
            if isinstance(exc, Exception):
                command.done.set_exception(_refusal(exc))
            else:
                command.done.cancel()


@dataclass(frozen=True, slots=True)
class CreatedRoom:
    room: Room
    host_token: str


class GameService:
    def __init__(
        self,
        store: RoomStore,
        library: PackLibrary,
        *,
        clock: Clock = time.time,
        max_rooms: int = 1000,
        max_players_per_room: int = DEFAULT_MAX_PLAYERS,
        unused_room_ttl: float | None = None,
        instance: str = "",
        owner_lease: float = 0.0,
    ) -> None:
        self.store = store
        self.library = library
        self.clock = clock
        self.max_rooms = max_rooms
        self.max_players_per_room = max_players_per_room
        # A new room lives this long unless something is committed in it (a
        # join, a pack, a team): rooms made and left unused do not fill the
        # server's room limit for a day.
        self.unused_room_ttl = unused_room_ttl
        # The latest committed version of each room this process works with,
        # decoded: a command on a room needs a single store round trip (its
        # commit), and a change committed elsewhere is applied to it from the
        # published change instead of being read back.
        self._rooms: OrderedDict[str, Cached] = OrderedDict()
        # Uploaded packs by id, with the size of their stored form (a bounded LRU).
        self._packs: OrderedDict[str, tuple[Pack, int]] = OrderedDict()
        self._packs_bytes = 0
        # When this process last made each uploaded pack live on (keep_pack).
        self._packs_kept: dict[str, float] = {}
        # Commands waiting for their room's lock, committed together by the next holder.
        self._queued: dict[str, list[_Command]] = {}
        self._runners: dict[str, asyncio.Task[None]] = {}
        # One lock per room with commands in flight; unused locks go away by themselves.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # Hot rooms' owners as last heard (store.base.Claim): code -> (owner's
        # instance, until when it is believed, time.monotonic()). This process
        # claims a room when it loses a race for it; with no instance or no
        # lease it never does.
        self._claim = Claim(instance, owner_lease) if instance and owner_lease > 0 else None
        self._owners: dict[str, tuple[str, float]] = {}
        self._last_command_at = 0.0  # time.monotonic() of the last command (see last_command)
        # Owners found gone (nobody heard what was sent to them), by room,
        # until their lease must have run out: a commit that still names one
        # does not make this process send it commands again.
        self._unreachable: dict[str, tuple[str, float]] = {}
        # Circles (server/circles.py), set by the app: None in a service without them.
        self.circles: CircleService | None = None

    # -- rooms -----------------------------------------------------------

    async def create_room(
        self, name: object, pack_id: str | None = None, *, circle: tuple[str, str] | None = None
    ) -> CreatedRoom:
        """A new room; ``circle``: the id and name of the circle it is opened in."""
        now = self.clock()
        if await self.store.count_rooms(now) >= self.max_rooms:
            raise LimitExceeded(
                "this server hosts its maximum number of rooms", code=ErrorCode.TOO_MANY_ROOMS
            )
        # A new room has no uploads: only a library pack can be chosen at once.
        if pack_id is not None and await self.pack_for_room(None, pack_id) is None:
            raise NotFound("no such pack", code=ErrorCode.PACK_NOT_FOUND)
        host_token = new_token()
        for _ in range(20):
            room = rooms.new_room(
                new_room_code(),
                name if isinstance(name, str) else "",
                hash_token(host_token),
                now,
                max_players=self.max_players_per_room,
            )
            room.pack_id = pack_id
            if circle is not None:
                room.circle, room.circle_name = circle
            stored = parts.split(room)
            if await self.store.create(room.code, stored, now, ttl=self.unused_room_ttl):
                self._remember(room.code, Cached(0, room, stored))
                await self._keep_pack(pack_id, now, force=True)
                return CreatedRoom(room, host_token)
        raise Conflict("could not find a free room code", code=ErrorCode.NO_FREE_CODE)

    def _lock(self, code: str) -> asyncio.Lock:
        lock = self._locks.get(code)
        if lock is None:
            lock = self._locks[code] = asyncio.Lock()
        return lock

    async def load(self, code: str, *, fresh: bool = False, min_seq: int = 0) -> Room:
        """The room as stored.

        With ``fresh`` (or when this process knows no version >= ``min_seq``)
        it is read from the store and decoded: a private copy the caller may
        keep across awaits. Otherwise it is this process's current room, shared
        with every later command: use it at once, before any ``await``.
        """
        if fresh:
            stored = await self.store.load(code)
            if stored is None:
                self._forget(code)
                raise NotFound("no such room", code=ErrorCode.ROOM_NOT_FOUND)
            return parts.join(stored.parts)
        # A command in flight takes the room out of the cache while it changes
        # it (``_try_batch``) and holds the room's lock until it is committed:
        # a room found here with nobody holding the lock is committed. (Taking
        # the lock anyway made a lock and a weak reference per call, two per
        # story line, for nothing.)
        hit = self._rooms.get(code)
        if hit is not None and hit.version >= min_seq:
            lock = self._locks.get(code)
            if lock is None or not lock.locked():
                return hit.room
        # Wait for a command in flight: its room is changed but not committed yet.
        async with self._lock(code):
            hit = self._rooms.get(code)
            if hit is None or hit.version < min_seq:
                hit = await self._read(code)
                self._remember(code, hit)
            return hit.room

    async def _read(self, code: str) -> Cached:
        stored = await self.store.load(code)
        if stored is None:
            self._forget(code)
            raise NotFound("no such room", code=ErrorCode.ROOM_NOT_FOUND)
        return Cached.of(stored)

    async def current(
        self, code: str, *, min_seq: int = 0, fresh: bool = False
    ) -> tuple[Room, Pack | None]:
        """This process's current room (at least ``min_seq``) and its pack, for immediate use.

        Nothing awaits between this returning and the caller's next ``await``,
        so views built from the result at once show one committed version.
        ``fresh`` reads the room from the store first (notices may have been lost).
        """
        if fresh:
            async with self._lock(code):
                self._forget(code)
        missing: str | None = None
        while True:
            room = await self.load(code, min_seq=min_seq)
            if (
                room.pack_id is None
                or room.pack_id in self._packs
                or not room.pack_id.startswith(UPLOAD_PREFIX)
            ):
                return room, await self.get_pack(room.pack_id)
            if room.pack_id == missing:
                return room, None  # the store no longer has it: the room plays without
            # An uploaded pack read from the store: load the room again.
            if await self.get_pack(room.pack_id) is None:
                missing = room.pack_id

    def in_memory(self, code: str, min_seq: int = 0) -> bool:
        """Whether ``current(code, min_seq=min_seq)`` can answer without the store.

        The room is cached here at ``min_seq`` or newer, and so is its pack.
        (It may still wait for a command in flight, for the room's lock.)
        """
        hit = self._rooms.get(code)
        if hit is None or hit.version < min_seq:
            return False
        pack_id = hit.room.pack_id
        return pack_id is None or not pack_id.startswith(UPLOAD_PREFIX) or pack_id in self._packs

    def on_notice(self, code: str, data: bytes) -> parts.Notice | None:
        """A change was published (by any process): bring the cached room up to date.

        The change applies when the cached room is the version just before it;
        after a gap (a missed notice) the cached room is dropped, and the next
        use reads the room again. None for a notice that cannot be read.
        """
        try:
            notice, written = parts.decode_notice(data)
        except ValueError:
            return None
        hit = self._rooms.get(code)
        if hit is None or notice.seq <= hit.version:
            return notice  # nothing cached here, or our own commit (already applied)
        if notice.deleted or notice.whole or notice.seq != hit.version + 1:
            self._forget(code)
            return notice
        parts.apply(hit.room, written, notice.gone)
        hit.record(notice.seq, written, notice.gone, False)
        return notice

    def last_command(self) -> float:
        """When (``time.monotonic()``) the last command came: quiet moments suit slow chores."""
        return self._last_command_at

    async def execute(
        self, code: str, action: Callable[[Room, Pack | None, float], T]
    ) -> tuple[Room, T]:
        """Apply ``action`` to the room atomically and return the new room and its result.

        ``action`` may raise a ``RitrovoError`` (nothing is saved) or
        ``NoChange`` (nothing is saved; the current room is returned with None).
        The room returned is shared and may already hold the next commands'
        changes, not yet committed: take what the caller needs from the
        action's result, and use ``current`` for the room as committed.
        """
        # Commands on one room in this process run one at a time: they would
        # only lose compare-and-set races to each other and retry, each retry
        # a full round trip. Other processes still race, and the CAS settles it.
        # Commands that arrive while a commit is on its way are committed
        # together by the next holder of the room's lock (a group commit): a
        # burst of 2,000 guesses costs a few round trips, not 2,000 in a row.
        loop = asyncio.get_running_loop()
        command = _Command(action, loop.create_future())
        self._queued.setdefault(code, []).append(command)
        if code not in self._runners:
            self._runners[code] = loop.create_task(self._run(code), name=f"room-{code}")
        self._last_command_at = time.monotonic()
        # The commit runs in the room's runner, not here: a caller that goes
        # away (its connection closed) cancels only its own future, which the
        # runner then leaves alone. Its command is still applied and committed
        # with the batch, and so are the others. (No shield around it: its two
        # callbacks cost a turn of the event loop per command.)
        try:
            result: tuple[Room, T] = await command.done
        finally:
            # A refusal raised here has this frame in its traceback: without
            # ``command`` (whose future holds the refusal) that is no cycle.
            del command
        return result

    async def _run(self, code: str) -> None:
        """The room's committer: runs while commands are queued, one batch at a time."""
        try:
            while code in self._queued:
                async with self._lock(code):
                    # Taken once the lock is held: a runner cancelled while
                    # waiting for it (shutdown) leaves no command unsettled.
                    batch = self._queued.pop(code, [])
                    cached = self._rooms.get(code)
                    before = -1 if cached is None else cached.version
                    await self._execute(code, batch)
                after = self._rooms.get(code)
                if after is not None and after.version > before:
                    # Committed: the room lives on, and so does its uploaded pack.
                    await self._keep_pack(after.room.pack_id, self.clock())
        finally:
            self._runners.pop(code, None)

    async def _execute(self, code: str, batch: list[_Command]) -> None:
        """Apply the queued commands in order and commit them as one change.

        Never raises: every command's outcome (its result or its exception)
        goes to its own future.
        """
        while batch:
            try:
                batch = await self._try_batch(code, batch)
            except BaseException as exc:  # the store failed, or the room is gone
                _fail(batch, exc)
                if not isinstance(exc, Exception):
                    raise  # this process is stopping
                return

    async def _try_batch(self, code: str, batch: list[_Command]) -> list[_Command]:
        """Run ``batch`` to its end; returns the commands still to run after a rule's bug."""
        hit = self._rooms.get(code) or await self._read(code)
        for _ in range(MAX_COMMIT_ATTEMPTS):
            room, version = hit.room, hit.version
            # A game's end as its command left it (a later command of the
            # batch, "play again", may take the room back to its lobby).
            ended: Recording | None = None
            # The room leaves the cache while commands work on it, and comes
            # back once committed, or untouched (every command refused by a rule
            # or without change: rules refuse before they change anything, and
            # the rule tests check the room is byte-for-byte unchanged after
            # each refusal), or put back as stored after a lost compare-and-set.
            # An unexpected exception discards it.
            self._rooms.pop(code, None)
            outcomes: list[tuple[bool, Any]] = []  # (ok, result or exception), by command
            changed = changes.Changes()
            pack: Pack | None = None
            pack_for: str | None = None
            now = self.clock()
            for index, command in enumerate(batch):
                if room.pack_id and room.pack_id != pack_for:
                    pack, pack_for = await self.get_pack(room.pack_id), room.pack_id
                elif not room.pack_id:
                    pack, pack_for = None, None
                phase = room.phase
                with changes.tracking(room) as one:
                    try:
                        result = command.action(room, pack, now)
                    except NoChange:
                        outcomes.append((True, None))
                        continue
                    except RitrovoError as exc:
                        outcomes.append((False, exc))
                        continue
                    except Exception as exc:  # noqa: BLE001 - any bug, reported to its command
                        # A bug in a rule: that command fails; the room it may
                        # have left half-changed is dropped, and the others run
                        # again on a fresh read.
                        _fail([command], exc)
                        self._forget(code)
                        return batch[:index] + batch[index + 1 :]
                changed.merge(one)
                outcomes.append((True, result))
                if room.phase != phase and room.phase in ENDED_PHASES and self.circles is not None:
                    try:
                        ended = self.circles.snapshot(room, pack)  # O(players), once a game
                    except Exception:  # a bug in the keepsake's build: the commit goes on
                        log.exception("could not take room %s's session for its circle", code)
            if room.pack_id != pack_for:  # the last command chose another pack
                pack = await self.get_pack(room.pack_id) if room.pack_id else None
            if not changed.recorded and not changed.whole:
                # Nothing was applied (all refused, or no change): nothing to commit.
                self._remember(code, hit)
                _settle(batch, outcomes, room)
                return []
            room.seq = version + 1
            sent_at = time.monotonic()
            # A room stored in an older layout is written whole once, in the new one.
            whole = changed.is_whole or parts.is_old_layout(hit.parts)
            gone: list[str] = []
            if whole:
                written = parts.split(room)
            else:
                written, gone = parts.changed_parts(room, changed)
            outcome = await self.store.commit(
                code,
                version,
                room.seq,
                written,
                gone,
                whole=whole,
                deadline_at=flow.next_deadline(room, pack, now),
                notice=parts.encode_notice(room.seq, written, gone, whole=whole),
                now=now,
                claim=self._claim,
                # A closed room takes no more commands: nobody will need its
                # log to catch up, and it would stay the room's TTL (a day).
                keep_log=room.phase != "closed",
            )
            self.note_owner(code, outcome.owner, sent_at)
            if outcome.ok:
                hit.record(room.seq, written, gone, whole)
                self._remember(code, hit)
                _settle(batch, outcomes, room)
                if ended is not None:
                    ended.seq = room.seq  # as committed
                    self._ended(ended)
                return []
            if outcome.missed is not None:
                # Another process wrote first: undo these attempts, apply what
                # it wrote, and run the commands again, all at the cost of the
                # changes.
                hit.undo(written, gone, whole)
                hit = self._catch_up(hit, outcome.missed) or await self._read(code)
            elif outcome.current is not None:
                hit = Cached.of(outcome.current)
            else:  # the room is gone
                self._forget(code)
                raise NotFound("no such room", code=ErrorCode.ROOM_NOT_FOUND)
        raise StoreUnavailable("the room is too busy; try again", code=ErrorCode.BUSY)

    def _forget(self, code: str) -> None:
        self._rooms.pop(code, None)

    def _ended(self, record: Recording) -> None:
        """This process committed the end (finished, closed) of a room of a circle, whatever
        ended it (the host, the deadline poller's auto-advance): the circle keeps its
        session and keepsake, as ``record`` took them from the room when the command that
        ended it ran. Only the committer sees this, so one process records it; in the
        background, after the commands are answered, retried until it is written
        (``CircleService.queue``)."""
        if self.circles is not None:
            self.circles.queue(record)

    # -- owners of hot rooms ---------------------------------------------------

    def owner_elsewhere(self, code: str) -> str | None:
        """The other process that owns the room, as last heard; None if none or this one."""
        found = self._owners.get(code)
        if found is None:
            return None
        if found[1] <= time.monotonic():
            del self._owners[code]
            return None
        return None if self._claim is not None and found[0] == self._claim.instance else found[0]

    def owns(self, code: str) -> bool:
        """Whether this process owns the room (it may run commands sent by the others)."""
        found = self._owners.get(code)
        return (
            found is not None
            and self._claim is not None
            and found[0] == self._claim.instance
            and found[1] > time.monotonic()
        )

    def note_owner(self, code: str, owner: str | None, since: float | None = None) -> None:
        """Remember who owns the room (None: nobody), as the store said at ``since``.

        The owner's lease ran from at most then (``time.monotonic()``), so
        that is when this belief expires, whoever's clock the lease is on.
        """
        if self._claim is None:
            return
        if owner is not None and self._unreachable.get(code, ("", 0.0))[0] == owner:
            if self._unreachable[code][1] > time.monotonic():
                owner = None
            else:
                del self._unreachable[code]
        if owner is None:
            self._owners.pop(code, None)
            return
        start = time.monotonic() if since is None else since
        self._owners[code] = (owner, start + self._claim.lease)
        if len(self._owners) > 10_000:
            now = time.monotonic()
            self._owners = {k: v for k, v in self._owners.items() if v[1] > now}

    def owner_unreachable(self, code: str, owner: str) -> None:
        """``owner`` did not get what was sent to it: run the room's commands here meanwhile."""
        if self._claim is None:
            return
        self._owners.pop(code, None)
        self._unreachable[code] = (owner, time.monotonic() + self._claim.lease)
        if len(self._unreachable) > 10_000:
            now = time.monotonic()
            self._unreachable = {k: v for k, v in self._unreachable.items() if v[1] > now}

    async def delete(self, code: str) -> None:
        self._forget(code)
        await self.store.delete(code, orjson.dumps({"deleted": True}))

    async def tick(self, code: str) -> bool:
        """Fire whatever is due in the room; True when something changed."""

        def fire(room: Room, pack: Pack | None, now: float) -> bool:
            # Even when nothing fired (the stored deadline was stale after a
            # pause or an extension), the commit moves the stored deadline.
            return flow.tick(room, pack, now)

        try:
            _, changed = await self.execute(code, fire)
        except NotFound:
            return False
        return bool(changed)

    @staticmethod
    def _catch_up(hit: Cached, missed: list[bytes]) -> Cached | None:
        """``hit`` with the published changes it missed applied; None if one cannot be."""
        for data in missed:
            try:
                notice, written = parts.decode_notice(data)
            except ValueError:
                return None
            if notice.whole or notice.seq != hit.version + 1:
                return None  # a whole-room change carries no parts: read the room
            parts.apply(hit.room, written, notice.gone)
            hit.record(notice.seq, written, notice.gone, False)
        hit.room.seq = hit.version
        return hit

    def _remember(self, code: str, entry: Cached) -> None:
        known = self._rooms.get(code)
        if known is not None and known is not entry and known.version > entry.version:
            # A read that started before a newer change was applied came back
            # late: keep the newer version, or the next command would lose its CAS.
            return
        entry.used_at = time.monotonic()
        self._rooms[code] = entry
        self._rooms.move_to_end(code)
        while len(self._rooms) > 10_000:
            self._rooms.popitem(last=False)

    def forget_idle(self, served: Collection[str], idle: float = ROOM_IDLE) -> int:
        """Drop the decoded rooms nobody uses here any more; returns how many went.

        A room stays decoded while this process has connections in it
        (``served``) or a command came for it in the last ``idle`` seconds;
        the next use of one that went reads it again (one store round trip).
        Without this, every room ever touched stayed decoded, up to 10,000:
        the rooms a burst made and left (the soak's uploader made 20 that
        nobody joined; the rooms its sinks and churn used, closed) kept their
        hundreds of small objects, and so the pymalloc arenas the burst had
        added, for the room's TTL.
        """
        now = time.monotonic()
        gone = 0
        for code, entry in list(self._rooms.items()):  # least recently remembered first
            if now - entry.used_at < idle:
                break
            if code in served or code in self._runners:
                entry.used_at = now  # in use: looked at again in ``idle`` seconds
                self._rooms.move_to_end(code)
                continue
            del self._rooms[code]
            gone += 1
        return gone

    # -- packs -------------------------------------------------------------

    async def get_pack(self, pack_id: str | None) -> Pack | None:
        if pack_id is None:
            return None
        if not pack_id.startswith(UPLOAD_PREFIX):
            return self.library.get(pack_id)
        cached = self._packs.get(pack_id)
        if cached is not None:
            self._packs.move_to_end(pack_id)
            return cached[0]
        data = await self.store.load_pack(pack_id[len(UPLOAD_PREFIX) :])
        if data is None:
            return None
        pack = decode_pack(data)
        self._cache_pack(pack_id, pack, len(data))
        return pack

    async def pack_for_room(self, code: str | None, pack_id: str) -> Pack | None:
        """The pack ``pack_id`` if room ``code`` may use it, else None (as for no such pack).

        A library pack, for any room; an uploaded pack only for the room it
        was uploaded to (``code`` None: a room still to be created, which has
        none). Its id is shown to whoever sees the room, so an id alone must
        not let another room choose the pack, nor its host read its answers.
        """
        if pack_id.startswith(UPLOAD_PREFIX) and uploaded_to(pack_id) != code:
            return None
        return await self.get_pack(pack_id)

    async def save_uploaded_pack(self, pack: Pack, code: str | None = None) -> str:
        """Store a pack uploaded to room ``code`` and return its id for ``choose_pack``.

        The id names the room (``upload:<code>:<sha256>``): only that room may
        use it (``pack_for_room``). Stored once per content and room; without
        ``code`` no room may. It lives as long as a room that uses it:
        ``_keep_pack`` on each room's commits.
        """
        data = encode_pack(pack)
        digest = hashlib.sha256(data).hexdigest()
        key = f"{code}:{digest}" if code else digest
        now = self.clock()
        await self.store.save_pack(key, data, ttl=self._pack_life(), now=now)
        pack_id = UPLOAD_PREFIX + key
        self._packs_kept[pack_id] = now
        self._cache_pack(pack_id, pack, len(data))
        return pack_id

    def _cache_pack(self, pack_id: str, pack: Pack, size: int) -> None:
        old = self._packs.pop(pack_id, None)
        if old is not None:
            self._packs_bytes -= old[1]
        self._packs[pack_id] = (pack, size)
        self._packs_bytes += size
        while len(self._packs) > 1 and (
            len(self._packs) > PACK_CACHE_ENTRIES or self._packs_bytes > PACK_CACHE_BYTES
        ):
            self._packs_bytes -= self._packs.popitem(last=False)[1][1]

    def _pack_life(self) -> float:
        """How long a pack lives from the last time a room kept it.

        A room lives ``room_ttl`` after its last commit. A pack is kept for a
        little more (1/24 of it), again on a commit only once that margin is
        used up: so it never expires before a room that uses it, and at most
        that margin after the last one.
        """
        return self.store.room_ttl * 25 / 24

    async def _keep_pack(self, pack_id: str | None, now: float, *, force: bool = False) -> None:
        if pack_id is None or not pack_id.startswith(UPLOAD_PREFIX):
            return
        margin = self.store.room_ttl / 24
        if not force and now - self._packs_kept.get(pack_id, -math.inf) < margin:
            return
        try:
            await self.store.keep_pack(
                pack_id[len(UPLOAD_PREFIX) :], ttl=self._pack_life(), now=now
            )
        except RitrovoError:
            return  # the store is down: the next commit tries again
        self._packs_kept[pack_id] = now
        if len(self._packs_kept) > 10_000:
            self._packs_kept = {k: t for k, t in self._packs_kept.items() if now - t < margin}
