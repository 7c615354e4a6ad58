"""A hot room on two processes: the loser of a race owns it, the other sends it the commands.

Two apps on one real Redis, in this event loop. The race is made by hand (a
commit at a stale version, as a process that lost one would send), so the
test does not depend on timing: the store makes that process the owner, the
next commit of each process tells it who owns the room, and from then on the
other process's players' commands are run by the owner and answered through
their own process. When the owner goes away, its commands run where they
arrive again.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio
from ritrovo.app import METRICS, SERVICE
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.store import keys
from ritrovo.store.base import Claim
from ritrovo.store.redis import RedisStore
from support.protocol_helpers import create_room
from support.resilience import small_pack, upload_pack
from support.servers import running_server
from support.servers import test_settings as fast_settings


def forwarded(app: Any, outcome: str = "sent") -> float:
    return float(app[METRICS].forwarded.labels(outcome=outcome)._value.get())


async def claim_by_losing_a_race(redis_url: str, code: str, instance: str) -> None:
    """What the store does for a process whose commit found a newer version.

    A real race of the two processes' own commits (a join's presence against
    the host's command, on a loaded machine) may have named an owner already:
    that owner is forgotten first, so the race made here decides.
    """
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        await client.delete(keys.room_owner(code))
    finally:
        await client.aclose()
    store = RedisStore(redis_url)
    try:
        outcome = await store.commit(
            code, 0, 1, {}, [], whole=False, deadline_at=None, notice=b"{}", now=0.0,
            claim=Claim(instance, 30.0),
        )  # fmt: skip
    finally:
        await store.close()
    assert not outcome.ok
    assert outcome.owner == instance


async def test_the_other_process_sends_a_hot_rooms_commands_to_its_owner(redis_url: str) -> None:
    settings = fast_settings(redis_url=redis_url, room_owner_lease=30.0)
    async with running_server(settings) as a, running_server(settings) as b:
        room = await create_room(a.base_url, "Hot")
        code, token = room["code"], room["host_token"]
        await upload_pack(a.base_url, code, token, small_pack(120))
        clients: list[RitrovoClient] = []
        try:
            host = await RitrovoClient.connect(a.ws_url)
            clients.append(host)
            await host.hello("host", room=code, token=token)
            team = host.state["state"]["teams"][0]["id"]  # type: ignore[index]
            ada = await join(a.ws_url, code, "Ada", team=team)
            ben = await join(b.ws_url, code, "Ben", team=team)
            clients += [ada, ben]
            await host.request("next")
            await ben.wait_state(lambda s: s["phase"] == "riddle")

            owner = a.app[SERVICE]._claim.instance  # type: ignore[union-attr]
            await claim_by_losing_a_race(redis_url, code, owner)
            # Each process's next commit tells it who owns the room.
            assert (await ada.request("guess", text="a map"))["result"]["verdict"] == "wrong"
            assert a.app[SERVICE].owns(code)
            assert (await ben.request("guess", text="a door"))["result"]["verdict"] == "wrong"
            assert b.app[SERVICE].owner_elsewhere(code) == owner
            assert forwarded(b.app) == 0

            # From now on Ben's commands run at the owner and come back as usual.
            reply = await ben.request("guess", text="a lamp")
            assert reply["result"]["verdict"] == "wrong"
            assert forwarded(b.app) == 1
            # A refusal comes back with its code, and changes nothing.
            with pytest.raises(ProtocolError) as refused:
                await ben.request("vote", team=team)
            assert refused.value.code == "no_story"
            assert forwarded(b.app) == 2
            # Everyone sees the forwarded guesses, in order, once each.
            state = await host.wait_state(lambda s: len(s["riddle"]["guesses"][team]) == 3)
            texts = [g["text"] for g in state["riddle"]["guesses"][team]]
            assert texts == ["a map", "a door", "a lamp"]
            solved = await ben.request("guess", text="piano")
            assert solved["result"]["verdict"] == "correct"
            assert forwarded(b.app) == 3
            await ada.wait_state(lambda s: s["riddle"]["team"]["solved"])
        finally:
            for client in clients:
                await client.close()


async def test_commands_run_where_they_arrive_once_the_owner_is_gone(redis_url: str) -> None:
    settings = fast_settings(redis_url=redis_url, room_owner_lease=30.0)
    async with running_server(settings) as b:
        clients: list[RitrovoClient] = []
        try:
            async with running_server(settings) as a:
                room = await create_room(a.base_url, "Hot")
                code, token = room["code"], room["host_token"]
                await upload_pack(a.base_url, code, token, small_pack(120))
                host = await RitrovoClient.connect(b.ws_url)
                clients.append(host)
                await host.hello("host", room=code, token=token)
                team = host.state["state"]["teams"][0]["id"]  # type: ignore[index]
                ada = await join(a.ws_url, code, "Ada", team=team)
                clients.append(ada)
                await host.request("next")
                owner = a.app[SERVICE]._claim.instance  # type: ignore[union-attr]
                await claim_by_losing_a_race(redis_url, code, owner)
                await ada.request("guess", text="a map")
                await host.request("extend", seconds=30)
                assert b.app[SERVICE].owner_elsewhere(code) == owner
            # The owner stopped (its lease still runs in Redis): nobody hears
            # its channel, so the host's command runs here, at once.
            await host.request("extend", seconds=30)
            assert forwarded(b.app) == 0
            assert b.app[SERVICE].owner_elsewhere(code) is None
        finally:
            for client in clients:
                await client.close()
