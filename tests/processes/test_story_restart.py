"""A story turn survives a crash of the server process (real ``ritrovo serve``, real Redis).

The server is SIGKILLed in the middle of a turn and started again on the same
Redis; the players come back with their resume tokens and find the story, the
rotation and the turn deadline as they were, and the turn still times out at
its original deadline.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from ritrovo.client import RitrovoClient, join
from support.protocol_helpers import create_room
from support.servers import ServeProcess, crash_and_restart

SECONDS_PER_TURN = 10  # the shortest turn a pack may have
PACK = f"""\
id: story-restart-test
title: Story restart test
language: en
rounds:
  - kind: story
    title: Crash-proof tales
    prompts:
      - opening: The power went out at midnight.
      - opening: The cat knew something.
    turns_per_player: 2
    seconds_per_turn: {SECONDS_PER_TURN}
    visibility: chain
"""
LINE_ADA = "Ada lit a candle qzrestartone"
LINE_DEE = "Dee followed the cat qzrestarttwo"
TOLERANCE = 1.5


async def upload_pack(base_url: str, code: str, host_token: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/api/rooms/{code}/pack",
            params={"filename": "story.yaml"},
            data=PACK.encode(),
            headers={"Authorization": f"Bearer {host_token}"},
        ) as r,
    ):
        assert r.status == 201, await r.text()


def teams_of(state: dict[str, Any]) -> dict[str, Any]:
    return dict(state["story"]["teams"])


def durable_part(story_team: dict[str, Any]) -> dict[str, Any]:
    """What must come through a crash unchanged (the host's view of one story)."""
    keys = ("lines", "order", "turns_taken", "writer", "turn_deadline_at", "turns_done", "done")
    return {key: story_team[key] for key in keys}


async def test_story_turn_survives_a_server_crash(redis_url: str) -> None:
    first = ServeProcess(redis_url)
    await asyncio.to_thread(first.start)
    second: ServeProcess | None = None
    clients: list[RitrovoClient] = []
    try:
        room = await create_room(first.base_url, "Blackout")
        code, host_token = room["code"], room["host_token"]
        await upload_pack(first.base_url, code, host_token)

        host = await RitrovoClient.connect(first.ws_url)
        clients.append(host)
        await host.hello("host", room=code, token=host_token)
        t1, t2 = (t["id"] for t in host.state["state"]["teams"])  # type: ignore[index]
        players: dict[str, RitrovoClient] = {}
        for name, team in (("Ada", t1), ("Ben", t1), ("Dee", t2)):
            players[name] = await join(first.ws_url, code, name, team=team)
            clients.append(players[name])
        welcomes = {name: c.welcome or {} for name, c in players.items()}
        tokens = {name: w["token"] for name, w in welcomes.items()}
        ids = {name: w["player"]["id"] for name, w in welcomes.items()}
        await host.wait_state(lambda s: s["players_count"] == 3)

        await host.request("next")
        await host.wait_state(
            lambda s: s["story"] is not None and teams_of(s)[t1]["writer"] == ids["Ada"]
        )
        await players["Ada"].request("line", text=LINE_ADA)
        await players["Dee"].request("line", text=LINE_DEE)
        before = await host.wait_state(
            lambda s: (
                teams_of(s)[t1]["writer"] == ids["Ben"] and teams_of(s)[t2]["lines_count"] == 1
            )
        )
        deadline = teams_of(before)[t1]["turn_deadline_at"]
        assert deadline is not None and deadline - time.time() > SECONDS_PER_TURN - 2
        assert teams_of(before)[t2]["writer"] == ids["Dee"]  # a team of one writes again

        # Crash mid-turn: no shutdown, no goodbye to the clients.
        second = await crash_and_restart(first, clients)
        assert time.time() < deadline - 2, "the restart took too long for this test to mean much"

        host = await RitrovoClient.connect(second.ws_url)
        clients.append(host)
        await host.hello("host", room=code, token=host_token)
        for name in ("Ada", "Ben", "Dee"):
            client = await RitrovoClient.connect(second.ws_url)
            clients.append(client)
            welcome = await client.hello("rejoin", room=code, token=tokens[name])
            assert welcome["player"]["id"] == ids[name]
            players[name] = client

        after = await host.wait_state(lambda s: s["story"] is not None)
        assert after["phase"] == "story" and after["story"]["stage"] == "writing"
        for team in (t1, t2):
            assert durable_part(teams_of(after)[team]) == durable_part(teams_of(before)[team])
        assert [line["text"] for line in teams_of(after)[t1]["lines"]] == [LINE_ADA]
        assert [line["text"] for line in teams_of(after)[t2]["lines"]] == [LINE_DEE]
        assert teams_of(after)[t1]["writer"] == ids["Ben"]
        assert teams_of(after)[t1]["turn_deadline_at"] == deadline

        # Ben, back, is still the writer, continues from Ada's line and has his deadline.
        ben = players["Ben"]
        view = await ben.wait_state(lambda s: s["story"] is not None)
        assert teams_of(view)[t1]["previous_line"]["text"] == LINE_ADA
        await ben.wait_for(
            lambda m: (
                m["type"] == "you" and (m.get("your_turn") or {}).get("deadline_at") == deadline
            )
        )

        # The turn still times out at its original deadline.
        skipped = await host.wait_state(
            lambda s: teams_of(s)[t1]["writer"] != ids["Ben"],
            timeout=max(1.0, deadline - time.time()) + TOLERANCE + 3,
        )
        seen_at = time.time()
        assert deadline - 0.2 <= seen_at <= deadline + TOLERANCE, seen_at - deadline
        moment = next(
            m
            for m in skipped["moments"]
            if m["kind"] == "turn_skipped" and m["player_id"] == ids["Ben"]
        )
        assert moment["text"] == "timeout"
        assert deadline <= moment["at"] <= deadline + TOLERANCE
        assert teams_of(skipped)[t1]["writer"] == ids["Ada"]  # the rotation goes on
        assert teams_of(skipped)[t1]["turns_taken"] == {ids["Ada"]: 1, ids["Ben"]: 1}
    finally:
        for client in clients:
            if not client.closed.done():
                await client.close()
        for process in (second, first):
            if process is not None:
                await asyncio.to_thread(process.stop)


pytestmark = pytest.mark.timeout(40)
