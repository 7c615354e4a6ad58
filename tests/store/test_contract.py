"""One contract, two stores: the in-memory twin and Redis behave the same."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from ritrovo.store.base import RoomStore
from ritrovo.store.memory import MemoryStore
from ritrovo.store.redis import RedisStore


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[RoomStore]:
    if request.param == "memory":
        instance: RoomStore = MemoryStore(room_ttl=100)
    else:
        instance = RedisStore(request.getfixturevalue("redis_url"), room_ttl=100)
    try:
        yield instance
    finally:
        await instance.close()


async def test_create_is_unique_and_loads_version_zero(store: RoomStore) -> None:
    assert await store.create("ABC234", b'{"a":1}', now=1000.0)
    assert not await store.create("ABC234", b'{"a":2}', now=1000.0)
    stored = await store.load("ABC234")
    assert stored is not None and stored.version == 0 and stored.data == b'{"a":1}'
    assert await store.load("ZZZ999") is None


async def test_commit_is_compare_and_set(store: RoomStore) -> None:
    await store.create("R1", b"v0", now=1000.0)
    first = await store.commit("R1", 0, 1, b"v1", deadline_at=None, notice=b"{}", now=1000.0)
    assert first.ok
    stale = await store.commit("R1", 0, 1, b"other", deadline_at=None, notice=b"{}", now=1000.0)
    assert not stale.ok
    assert stale.current is not None and stale.current.version == 1 and stale.current.data == b"v1"
    gone = await store.commit("NOPE", 0, 1, b"x", deadline_at=None, notice=b"{}", now=1000.0)
    assert not gone.ok and gone.current is None


async def test_racing_commits_only_one_wins(store: RoomStore) -> None:
    await store.create("RACE", b"v0", now=1000.0)
    results = await asyncio.gather(
        *(
            store.commit("RACE", 0, 1, f"w{i}".encode(), deadline_at=None, notice=b"{}", now=1000.0)
            for i in range(10)
        )
    )
    assert sum(r.ok for r in results) == 1


async def test_deadlines_are_due_in_order_and_move_with_commits(store: RoomStore) -> None:
    await store.create("A", b"0", now=1000.0)
    await store.create("B", b"0", now=1000.0)
    await store.commit("A", 0, 1, b"1", deadline_at=1010.0, notice=b"{}", now=1000.0)
    await store.commit("B", 0, 1, b"1", deadline_at=1005.0, notice=b"{}", now=1000.0)
    assert await store.due_rooms(1004.0) == []
    assert await store.due_rooms(1011.0) == ["B", "A"]
    await store.commit("B", 1, 2, b"2", deadline_at=None, notice=b"{}", now=1000.0)
    assert await store.due_rooms(1011.0) == ["A"]


async def test_notices_reach_listeners(store: RoomStore) -> None:
    received: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    await store.listen(lambda code, notice: received.put_nowait((code, notice)))
    await store.create("N1", b"0", now=1000.0)
    # Redis subscribes in the background: publish until the subscription is live.
    for attempt in range(50):
        await store.commit(
            "N1", attempt, attempt + 1, b"x", deadline_at=None, notice=b'{"seq":1}', now=1000.0
        )
        try:
            code, notice = await asyncio.wait_for(received.get(), 0.1)
            break
        except TimeoutError:
            continue
    else:
        pytest.fail("no notice received")
    assert code == "N1" and notice == b'{"seq":1}'


async def test_delete_removes_room_and_deadline(store: RoomStore) -> None:
    await store.create("D1", b"0", now=1000.0)
    await store.commit("D1", 0, 1, b"1", deadline_at=1001.0, notice=b"{}", now=1000.0)
    await store.delete("D1", b'{"deleted":true}')
    assert await store.load("D1") is None
    assert await store.due_rooms(2000.0) == []


async def test_rate_counter_counts_per_window(store: RoomStore) -> None:
    assert [await store.hit("join:1.2.3.4", 60, 600.0) for _ in range(3)] == [1, 2, 3]
    assert await store.hit("join:5.6.7.8", 60, 600.0) == 1
    assert await store.hit("join:1.2.3.4", 60, 660.0) == 1  # next window


async def test_packs_round_trip(store: RoomStore) -> None:
    await store.save_pack("abc", b'{"id":"x"}')
    assert await store.load_pack("abc") == b'{"id":"x"}'
    assert await store.load_pack("missing") is None


async def test_count_rooms(store: RoomStore) -> None:
    assert await store.count_rooms(1000.0) == 0
    await store.create("C1", b"0", now=1000.0)
    await store.create("C2", b"0", now=1000.0)
    assert await store.count_rooms(1000.0) == 2
    assert await store.count_rooms(1000.0 + 101) == 0  # idle past the TTL


async def test_ping(store: RoomStore) -> None:
    await store.ping()


async def test_redis_room_key_expires(redis_url: str) -> None:
    store = RedisStore(redis_url, room_ttl=1)
    try:
        await store.create("EXP", b"0", now=1000.0)
        ttl = await store.redis.ttl("ritrovo:room:EXP")
        assert 0 < ttl <= 1
    finally:
        await store.close()


async def test_memory_room_expires_after_idle_time() -> None:
    store = MemoryStore(room_ttl=10)
    await store.create("OLD", b"0", now=1000.0)
    await store.create("NEW", b"0", now=1015.0)  # creating sweeps idle rooms
    assert await store.load("OLD") is None
    assert await store.load("NEW") is not None


async def test_instances_heartbeat_and_death(store: RoomStore) -> None:
    await store.beat("proc-a", 1000.0, ["R1"])
    await store.beat("proc-a", 1003.0, ["R2"])
    await store.beat("proc-b", 1010.0, [])
    assert await store.dead_instances(1005.0) == {"proc-a": ["R1", "R2"]}
    assert await store.dead_instances(1000.0) == {}
    await store.forget_instance("proc-a")
    assert await store.dead_instances(1005.0) == {}
    assert await store.dead_instances(2000.0) == {"proc-b": []}
