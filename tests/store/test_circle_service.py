"""CircleService over both stores: arrivals at once, returning members, the limits on new ones."""

from __future__ import annotations

import asyncio

import pytest
from ritrovo.circles import CircleService
from ritrovo.errors import RitrovoError
from ritrovo.game import circles
from ritrovo.store.base import RoomStore

DAY = 24 * 3600.0
NOW = 1_000_000.0


def device(i: int) -> str:
    return f"device-token-number-{i:04d}"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


async def test_fifty_players_joining_at_once_all_become_members(store: RoomStore) -> None:
    """The reviewer's case: every join rewrote the circle by compare-and-set and most lost."""
    service = CircleService(store, Clock())
    circle, _ = await service.create("Marketing")
    members = await asyncio.gather(
        *(
            service.arrive(circle.id, device(i), f"P{i}", room="ROOM01", room_limit=200)
            for i in range(50)
        )
    )
    assert None not in members and len(set(members)) == 50
    loaded = await service.load(circle.id)
    assert loaded is not None and sorted(loaded.members) == sorted(m for m in members if m)
    # Arriving again: the same members, all at once too.
    again = await asyncio.gather(
        *(
            service.arrive(circle.id, device(i), f"P{i}", room="ROOM02", room_limit=200)
            for i in range(50)
        )
    )
    assert again == members


async def test_a_returning_member_under_the_same_name_costs_no_write(store: RoomStore) -> None:
    clock = Clock()
    service = CircleService(store, clock)
    circle, _ = await service.create("Marketing")
    ada = await service.arrive(circle.id, device(1), "Ada", room="ROOM01", room_limit=10)
    before = await store.load_circle(circle.id, now=clock.now)
    clock.now += 3600
    assert await service.arrive(circle.id, device(1), "Ada", room="ROOM02", room_limit=10) == ada
    assert await store.load_circle(circle.id, now=clock.now) == before
    assert await service.arrive(circle.id, device(1), "Ada L.", room="ROOM02", room_limit=10) == ada
    loaded = await service.load(circle.id)
    assert loaded is not None and ada is not None
    assert loaded.members[ada].name == "Ada L." and loaded.members[ada].last_seen == clock.now
    with pytest.raises(RitrovoError):  # a bad name makes no member
        await service.arrive(circle.id, device(2), "", room="ROOM02", room_limit=10)


async def test_a_room_adds_at_most_its_share_of_new_members(store: RoomStore) -> None:
    """Join-and-leave loops with fresh device tokens cannot fill a circle from one room code."""
    service = CircleService(store, Clock())
    circle, _ = await service.create("Marketing")
    for i in range(3):
        assert await service.arrive(circle.id, device(i), "P", room="ROOM01", room_limit=3)
    with pytest.raises(RitrovoError) as err:
        await service.arrive(circle.id, device(9), "P", room="ROOM01", room_limit=3)
    assert err.value.code == "circle_full"
    # A member of the circle comes back through that room; a new one through the next room.
    assert await service.arrive(circle.id, device(0), "P", room="ROOM01", room_limit=3)
    assert await service.arrive(circle.id, device(9), "P", room="ROOM02", room_limit=3)


async def test_a_full_circle_forgets_idle_members_in_no_kept_session(store: RoomStore) -> None:
    clock = Clock()
    service = CircleService(store, clock, max_members=3, idle_days=30)
    circle, _ = await service.create("Marketing")
    ids = [
        await service.arrive(circle.id, device(i), f"P{i}", room="ROOM01", room_limit=10)
        for i in range(3)
    ]
    a, b, c = (m or "" for m in ids)

    def kept(circle: circles.Circle, now: float) -> tuple[list[str], None]:
        return circles.record_session(
            circle, "ROOM01", started_at=now, seq=1, groups=[[a, b]], teams=[]
        ), None

    await service.change(circle.id, kept)
    clock.now += 10 * DAY
    with pytest.raises(RitrovoError) as err:  # nobody idle long enough yet
        await service.arrive(circle.id, device(7), "New", room="ROOM02", room_limit=10)
    assert err.value.code == "circle_full"
    clock.now += 25 * DAY
    new = await service.arrive(circle.id, device(7), "New", room="ROOM02", room_limit=10)
    loaded = await service.load(circle.id)
    assert loaded is not None and sorted(loaded.members) == sorted([a, b, new or ""])
    assert c not in loaded.members  # idle, in no kept session: forgotten, device and all
    stored = await store.load_circle(circle.id, now=clock.now)
    assert stored is not None and not any(
        p.startswith("d:")
        for p in set(stored.parts) - {f"d:{m.device_hash}" for m in loaded.members.values()}
    )
    with pytest.raises(RitrovoError):  # the members of kept sessions stay
        await service.arrive(circle.id, device(8), "Newer", room="ROOM02", room_limit=10)


async def test_a_server_keeps_at_most_max_circles(store: RoomStore) -> None:
    service = CircleService(store, Clock(), max_circles=2)
    first, _ = await service.create("One")
    await service.create("Two")
    with pytest.raises(RitrovoError) as err:
        await service.create("Three")
    assert err.value.code == "too_many_circles"
    assert await service.delete(first.id)
    assert (await service.create("Three"))[0].meta.name == "Three"
