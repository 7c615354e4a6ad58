"""CircleService over both stores: arrivals at once, returning members, the limits on new ones;
sessions recorded in the background (queued per circle, retried, as the room was when it ended)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from ritrovo import circles as circle_service
from ritrovo.circles import RECORDS_FOLDED, CircleService, Recording
from ritrovo.errors import ErrorCode, RitrovoError, StoreUnavailable
from ritrovo.game import circles, flow, rooms
from ritrovo.game.models import Room
from ritrovo.game.pack import Pack
from ritrovo.packs import PackLibrary
from ritrovo.service import GameService
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
    assert new not in ids  # c was the highest-numbered: its id is not handed out again
    stored = await store.load_circle(circle.id, now=clock.now)
    assert stored is not None and not any(
        p.startswith("d:")
        for p in set(stored.parts) - {f"d:{m.device_hash}" for m in loaded.members.values()}
    )
    with pytest.raises(RitrovoError):  # the members of kept sessions stay
        await service.arrive(circle.id, device(8), "Newer", room="ROOM02", room_limit=10)


async def test_a_forgotten_member_s_id_is_never_handed_out_again(store: RoomStore) -> None:
    """The stores number new members by a counter: forgetting the highest-numbered member
    and having their device arrive again makes a new member under a new id (the highest
    number plus one would give the forgotten id, and what was kept under it, back)."""
    service = CircleService(store, Clock())
    circle, _ = await service.create("Marketing")
    ids = await members_of(service, circle.id, 3)
    highest = max(ids, key=lambda m: int(m[1:]))
    assert highest == ids[-1]
    assert await service.forget(circle.id, highest)
    again = await service.arrive(circle.id, device(2), "P2", room="ROOM01", room_limit=10)
    assert again is not None and again not in ids
    loaded = await service.load(circle.id)
    assert loaded is not None and sorted(loaded.members) == sorted([*ids[:2], again])
    # And once more, forgetting the newest: still a number never given before.
    assert await service.forget(circle.id, again)
    newest = await service.arrive(circle.id, device(2), "P2", room="ROOM01", room_limit=10)
    assert newest is not None and newest not in (*ids, again)


async def test_a_server_keeps_at_most_max_circles(store: RoomStore) -> None:
    service = CircleService(store, Clock(), max_circles=2)
    first, _ = await service.create("One")
    await service.create("Two")
    with pytest.raises(RitrovoError) as err:
        await service.create("Three")
    assert err.value.code == "too_many_circles"
    assert await service.delete(first.id)
    assert (await service.create("Three"))[0].meta.name == "Three"


# -- sessions recorded in the background ---------------------------------------


def fast(
    store: RoomStore, clock: Callable[[], float] | None = None, **kwargs: Any
) -> CircleService:
    """A CircleService whose failed records are tried again at once, or nearly."""
    return CircleService(
        store, clock or Clock(), retry_pause=0.001, retry_pause_cap=0.004, **kwargs
    )


def ended(circle_id: str, room: str, members: list[str], seq: int = 5) -> Recording:
    """The record of room ``room``'s end: ``members`` on one team, and its keepsake."""
    kept = {
        "v": 2,
        "room": {"code": room, "name": "n", "pack": None, "language": "en", "phase": "finished"},
        "podium": [],
        "stories": [],
        "whoswho": [],
        "colleagues": [[m, 1] for m in members],
    }
    return Recording(
        circle_id, room, NOW + seq, seq, [], [members], {m: m for m in members}, kept, room.encode()
    )


async def members_of(service: CircleService, circle_id: str, n: int) -> list[str]:
    """``n`` members, arrived through room ROOM00 (every one of them: none refused)."""
    found = [
        await service.arrive(circle_id, device(i), f"P{i}", room="ROOM00", room_limit=n)
        for i in range(n)
    ]
    members = [m for m in found if m]
    assert len(members) == len(set(members)) == n, found
    return members


async def ops_circle(
    store: RoomStore,
    n: int = 2,
    clock: Callable[[], float] | None = None,
    **kwargs: Any,
) -> tuple[CircleService, str, list[str]]:
    """A ``fast`` service, a circle "Ops" of it and its ``n`` members: the service, the
    circle's id and the member ids."""
    service = fast(store, clock, **kwargs)
    circle, _ = await service.create("Ops")
    return service, circle.id, await members_of(service, circle.id, n)


async def test_sixty_rooms_of_a_circle_ending_at_once_are_all_kept_in_few_writes(
    store: RoomStore,
) -> None:
    """The reviewer's case: each room's record raced the others' on the circle's
    compare-and-set, and past its attempts a keepsake was lost (60 rooms: 28)."""
    service = fast(store, keep=100)
    circle, _ = await service.create("All hands")
    ids = await members_of(service, circle.id, 8)
    commits = 0
    real = store.commit_circle

    async def counting(*args: Any, **kwargs: Any) -> bool:
        nonlocal commits
        commits += 1
        return await real(*args, **kwargs)

    store.commit_circle = counting  # type: ignore[method-assign]
    for k in range(60):
        service.queue(ended(circle.id, f"ROOM{k:02d}", [ids[k % 8], ids[(k + 1) % 8]], k + 1))
    await service.settled()
    loaded = await service.load(circle.id, keepsakes=True)
    assert loaded is not None and loaded.keepsakes is not None
    assert len(loaded.sessions) == len(loaded.keepsakes) == 60
    assert commits <= -(-60 // RECORDS_FOLDED)  # one writer, records folded


async def test_a_record_that_failed_is_tried_again_until_written(
    store: RoomStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A store error, then every compare-and-set of a write lost (``busy``): the keepsake is
    kept all the same, where it was recorded once and lost for good."""
    monkeypatch.setattr(circle_service, "RETRY_PAUSE", 0.0)
    service, circle_id, ids = await ops_circle(store)
    failures = ["error"] + ["lost"] * circle_service.ATTEMPTS
    real = store.commit_circle

    async def flaky(*args: Any, **kwargs: Any) -> bool:
        if failures:
            if failures.pop(0) == "error":
                raise StoreUnavailable("a blip", code=ErrorCode.STORE_UNAVAILABLE)
            return False
        return await real(*args, **kwargs)

    store.commit_circle = flaky  # type: ignore[method-assign]
    service.queue(ended(circle_id, "ROOM01", ids))
    await service.settled()
    assert not failures and "trying again" in caplog.text
    loaded = await service.load(circle_id, keepsakes=True)
    assert loaded is not None and loaded.keepsakes is not None and "ROOM01" in loaded.keepsakes


async def test_a_record_failing_for_longer_than_retry_for_is_given_up_and_logged(
    store: RoomStore, caplog: pytest.LogCaptureFixture
) -> None:
    elapsed = 0.0
    service, circle_id, ids = await ops_circle(store, monotonic=lambda: elapsed, retry_for=60.0)
    tries = 0

    async def down(*args: Any, **kwargs: Any) -> Any:
        nonlocal elapsed, tries
        tries += 1
        elapsed += 25.0  # each attempt takes its time
        raise StoreUnavailable("down", code=ErrorCode.STORE_UNAVAILABLE)

    store.load_circle = down  # type: ignore[method-assign]
    service.queue(ended(circle_id, "ROOM01", ids))
    await service.settled()
    assert tries == 3  # at 25, 50 and 75 seconds: past the minute, given up
    assert "gave up recording the sessions of rooms ROOM01" in caplog.text


def lobby(code: str, circle_id: str, members: list[str], now: float = NOW) -> Room:
    """A room of the circle in its lobby, its members on its first team."""
    room = rooms.new_room(code, "Room", "h" * 64, now)
    room.circle = circle_id
    seat_members(room, members, now)
    return room


def seat_members(room: Room, members: list[str], now: float) -> None:
    """``members`` join ``room`` as players P0, P1, ... of its first team."""
    for n, member in enumerate(members):
        player = rooms.join(
            room, name=f"P{n}", team_id=room.teams[0].id, token_hash=f"t{n}", now=now
        )
        player.member = member


async def test_rooms_past_the_reading_limit_wait_their_turn(
    store: RoomStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``RECORDING_ROOMS`` rooms being read, a room's record was skipped."""
    monkeypatch.setattr(circle_service, "RECORDING_ROOMS", 1)
    service, circle_id, ids = await ops_circle(store)
    made = {code: lobby(code, circle_id, ids) for code in ("ROOM01", "ROOM02", "ROOM03")}

    async def current(code: str) -> tuple[Room, Pack | None]:
        return made[code], None

    for code in made:
        service.record_soon(code, current)
    await service.settled()
    loaded = await service.load(circle_id)
    assert loaded is not None and sorted(loaded.sessions) == sorted(made)


async def test_records_past_the_queue_are_refused_and_logged(
    store: RoomStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(circle_service, "RECORDING_QUEUE", 2)
    service, circle_id, ids = await ops_circle(store)
    for k in range(3):
        service.queue(ended(circle_id, f"ROOM0{k}", ids, seq=k + 1))
    service.queue(ended(circle_id, "ROOM01", ids, seq=9))  # replaces its room's: no more room
    await service.settled()
    assert "room ROOM02's is not" in caplog.text
    loaded = await service.load(circle_id)
    assert loaded is not None and sorted(loaded.sessions) == ["ROOM00", "ROOM01"]
    assert loaded.sessions["ROOM01"].seq == 9


async def test_a_stopping_service_logs_what_it_did_not_record_and_takes_no_more(
    store: RoomStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(circle_service, "RECORDING_GRACE", 0.01)
    service, circle_id, ids = await ops_circle(store)
    reached = asyncio.Event()

    async def stuck(*args: Any, **kwargs: Any) -> bool:
        reached.set()
        await asyncio.Event().wait()  # a store that never answers
        return False

    store.commit_circle = stuck  # type: ignore[method-assign]
    service.queue(ended(circle_id, "ROOM01", ids))
    await reached.wait()
    await service.close()
    assert "1 sessions not recorded in their circles (rooms ROOM01)" in caplog.text
    service.queue(ended(circle_id, "ROOM02", ids))
    assert "room ROOM02's session is not recorded" in caplog.text

    async def current(code: str) -> tuple[Room, Pack | None]:
        raise AssertionError("a stopping service reads no room")

    service.record_soon("ROOM03", current)
    assert "room ROOM03's session is not recorded" in caplog.text
    await service.settled()  # nothing started


async def game_in_circle(
    store: RoomStore, tmp_path: Path
) -> tuple[GameService, CircleService, str, str]:
    """A GameService recording in a circle, and a room of it with two members on a team."""
    service = GameService(store, PackLibrary(tmp_path))
    # One clock: the circle lives as long.
    service.circles, circle_id, ids = await ops_circle(store, clock=service.clock)
    code = (await service.create_room("Ops", circle=(circle_id, "Ops"))).room.code

    def seat(room: Room, pack: Pack | None, now: float) -> None:
        seat_members(room, ids, now)

    await service.execute(code, seat)
    return service, service.circles, circle_id, code


def finish(room: Room, pack: Pack | None, now: float) -> None:
    flow.finish(room, now, pack)


def play_again(room: Room, pack: Pack | None, now: float) -> None:
    flow.choose_pack(room, "another")


async def kept_phase(circles_: CircleService, circle_id: str, code: str) -> Any:
    loaded = await circles_.load(circle_id, keepsakes=True)
    assert loaded is not None and loaded.keepsakes is not None
    kept = loaded.keepsakes.get(code)
    return None if kept is None else kept["room"]["phase"]


async def test_a_game_finished_and_played_again_in_one_batch_is_kept_as_it_ended(
    store: RoomStore, tmp_path: Path
) -> None:
    """The phase was compared over the whole batch (lobby before, lobby after): the end
    between went unseen and the keepsake was never recorded."""
    service, circles_, circle_id, code = await game_in_circle(store, tmp_path)
    before = (await service.load(code)).seq
    await asyncio.gather(service.execute(code, finish), service.execute(code, play_again))
    room = await service.load(code, fresh=True)
    assert room.phase == "lobby" and room.seq == before + 1  # one batch, one commit
    await circles_.settled()
    assert await kept_phase(circles_, circle_id, code) == "finished"


async def test_a_game_played_again_before_its_end_is_recorded_is_kept_as_it_ended(
    store: RoomStore, tmp_path: Path
) -> None:
    """The end was recorded from the room as read later: with a record of the room in flight
    (the host's last ``next`` or ``mix_teams``), "play again" sent at once took the room
    back to its lobby before it was read, and the keepsake was lost without a word."""
    service, circles_, circle_id, code = await game_in_circle(store, tmp_path)
    reached, gate = asyncio.Event(), asyncio.Event()
    real = store.commit_circle

    async def slow(*args: Any, **kwargs: Any) -> bool:
        reached.set()
        await gate.wait()
        return await real(*args, **kwargs)

    store.commit_circle = slow  # type: ignore[method-assign]
    circles_.record_soon(code, service.current)  # as a command would
    await reached.wait()
    await service.execute(code, finish)
    await service.execute(code, play_again)
    gate.set()
    await circles_.settled()
    assert await kept_phase(circles_, circle_id, code) == "finished"


async def test_forgetting_rewrites_a_keepsake_stored_in_the_first_shape(store: RoomStore) -> None:
    """The first shape kept lines without their writer: forgetting their writer left them in
    the store as written (only reading masked them)."""
    clock = Clock()
    service, circle_id, (ada, bea, cy) = await ops_circle(store, 3, clock)
    await service.change(
        circle_id,
        lambda c, now: (
            circles.record_session(c, "R1", started_at=now, seq=1, groups=[[bea, cy]], teams=[]),
            None,
        ),
    )
    old = {
        "room": {"code": "R1", "name": "n", "pack": None, "language": "en", "phase": "finished"},
        "podium": [],
        "stories": [
            {
                "round": "T",
                "stories": [
                    {
                        "team": "Red",
                        "writers": [{"member": bea, "name": "Bea"}],
                        "theme": "",
                        "opening": "o",
                        "lines": [{"text": "Ada's secret line"}, {"text": "Bea's line"}],
                    }
                ],
            }
        ],
        "whoswho": [],
        "colleagues": [],
    }
    stored = await store.load_circle(circle_id, now=clock.now)
    assert stored is not None
    assert await store.commit_circle(
        circle_id, stored.version, {"k:R1": orjson.dumps(old)}, [], ttl=DAY, now=clock.now
    )
    assert await service.forget(circle_id, ada)
    stored = await store.load_circle(circle_id, now=clock.now)
    assert stored is not None and b"secret" not in stored.parts["k:R1"]
    assert orjson.loads(stored.parts["k:R1"])["v"] == 2
