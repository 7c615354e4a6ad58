"""Redis connections wait for each other; pool pressure is never an outage (issue 12)."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis
from ritrovo.store.redis import POOL_KEEP, RedisStore, ShrinkingPool


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


async def test_connections_a_burst_opened_are_closed_once_idle(redis_url: str) -> None:
    # pool_idle 0: a connection is idle as soon as it is back in the pool, so
    # the next release closes the surplus (POOL_IDLE in production).
    store = RedisStore(redis_url, pool_size=20, pool_wait=5.0, pool_idle=0.0)
    pool = store.redis.connection_pool
    assert isinstance(pool, ShrinkingPool)
    try:
        await store.create("POOL2", {"meta": b"0"}, now=1000.0)
        # 20 blocking pops at once take 20 connections (each waits for the push).
        pops = [
            asyncio.ensure_future(store.redis.blpop([f"pool-idle-{i}"], timeout=5))
            for i in range(20)
        ]
        async with asyncio.timeout(5):
            while pool.connection_count() < 20:
                await asyncio.sleep(0.01)
        opened = list(pool._in_use_connections)
        for i in range(20):
            await store._health.rpush(f"pool-idle-{i}", b"x")
        await asyncio.gather(*pops)  # each release closes the idle surplus
        assert await store.load("POOL2") is not None
        assert pool.connection_count() == POOL_KEEP
        assert sum(not c.is_connected for c in opened) == 20 - POOL_KEEP
        assert all(c.is_connected for c in pool._available_connections)
    finally:
        await store.close()


async def test_a_pool_keeps_its_connections_while_they_are_not_idle(redis_url: str) -> None:
    store = RedisStore(redis_url, pool_size=10, pool_wait=5.0)
    pool = store.redis.connection_pool
    assert isinstance(pool, ShrinkingPool)
    try:
        await store.create("POOL3", {"meta": b"0"}, now=1000.0)
        await asyncio.gather(*(store.load("POOL3") for _ in range(50)))
        opened = pool.connection_count()
        assert opened > POOL_KEEP
        await store.load("POOL3")
        assert pool.connection_count() == opened  # the next burst finds them open
    finally:
        await store.close()
