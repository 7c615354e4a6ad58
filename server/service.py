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
import secrets
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import orjson

from .errors import Conflict, ErrorCode, LimitExceeded, NotFound, RitrovoError, StoreUnavailable
from .game import flow, rooms
from .game.models import DEFAULT_MAX_PLAYERS, Room
from .game.pack import Pack
from .packs.loader import PackLibrary
from .protocol import CODE_ALPHABET, CODE_LENGTH
from .store.base import RoomStore, Stored
from .store.codec import decode_pack, decode_room, encode_pack, encode_room

T = TypeVar("T")
Clock = Callable[[], float]

MAX_COMMIT_ATTEMPTS = 50
UPLOAD_PREFIX = "upload:"


def new_room_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: object) -> str:
    """Room codes are case-insensitive and forgiving of confusable characters."""
    if not isinstance(code, str):
        return ""
    return "".join(ch for ch in code.upper() if ch not in " -")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


class NoChange(Exception):
    """Raised by an action that found nothing to do: nothing is committed."""


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
    ) -> None:
        self.store = store
        self.library = library
        self.clock = clock
        self.max_rooms = max_rooms
        self.max_players_per_room = max_players_per_room
        # Last known version of each room this process touched: a command on a
        # room nobody else changed needs a single store round trip (the commit).
        self._cache: OrderedDict[str, Stored] = OrderedDict()
        self._packs: OrderedDict[str, Pack] = OrderedDict()
        # The decoded room each cached version came from (see _decoded).
        self._rooms: dict[str, tuple[int, Room]] = {}
        # One lock per room with commands in flight; unused locks go away by themselves.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # -- rooms -----------------------------------------------------------

    async def create_room(self, name: object, pack_id: str | None = None) -> CreatedRoom:
        now = self.clock()
        if await self.store.count_rooms(now) >= self.max_rooms:
            raise LimitExceeded(
                "this server hosts its maximum number of rooms", code=ErrorCode.TOO_MANY_ROOMS
            )
        if pack_id is not None and await self.get_pack(pack_id) is None:
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
            data = encode_room(room)
            if await self.store.create(room.code, data, now):
                self._remember(room.code, Stored(0, data))
                return CreatedRoom(room, host_token)
        raise Conflict("could not find a free room code", code=ErrorCode.NO_FREE_CODE)

    async def load(self, code: str, *, fresh: bool = False, min_seq: int = 0) -> Room:
        """The room as stored; ``fresh`` skips this process's cache."""
        stored = None if fresh else self._cache.get(code)
        if stored is None or stored.version < min_seq:
            stored = await self.store.load(code)
            if stored is None:
                self._forget(code)
                raise NotFound("no such room", code=ErrorCode.ROOM_NOT_FOUND)
            self._remember(code, stored)
        return decode_room(stored.data)

    async def execute(
        self, code: str, action: Callable[[Room, Pack | None, float], T]
    ) -> tuple[Room, T]:
        """Apply ``action`` to the room atomically and return the new room and its result.

        ``action`` may raise a ``RitrovoError`` (nothing is saved) or
        ``NoChange`` (nothing is saved; the current room is returned with None).
        """
        # Commands on one room in this process run one at a time: they would
        # only lose compare-and-set races to each other and retry, each retry
        # a full round trip. Other processes still race, and the CAS settles it.
        lock = self._locks.get(code)
        if lock is None:
            lock = self._locks[code] = asyncio.Lock()
        async with lock:
            return await self._execute(code, action)

    async def _execute(
        self, code: str, action: Callable[[Room, Pack | None, float], T]
    ) -> tuple[Room, T]:
        stored = self._cache.get(code) or await self.store.load(code)
        for _ in range(MAX_COMMIT_ATTEMPTS):
            if stored is None:
                self._forget(code)
                raise NotFound("no such room", code=ErrorCode.ROOM_NOT_FOUND)
            room = self._decoded(code, stored)
            pack = await self.get_pack(room.pack_id) if room.pack_id else None
            now = self.clock()
            try:
                result = action(room, pack, now)
            except NoChange:
                self._rooms[code] = (stored.version, room)  # untouched: still that version
                return room, None  # type: ignore[return-value]
            except RitrovoError:
                # Every rule refuses before it changes anything (the rule tests
                # check the room is byte-for-byte unchanged after each refusal),
                # so the object is still that version: most guesses in a burst
                # are refused, and each would otherwise decode the room again.
                self._rooms[code] = (stored.version, room)
                raise
            room.seq = stored.version + 1
            data = encode_room(room)
            outcome = await self.store.commit(
                code,
                stored.version,
                room.seq,
                data,
                deadline_at=flow.next_deadline(room, pack, now),
                notice=orjson.dumps({"seq": room.seq}),
                now=now,
            )
            if outcome.ok:
                self._remember(code, Stored(room.seq, data), committed=True)
                self._rooms[code] = (room.seq, room)
                return room, result
            stored = outcome.current  # another process wrote first: ``room`` is discarded
        raise StoreUnavailable("the room is too busy; try again", code=ErrorCode.BUSY)

    def _decoded(self, code: str, stored: Stored) -> Room:
        """The room at ``stored``'s version, to be changed by one command.

        Decoding a big room costs milliseconds, and a burst of guesses would
        decode it once per guess, so the object the last command committed is
        reused. It is taken out of the cache while a command works on it and
        put back only once committed, untouched, or refused by a rule (rules
        refuse before changing anything); an unexpected exception or a lost
        compare-and-set discards it.
        """
        hit = self._rooms.pop(code, None)
        if hit is not None and hit[0] == stored.version:
            return hit[1]
        return decode_room(stored.data)

    def _forget(self, code: str) -> None:
        self._cache.pop(code, None)
        self._rooms.pop(code, None)

    async def delete(self, code: str) -> None:
        self._rooms.pop(code, None)
        self._cache.pop(code, None)
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

    def _remember(self, code: str, stored: Stored, *, committed: bool = False) -> None:
        known = self._cache.get(code)
        if not committed and known is not None and known.version > stored.version:
            # A read that started before our last commit came back late: keep
            # the newer version, or the next command would lose its CAS.
            return
        self._cache[code] = stored
        self._cache.move_to_end(code)
        while len(self._cache) > 10_000:
            old, _ = self._cache.popitem(last=False)
            self._rooms.pop(old, None)

    # -- packs -------------------------------------------------------------

    async def get_pack(self, pack_id: str | None) -> Pack | None:
        if pack_id is None:
            return None
        if not pack_id.startswith(UPLOAD_PREFIX):
            return self.library.get(pack_id)
        pack = self._packs.get(pack_id)
        if pack is None:
            data = await self.store.load_pack(pack_id[len(UPLOAD_PREFIX) :])
            if data is None:
                return None
            pack = decode_pack(data)
            self._packs[pack_id] = pack
            while len(self._packs) > 500:
                self._packs.popitem(last=False)
        return pack

    async def save_uploaded_pack(self, pack: Pack) -> str:
        data = encode_pack(pack)
        key = hashlib.sha256(data).hexdigest()
        await self.store.save_pack(key, data)
        pack_id = UPLOAD_PREFIX + key
        self._packs[pack_id] = pack
        return pack_id
