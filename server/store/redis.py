"""The Redis store: durable rooms shared by every server process.

Each room is a hash (``v`` and one field per part, see ``parts.py``) that
expires after the idle TTL. A commit is one Lua script: compare the version,
write the parts that changed, move the room's deadline in the deadlines
sorted set, and publish the change itself. Redis runs a script
alone, so two processes racing for the same room cannot both win, and a
notice is never published for a write that did not happen.

Failures surface fast: a command is retried once at most (a pooled connection
may be stale after a Redis restart), then ``StoreUnavailable`` is raised and
the edges tell the clients the game is paused. Every call is timed through
``on_roundtrip`` for the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .. import garbage
from ..errors import ErrorCode, StoreUnavailable
from . import keys
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

log = logging.getLogger(__name__)

# Writes name/value pairs into a hash in batches: Lua's unpack() has a stack
# limit, and a whole room of 2,000 players is over 4,000 values.
HSET_PAIRS = """
local function hset_pairs(key, first, last)
  local batch = {}
  for i = first, last do
    batch[#batch + 1] = ARGV[i]
    if #batch == 1000 then
      redis.call('HSET', key, unpack(batch))
      batch = {}
    end
  end
  if #batch > 0 then redis.call('HSET', key, unpack(batch)) end
end
"""

CREATE_SCRIPT = (
    HSET_PAIRS
    + """
-- KEYS: room hash, rooms zset. ARGV: ttl, code, now, then part name/value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', '0')
hset_pairs(KEYS[1], 4, #ARGV)
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
return 1
"""
)

# One atomic step per command: compare the version, write the parts that
# changed (or, for a whole-room change, replace every part), move the
# deadline, publish the change. On a conflict the caller gets the room as
# stored now, in the same round trip.
COMMIT_SCRIPT = (
    HSET_PAIRS
    + """
-- KEYS: room hash, deadlines zset, rooms zset, room log stream, room owner
-- ARGV: 1 expected version, 2 new version, 3 deadline ('' = none), 4 ttl, 5 code,
--       6 channel, 7 notice, 8 now, 9 whole ('1' or '0'), 10 number of written parts,
--       11 log length (0: the room needs no log any more: delete it), 12 claiming instance ('' = no claim), 13 ownership lease (ms),
--       then written name/value pairs, then the names of parts that are gone
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return {-1} end
local owner = false
if ARGV[12] ~= '' then owner = redis.call('GET', KEYS[5]) end
if v ~= ARGV[1] then
  -- A lost race: the loser owns the room if nobody does (see keys.room_owner).
  if ARGV[12] ~= '' and not owner then
    redis.call('SET', KEYS[5], ARGV[12], 'PX', ARGV[13])
    owner = ARGV[12]
  end
  -- The changes since the expected version, if the log still holds them all.
  local log = redis.call('XRANGE', KEYS[4], ARGV[1] .. '-2', '+')
  if #log > 0 and log[1][1] == (tonumber(ARGV[1]) + 1) .. '-1' then
    local missed = {}
    for i, entry in ipairs(log) do missed[i] = entry[2][2] end
    return {2, missed, owner}
  end
  return {0, redis.call('HGETALL', KEYS[1]), owner}
end
if owner and owner == ARGV[12] then redis.call('PEXPIRE', KEYS[5], ARGV[13]) end
-- The log first: an entry id at or below the last one fails here, before
-- anything is written (Lua does not roll back what a script already did).
if ARGV[11] == '0' then
  redis.call('DEL', KEYS[4])
else
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[11], ARGV[2] .. '-1', 'n', ARGV[7])
end
if ARGV[9] == '1' then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], 'v', ARGV[2])
local last = 13 + 2 * tonumber(ARGV[10])
hset_pairs(KEYS[1], 14, last)
for i = last + 1, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], ARGV[4])
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], ARGV[5])
else
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[5])
end
redis.call('ZADD', KEYS[3], ARGV[8], ARGV[5])
redis.call('EXPIRE', KEYS[4], ARGV[4])
redis.call('PUBLISH', ARGV[6], ARGV[7])
return {1, owner}
"""
)

# Take the lease if it is free, renew it if we hold it; never take it from
# another live holder. Redis expires it by itself when its holder stops renewing.
HOLD_LEASE_SCRIPT = """
-- KEYS: lease. ARGV: holder, ttl in milliseconds
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

RELEASE_LEASE_SCRIPT = """
-- KEYS: lease. ARGV: holder
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""

# A room that expired (idle TTL) leaves its code in the deadline set; drop it
# here, or the timer holder would find it due on every poll.
DUE_SCRIPT = """
-- KEYS: deadlines zset, rooms zset. ARGV: now, limit, room key prefix
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local live = {}
for _, code in ipairs(due) do
  if redis.call('EXISTS', ARGV[3] .. code .. '}') == 1 then
    table.insert(live, code)
  else
    redis.call('ZREM', KEYS[1], code)
    redis.call('ZREM', KEYS[2], code)
  end
end
return live
"""

DELETE_SCRIPT = """
-- KEYS: room hash, deadlines zset, rooms zset, room log. ARGV: code, channel, notice
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
"""


# An uploaded pack's life is only ever lengthened: several rooms may keep
# the same pack, each for its own time.
KEEP_PACK_SCRIPT = """
-- KEYS: pack. ARGV: time to live (ms), then the data when saving
local left = redis.call('PTTL', KEYS[1])
if left == -2 then
  if #ARGV < 2 then return 0 end
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
elseif left >= 0 and left < tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 1
"""
# A circle (game/circles.py) is made at version 0 with its parts, and changed
# by compare-and-set on ``v``, each write giving it its full time to live.
CREATE_CIRCLE_SCRIPT = (
    HSET_PAIRS
    + """
-- KEYS: circle hash. ARGV: ttl (s), then part name/value pairs
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', '0')
hset_pairs(KEYS[1], 2, #ARGV)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""
)
COMMIT_CIRCLE_SCRIPT = (
    HSET_PAIRS
    + """
-- KEYS: circle hash. ARGV: expected version, ttl (s), number of written pairs,
-- then the written name/value pairs, then the names of the parts gone
local v = redis.call('HGET', KEYS[1], 'v')
if not v or v ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', tostring(tonumber(v) + 1))
local last = 3 + 2 * tonumber(ARGV[3])
hset_pairs(KEYS[1], 4, last)
for i = last + 1, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""
)
# A circle's parts but those whose names start with a prefix (its keepsakes:
# the larger parts, which loading for the pairing history need not carry).
LOAD_CIRCLE_WITHOUT_SCRIPT = """
-- KEYS: circle hash. ARGV: the prefix of the names left out
local all = redis.call('HGETALL', KEYS[1])
local out = {}
local n = #ARGV[1]
for i = 1, #all, 2 do
  if string.sub(all[i], 1, n) ~= ARGV[1] then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out
"""
# An arrival: the member of a device (``d:<device hash>`` -> member id), or a
# new one numbered by HINCRBY on ``n``, in one script that leaves ``v`` alone,
# so simultaneous arrivals never make each other (or a commit) retry.
ARRIVE_CIRCLE_SCRIPT = """
-- KEYS: circle hash, the room's count of new members. ARGV: device field,
-- ttl (s), max members, room limit, room ttl (s), member JSON before and after the id
-- Returns {0} no circle, {1, id, part} returning, {2} circle full, {3} room's share used, {4, id} new
if redis.call('HEXISTS', KEYS[1], 'meta') == 0 then return {0} end
local id = redis.call('HGET', KEYS[1], ARGV[1])
if id then return {1, id, redis.call('HGET', KEYS[1], 'm:' .. id) or ''} end
local count = 0
for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(name, 1, 2) == 'm:' then count = count + 1 end
end
if count >= tonumber(ARGV[3]) then return {2} end
if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[4]) then return {3} end
repeat
  id = 'c' .. redis.call('HINCRBY', KEYS[1], 'n', 1)
until redis.call('HEXISTS', KEYS[1], 'm:' .. id) == 0
redis.call('HSET', KEYS[1], ARGV[1], id, 'm:' .. id, ARGV[6] .. id .. ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[5])
return {4, id}
"""

PUT_CIRCLE_MEMBER_SCRIPT = """
-- KEYS: circle hash. ARGV: device field, member id, part, ttl (s)
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'm:' .. ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""

# One attempt takes a place of a fixed window (``r``: places held) unless
# ``limit`` are held; a failed attempt keeps its place and counts in ``f``, a
# successful one gives it back. In one script, so a burst of parallel attempts
# cannot all pass the check before any is counted.
RESERVE_SCRIPT = """
-- KEYS: the window's hash. ARGV: limit, ttl
local held = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
if held >= tonumber(ARGV[1]) then
  return {0, tonumber(redis.call('HGET', KEYS[1], 'f') or '0')}
end
redis.call('HINCRBY', KEYS[1], 'r', 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return {1, tonumber(redis.call('HGET', KEYS[1], 'f') or '0')}
"""

SETTLE_SCRIPT = """
-- KEYS: the window's hash. ARGV: '1' failed (keep the place), '0' succeeded (give it back)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '1' then return redis.call('HINCRBY', KEYS[1], 'f', 1) end
if tonumber(redis.call('HGET', KEYS[1], 'r') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'r', -1)
end
return tonumber(redis.call('HGET', KEYS[1], 'f') or '0')
"""


RoundTripObserver = Callable[[str, float], None]
UNAVAILABLE = "the game store (Redis) is unreachable; the game is paused until it is back"
LISTEN_BACKOFF_CAP = 1.0  # seconds: resubscribe soon after Redis returns


CALL_TIMEOUT = 5.0  # seconds: a store call that takes longer counts as an outage
POOL_SIZE = 64  # connections to Redis per process (settings: redis_pool_size)
POOL_WAIT = 2.0  # seconds a call may wait for a free one (settings: redis_pool_wait)
POOL_IDLE = 10.0  # seconds a pooled connection may go unused before it is closed...
POOL_KEEP = 4  # ...as long as the pool keeps this many


class ShrinkingPool(aioredis.BlockingConnectionPool):
    """A blocking pool that closes the connections a burst opened once they idle.

    redis-py's pool keeps every connection it ever opened: a burst of
    openings (or the issue-12 soak's abuse) left 45 connections to Redis for
    the process's life, each with its reader, parser, transport and a dozen
    helper objects. Made at the peak, those objects were spread over the
    pymalloc arenas the peak had added, and kept every one of them (an arena
    is given back only when all its blocks are free): the soak's RSS stayed
    at 1.4x the baseline. So a connection unused for ``idle`` seconds is
    closed and dropped when another is released (the pool is used every few
    seconds: heartbeats, the timer lease), down to ``keep`` connections; a
    later burst opens new ones.

    Uses redis-py's ``_available_connections`` (a list the pool takes from
    the end: the first is the one unused longest) and
    ``_in_use_connections``, as in redis-py 8.1; tests/store/test_redis_pool.py
    exercises them.
    """

    def __init__(self, *, idle: float, keep: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.idle = idle
        self.keep = keep
        self._released_at: dict[Any, float] = {}

    async def release(self, connection: Any) -> None:
        self._released_at[connection] = time.monotonic()
        await super().release(connection)
        now = time.monotonic()
        idle: list[Any] = []
        available = self._available_connections
        while (
            available
            and len(available) + len(self._in_use_connections) > self.keep
            and now - self._released_at.get(available[0], now) >= self.idle
        ):
            idle.append(available.pop(0))
        for conn in idle:
            self._released_at.pop(conn, None)
            with contextlib.suppress(Exception):
                await conn.disconnect()
            # A redis-py connection refers to itself (its notification
            # handlers): it is freed by the next full collection, as a
            # client's closed connection is.
            garbage.connection_closed()

    def connection_count(self) -> int:
        """Connections the pool holds now, in use or not."""
        return len(self._available_connections) + len(self._in_use_connections)


def _client(
    url: str,
    retries: int,
    pool_size: int,
    pool_wait: float,
    pool_idle: float = POOL_IDLE,
) -> aioredis.Redis:
    # A short retry budget on purpose: while Redis is down, a command must fail
    # in milliseconds (the client gets ``store_unavailable``), not hang.
    # No ``socket_timeout``: with one, redis-py wraps every write in
    # ``asyncio.wait_for``, which on Python 3.11 can swallow a cancellation and
    # hang a shutdown. ``_call`` bounds each call with ``asyncio.timeout``.
    # A blocking pool: when every connection is busy (a burst of openings), a
    # call waits up to ``pool_wait`` for one instead of failing at once, which
    # told hundreds of players "store unavailable" while Redis was fine.
    pool = ShrinkingPool.from_url(
        url,
        idle=pool_idle,
        keep=POOL_KEEP,
        max_connections=pool_size,
        timeout=pool_wait,
        socket_connect_timeout=2,
        socket_timeout=None,  # redis-py's default is 5 s
        health_check_interval=10,
        retry=Retry(NoBackoff(), retries),
    )
    return aioredis.Redis.from_pool(pool)  # the client owns the pool: closing it closes both


class RedisStore(RoomStore):
    durable = True

    def __init__(
        self,
        url: str,
        room_ttl: float | None = None,
        *,
        on_roundtrip: RoundTripObserver | None = None,
        pool_size: int = POOL_SIZE,
        pool_wait: float = POOL_WAIT,
        pool_idle: float = POOL_IDLE,
    ) -> None:
        if room_ttl is not None:
            self.room_ttl = room_ttl
        self.url = url
        self.on_roundtrip = on_roundtrip
        self.redis: aioredis.Redis = _client(url, 1, pool_size, pool_wait, pool_idle)
        # The health check's own connection: a pool busy with a burst of
        # commands must never look like an outage.
        self._health = _client(url, 0, 1, CALL_TIMEOUT)
        self._create = self.redis.register_script(CREATE_SCRIPT)
        self._commit = self.redis.register_script(COMMIT_SCRIPT)
        self._delete = self.redis.register_script(DELETE_SCRIPT)
        self._due = self.redis.register_script(DUE_SCRIPT)
        self._hold_lease = self.redis.register_script(HOLD_LEASE_SCRIPT)
        self._release_lease = self.redis.register_script(RELEASE_LEASE_SCRIPT)
        self._reserve = self.redis.register_script(RESERVE_SCRIPT)
        self._settle = self.redis.register_script(SETTLE_SCRIPT)
        self._keep_pack = self.redis.register_script(KEEP_PACK_SCRIPT)
        self._create_circle = self.redis.register_script(CREATE_CIRCLE_SCRIPT)
        self._commit_circle = self.redis.register_script(COMMIT_CIRCLE_SCRIPT)
        self._load_circle_without = self.redis.register_script(LOAD_CIRCLE_WITHOUT_SCRIPT)
        self._arrive_circle = self.redis.register_script(ARRIVE_CIRCLE_SCRIPT)
        self._put_circle_member = self.redis.register_script(PUT_CIRCLE_MEMBER_SCRIPT)
        self._listener: asyncio.Task[None] | None = None
        self._handler: NoticeHandler | None = None
        self._mail: tuple[str, MailHandler] | None = None  # this process's channel, its handler
        self._closing = False

    @contextlib.asynccontextmanager
    async def _call(self, operation: str) -> AsyncIterator[None]:
        """Time one store call and turn any Redis failure into ``StoreUnavailable``."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                yield
        except (RedisError, OSError) as exc:  # OSError includes TimeoutError
            raise StoreUnavailable(UNAVAILABLE, code=ErrorCode.STORE_UNAVAILABLE) from exc
        finally:
            if self.on_roundtrip is not None:
                self.on_roundtrip(operation, time.perf_counter() - started)

    @property
    def _ttl(self) -> int:
        return max(1, math.ceil(self.room_ttl))

    async def create(
        self, code: str, parts: dict[str, bytes], now: float, ttl: float | None = None
    ) -> bool:
        # The rooms set holds each room's last activity: a room that must go
        # after ``ttl`` is entered as active that much before its time.
        short = ttl is not None and ttl < self.room_ttl
        expire = max(1, math.ceil(ttl)) if short and ttl is not None else self._ttl
        args: list[Any] = [expire, code, now - (self.room_ttl - expire) if short else now]
        for name, data in parts.items():
            args += [name, data]
        async with self._call("create"):
            created = await self._create(keys=[keys.room(code), keys.ROOMS], args=args)
        return bool(created)

    async def load(self, code: str) -> Stored | None:
        async with self._call("load"):
            fields = await self.redis.hgetall(keys.room(code))
        return _stored(fields)

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
        args: list[Any] = [
            expected_version,
            version,
            "" if deadline_at is None else repr(deadline_at),
            self._ttl,
            code,
            keys.room_events(code),
            notice,
            now,
            "1" if whole else "0",
            len(written),
            LOG_LENGTH if keep_log else 0,
            "" if claim is None else claim.instance,
            1 if claim is None else max(1, round(claim.lease * 1000)),
        ]
        for name, data in written.items():
            args += [name, data]
        args += gone
        async with self._call("commit"):
            reply = await self._commit(
                keys=[
                    keys.room(code),
                    keys.DEADLINES,
                    keys.ROOMS,
                    keys.room_log(code),
                    keys.room_owner(code),
                ],
                args=args,
            )
        # Lua's false arrives as None, or ends the reply list early.
        owner = _bytes(reply[-1]).decode() if len(reply) > 1 and reply[-1] else None
        if reply[0] == 1:
            if self._handler is not None:
                # This process hears of its own change at once, as with the
                # memory store, instead of one more trip through Redis; the
                # echo from the subscription follows and changes nothing.
                await _deliver(self._handler, code, notice)
            return CommitResult(True, owner=owner)
        if reply[0] == -1:
            return CommitResult(False)
        if reply[0] == 2:
            missed = [_bytes(notice) for notice in reply[1]]
            return CommitResult(False, missed=missed, owner=owner)
        flat = reply[1]
        current = _stored(dict(zip(flat[::2], flat[1::2], strict=True)))
        return CommitResult(False, current, owner=owner)

    async def delete(self, code: str, notice: bytes) -> None:
        async with self._call("delete"):
            await self._delete(
                keys=[keys.room(code), keys.DEADLINES, keys.ROOMS, keys.room_log(code)],
                args=[code, keys.room_events(code), notice],
            )

    async def due_rooms(self, now: float, limit: int = 100) -> list[str]:
        async with self._call("due_rooms"):
            codes = await self._due(
                keys=[keys.DEADLINES, keys.ROOMS], args=[repr(now), limit, keys.ROOM_PREFIX]
            )
        return [c.decode() for c in codes]

    async def count_rooms(self, now: float) -> int:
        async with self._call("count_rooms"):
            return int(await self.redis.zcount(keys.ROOMS, now - self.room_ttl, "+inf"))

    async def save_pack(self, key: str, data: bytes, *, ttl: float, now: float) -> None:
        async with self._call("save_pack"):
            await self._keep_pack(keys=[keys.pack(key)], args=[_ms(ttl), data])

    async def keep_pack(self, key: str, *, ttl: float, now: float) -> bool:
        async with self._call("keep_pack"):
            return bool(await self._keep_pack(keys=[keys.pack(key)], args=[_ms(ttl)]))

    async def load_pack(self, key: str) -> bytes | None:
        async with self._call("load_pack"):
            data = await self.redis.get(keys.pack(key))
        return None if data is None else _bytes(data)

    async def create_circle(
        self, circle_id: str, parts: dict[str, bytes], *, ttl: float, now: float
    ) -> bool:
        args: list[Any] = [max(1, math.ceil(ttl))]
        for name, data in parts.items():
            args += [name, data]
        async with self._call("create_circle"):
            created = bool(await self._create_circle(keys=[keys.circle(circle_id)], args=args))
            if created:
                await self.redis.zadd(keys.CIRCLES, {circle_id: now + ttl})
        return created

    async def _circle_lives(self, circle_id: str, ttl: float, now: float) -> None:
        """The circles' index follows a write that gave the circle ``ttl`` more seconds."""
        await self.redis.zadd(keys.CIRCLES, {circle_id: now + ttl}, xx=True)

    async def load_circle(
        self, circle_id: str, *, now: float, without: str | None = None
    ) -> Stored | None:
        async with self._call("load_circle"):
            if not without:
                fields = await self.redis.hgetall(keys.circle(circle_id))
            else:
                flat = await self._load_circle_without(
                    keys=[keys.circle(circle_id)], args=[without]
                )
                fields = dict(zip(flat[::2], flat[1::2], strict=True))
        return _stored(fields)

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
        args: list[Any] = [str(expected_version), max(1, math.ceil(ttl)), len(written)]
        for name, data in written.items():
            args += [name, data]
        args += gone
        async with self._call("commit_circle"):
            done = bool(await self._commit_circle(keys=[keys.circle(circle_id)], args=args))
            if done:
                await self._circle_lives(circle_id, ttl, now)
        return done

    async def delete_circle(self, circle_id: str) -> bool:
        async with self._call("delete_circle"):
            await self.redis.zrem(keys.CIRCLES, circle_id)
            return bool(await self.redis.delete(keys.circle(circle_id)))

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
        args: list[Any] = [
            "d:" + device_hash,
            max(1, math.ceil(ttl)),
            max_members,
            room_limit,
            self._ttl,
            member[0],
            member[1],
        ]
        circle_keys = [keys.circle(circle_id), keys.circle_room(circle_id, room)]
        async with self._call("arrive_circle"):
            reply = await self._arrive_circle(keys=circle_keys, args=args)
            status = int(reply[0])
            if status == 4:
                await self._circle_lives(circle_id, ttl, now)
        if status == 0:
            return None
        if status == 1:
            return Arrival(_bytes(reply[1]).decode(), _bytes(reply[2]))
        if status == 4:
            return Arrival(_bytes(reply[1]).decode(), new=True)
        return Arrival(refused="circle" if status == 2 else "room")

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
        args: list[Any] = ["d:" + device_hash, member_id, data, max(1, math.ceil(ttl))]
        async with self._call("put_circle_member"):
            done = bool(await self._put_circle_member(keys=[keys.circle(circle_id)], args=args))
            if done:
                await self._circle_lives(circle_id, ttl, now)
        return done

    async def count_circles(self, now: float) -> int:
        async with self._call("count_circles"):
            await self.redis.zremrangebyscore(keys.CIRCLES, "-inf", now)
            return int(await self.redis.zcard(keys.CIRCLES))

    async def hit(self, name: str, window_seconds: int, now: float, amount: int = 1) -> int:
        key = keys.rate(f"{name}:{math.floor(now / window_seconds)}")
        async with self._call("hit"):
            if amount == 0:
                return int(await self.redis.get(key) or 0)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incrby(key, amount)
                pipe.expire(key, window_seconds + 1)
                count, _ = await pipe.execute()
        return int(count)

    async def reserve(
        self, name: str, window_seconds: int, now: float, limit: int
    ) -> tuple[bool, int]:
        key = keys.attempts(f"{name}:{math.floor(now / window_seconds)}")
        async with self._call("reserve"):
            taken, failed = await self._reserve(keys=[key], args=[limit, window_seconds + 1])
        return bool(taken), int(failed)

    async def settle(self, name: str, window_seconds: int, taken_at: float, failed: bool) -> int:
        key = keys.attempts(f"{name}:{math.floor(taken_at / window_seconds)}")
        async with self._call("settle"):
            return int(await self._settle(keys=[key], args=["1" if failed else "0"]))

    async def hold_lease(self, holder: str, ttl: float) -> bool:
        async with self._call("hold_lease"):
            held = await self._hold_lease(
                keys=[keys.TIMER_LEASE], args=[holder, max(1, round(ttl * 1000))]
            )
        return bool(held)

    async def release_lease(self, holder: str) -> None:
        async with self._call("release_lease"):
            await self._release_lease(keys=[keys.TIMER_LEASE], args=[holder])

    async def lease_holder(self) -> str | None:
        async with self._call("lease_holder"):
            holder = await self.redis.get(keys.TIMER_LEASE)
        return None if holder is None else _bytes(holder).decode()

    async def beat(self, instance: str, now: float, rooms: list[str]) -> bool:
        async with self._call("beat"), self.redis.pipeline(transaction=True) as pipe:
            pipe.zscore(keys.INSTANCES, instance)
            pipe.zadd(keys.INSTANCES, {instance: now})
            if rooms:
                pipe.sadd(keys.instance_rooms(instance), *rooms)
                pipe.expire(keys.instance_rooms(instance), self._ttl)
            results = await pipe.execute()
        return results[0] is not None

    async def dead_instances(self, before: float) -> dict[str, list[str]]:
        async with self._call("dead_instances"):
            found = await self.redis.zrangebyscore(
                keys.INSTANCES, "-inf", f"({before}", start=0, num=100
            )
            dead: dict[str, list[str]] = {}
            for raw in found:
                instance = _bytes(raw).decode()
                members = await self.redis.smembers(keys.instance_rooms(instance))
                dead[instance] = sorted(_bytes(m).decode() for m in members)
        return dead

    async def forget_instance(self, instance: str) -> None:
        async with (
            self._call("forget_instance"),
            self.redis.pipeline(transaction=True) as pipe,
        ):
            pipe.zrem(keys.INSTANCES, instance)
            pipe.delete(keys.instance_rooms(instance))
            await pipe.execute()

    async def send_mail(self, instance: str, data: bytes) -> int:
        async with self._call("send_mail"):
            return int(await self.redis.publish(keys.process_mail(instance), data))

    async def receive_mail(self, instance: str, handler: MailHandler) -> None:
        self._mail = (keys.process_mail(instance), handler)

    async def listen(self, handler: NoticeHandler) -> None:
        self._handler = handler
        self._listener = asyncio.create_task(self._listen(handler), name="redis-notices")

    async def _listen(self, handler: NoticeHandler) -> None:
        # One pattern subscription per process: simpler and more robust than
        # subscribing per room while reading, and notices are tiny. Its own
        # client, with no silent retries: any lost connection must come back
        # through this loop, which then asks for a resync.
        client = _client(self.url, 0, 1, CALL_TIMEOUT)
        mail = self._mail
        backoff = 0.1
        lost = False
        try:
            while not self._closing:
                pubsub = client.pubsub()
                try:
                    await pubsub.psubscribe(keys.ROOM_EVENTS_PATTERN)
                    # Resync only once Redis has confirmed the subscription: a
                    # change committed after that point is sure to be noticed.
                    while (await pubsub.get_message(timeout=1.0) or {}).get("type") != "psubscribe":
                        if self._closing:
                            return
                    if mail is not None:
                        await pubsub.subscribe(mail[0])
                    backoff = 0.1
                    if lost:
                        # Notices published while we were away are lost: ask for
                        # a resync of every room this process serves (empty code).
                        lost = False
                        await _deliver(handler, "", b"")
                    while not self._closing:
                        message = await pubsub.get_message(timeout=1.0)
                        if message is None:
                            continue
                        if message.get("type") == "message" and mail is not None:
                            _deliver_mail(mail[1], message["data"])
                            continue
                        if message.get("type") != "pmessage":
                            continue
                        channel: bytes = message["channel"]
                        data: bytes = message["data"]
                        await _deliver(
                            handler, channel.decode()[len(keys.ROOM_EVENTS_PREFIX) :], data
                        )
                except (RedisError, OSError) as exc:
                    lost = True
                    log.warning("redis notices lost (%s); resubscribing in %.1fs", exc, backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, LISTEN_BACKOFF_CAP)
                finally:
                    with contextlib.suppress(Exception):
                        async with asyncio.timeout(1.0):
                            await pubsub.aclose()  # type: ignore[no-untyped-call]
        finally:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await client.aclose()

    async def ping(self) -> None:
        async with self._call("ping"):
            await self._health.ping()

    async def close(self) -> None:
        self._closing = True
        listener = self._listener
        if listener is not None:
            # A cancellation can be lost inside a client library (Python 3.11's
            # wait_for has that race); the loop also checks ``_closing`` every
            # second, and we cancel again rather than wait forever.
            for _ in range(10):
                listener.cancel()
                done, _ = await asyncio.wait({listener}, timeout=0.3)
                if done:
                    break
            with contextlib.suppress(asyncio.CancelledError, Exception):
                if listener.done():
                    listener.result()
        for client in (self.redis, self._health):
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2.0):
                    await client.aclose()


def _stored(fields: dict[Any, Any]) -> Stored | None:
    """A room from its hash's fields (``v`` and the parts); None if there is none."""
    parts = {_bytes(name).decode(): _bytes(value) for name, value in fields.items()}
    version = parts.pop("v", None)
    if version is None or "meta" not in parts:
        return None
    return Stored(int(version), parts)


def _bytes(value: object) -> bytes:
    # The client is built without decode_responses: replies are bytes. A
    # sorted-set range without scores holds members only (never tuples).
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"unexpected Redis reply item: {type(value).__name__}")


async def _deliver(handler: NoticeHandler, code: str, notice: bytes) -> None:
    # A failing handler must not end the subscription: this process would stop
    # hearing of every room's changes.
    try:
        result = handler(code, notice)
        if inspect.isawaitable(result):
            await result
    except Exception:
        log.exception("notice handler failed", extra={"room": code or None})


def _deliver_mail(handler: MailHandler, data: object) -> None:
    try:
        handler(_bytes(data))
    except Exception:
        log.exception("mail handler failed")


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))
