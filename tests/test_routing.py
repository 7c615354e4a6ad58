"""Mail between processes: a bad envelope or item is dropped, and the rest still served."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from ritrovo.edge.routing import Router
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
    good = ["run", 7, "ROOM23", "p1", {"type": "guess", "text": "a map"}]
    router.on_mail(orjson.dumps({"from": "peer", "items": [[], ["run", 1], 5, good]}))
    # This process does not own ROOM23: the sender is told to run it itself.
    envelope = orjson.loads(await asyncio.wait_for(answers.get(), 5))
    assert envelope == {"from": "me", "items": [["answer", 7, {"moved": True}]]}
    await router.close()
