"""Redis connections wait for each other; pool pressure is never an outage (issue 12)."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from ritrovo.store.redis import RedisStore


async def test_a_burst_bigger_than_the_pool_waits_instead_of_failing(redis_url: str) -> None:
    store = RedisStore(redis_url, pool_size=2, pool_wait=5.0)
    try:
        await store.create("POOL1", {"meta": b"0"}, now=1000.0)
        # 200 loads at once through 2 connections: each waits for a free one.
        loaded = await asyncio.gather(*(store.load("POOL1") for _ in range(200)))
        assert all(s is not None and s.parts["meta"] == b"0" for s in loaded)
    finally:
        await store.close()


async def test_the_health_check_has_its_own_connection(redis_url: str) -> None:
    store = RedisStore(redis_url, pool_size=1, pool_wait=5.0)
    blocker = aioredis.Redis.from_url(redis_url)
    try:
        await store.ping()
        # The pool's only connection is busy for a second (a blocking pop on
        # an empty list): a command waits for it, the health check does not.
        busy = asyncio.ensure_future(store.redis.blpop(["pool-test-empty"], timeout=1))
        async with asyncio.timeout(5):  # until Redis sees the pop blocking
            while not any(c.get("cmd") == "blpop" for c in await blocker.client_list()):
                await asyncio.sleep(0.01)
        started = time.monotonic()
        await store.ping()
        assert time.monotonic() - started < 0.5
        assert not busy.done()
        assert await busy is None
    finally:
        await blocker.aclose()
        await store.close()
