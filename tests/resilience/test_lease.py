"""The timer lease: one holder at a time, renewed by it, taken over when it stops.

``store`` (tests/conftest.py) runs a test once per kind, memory and Redis.
"""

from __future__ import annotations

import asyncio

from ritrovo.app import TIMERS
from ritrovo.store import keys
from ritrovo.store.base import RoomStore
from ritrovo.store.redis import RedisStore
from support.servers import running_server
from support.servers import test_settings as fast_settings


async def wait_until_free(store: RoomStore, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while await store.lease_holder() is not None:
            await asyncio.sleep(0.02)  # bounded polling of an expiry, not synchronisation


async def test_one_holder_renews_others_wait(store: RoomStore) -> None:
    assert await store.lease_holder() is None
    assert await store.hold_lease("a", ttl=5)
    assert not await store.hold_lease("b", ttl=5)
    assert await store.hold_lease("a", ttl=5)  # renewal
    assert await store.lease_holder() == "a"


async def test_an_expired_lease_is_taken_over(store: RoomStore) -> None:
    assert await store.hold_lease("a", ttl=0.2)
    await wait_until_free(store)
    assert await store.hold_lease("b", ttl=5)
    assert not await store.hold_lease("a", ttl=5)


async def test_release_only_by_the_holder(store: RoomStore) -> None:
    await store.hold_lease("a", ttl=5)
    await store.release_lease("b")
    assert await store.lease_holder() == "a"
    await store.release_lease("a")
    assert await store.lease_holder() is None
    assert await store.hold_lease("b", ttl=5)


async def test_counters_can_be_read_without_counting(store: RoomStore) -> None:
    assert await store.hit("x", 60, 1000.0, amount=0) == 0
    assert await store.hit("x", 60, 1000.0) == 1
    assert await store.hit("x", 60, 1000.0, amount=0) == 1
    assert await store.hit("x", 60, 1000.0, amount=3) == 4


async def test_expired_rooms_leave_the_deadline_set(redis_url: str) -> None:
    store = RedisStore(redis_url, room_ttl=100)
    try:
        await store.create("GONE", {"meta": b"0"}, now=1000.0)
        await store.commit(
            "GONE",
            0,
            1,
            {"meta": b"1"},
            [],
            whole=False,
            deadline_at=1001.0,
            notice=b"{}",
            now=1000.0,
        )
        await store.redis.delete(keys.room("GONE"))  # as if its idle TTL ran out
        assert await store.due_rooms(2000.0) == []
        assert await store.redis.zscore(keys.DEADLINES, "GONE") is None
    finally:
        await store.close()


async def test_only_one_process_holds_the_lease_and_a_clean_stop_hands_it_over(
    redis_url: str,
) -> None:
    settings = fast_settings(timer_lease_ttl=3.0)  # renewals every 1 s
    async with (
        running_server(settings, store=RedisStore(redis_url)) as first,
        running_server(settings, store=RedisStore(redis_url)) as second,
    ):
        timers = [first.app[TIMERS], second.app[TIMERS]]
        async with asyncio.timeout(5):
            while not any(t.lease.held for t in timers):
                await asyncio.sleep(0.02)
        holder = next(t for t in timers if t.lease.held)
        other = next(t for t in timers if t is not holder)
        assert not other.lease.held
        assert await holder.lease.store.lease_holder() == holder.lease.holder
        await holder.stop()  # what a SIGTERM does first
        # Left to expire, the lease (renewed within the last second) would last
        # two more seconds at least: a faster takeover proves it was released.
        async with asyncio.timeout(1.8):
            while not other.lease.held:
                await asyncio.sleep(0.02)
