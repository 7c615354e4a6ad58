"""GameService: commands on a room are atomic, serialised per room, and never leave half-changed state."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
from pathlib import Path
from typing import Any

import pytest
from ritrovo import service as service_module
from ritrovo.errors import RitrovoError
from ritrovo.game import rooms, views
from ritrovo.game.models import Player, Room
from ritrovo.game.pack import Pack
from ritrovo.packs import PackLibrary, load_pack
from ritrovo.service import GameService
from ritrovo.store.base import CommitResult
from ritrovo.store.codec import encode_pack
from ritrovo.store.memory import MemoryStore


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.commits = 0
        self.conflicts = 0

    async def commit(self, *args: Any, **kwargs: Any) -> CommitResult:
        self.commits += 1
        await asyncio.sleep(0)  # let other commands run meanwhile, as a network round trip would
        outcome = await super().commit(*args, **kwargs)
        self.conflicts += not outcome.ok
        return outcome


async def test_concurrent_commands_on_a_room_never_conflict_and_commit_together(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = CountingStore()
    service = GameService(store, PackLibrary(tmp_path))
    created = await service.create_room("Burst")
    code = created.room.code

    def joiner(i: int):  # type: ignore[no-untyped-def]
        return lambda room, pack, now: (
            rooms.join(room, name=f"P{i}", team_id=None, token_hash=f"t{i}", now=now).id
        )

    ids = await asyncio.gather(*(service.execute(code, joiner(i)) for i in range(30)))
    room = await service.load(code, fresh=True)
    assert len(room.players) == 30 and sorted(p for _, p in ids) == sorted(room.players)
    assert store.conflicts == 0
    # Commands queued while the room is busy are committed together.
    assert room.seq == store.commits < 30


async def test_a_command_crashing_half_way_leaves_nothing_behind(tmp_path) -> None:  # type: ignore[no-untyped-def]
    service = GameService(MemoryStore(), PackLibrary(tmp_path))
    code = (await service.create_room("Half")).room.code

    def half_done(room: Room, pack: Pack | None, now: float) -> None:
        rooms.join(room, name="Ghost", team_id=None, token_hash="g", now=now)
        raise RuntimeError("a bug half-way through a command")

    with pytest.raises(RuntimeError):
        await service.execute(code, half_done)
    room, _ = await service.execute(code, lambda r, p, now: rooms.create_team(r, "Third"))
    assert [p.name for p in room.players.values()] == []
    assert [p.name for p in (await service.load(code, fresh=True)).players.values()] == []


def test_big_rooms_send_players_their_own_roster_only() -> None:
    room = rooms.new_room("BIG234", "All hands", "h", 0.0)
    for i in range(views.BIG_ROOM_PLAYERS + 1):
        rooms.join(room, name=f"P{i}", team_id=None, token_hash=f"t{i}", now=0.0)
    me = next(iter(room.players.values()))
    mine = views.build(room, None, 0.0, "player", me.id)["teams"]
    assert all(bool(t["players"]) == (t["id"] == me.team_id) for t in mine)
    assert sum(t["players_count"] for t in mine) == len(room.players)
    screen = views.build(room, None, 0.0, "screen")["teams"]
    assert sum(len(t["players"]) for t in screen) == len(room.players)
    small = rooms.new_room("SML234", "Team", "h", 0.0)
    a = rooms.join(small, name="Ada", team_id=None, token_hash="a", now=0.0)
    rooms.join(small, name="Bob", team_id=None, token_hash="b", now=0.0)
    assert all(t["players"] for t in views.build(small, None, 0.0, "player", a.id)["teams"])


async def test_a_refused_command_keeps_the_room_as_it_was(tmp_path) -> None:  # type: ignore[no-untyped-def]
    service = GameService(MemoryStore(), PackLibrary(tmp_path))
    code = (await service.create_room("Refusals")).room.code
    await service.execute(
        code, lambda r, p, now: rooms.join(r, name="Ada", team_id=None, token_hash="a", now=now)
    )
    with pytest.raises(RitrovoError):
        await service.execute(
            code, lambda r, p, now: rooms.join(r, name="ada", team_id=None, token_hash="b", now=now)
        )
    room, _ = await service.execute(code, lambda r, p, now: rooms.create_team(r, "Third"))
    assert [p.name for p in room.players.values()] == ["Ada"] and room.seq == 2
    assert (await service.load(code, fresh=True)).players == room.players


def test_views_sharing_scoreboard_rows_are_the_same_as_views_built_alone() -> None:
    rows = views.Rows()  # kept across builds, as the hub keeps it across flushes
    for size in (3, views.BIG_ROOM_PLAYERS + 3):
        room = rooms.new_room("SHR234", "Shared", "h", 0.0)
        for i in range(size):
            rooms.join(room, name=f"P{i}", team_id=None, token_hash=f"t{i}", now=0.0)
        audiences = [("host", None), ("screen", None)] + [
            ("player", pid) for pid in list(room.players)[:4]
        ]
        for now in (0.0, 1.0):  # a second build reuses the entries of the first
            shared = views.Build(room, rows)
            for role, pid in audiences:
                built = views.build(room, None, now, role, pid, shared=shared)  # type: ignore[arg-type]
                assert built == views.build(room, None, now, role, pid)  # type: ignore[arg-type]
            # host, everyone else / host, screen, two teams
            assert len(shared.boards) == (2 if size == 3 else 4)
        first = next(iter(room.players.values()))
        first.points += 5  # a changed player gets a new entry; the others keep theirs
        again = views.Build(room, rows)
        board = views.build(room, None, 2.0, "screen", None, shared=again)["teams"]
        entries = {e["id"]: e for team in board for e in team["players"]}
        assert entries[first.id]["points"] == 5


class LoadCountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    async def load(self, code: str) -> Any:
        self.loads += 1
        return await super().load(code)


@pytest.mark.parametrize("stale_by", [1, 5])
async def test_a_lost_compare_and_set_catches_up_from_the_changes(
    tmp_path: Any, stale_by: int
) -> None:
    # Two processes on one store; B hears no notices, so its room is behind.
    store = LoadCountingStore()
    a = GameService(store, PackLibrary(tmp_path))
    b = GameService(store, PackLibrary(tmp_path))
    code = (await a.create_room("Two")).room.code
    await b.load(code)  # B caches version 0
    for i in range(stale_by):

        def join_a(room: Room, pack: Pack | None, now: float, i: int = i) -> Player:
            return rooms.join(room, name=f"A{i}", team_id=None, token_hash=f"a{i}", now=now)

        await a.execute(code, join_a)
    loads = store.loads
    room, player = await b.execute(
        code, lambda r, p, now: rooms.join(r, name="Bea", team_id=None, token_hash="b", now=now)
    )
    assert store.loads == loads  # caught up from the missed changes, not by reading the room
    assert room.seq == stale_by + 1
    assert [p.name for p in room.players.values()] == [*(f"A{i}" for i in range(stale_by)), "Bea"]
    assert room == await a.load(code, fresh=True)  # B's room is exactly what is stored
    assert player.name == "Bea"


class PausedCommitStore(MemoryStore):
    """Commits wait for ``go`` once ``pause`` is set (``entered`` says one is waiting)."""

    def __init__(self) -> None:
        super().__init__()
        self.pause = False
        self.entered = asyncio.Event()
        self.go = asyncio.Event()

    async def commit(self, *args: Any, **kwargs: Any) -> CommitResult:
        if self.pause:
            self.entered.set()
            await self.go.wait()
        return await super().commit(*args, **kwargs)


async def test_a_load_waits_for_the_command_in_flight_and_a_quiet_room_takes_no_lock(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PausedCommitStore()
    service = GameService(store, PackLibrary(tmp_path))
    code = (await service.create_room("Quiet")).room.code
    locked: list[str] = []
    take_lock = service._lock

    def counted(code: str) -> asyncio.Lock:
        locked.append(code)
        return take_lock(code)

    monkeypatch.setattr(service, "_lock", counted)
    assert (await service.load(code)).seq == 0
    assert locked == []  # a committed room, returned without taking its lock
    store.pause = True
    command = asyncio.ensure_future(
        service.execute(code, lambda r, p, now: rooms.create_team(r, "Late"))
    )
    await asyncio.wait_for(store.entered.wait(), timeout=5)
    loading = asyncio.ensure_future(service.load(code))
    # The command's room is changed but not committed: the load waits for it.
    done, _ = await asyncio.wait({loading}, timeout=0.05)
    assert not done
    store.go.set()
    room = await asyncio.wait_for(loading, timeout=5)
    assert room.seq == 1 and "Late" in {t.name for t in room.teams}
    assert locked == [code, code]  # the runner's, then the waiting load's
    await asyncio.wait_for(command, timeout=5)


async def test_in_a_group_commit_each_command_gets_its_own_outcome(tmp_path: Any) -> None:
    service = GameService(MemoryStore(), PackLibrary(tmp_path))
    code = (await service.create_room("Group")).room.code

    def join(name: str) -> Any:
        return lambda r, p, now: rooms.join(r, name=name, team_id=None, token_hash=name, now=now)

    def buggy(room: Room, pack: Pack | None, now: float) -> None:
        rooms.join(room, name="Ghost", team_id=None, token_hash="g", now=now)
        raise RuntimeError("a bug half-way through a command")

    outcomes = await asyncio.gather(
        service.execute(code, join("Ada")),
        service.execute(code, buggy),
        service.execute(code, join("ada")),  # refused: the name is taken (by Ada, same batch)
        service.execute(code, join("Bob")),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], RuntimeError)
    assert isinstance(outcomes[2], RitrovoError) and outcomes[2].code == "name_taken"
    room = await service.load(code, fresh=True)
    assert [p.name for p in room.players.values()] == ["Ada", "Bob"]


async def test_a_caller_that_goes_away_does_not_cancel_the_others(tmp_path: Any) -> None:
    service = GameService(MemoryStore(), PackLibrary(tmp_path))
    code = (await service.create_room("Away")).room.code
    first = asyncio.ensure_future(
        service.execute(code, lambda r, p, now: rooms.create_team(r, "Gone"))
    )
    second = asyncio.ensure_future(
        service.execute(code, lambda r, p, now: rooms.create_team(r, "Kept"))
    )
    await asyncio.sleep(0)  # both are queued
    first.cancel()
    room, _ = await second
    assert {t.name for t in room.teams} >= {"Kept"}
    stored = await service.load(code, fresh=True)
    # The caller went away, not its command: it was committed with the batch.
    assert {"Gone", "Kept"} <= {t.name for t in stored.teams}
    with pytest.raises(asyncio.CancelledError):
        await first


class PackLoadCountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.pack_loads = 0

    async def load_pack(self, key: str) -> bytes | None:
        self.pack_loads += 1
        return await super().load_pack(key)


def _pack(n: int) -> Pack:
    base = load_pack(Path(__file__).resolve().parent / "packs" / "good" / "office.yaml")
    return dataclasses.replace(base, id=f"pack-{n}", title=f"Pack {n}")


async def test_uploaded_packs_are_cached_least_recently_used_first_out_within_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PackLoadCountingStore()
    service = GameService(store, PackLibrary(tmp_path))
    size = len(encode_pack(_pack(0)))
    monkeypatch.setattr(service_module, "PACK_CACHE_BYTES", size * 3)  # room for three
    ids = [await service.save_uploaded_pack(_pack(n)) for n in range(3)]
    assert await service.save_uploaded_pack(_pack(0)) == ids[0]  # same content, same pack
    await service.get_pack(ids[1])  # a hit: 1 becomes the most recently used
    ids.append(await service.save_uploaded_pack(_pack(3)))  # over the bytes: the oldest goes
    store.pack_loads = 0
    for pack_id in (ids[1], ids[3], ids[0]):
        assert await service.get_pack(pack_id) is not None
    assert store.pack_loads == 0  # 0 was used again by the saving above, 1 by the hit
    assert await service.get_pack(ids[2]) is not None
    assert store.pack_loads == 1  # 2 was the least recently used: read from the store again


async def test_rooms_nobody_uses_here_are_no_longer_kept_decoded(tmp_path: Any) -> None:
    store = CountingStore()
    service = GameService(store, PackLibrary(tmp_path))
    served = (await service.create_room("Served")).room.code
    left = (await service.create_room("Left")).room.code

    def joiner(name: str) -> Any:
        return lambda room, pack, now: (
            rooms.join(room, name=name, team_id=None, token_hash=name, now=now).id
        )

    for code in (served, left):
        await service.execute(code, joiner("Ada"))
    cached = service._rooms[served].room
    # Used a moment ago: both stay.
    assert service.forget_idle({served}) == 0
    assert set(service._rooms) == {served, left}
    # Idle: the room with a connection here stays, the other goes...
    assert service.forget_idle({served}, idle=0.0) == 1
    assert set(service._rooms) == {served} and service._rooms[served].room is cached
    # ...and is read again at its next use, as it was.
    room = await service.load(left)
    assert [p.name for p in room.players.values()] == ["Ada"]
    room, _ = await service.execute(left, joiner("Ben"))
    assert sorted(p.name for p in room.players.values()) == ["Ada", "Ben"]
    assert store.conflicts == 0


async def test_a_refused_command_is_freed_without_the_cyclic_collector(tmp_path: Any) -> None:
    # A refusal's traceback held the batch, so the futures, so the refusal:
    # a flood of refused openings piled up cycles between two full collections.
    service = GameService(MemoryStore(), PackLibrary(tmp_path))
    code = (await service.create_room("Refusals")).room.code

    def join(room: Room, pack: Pack | None, now: float) -> None:
        rooms.join(room, name="", team_id=None, token_hash="a", now=now)  # no name: refused

    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds is kept in gc.garbage
    try:
        for room_code in ("ZZZZZZ", code):  # no such room; a rule's refusal
            try:
                await service.execute(room_code, join)
            except RitrovoError:
                pass
            else:
                pytest.fail("not refused")
        gc.collect()
        left = [type(o).__name__ for o in gc.garbage if isinstance(o, BaseException)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == []
