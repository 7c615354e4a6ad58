"""Hot rooms' owners and process mail: the same contract on both stores.

``store`` (tests/conftest.py) runs each test once per kind.
"""

from __future__ import annotations

import asyncio
from functools import partial

from ritrovo.store.base import Claim, CommitResult, RoomStore


async def commit(
    store: RoomStore, expected: int, claim: Claim | None, code: str = "HOT234"
) -> CommitResult:
    return await store.commit(
        code,
        expected,
        expected + 1,
        {"meta": b"m%d" % (expected + 1)},
        [],
        whole=False,
        deadline_at=None,
        notice=b"n%d" % (expected + 1),
        now=1000.0,
        claim=claim,
    )


async def test_the_loser_of_a_race_owns_the_room_and_its_commits_keep_it(store: RoomStore) -> None:
    await store.create("HOT234", {"meta": b"m0"}, now=1000.0)
    a, b = Claim("a", 30.0), Claim("b", 30.0)
    won = await commit(store, 0, a)
    assert won.ok and won.owner is None  # nobody raced: nobody owns it
    lost = await commit(store, 0, b)  # b was a version behind
    assert not lost.ok and lost.owner == "b" and lost.missed == [b"n1"]
    # Everyone's next commit says who owns the room; a later loser does not take it.
    assert (await commit(store, 1, a)).owner == "b"
    again = await commit(store, 1, a)
    assert not again.ok and again.owner == "b"
    assert (await commit(store, 2, b)).owner == "b"
    # Without a claim nothing is said, nor changed.
    plain = await commit(store, 3, None)
    assert plain.ok and plain.owner is None
    assert (await commit(store, 4, a)).owner == "b"


async def test_an_owner_that_stops_committing_lets_the_room_go(store: RoomStore) -> None:
    await store.create("HOT234", {"meta": b"m0"}, now=1000.0)
    short = Claim("b", 0.2)
    await commit(store, 0, Claim("a", 0.2))
    assert (await commit(store, 0, short)).owner == "b"
    async with asyncio.timeout(5):
        while (await commit(store, 0, Claim("a", 0.2))).owner == "b":
            await asyncio.sleep(0.05)  # polling the lease's expiry, bounded above
    # It lapsed; the next loser (a, a version behind again) takes it.
    assert (await commit(store, 0, Claim("a", 0.2))).owner == "a"


async def test_mail_reaches_the_process_it_is_sent_to(store: RoomStore) -> None:
    got: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    await store.receive_mail(
        "proc-1", partial(lambda name, data: got.put_nowait((name, data)), "1")
    )
    await store.listen(lambda code, notice: None)
    async with asyncio.timeout(5):
        while not await store.send_mail("proc-1", b"hello"):
            await asyncio.sleep(0.05)  # the subscription is being set up
        assert await got.get() == ("1", b"hello")
    assert await store.send_mail("proc-2", b"nobody") == 0
