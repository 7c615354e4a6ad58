"""A server process dies mid-riddle: the next one on the same Redis carries on.

Real ``python -m ritrovo serve`` processes and a real redis-server. The first
process is SIGKILLed while a riddle is running; a new process starts on the
same Redis, the players come back with their resume tokens, and the riddle
still ends at its original deadline with every score from before the crash.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import aiohttp
import orjson
from ritrovo.client import RitrovoClient
from support.protocol_helpers import create_room
from support.servers import ServeProcess

MIN_TIME_LIMIT = 5  # seconds, the smallest a pack allows
# Only the process holding the timer lease fires deadlines; a SIGKILLed holder's
# lease must expire before the new process takes over. With the default TTL
# (5 s) a deadline due less than a TTL after the crash can fire up to
# TTL + TTL/3 late, so the test runs both processes with a 1 s lease: the new
# process holds the lease well before the deadline.
LEASE_TTL = "1"  # seconds, as RITROVO_TIMER_LEASE_TTL
PACK_YAML = """
id: restart-test
title: Restart test
language: en
rounds:
  - kind: riddles
    title: Survivors
    riddles:
      - text: What has a neck but no head?
        answers: [bottle]
        time_limit: 60
        points: 100
      - text: What can you catch but not throw?
        answers: [a cold]
        time_limit: {time_limit}
        points: 200
"""


def time_limit_for(startup: float) -> int:
    """Long enough for a restart mid-riddle: the minimum on an idle machine,
    more when starting a process is slow (a loaded CI machine)."""
    return max(MIN_TIME_LIMIT, math.ceil(2 * startup + 2))


async def http_json(
    method: str, url: str, token: str | None = None, data: bytes | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, data=data, headers=headers) as r,
    ):
        assert r.status in (200, 201), await r.text()
        return orjson.loads(await r.read())


def riddle_at(index: int, stage: str) -> Any:
    return lambda s: (
        s["riddle"] is not None and s["riddle"]["index"] == index and s["riddle"]["stage"] == stage
    )


def scores(state: dict[str, Any]) -> dict[str, int]:
    return {t["name"]: t["score"] for t in state["teams"]}


def player_points(state: dict[str, Any]) -> dict[str, int]:
    return {p["name"]: p["points"] for t in state["teams"] for p in t["players"]}


async def test_riddle_survives_a_killed_server(redis_url: str) -> None:
    first = ServeProcess(redis_url, RITROVO_TIMER_LEASE_TTL=LEASE_TTL)
    second = ServeProcess(redis_url, RITROVO_TIMER_LEASE_TTL=LEASE_TTL)
    clients: list[RitrovoClient] = []
    try:
        started = time.monotonic()
        await asyncio.to_thread(first.start)
        time_limit = time_limit_for(time.monotonic() - started)
        room = await create_room(first.base_url, "Crash test")
        code, token = room["code"], room["host_token"]
        pack = PACK_YAML.format(time_limit=time_limit).encode()
        await http_json(
            "POST", f"{first.base_url}/api/rooms/{code}/pack?filename=restart.yaml", token, pack
        )

        host = await RitrovoClient.connect(first.ws_url)
        await host.hello("host", room=code, token=token)
        teams = [t["id"] for t in host.state["state"]["teams"]]  # type: ignore[index]
        ada = await RitrovoClient.connect(first.ws_url)
        await ada.hello("join", room=code, name="Ada", team=teams[0])
        bob = await RitrovoClient.connect(first.ws_url)
        await bob.hello("join", room=code, name="Bob", team=teams[1])
        clients += [host, ada, bob]
        tokens = {"Ada": ada.welcome["token"], "Bob": bob.welcome["token"]}  # type: ignore[index]

        # Riddle 1, finished before the crash: both teams solve it.
        await host.request("next")
        await ada.wait_state(riddle_at(0, "open"))
        await ada.request("guess", text="bottle")
        await bob.request("guess", text="a bottle")
        await host.wait_state(riddle_at(0, "revealed"))

        # Riddle 2: Ada solves it, then the server dies mid-riddle.
        await host.request("next")
        opened = await host.wait_state(riddle_at(1, "open"))
        deadline = opened["riddle"]["deadline_at"]
        # Sent a moment after the start: the deadline is at most time_limit ahead.
        assert time_limit - 0.5 < deadline - opened["server_time"] <= time_limit
        solved = await ada.request("guess", text="cold")
        assert solved["result"]["verdict"] == "correct"
        before = await host.wait_state(lambda s: s["riddle"]["progress"][teams[0]]["solved"])
        assert before["riddle"]["stage"] == "open"
        scores_before, points_before = scores(before), player_points(before)
        assert scores_before["Aurora"] > scores_before["Bora"] > 0

        first.kill()
        for client in clients:
            await asyncio.wait_for(client.closed, 5)
            await client.close()
        clients.clear()
        assert time.time() < deadline - 1, "the restart must happen mid-riddle"

        await asyncio.to_thread(second.start)
        host = await RitrovoClient.connect(second.ws_url)
        await host.hello("host", room=code, token=token)
        ada = await RitrovoClient.connect(second.ws_url)
        ada_welcome = await ada.hello("rejoin", room=code, token=tokens["Ada"])
        bob = await RitrovoClient.connect(second.ws_url)
        await bob.hello("rejoin", room=code, token=tokens["Bob"])
        clients += [host, ada, bob]
        assert (
            ada_welcome["player"]["name"] == "Ada" and ada_welcome["player"]["team_id"] == teams[0]
        )
        assert time.time() < deadline - 0.5, (
            f"restart too slow to land mid-riddle ({deadline - time.time():.2f} s left)"
        )

        # The riddle is still open, with the same deadline and the same scores.
        after = await host.wait_state(riddle_at(1, "open"))
        assert after["riddle"]["deadline_at"] == deadline
        assert scores(after) == scores_before and player_points(after) == points_before
        assert after["riddle"]["progress"][teams[0]]["solved"] is True
        s = await ada.wait_state(riddle_at(1, "open"))
        assert s["riddle"]["team"]["solved"] is True
        # The new process plays on: Bob's team may still guess.
        assert (await bob.request("guess", text="a ball"))["result"]["verdict"] == "wrong"

        # It ends at the original deadline, fired by the new process's timer.
        ended = await bob.wait_state(riddle_at(1, "revealed"), timeout=time_limit + 5)
        seen_at = time.time()
        assert deadline <= seen_at <= deadline + 1.5, seen_at - deadline
        assert ended["riddle"]["reveal"]["end_reason"] == "timeout"
        assert ended["riddle"]["reveal"]["answer"] == "a cold"
        revealed = [m for m in ended["moments"] if m["kind"] == "riddle_revealed"]
        assert revealed[-1]["at"] == deadline and revealed[-1]["text"] == "timeout"
        assert scores(ended) == scores_before and player_points(ended) == points_before

        results = await http_json("GET", f"{second.base_url}/api/rooms/{code}/results.json", token)
        assert [(r["riddle"], r["end_reason"]) for r in results["riddles"]] == [
            (1, "all_solved"),
            (2, "timeout"),
        ]
        assert {t["team"]: t["score"] for t in results["standings"]} == scores_before
    finally:
        for client in clients:
            await client.close()
        first.kill()
        second.stop()
