"""The Redis store: durable rooms shared by every server process.

Each room is a hash (``v``, ``data``) that expires after the idle TTL. A commit
is one Lua script: compare the version, write the room, move its deadline in
the deadlines sorted set, and publish the change notice. Redis runs a script
alone, so two processes racing for the same room cannot both win, and a
notice is never published for a write that did not happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ..errors import StoreUnavailable
from . import keys
from .base import CommitResult, NoticeHandler, RoomStore, Stored

log = logging.getLogger(__name__)

CREATE_SCRIPT = """
-- KEYS: room hash, rooms zset. ARGV: data, ttl, code, now
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', '0', 'data', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
return 1
"""

COMMIT_SCRIPT = """
-- KEYS: room hash, deadlines zset, rooms zset
-- ARGV: expected version, new version, data, deadline ('' = none), ttl, code, channel, notice, now
local v = redis.call('HGET', KEYS[1], 'v')
if not v then return {-1} end
if v ~= ARGV[1] then return {0, v, redis.call('HGET', KEYS[1], 'data')} end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'data', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[5])
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[2], ARGV[6])
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[6])
end
redis.call('ZADD', KEYS[3], ARGV[9], ARGV[6])
redis.call('PUBLISH', ARGV[7], ARGV[8])
return {1}
"""

DELETE_SCRIPT = """
-- KEYS: room hash, deadlines zset, rooms zset. ARGV: code, channel, notice
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
"""


@contextlib.asynccontextmanager
async def _unavailable_on_error() -> AsyncIterator[None]:
    try:
        yield
    except (RedisError, OSError) as exc:
        raise StoreUnavailable("the game store (Redis) is unreachable; retrying") from exc


class RedisStore(RoomStore):
    durable = True

    def __init__(self, url: str, room_ttl: float | None = None) -> None:
        if room_ttl is not None:
            self.room_ttl = room_ttl
        self.url = url
        self.redis: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10
        )
        self._create = self.redis.register_script(CREATE_SCRIPT)
        self._commit = self.redis.register_script(COMMIT_SCRIPT)
        self._delete = self.redis.register_script(DELETE_SCRIPT)
        self._listener: asyncio.Task[None] | None = None

    @property
    def _ttl(self) -> int:
        return max(1, math.ceil(self.room_ttl))

    async def create(self, code: str, data: bytes, now: float) -> bool:
        async with _unavailable_on_error():
            created = await self._create(
                keys=[keys.room(code), keys.ROOMS], args=[data, self._ttl, code, now]
            )
        return bool(created)

    async def load(self, code: str) -> Stored | None:
        async with _unavailable_on_error():
            version, data = await self.redis.hmget(keys.room(code), ["v", "data"])
        if version is None or data is None:
            return None
        return Stored(int(version), bytes(data))

    async def commit(
        self,
        code: str,
        expected_version: int,
        version: int,
        data: bytes,
        *,
        deadline_at: float | None,
        notice: bytes,
        now: float,
    ) -> CommitResult:
        args: list[Any] = [
            expected_version,
            version,
            data,
            "" if deadline_at is None else repr(deadline_at),
            self._ttl,
            code,
            keys.room_events(code),
            notice,
            now,
        ]
        async with _unavailable_on_error():
            reply = await self._commit(
                keys=[keys.room(code), keys.DEADLINES, keys.ROOMS], args=args
            )
        if reply[0] == 1:
            return CommitResult(True, None)
        if reply[0] == -1:
            return CommitResult(False, None)
        return CommitResult(False, Stored(int(reply[1]), bytes(reply[2])))

    async def delete(self, code: str, notice: bytes) -> None:
        async with _unavailable_on_error():
            await self._delete(
                keys=[keys.room(code), keys.DEADLINES, keys.ROOMS],
                args=[code, keys.room_events(code), notice],
            )

    async def due_rooms(self, now: float, limit: int = 100) -> list[str]:
        async with _unavailable_on_error():
            codes = await self.redis.zrangebyscore(keys.DEADLINES, "-inf", now, start=0, num=limit)
        return [c.decode() for c in codes]

    async def count_rooms(self, now: float) -> int:
        async with _unavailable_on_error():
            return int(await self.redis.zcount(keys.ROOMS, now - self.room_ttl, "+inf"))

    async def save_pack(self, key: str, data: bytes) -> None:
        async with _unavailable_on_error():
            await self.redis.set(keys.pack(key), data, ex=self._ttl)

    async def load_pack(self, key: str) -> bytes | None:
        async with _unavailable_on_error():
            data = await self.redis.getex(keys.pack(key), ex=self._ttl)
        return None if data is None else bytes(data)

    async def hit(self, name: str, window_seconds: int, now: float) -> int:
        key = keys.rate(f"{name}:{math.floor(now / window_seconds)}")
        async with _unavailable_on_error():
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, window_seconds + 1)
                count, _ = await pipe.execute()
        return int(count)

    async def listen(self, handler: NoticeHandler) -> None:
        self._listener = asyncio.create_task(self._listen(handler), name="redis-notices")

    async def _listen(self, handler: NoticeHandler) -> None:
        # One pattern subscription per process: simpler and more robust than
        # subscribing per room while reading, and notices are tiny.
        backoff = 0.1
        reconnecting = False
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(keys.ROOM_EVENTS_PATTERN)
                backoff = 0.1
                if reconnecting:
                    # Notices published while we were away are lost: ask for a
                    # resync of every room this process serves (empty code).
                    result = handler("", b"")
                    if inspect.isawaitable(result):
                        await result
                reconnecting = True
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    channel = message["channel"].decode()
                    code = channel[len(keys.ROOM_EVENTS_PREFIX) :]
                    result = handler(code, message["data"])
                    if inspect.isawaitable(result):
                        await result
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("redis notices lost (%s); reconnecting in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def ping(self) -> None:
        async with _unavailable_on_error():
            await self.redis.ping()

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.redis.aclose()
