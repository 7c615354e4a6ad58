"""One contract, two stores: the in-memory twin and Redis behave the same.

``store`` (tests/conftest.py) runs each test once per kind, with a 100 s room TTL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ritrovo.errors import StoreUnavailable
from ritrovo.game import flow, rooms
from ritrovo.packs import PackLibrary, load_pack
from ritrovo.service import UPLOAD_PREFIX, GameService
from ritrovo.store import keys
from ritrovo.store.base import LOG_LENGTH, RoomStore
from ritrovo.store.memory import MemoryStore
from ritrovo.store.redis import CALL_TIMEOUT, RedisStore
from support.redis_server import RedisServer

GOOD_PACKS = Path(__file__).resolve().parent.parent / "packs" / "good"


async def test_create_is_unique_and_loads_version_zero(store: RoomStore) -> None:
    assert await store.create("ABC234", {"meta": b'{"a":1}'}, now=1000.0)
    assert not await store.create("ABC234", {"meta": b'{"a":2}'}, now=1000.0)
    stored = await store.load("ABC234")
    assert stored is not None and stored.version == 0 and stored.parts == {"meta": b'{"a":1}'}
    assert await store.load("ZZZ999") is None


async def test_commit_is_compare_and_set(store: RoomStore) -> None:
    await store.create("R1", {"meta": b"v0"}, now=1000.0)
    first = await store.commit(
        "R1", 0, 1, {"meta": b"v1"}, [], whole=False, deadline_at=None, notice=b"{}", now=1000.0
    )
    assert first.ok
    stale = await store.commit(
        "R1", 0, 1, {"meta": b"other"}, [], whole=False, deadline_at=None, notice=b"{}", now=1000.0
    )
    assert not stale.ok and stale.missed == [b"{}"]  # what version 1 published
    gone = await store.commit(
        "NOPE", 0, 1, {"meta": b"x"}, [], whole=False, deadline_at=None, notice=b"{}", now=1000.0
    )
    assert not gone.ok and gone.current is None and gone.missed is None


async def test_a_commit_writes_only_the_parts_it_names(store: RoomStore) -> None:
    await store.create("P1", {"meta": b"m0", "p:1": b"a", "p:2": b"b", "a:t1": b"g"}, now=1000.0)
    done = await store.commit(
        "P1",
        0,
        1,
        {"meta": b"m1", "p:3": b"c"},
        ["p:2"],
        whole=False,
        deadline_at=None,
        notice=b"{}",
        now=1000.0,
    )
    assert done.ok
    stored = await store.load("P1")
    assert stored is not None and stored.version == 1
    assert stored.parts == {"meta": b"m1", "p:1": b"a", "p:3": b"c", "a:t1": b"g"}


async def test_a_whole_commit_replaces_every_part(store: RoomStore) -> None:
    await store.create("W1", {"meta": b"m0", "p:1": b"a", "a:t1": b"g"}, now=1000.0)
    # Thousands of parts: the Redis script writes them in batches (Lua's unpack has a limit).
    many = {f"p:{i}": str(i).encode() for i in range(5000)}
    done = await store.commit(
        "W1",
        0,
        1,
        {"meta": b"m1", **many},
        [],
        whole=True,
        deadline_at=None,
        notice=b"{}",
        now=1000.0,
    )
    assert done.ok
    stored = await store.load("W1")
    assert stored is not None and stored.parts == {"meta": b"m1", **many}
    assert "a:t1" not in stored.parts


async def test_a_writer_too_far_behind_gets_every_part(store: RoomStore) -> None:
    # The log keeps the last LOG_LENGTH changes (about: Redis trims it by
    # blocks); a writer older than that catches up from the whole room.
    await store.create("L1", {"meta": b"m0", "p:1": b"a"}, now=1000.0)
    last = LOG_LENGTH + 300
    for version in range(1, last + 1):
        await store.commit(
            "L1",
            version - 1,
            version,
            {"meta": b"m%d" % version},
            [],
            whole=False,
            deadline_at=None,
            notice=b"n",
            now=1000.0,
        )
    lost = await store.commit(
        "L1", 1, 2, {"meta": b"x"}, [], whole=False, deadline_at=None, notice=b"x", now=1000.0
    )
    assert not lost.ok and lost.missed is None and lost.current is not None
    assert lost.current.version == last
    assert lost.current.parts == {"meta": b"m%d" % last, "p:1": b"a"}


async def test_a_lost_compare_and_set_gets_the_changes_it_missed(store: RoomStore) -> None:
    await store.create("M1", {"meta": b"m0"}, now=1000.0)
    for version in (1, 2, 3):
        done = await store.commit(
            "M1",
            version - 1,
            version,
            {"meta": b"m%d" % version},
            [],
            whole=False,
            deadline_at=None,
            notice=b"notice %d" % version,
            now=1000.0,
        )
        assert done.ok
    lost = await store.commit(
        "M1", 1, 2, {"meta": b"x"}, [], whole=False, deadline_at=None, notice=b"x", now=1000.0
    )
    assert not lost.ok and lost.current is None
    assert lost.missed == [b"notice 2", b"notice 3"]  # in order, from the one after version 1


async def test_racing_commits_only_one_wins(store: RoomStore) -> None:
    await store.create("RACE", {"meta": b"v0"}, now=1000.0)
    results = await asyncio.gather(
        *(
            store.commit(
                "RACE",
                0,
                1,
                {"meta": f"w{i}".encode()},
                [],
                whole=False,
                deadline_at=None,
                notice=b"{}",
                now=1000.0,
            )
            for i in range(10)
        )
    )
    assert sum(r.ok for r in results) == 1


async def test_deadlines_are_due_in_order_and_move_with_commits(store: RoomStore) -> None:
    await store.create("A", {"meta": b"0"}, now=1000.0)
    await store.create("B", {"meta": b"0"}, now=1000.0)
    await store.commit(
        "A", 0, 1, {"meta": b"1"}, [], whole=False, deadline_at=1010.0, notice=b"{}", now=1000.0
    )
    await store.commit(
        "B", 0, 1, {"meta": b"1"}, [], whole=False, deadline_at=1005.0, notice=b"{}", now=1000.0
    )
    assert await store.due_rooms(1004.0) == []
    assert await store.due_rooms(1011.0) == ["B", "A"]
    await store.commit(
        "B", 1, 2, {"meta": b"2"}, [], whole=False, deadline_at=None, notice=b"{}", now=1000.0
    )
    assert await store.due_rooms(1011.0) == ["A"]


async def test_a_deadline_moved_later_then_earlier_is_due_at_its_time(store: RoomStore) -> None:
    # The memory store skips its scan until the soonest deadline it stored:
    # a deadline moved later must not fire early, nor one moved earlier late.
    await store.create("A", {"meta": b"0"}, now=1000.0)
    await store.commit(
        "A", 0, 1, {"meta": b"1"}, [], whole=False, deadline_at=1005.0, notice=b"{}", now=1000.0
    )
    await store.commit(
        "A", 1, 2, {"meta": b"2"}, [], whole=False, deadline_at=1050.0, notice=b"{}", now=1001.0
    )
    assert await store.due_rooms(1006.0) == []
    assert await store.due_rooms(1049.0) == []
    await store.commit(
        "A", 2, 3, {"meta": b"3"}, [], whole=False, deadline_at=1020.0, notice=b"{}", now=1002.0
    )
    assert await store.due_rooms(1019.0) == []
    assert await store.due_rooms(1020.0) == ["A"]
    assert await store.due_rooms(1021.0) == ["A"]  # due until a commit moves it


async def test_notices_reach_listeners(store: RoomStore) -> None:
    received: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    await store.listen(lambda code, notice: received.put_nowait((code, notice)))
    await store.create("N1", {"meta": b"0"}, now=1000.0)
    # Redis subscribes in the background: publish until the subscription is live.
    for attempt in range(50):
        await store.commit(
            "N1",
            attempt,
            attempt + 1,
            {"meta": b"x"},
            [],
            whole=False,
            deadline_at=None,
            notice=b'{"seq":1}',
            now=1000.0,
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
    await store.create("D1", {"meta": b"0"}, now=1000.0)
    await store.commit(
        "D1", 0, 1, {"meta": b"1"}, [], whole=False, deadline_at=1001.0, notice=b"{}", now=1000.0
    )
    await store.delete("D1", b'{"deleted":true}')
    assert await store.load("D1") is None
    assert await store.due_rooms(2000.0) == []


async def test_rate_counter_counts_per_window(store: RoomStore) -> None:
    assert [await store.hit("join:1.2.3.4", 60, 600.0) for _ in range(3)] == [1, 2, 3]
    assert await store.hit("join:5.6.7.8", 60, 600.0) == 1
    assert await store.hit("join:1.2.3.4", 60, 660.0) == 1  # next window


async def test_attempt_places_are_taken_atomically_and_given_back(store: RoomStore) -> None:
    name = "join:1.2.3.4"
    # Three places a window: taken in parallel, exactly three succeed.
    taken = await asyncio.gather(*(store.reserve(name, 60, 600.0, 3) for _ in range(10)))
    assert sorted(taken) == [(False, 0)] * 7 + [(True, 0)] * 3
    # A success gives its place back; a failure keeps it and is counted.
    assert await store.settle(name, 60, 600.0, failed=False) == 0
    assert await store.reserve(name, 60, 601.0, 3) == (True, 0)
    assert await store.settle(name, 60, 600.0, failed=True) == 1
    assert await store.settle(name, 60, 601.0, failed=True) == 2
    assert await store.reserve(name, 60, 602.0, 3) == (False, 2)  # one still in flight
    assert await store.settle(name, 60, 600.0, failed=True) == 3
    assert await store.reserve(name, 60, 603.0, 3) == (False, 3)
    assert await store.reserve("join:5.6.7.8", 60, 603.0, 3) == (True, 0)  # another address
    # The next window starts empty, and an attempt of the last one that ends
    # now changes nothing in it.
    assert await store.reserve(name, 60, 660.0, 3) == (True, 0)
    await store.settle(name, 60, 600.0, failed=True)
    assert await store.reserve(name, 60, 661.0, 3) == (True, 0)
    assert await store.settle(name, 60, 660.0, failed=True) == 1


async def test_packs_round_trip(store: RoomStore) -> None:
    await store.save_pack("abc", b'{"id":"x"}', ttl=100, now=1000.0)
    assert await store.load_pack("abc") == b'{"id":"x"}'
    assert await store.load_pack("missing") is None


async def _until_pack_gone(store: RoomStore, key: str) -> None:
    # Real time: Redis counts a pack's life itself; the memory store drops what
    # expired when it is next called with a time (count_rooms here).
    async with asyncio.timeout(5):
        while await store.load_pack(key) is not None:
            await store.count_rooms(time.time())
            await asyncio.sleep(0.05)


async def test_a_pack_lives_as_long_as_it_is_kept(store: RoomStore) -> None:
    now = time.time()
    await store.save_pack("kept", b"k", ttl=0.3, now=now)
    await store.save_pack("left", b"l", ttl=0.3, now=now)
    assert await store.keep_pack("kept", ttl=30, now=now)
    # Saving the same pack again, or keeping it for less, never shortens its life.
    await store.save_pack("kept", b"k", ttl=0.1, now=now)
    assert await store.keep_pack("kept", ttl=0.1, now=now)
    assert not await store.keep_pack("never-saved", ttl=30, now=now)
    await _until_pack_gone(store, "left")
    assert not await store.keep_pack("left", ttl=30, now=time.time())
    assert await store.load_pack("kept") == b"k"


async def test_an_uploaded_pack_expires_with_its_room(
    make_store: Callable[..., RoomStore],
) -> None:
    # Rooms live 2 s after their last commit; the service keeps a room's
    # uploaded pack alive on its commits, for 2 s and a 24th.
    store = make_store(room_ttl=2)
    service = GameService(store, PackLibrary(GOOD_PACKS))
    created = await service.create_room("Room")
    code = created.room.code
    pack_id = await service.save_uploaded_pack(load_pack(GOOD_PACKS / "office.yaml"))
    key = pack_id.removeprefix(UPLOAD_PREFIX)
    await service.execute(code, lambda r, p, now: flow.choose_pack(r, pack_id))
    await asyncio.sleep(1.0)
    # A commit a second later: the room lives to 3 s, and so does its pack.
    await service.execute(code, lambda r, p, now: rooms.create_team(r, "Late"))
    await asyncio.sleep(1.3)  # past the pack's first life (2.08 s)
    assert await store.load_pack(key) is not None
    assert (await service.current(code))[1] is not None
    async with asyncio.timeout(5):
        while await store.load(code) is not None:
            await store.count_rooms(time.time())
            await asyncio.sleep(0.05)
    gone_at = time.monotonic()
    await _until_pack_gone(store, key)
    assert time.monotonic() - gone_at < 1.0  # a 24th of the room's life, and a poll


async def test_a_room_nobody_uses_expires_early(store: RoomStore) -> None:
    # The store's room TTL is 100 s; these two are created to last 10 s unused.
    assert await store.create("U1", {"meta": b"0"}, now=1000.0, ttl=10)
    assert await store.create("U2", {"meta": b"0"}, now=1000.0, ttl=10)
    assert await store.count_rooms(1005.0) == 2
    # U2 is used: its first commit gives it the full TTL.
    outcome = await store.commit(
        "U2", 0, 1, {"meta": b"1"}, [], whole=False, deadline_at=None, notice=b"{}", now=1005.0
    )
    assert outcome.ok
    assert await store.count_rooms(1011.0) == 1  # U1 no longer counts
    assert await store.count_rooms(1104.0) == 1 and await store.count_rooms(1106.0) == 0


async def test_count_rooms(store: RoomStore) -> None:
    assert await store.count_rooms(1000.0) == 0
    await store.create("C1", {"meta": b"0"}, now=1000.0)
    await store.create("C2", {"meta": b"0"}, now=1000.0)
    assert await store.count_rooms(1000.0) == 2
    assert await store.count_rooms(1000.0 + 101) == 0  # idle past the TTL


async def test_redis_ping_fails_fast_while_redis_is_down(
    fresh_redis_server: RedisServer,
) -> None:
    # Redis only: the memory store cannot be down, so its ping has nothing to prove.
    store = RedisStore(fresh_redis_server.url)
    try:
        await store.ping()
        fresh_redis_server.kill()
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await store.ping()
        # Refused at once, not after the call timeout: clients hear "paused" quickly.
        assert time.monotonic() - started < CALL_TIMEOUT
        await fresh_redis_server.start_async()
        await store.ping()  # the pooled connection died with the server: a new one answers
    finally:
        await store.close()


async def test_redis_room_key_expires(redis_url: str) -> None:
    store = RedisStore(redis_url, room_ttl=1)
    try:
        await store.create("EXP", {"meta": b"0"}, now=1000.0)
        ttl = await store.redis.ttl(keys.room("EXP"))
        assert 0 < ttl <= 1
    finally:
        await store.close()


async def test_memory_room_expires_after_idle_time() -> None:
    store = MemoryStore(room_ttl=10)
    await store.create("OLD", {"meta": b"0"}, now=1000.0)
    await store.create("NEW", {"meta": b"0"}, now=1015.0)  # creating sweeps idle rooms
    assert await store.load("OLD") is None
    assert await store.load("NEW") is not None


async def test_memory_room_kept_alive_by_commits_expires_after_its_last() -> None:
    # Expiry is checked only once the soonest expiry stored has passed; a
    # commit moves a room's expiry later, and the sweep must then follow it.
    store = MemoryStore(room_ttl=10)
    await store.create("A", {"meta": b"0"}, now=1000.0)
    await store.commit(
        "A", 0, 1, {"meta": b"1"}, [], whole=False, deadline_at=None, notice=b"{}", now=1008.0
    )
    assert await store.count_rooms(1015.0) == 1  # past the first expiry, not the second
    assert await store.count_rooms(1018.0) == 1
    assert await store.count_rooms(1018.5) == 0


async def test_instances_heartbeat_and_death(store: RoomStore) -> None:
    assert not await store.beat("proc-a", 1000.0, ["R1"])  # its first beat
    assert await store.beat("proc-a", 1003.0, ["R2"])
    assert not await store.beat("proc-b", 1010.0, [])
    assert await store.dead_instances(1005.0) == {"proc-a": ["R1", "R2"]}
    assert await store.dead_instances(1000.0) == {}
    await store.forget_instance("proc-a")
    assert await store.dead_instances(1005.0) == {}
    assert await store.dead_instances(2000.0) == {"proc-b": []}
    # Taken for dead and forgotten, it beats again: it can tell it was forgotten.
    assert not await store.beat("proc-a", 1020.0, ["R1"])


async def test_a_commit_that_keeps_no_log_deletes_it(store: RoomStore) -> None:
    await store.create("SHUT23", {"meta": b"m0"}, now=1000.0)
    for version, keep in ((1, True), (2, False)):
        done = await store.commit(
            "SHUT23", version - 1, version, {"meta": b"m%d" % version}, [],
            whole=False, deadline_at=None, notice=b"n%d" % version, now=1000.0, keep_log=keep,
        )  # fmt: skip
        assert done.ok
    # A writer a version behind finds no changes to catch up from: it gets the room.
    late = await store.commit(
        "SHUT23", 1, 2, {"meta": b"x"}, [], whole=False, deadline_at=None, notice=b"x", now=1000.0
    )
    assert not late.ok and late.missed is None
    assert late.current is not None and late.current.version == 2
    assert late.current.parts["meta"] == b"m2"
