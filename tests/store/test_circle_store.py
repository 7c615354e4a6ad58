"""The circle storage contract (``CircleStorage``), on both stores."""

from __future__ import annotations

import asyncio
from typing import Any

from ritrovo.store import keys
from ritrovo.store.base import Arrival, RoomStore
from ritrovo.store.redis import RedisStore

DAY = 24 * 3600.0


async def test_create_is_unique_and_loads_version_zero(store: RoomStore) -> None:
    assert await store.create_circle("c" * 16, {"meta": b"m0"}, ttl=DAY, now=1000.0)
    assert not await store.create_circle("c" * 16, {"meta": b"other"}, ttl=DAY, now=1000.0)
    stored = await store.load_circle("c" * 16, now=1000.0)
    assert stored is not None and stored.version == 0 and stored.parts == {"meta": b"m0"}
    assert await store.load_circle("d" * 16, now=1000.0) is None


async def test_commit_is_compare_and_set_and_writes_what_it_names(store: RoomStore) -> None:
    cid = "c" * 16
    await store.create_circle(cid, {"meta": b"m0", "m:c1": b"ada"}, ttl=DAY, now=1000.0)
    assert await store.commit_circle(
        cid, 0, {"s:ROOM01": b"s1", "meta": b"m1"}, ["m:c1"], ttl=DAY, now=1001.0
    )
    assert not await store.commit_circle(cid, 0, {"meta": b"lost"}, [], ttl=DAY, now=1001.0)
    stored = await store.load_circle(cid, now=1001.0)
    assert stored is not None and stored.version == 1
    assert stored.parts == {"meta": b"m1", "s:ROOM01": b"s1"}
    assert not await store.commit_circle("e" * 16, 0, {"meta": b"x"}, [], ttl=DAY, now=1001.0)
    assert await store.load_circle("e" * 16, now=1001.0) is None  # a failed commit makes nothing


async def test_delete_leaves_nothing(store: RoomStore) -> None:
    cid = "c" * 16
    await store.create_circle(cid, {"meta": b"m0", "m:c1": b"ada"}, ttl=DAY, now=1000.0)
    assert await store.delete_circle(cid)
    assert await store.load_circle(cid, now=1000.0) is None
    assert not await store.delete_circle(cid)
    assert not await store.commit_circle(cid, 0, {"meta": b"x"}, [], ttl=DAY, now=1000.0)
    if isinstance(store, RedisStore):
        assert not await store.redis.exists(keys.circle(cid))


async def test_a_circle_lives_its_ttl_from_its_last_write(store: RoomStore) -> None:
    cid = "c" * 16
    await store.create_circle(cid, {"meta": b"m0"}, ttl=100, now=1000.0)
    if isinstance(store, RedisStore):  # Redis counts the time itself
        assert 90 <= await store.redis.ttl(keys.circle(cid)) <= 100
        await store.commit_circle(cid, 0, {"meta": b"m1"}, [], ttl=5000, now=1050.0)
        assert 4900 <= await store.redis.ttl(keys.circle(cid)) <= 5000
        return
    assert await store.load_circle(cid, now=1099.0) is not None
    assert await store.commit_circle(cid, 0, {"meta": b"m1"}, [], ttl=100, now=1099.0)
    assert await store.load_circle(cid, now=1198.0) is not None  # renewed by the write
    assert await store.load_circle(cid, now=1200.0) is None
    assert await store.create_circle(cid, {"meta": b"new"}, ttl=100, now=1200.0)  # id free again


HEAD, TAIL = b'{"id":"', b'","name":"Ada"}'


async def arrive(store: RoomStore, device: str, room: str = "ROOM01", **limits: int) -> Any:
    return await store.arrive_circle(
        "c" * 16,
        device,
        (HEAD, TAIL),
        room=room,
        max_members=limits.get("max_members", 500),
        room_limit=limits.get("room_limit", 200),
        ttl=DAY,
        now=1000.0,
    )


async def test_an_arrival_is_one_step_that_leaves_the_version_alone(store: RoomStore) -> None:
    cid = "c" * 16
    assert await arrive(store, "h1") is None  # no circle
    await store.create_circle(cid, {"meta": b"m0"}, ttl=DAY, now=1000.0)
    first = await arrive(store, "h1")
    assert first == Arrival("c1", new=True)
    again = await arrive(store, "h1")
    assert again == Arrival("c1", b'{"id":"c1","name":"Ada"}')
    assert (await arrive(store, "h2")).member == "c2"
    stored = await store.load_circle(cid, now=1000.0)
    assert stored is not None and stored.version == 0  # a compare-and-set writer never retries
    assert stored.parts["d:h1"] == b"c1" and stored.parts["m:c2"] == b'{"id":"c2","name":"Ada"}'
    # A member part is written only while the device still names that member.
    assert await store.put_circle_member(cid, "h1", "c1", b"renamed", ttl=DAY, now=1000.0)
    assert not await store.put_circle_member(cid, "h2", "c1", b"other", ttl=DAY, now=1000.0)
    assert await store.commit_circle(cid, 0, {}, ["m:c1", "d:h1"], ttl=DAY, now=1000.0)
    assert not await store.put_circle_member(cid, "h1", "c1", b"back", ttl=DAY, now=1000.0)
    assert (await arrive(store, "h1")).member == "c3"  # forgotten: a new member, a new number


async def test_an_arrival_respects_the_circle_and_the_room_limits(store: RoomStore) -> None:
    cid = "c" * 16
    await store.create_circle(cid, {"meta": b"m0", "m:c1": b"old"}, ttl=DAY, now=1000.0)
    assert (await arrive(store, "h1", max_members=2)).member == "c2"  # c1 taken: skipped
    assert await arrive(store, "h2", max_members=2) == Arrival(refused="circle")
    assert (await arrive(store, "h1", max_members=2)).member == "c2"  # a returning one is welcome
    assert (await arrive(store, "h3", room="ROOM02", room_limit=1)).new
    assert await arrive(store, "h4", room="ROOM02", room_limit=1) == Arrival(refused="room")
    assert (await arrive(store, "h3", room="ROOM02", room_limit=1)).member  # returning
    assert (await arrive(store, "h4", room="ROOM03", room_limit=1)).new


async def test_fifty_simultaneous_arrivals_all_become_members(store: RoomStore) -> None:
    """Each one a store step of its own: none waits for, or loses to, another."""
    await store.create_circle("c" * 16, {"meta": b"m0"}, ttl=DAY, now=1000.0)
    arrivals = await asyncio.gather(*(arrive(store, f"h{i}") for i in range(50)))
    assert all(a.new for a in arrivals)
    assert len({a.member for a in arrivals}) == 50
    stored = await store.load_circle("c" * 16, now=1000.0)
    assert stored is not None
    assert len([name for name in stored.parts if name.startswith("m:")]) == 50


async def test_circles_are_counted_until_they_expire_or_are_deleted(store: RoomStore) -> None:
    assert await store.count_circles(1000.0) == 0
    await store.create_circle("c" * 16, {"meta": b"m0"}, ttl=100, now=1000.0)
    await store.create_circle("d" * 16, {"meta": b"m0"}, ttl=500, now=1000.0)
    assert await store.count_circles(1000.0) == 2
    await store.delete_circle("d" * 16)
    assert await store.count_circles(1000.0) == 1
    assert await store.count_circles(1101.0) == 0


async def test_load_without_leaves_out_the_parts_of_a_prefix(store: RoomStore) -> None:
    cid = "c" * 16
    parts = {"meta": b"m0", "s:ROOM01": b"s1", "k:ROOM01": b"big", "k:ROOM02": b"big2"}
    await store.create_circle(cid, parts, ttl=DAY, now=1000.0)
    light = await store.load_circle(cid, now=1000.0, without="k:")
    assert light is not None and light.version == 0
    assert light.parts == {"meta": b"m0", "s:ROOM01": b"s1"}
    whole = await store.load_circle(cid, now=1000.0)
    assert whole is not None and whole.parts == parts
    assert await store.load_circle("d" * 16, now=1000.0, without="k:") is None
