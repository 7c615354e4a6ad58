"""The circle storage contract (``CircleStorage``), on both stores."""

from __future__ import annotations

from ritrovo.store import keys
from ritrovo.store.base import RoomStore
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
