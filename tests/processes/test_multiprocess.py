"""Three ``ritrovo serve`` processes on one real Redis, one room spread over all of them.

The process holding the timer lease is SIGKILLed in the middle of a riddle:
another process takes the lease over and the riddle still ends on time; the
players of the dead process rejoin on the survivors and find their score; no
update is lost or applied twice.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ritrovo.client import RitrovoClient, join
from ritrovo.store.redis import RedisStore
from support.protocol_helpers import create_room
from support.resilience import ANSWER, assert_seqs_increase, small_pack, team_scores, upload_pack
from support.servers import ServeProcess

RIDDLE_SECONDS = 6
LEASE_TTL = 1.5  # a dead holder's deadlines fire at most ~2 s late
ON_TIME = 3.0  # the riddle ends within this many seconds of its deadline


async def lease_holder(procs: list[ServeProcess], timeout: float = 10.0) -> int:
    """Index of the one process that reports holding the timer lease (bounded health polling)."""
    async with asyncio.timeout(timeout):
        while True:
            reports = await asyncio.gather(*(asyncio.to_thread(p.health) for p in procs))
            holders = [i for i, (_, body) in enumerate(reports) if body.get("timer_lease")]
            if len(holders) == 1:
                return holders[0]
            await asyncio.sleep(0.1)


async def lease_in_store(redis_url: str) -> str | None:
    """The timer lease's holder as the store records it."""
    store = RedisStore(redis_url)
    try:
        return await store.lease_holder()
    finally:
        await store.close()


def revealed(state: dict[str, Any]) -> bool:
    return bool(state["phase"] == "riddle" and state["riddle"]["stage"] == "revealed")


async def test_a_room_over_three_processes_survives_losing_the_timer_holder(redis_url: str) -> None:
    procs = [ServeProcess(redis_url, RITROVO_TIMER_LEASE_TTL=str(LEASE_TTL)) for _ in range(3)]
    for proc in procs:
        proc.launch()
    clients: list[RitrovoClient] = []
    try:
        await asyncio.gather(*(asyncio.to_thread(p.wait_healthy, 40) for p in procs))
        holder = await lease_holder(procs)
        instances = {
            i: (await asyncio.to_thread(p.health))[1]["instance"] for i, p in enumerate(procs)
        }
        assert len(set(instances.values())) == 3

        room = await create_room(procs[0].base_url, "Scale-out")
        code, host_token = room["code"], room["host_token"]
        await upload_pack(procs[1].base_url, code, host_token, small_pack(RIDDLE_SECONDS))

        # Everyone is spread over the three processes.
        where: dict[str, int] = {"host": 0, "screen": 1, "Ada": 0, "Ben": 1, "Cy": 2, "Dee": 2}
        host = await RitrovoClient.connect(procs[where["host"]].ws_url)
        clients.append(host)
        await host.hello("host", room=code, token=host_token)
        screen = await RitrovoClient.connect(procs[where["screen"]].ws_url)
        clients.append(screen)
        await screen.hello("screen", room=code)
        t1, t2 = (t["id"] for t in host.state["state"]["teams"])  # type: ignore[index]
        team_of = {"Ada": t1, "Cy": t1, "Ben": t2, "Dee": t2}
        players: dict[str, RitrovoClient] = {}
        for name, team in team_of.items():
            players[name] = await join(procs[where[name]].ws_url, code, name, team=team)
            clients.append(players[name])
        tokens = {name: c.welcome["token"] for name, c in players.items()}  # type: ignore[index]
        await screen.wait_state(lambda s: s["players_count"] == 4)

        # The riddle starts; Ada (process 0) solves it, Ben (process 1) misses.
        await host.request("next")
        state = await screen.wait_state(lambda s: s["phase"] == "riddle")
        deadline_at = state["riddle"]["deadline_at"]
        solved = await players["Ada"].request("guess", text=ANSWER)
        assert solved["result"]["verdict"] == "correct"
        points = solved["result"]["points"]
        missed = await players["Ben"].request("guess", text="a door")
        assert missed["result"]["verdict"] == "wrong"

        # Mid-riddle, the timer holder dies without a word.
        assert time.time() < deadline_at - 2, "the set-up took too long to test a takeover"
        procs[holder].kill()
        survivors = [i for i in range(3) if i != holder]
        dead_roles = [name for name, i in where.items() if i == holder]
        live = {
            name: c
            for name, c in {"host": host, "screen": screen, **players}.items()
            if name not in dead_roles
        }

        # The riddle still ends on time, seen by every client of the survivors.
        for client in live.values():
            await client.wait_state(revealed, timeout=RIDDLE_SECONDS + LEASE_TTL + ON_TIME + 2)
        ended_seen = time.time()
        assert ended_seen <= deadline_at + ON_TIME, ended_seen - deadline_at
        taken_by = survivors[await lease_holder([procs[i] for i in survivors])]
        # The store agrees: the lease is now in that survivor's name.
        assert await lease_in_store(redis_url) == instances[taken_by]

        # The dead process's clients come back on a survivor and find their score.
        for name in dead_roles:
            old = {"host": host, "screen": screen, **players}[name]
            await asyncio.wait_for(old.closed, 5)
            again = await RitrovoClient.connect(procs[survivors[0]].ws_url)
            clients.append(again)
            if name == "host":
                await again.hello("host", room=code, token=host_token)
                host = again
            elif name == "screen":
                await again.hello("screen", room=code)
                screen = again
            else:
                welcome = await again.hello("rejoin", room=code, token=tokens[name])
                assert welcome["player"]["team_id"] == team_of[name]
                players[name] = again
            state = await again.wait_state(revealed)
            assert team_scores(state) == {t1: points, t2: 0}
        # Her private view shows her points too (the wait fails if it never does).
        await players["Ada"].wait_for(
            lambda m: m["type"] == "you" and m["player"]["points"] == points
        )

        # On to the story round, its first turn written from whichever process.
        await host.request("next")  # riddle round over
        await host.request("next")  # story round starts
        await screen.wait_state(lambda s: s["phase"] == "story")
        written: dict[str, str] = {}
        for name, client in players.items():
            you = await client.wait_for(lambda m: m["type"] == "you" and "your_turn" in m)
            if you["your_turn"] is not None:
                text = f"{name} wrote this line from afar"
                await client.request("line", text=text)
                written[team_of[name]] = text
        assert set(written) == {t1, t2}
        final = await host.wait_state(
            lambda s: all(s["story"]["teams"][tid]["lines_count"] >= 1 for tid in (t1, t2))
        )
        assert team_scores(final) == {t1: points, t2: 0}
        ada_now = players["Ada"].you  # her latest private view, from the story round
        assert ada_now is not None and ada_now["player"]["points"] == points

        # Nothing was applied twice, and no connection saw an update twice or out of order.
        moments = [m["kind"] for m in final["moments"]]
        assert moments.count("team_solved") == 1
        assert moments.count("riddle_revealed") == 1
        for client in clients:
            assert_seqs_increase(client)
    finally:
        for client in clients:
            if not client.closed.done():
                await client.close()
        for proc in procs:
            proc.stop()
