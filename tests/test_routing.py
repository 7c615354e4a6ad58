"""Mail between processes: a bad envelope or item is dropped, and the rest still served."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import pytest
from ritrovo import protocol
from ritrovo.edge import commands
from ritrovo.edge.commands import Caller
from ritrovo.edge.routing import Router
from ritrovo.errors import StoreUnavailable
from ritrovo.packs.loader import PackLibrary
from ritrovo.service import GameService
from ritrovo.store.memory import MemoryStore


async def test_unreadable_mail_is_dropped_and_the_good_items_still_answered(
    tmp_path: Path,
) -> None:
    store = MemoryStore()
    service = GameService(store, PackLibrary(tmp_path), instance="me", owner_lease=2.0)
    router = Router(service, store, "me")
    await router.start()
    answers: asyncio.Queue[bytes] = asyncio.Queue()
    await store.receive_mail("peer", answers.put_nowait)
    for garbage in (b"not json", b"[]", b'{"from": "peer"}', b'{"from": "peer", "items": 3}'):
        router.on_mail(garbage)
    good = ["run", 7, "ROOM23", "p1", {"type": "guess", "text": "a map"}, 0.0]
    router.on_mail(orjson.dumps({"from": "peer", "items": [[], ["run", 1], 5, good]}))
    # This process does not own ROOM23: the sender is told to run it itself.
    envelope = orjson.loads(await asyncio.wait_for(answers.get(), 5))
    assert envelope == {"from": "me", "items": [["answer", 7, {"moved": True}]]}
    await router.close()


async def test_a_command_sent_here_is_refused_once_its_sender_gave_up(tmp_path: Path) -> None:
    service = GameService(MemoryStore(), PackLibrary(tmp_path))
    room = (await service.create_room("Late")).room
    teams_before = [t.name for t in room.teams]
    late = Caller(service, room.code, "", deadline=time.time() - 0.1)
    with pytest.raises(StoreUnavailable) as refused:
        await commands.create_team(late, protocol.CreateTeam(type="create_team", name="Late"))
    assert refused.value.code == "busy"
    room_now, _ = await service.current(room.code)
    assert [t.name for t in room_now.teams] == teams_before
    in_time = Caller(service, room.code, "", deadline=time.time() + 5)
    assert await commands.create_team(
        in_time, protocol.CreateTeam(type="create_team", name="On time")
    )


async def test_a_command_delivered_twice_runs_once(tmp_path: Path) -> None:
    store = MemoryStore()
    service = GameService(store, PackLibrary(tmp_path), instance="me", owner_lease=30.0)
    router = Router(service, store, "me")
    await router.start()
    room = (await service.create_room("Twice")).room
    service.note_owner(room.code, "me")
    answers: asyncio.Queue[bytes] = asyncio.Queue()
    await store.receive_mail("peer", answers.put_nowait)
    body = {"type": "create_team", "name": "Once"}
    mail = orjson.dumps(
        {"from": "peer", "items": [["run", 3, room.code, "", body, time.time() + 5]]}
    )
    router.on_mail(mail)
    router.on_mail(mail)
    envelope = orjson.loads(await asyncio.wait_for(answers.get(), 5))
    assert [item[:2] for item in envelope["items"]] == [["answer", 3]]
    assert "result" in envelope["items"][0][2]
    room_now, _ = await service.current(room.code)
    assert [t.name for t in room_now.teams].count("Once") == 1
    assert answers.empty()
    await router.close()
