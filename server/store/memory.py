"""The embedded default store: rooms in this process's memory.

Not durable: a restart loses every room. It is the twin of the Redis store
and passes the same contract tests. Every method runs without awaiting in
between its read and its write, so on one event loop each call is atomic.

The timer lease has the same rules as in Redis (one holder, expiry after
``ttl``), but only the one process that owns this memory ever asks for it,
so in practice that process always holds it.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import time
from collections import deque

from .base import (
    LOG_LENGTH,
    Arrival,
    Claim,
    CommitResult,
    MailHandler,
    NoticeHandler,
    RoomStore,
    Stored,
)


class MemoryStore(RoomStore):
    durable = False

    def __init__(self, room_ttl: float | None = None) -> None:
        if room_ttl is not None:
            self.room_ttl = room_ttl
        # A room's parts and version. Parts are bytes, as in Redis, so a room
        # here is as isolated from its users as it is there.
        self._rooms: dict[str, tuple[int, dict[str, bytes]]] = {}
        self._active: dict[str, float] = {}
        # The last changes of each room, for a writer that lost a compare-and-set.
        self._logs: dict[str, deque[tuple[int, bytes]]] = {}
        self._deadlines: dict[str, float] = {}
        self._packs: dict[str, tuple[bytes, float]] = {}  # key: data, expiry (``now``)
        self._counters: dict[str, tuple[int, int]] = {}
        self._places: dict[str, tuple[int, int, int]] = {}  # name: window, held, failed
        self._handlers: list[NoticeHandler] = []
        self._instances: dict[str, float] = {}
        self._instance_rooms: dict[str, set[str]] = {}
        self._lease: tuple[str, float] | None = None  # holder, expiry (time.monotonic)
        self._owners: dict[str, tuple[str, float]] = {}  # code: owner, expiry (time.monotonic)
        self._mail: dict[str, MailHandler] = {}
        # Circles: id -> (version, parts, expiry by ``now``).
        self._circles: dict[str, tuple[int, dict[str, bytes], float]] = {}
        # New members each room added to its circle: (circle id, room) -> count, expiry.
        self._circle_rooms: dict[tuple[str, str], tuple[int, float]] = {}
        # Nothing expires before ``_sweep_after``, and no room is due before
        # ``_due_after`` (both by ``now``): the timers poll every tenth of a
        # second, and scanning every room, pack and circle at each poll
        # cost a busy process ~3% of its CPU (S2, 200 rooms) for nothing.
        # Each is lowered when an earlier time is stored, and set exactly by
        # the scan that passes it; a later time stored over an earlier one
        # only makes a scan come sooner than needed.
        self._sweep_after = math.inf
        self._due_after = math.inf

    def _expires(self, at: float) -> None:
        """Note that something stored expires after ``at``."""
        self._sweep_after = min(self._sweep_after, at)

    def _expire(self, now: float) -> None:
        if now <= self._sweep_after:
            return
        for code, at in list(self._active.items()):
            if now - at > self.room_ttl:
                self._drop(code)
        for key, (_, until) in list(self._packs.items()):
            if until < now:
                del self._packs[key]
        for circle_id, (_, _, until) in list(self._circles.items()):
            if until < now:
                del self._circles[circle_id]
        for pair, (_, until) in list(self._circle_rooms.items()):
            if until < now:
                del self._circle_rooms[pair]
        self._sweep_after = min(
            min(self._active.values(), default=math.inf) + self.room_ttl,
            min((until for _, until in self._packs.values()), default=math.inf),
            min((until for _, _, until in self._circles.values()), default=math.inf),
            min((until for _, until in self._circle_rooms.values()), default=math.inf),
        )

    def _drop(self, code: str) -> None:
        self._rooms.pop(code, None)
        self._owners.pop(code, None)
        self._logs.pop(code, None)
        self._active.pop(code, None)
        self._deadlines.pop(code, None)

    async def create(
        self, code: str, parts: dict[str, bytes], now: float, ttl: float | None = None
    ) -> bool:
        self._expire(now)
        if code in self._rooms:
            return False
        self._rooms[code] = (0, dict(parts))
        # Active "that long ago": it expires after ``ttl`` unless a commit comes.
        self._active[code] = now - max(0.0, self.room_ttl - (ttl or self.room_ttl))
        self._expires(self._active[code] + self.room_ttl)
        return True

    async def load(self, code: str) -> Stored | None:
        found = self._rooms.get(code)
        return None if found is None else Stored(found[0], dict(found[1]))

    async def commit(
        self,
        code: str,
        expected_version: int,
        version: int,
        written: dict[str, bytes],
        gone: list[str],
        *,
        whole: bool,
        deadline_at: float | None,
        notice: bytes,
        now: float,
        claim: Claim | None = None,
        keep_log: bool = True,
    ) -> CommitResult:
        current = self._rooms.get(code)
        if current is None:
            return CommitResult(False)
        owner = self._owner(code) if claim is not None else None
        if current[0] != expected_version:
            if claim is not None and owner is None:
                owner = claim.instance
                self._owners[code] = (owner, time.monotonic() + claim.lease)
            log = [data for at, data in self._logs.get(code, ()) if at > expected_version]
            first = next((at for at, _ in self._logs.get(code, ()) if at > expected_version), None)
            if log and first == expected_version + 1:
                return CommitResult(False, missed=log, owner=owner)
            return CommitResult(False, await self.load(code), owner=owner)
        if claim is not None and owner == claim.instance:
            self._owners[code] = (owner, time.monotonic() + claim.lease)
        parts = {} if whole else current[1]
        parts.update(written)
        for name in gone:
            parts.pop(name, None)
        self._rooms[code] = (version, parts)
        if keep_log:
            self._logs.setdefault(code, deque(maxlen=LOG_LENGTH)).append((version, notice))
        else:
            self._logs.pop(code, None)
        self._active[code] = now
        self._expires(now + self.room_ttl)
        if deadline_at is None:
            self._deadlines.pop(code, None)
        else:
            self._deadlines[code] = deadline_at
            self._due_after = min(self._due_after, deadline_at)
        await self._publish(code, notice)
        return CommitResult(True, None, owner=owner)

    def _owner(self, code: str) -> str | None:
        found = self._owners.get(code)
        if found is not None and found[1] <= time.monotonic():
            del self._owners[code]
            return None
        return None if found is None else found[0]

    async def delete(self, code: str, notice: bytes) -> None:
        self._drop(code)
        await self._publish(code, notice)

    async def _publish(self, code: str, notice: bytes) -> None:
        for handler in self._handlers:
            result = handler(code, notice)
            if inspect.isawaitable(result):
                await result

    async def due_rooms(self, now: float, limit: int = 100) -> list[str]:
        self._expire(now)
        if now < self._due_after:
            return []
        due = sorted((at, code) for code, at in self._deadlines.items() if at <= now)
        self._due_after = min(self._deadlines.values(), default=math.inf)
        return [code for _, code in due[:limit]]

    async def count_rooms(self, now: float) -> int:
        self._expire(now)
        return len(self._rooms)

    async def save_pack(self, key: str, data: bytes, *, ttl: float, now: float) -> None:
        self._expire(now)
        until = max(now + ttl, self._packs.get(key, (b"", 0.0))[1])
        self._packs[key] = (data, until)
        self._expires(until)

    async def keep_pack(self, key: str, *, ttl: float, now: float) -> bool:
        self._expire(now)
        found = self._packs.get(key)
        if found is None:
            return False
        self._packs[key] = (found[0], max(found[1], now + ttl))
        self._expires(self._packs[key][1])
        return True

    async def load_pack(self, key: str) -> bytes | None:
        found = self._packs.get(key)
        return None if found is None else found[0]

    def _circle(self, circle_id: str, now: float) -> tuple[int, dict[str, bytes], float] | None:
        found = self._circles.get(circle_id)
        if found is not None and found[2] < now:
            del self._circles[circle_id]
            return None
        return found

    async def create_circle(
        self, circle_id: str, parts: dict[str, bytes], *, ttl: float, now: float
    ) -> bool:
        self._expire(now)  # circles nobody reads again go too
        if self._circle(circle_id, now) is not None:
            return False
        self._circles[circle_id] = (0, dict(parts), now + ttl)
        self._expires(now + ttl)
        return True

    async def load_circle(
        self, circle_id: str, *, now: float, without: str | None = None
    ) -> Stored | None:
        found = self._circle(circle_id, now)
        if found is None:
            return None
        parts = found[1]
        if without:
            return Stored(found[0], {n: v for n, v in parts.items() if not n.startswith(without)})
        return Stored(found[0], dict(parts))

    async def commit_circle(
        self,
        circle_id: str,
        expected_version: int,
        written: dict[str, bytes],
        gone: list[str],
        *,
        ttl: float,
        now: float,
    ) -> bool:
        found = self._circle(circle_id, now)
        if found is None or found[0] != expected_version:
            return False
        stored = dict(found[1])
        stored.update(written)
        for name in gone:
            stored.pop(name, None)
        self._circles[circle_id] = (expected_version + 1, stored, now + ttl)
        self._expires(now + ttl)
        return True

    async def delete_circle(self, circle_id: str) -> bool:
        return self._circles.pop(circle_id, None) is not None

    async def arrive_circle(
        self,
        circle_id: str,
        device_hash: str,
        member: tuple[bytes, bytes],
        *,
        room: str,
        max_members: int,
        room_limit: int,
        ttl: float,
        now: float,
    ) -> Arrival | None:
        found = self._circle(circle_id, now)
        if found is None:
            return None
        version, parts, _ = found
        known = parts.get("d:" + device_hash)
        if known is not None:
            member_id = known.decode()
            return Arrival(member_id, parts.get("m:" + member_id, b""))
        if sum(1 for name in parts if name.startswith("m:")) >= max_members:
            return Arrival(refused="circle")
        added, until = self._circle_rooms.get((circle_id, room), (0, 0.0))
        if until < now:
            added = 0
        if added >= room_limit:
            return Arrival(refused="room")
        number = int(parts.get("n", b"0"))
        while True:
            number += 1
            member_id = f"c{number}"
            if "m:" + member_id not in parts:
                break
        stored = dict(parts)
        stored["n"] = str(number).encode()
        stored["d:" + device_hash] = member_id.encode()
        stored["m:" + member_id] = member[0] + member_id.encode() + member[1]
        self._circles[circle_id] = (version, stored, now + ttl)
        self._circle_rooms[(circle_id, room)] = (added + 1, now + self.room_ttl)
        self._expires(min(now + ttl, now + self.room_ttl))
        return Arrival(member_id, new=True)

    async def put_circle_member(
        self,
        circle_id: str,
        device_hash: str,
        member_id: str,
        data: bytes,
        *,
        ttl: float,
        now: float,
    ) -> bool:
        found = self._circle(circle_id, now)
        if found is None or found[1].get("d:" + device_hash) != member_id.encode():
            return False
        stored = dict(found[1])
        stored["m:" + member_id] = data
        self._circles[circle_id] = (found[0], stored, now + ttl)
        self._expires(now + ttl)
        return True

    async def count_circles(self, now: float) -> int:
        self._expire(now)
        return len(self._circles)

    async def hit(self, name: str, window_seconds: int, now: float, amount: int = 1) -> int:
        window = math.floor(now / window_seconds)
        start, count = self._counters.get(name, (window, 0))
        if start != window:
            count = 0
        if amount == 0:
            return count
        self._counters[name] = (window, count + amount)
        if len(self._counters) > 100_000:  # forget old windows rather than grow forever
            self._counters = {k: v for k, v in self._counters.items() if v[0] == window}
        return count + amount

    async def reserve(
        self, name: str, window_seconds: int, now: float, limit: int
    ) -> tuple[bool, int]:
        window = math.floor(now / window_seconds)
        start, held, failed = self._places.get(name, (window, 0, 0))
        if start != window:
            held = failed = 0
        if held >= limit:
            return False, failed
        self._places[name] = (window, held + 1, failed)
        if len(self._places) > 100_000:  # forget old windows rather than grow forever
            self._places = {k: v for k, v in self._places.items() if v[0] == window}
        return True, failed

    async def settle(self, name: str, window_seconds: int, taken_at: float, failed: bool) -> int:
        window = math.floor(taken_at / window_seconds)
        start, held, failures = self._places.get(name, (None, 0, 0))
        if start != window:
            return 0
        if failed:
            failures += 1
        else:
            held = max(0, held - 1)
        self._places[name] = (window, held, failures)
        return failures

    def _live_lease(self) -> str | None:
        if self._lease is not None and self._lease[1] <= time.monotonic():
            self._lease = None
        return None if self._lease is None else self._lease[0]

    async def hold_lease(self, holder: str, ttl: float) -> bool:
        current = self._live_lease()
        if current is not None and current != holder:
            return False
        self._lease = (holder, time.monotonic() + ttl)
        return True

    async def release_lease(self, holder: str) -> None:
        if self._live_lease() == holder:
            self._lease = None

    async def lease_holder(self) -> str | None:
        return self._live_lease()

    async def beat(self, instance: str, now: float, rooms: list[str]) -> bool:
        known = instance in self._instances
        self._instances[instance] = now
        self._instance_rooms.setdefault(instance, set()).update(rooms)
        return known

    async def dead_instances(self, before: float) -> dict[str, list[str]]:
        return {
            instance: sorted(self._instance_rooms.get(instance, ()))
            for instance, at in self._instances.items()
            if at < before
        }

    async def forget_instance(self, instance: str) -> None:
        self._instances.pop(instance, None)
        self._instance_rooms.pop(instance, None)

    async def listen(self, handler: NoticeHandler) -> None:
        self._handlers.append(handler)

    async def send_mail(self, instance: str, data: bytes) -> int:
        handler = self._mail.get(instance)
        if handler is None:
            return 0
        # Later, as from Redis: the sender does not run the receiver's work.
        asyncio.get_running_loop().call_soon(handler, data)
        return 1

    async def receive_mail(self, instance: str, handler: MailHandler) -> None:
        self._mail[instance] = handler

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._handlers.clear()
        self._mail.clear()
