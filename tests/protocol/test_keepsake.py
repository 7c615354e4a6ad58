"""The story keepsake over real WebSockets: ``stories.md`` keeps every story round.

A pack shaped like the shipped team-mix pack (riddles, story, riddles, story):
the first story round must still be in the host's Markdown download after the
riddle round that follows it and after the second story round, and the host's
``finish`` during the second round's vote counts the votes already cast and
stops the round (no more votes, no more closing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.game import stories
from ritrovo.store.base import RoomStore
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

PACK = """\
id: keepsake-test
title: Keepsake test
language: en
rounds:
  - kind: riddles
    title: Warm-up
    riddles:
      - text: What has keys but cannot open locks?
        answers: [piano]
        time_limit: 60
        points: 100
  - kind: story
    title: First tales
    prompts:
      - opening: The lighthouse keeper found a letter.
      - opening: Nobody expected the snow in July.
    turns_per_player: 1
    seconds_per_turn: 60
  - kind: riddles
    title: Brain teasers
    riddles:
      - text: What gets wetter the more it dries?
        answers: [towel]
        time_limit: 60
        points: 100
  - kind: story
    title: Night tales
    prompts:
      - opening: The lights went out at midnight.
    turns_per_player: 1
    seconds_per_turn: 60
    visibility: chain
"""

FIRST = {"Ada": "Ada read the letter *twice* qzfirsta", "Dee": "Dee built a snowman qzfirstd"}
SECOND = {"Ada": "Ada lit a candle qzseconda", "Dee": "Dee heard a knock qzsecondd"}


async def upload_pack(base_url: str, code: str, host_token: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/api/rooms/{code}/pack",
            params={"filename": "keepsake.yaml"},
            data=PACK.encode(),
            headers={"Authorization": f"Bearer {host_token}"},
        ) as r,
    ):
        assert r.status == 201, await r.text()


async def stories_markdown(base_url: str, code: str, host_token: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{base_url}/api/rooms/{code}/stories.md",
            headers={"Authorization": f"Bearer {host_token}"},
        ) as r,
    ):
        return r.status, await r.text()


async def refused(client: RitrovoClient, code: str, kind: str, **fields: Any) -> None:
    with pytest.raises(ProtocolError) as err:
        await client.request(kind, **fields)
    assert err.value.code == code, (kind, fields, err.value.body)


async def next_step(host: RitrovoClient, step: str) -> None:
    ack = await host.request("next")
    assert ack["result"] == {"step": step}


def turn_to_write(player_id: str) -> Callable[[dict[str, Any]], bool]:
    """Whether a state says the story is being written and it is `player_id`'s turn."""
    return lambda s: (
        s["phase"] == "story"
        and s["story"] is not None
        and s["story"]["stage"] == "writing"
        and any(t["writer"] == player_id for t in s["story"]["teams"].values())
    )


async def write_story_round(
    host: RitrovoClient,
    players: dict[str, RitrovoClient],
    ids: dict[str, str],
    texts: dict[str, str],
) -> None:
    """Each player writes their one line when it is their turn; writing then ends by itself."""
    for name, text in texts.items():
        await players[name].wait_state(turn_to_write(ids[name]))
        await players[name].request("line", text=text)
    await host.wait_state(lambda s: s["story"] is not None and s["story"]["stage"] == "reveal")


async def play_riddle_round(host: RitrovoClient, solver: RitrovoClient) -> None:
    await next_step(host, "round_started")
    await solver.wait_state(lambda s: s["phase"] == "riddle" and s["riddle"] is not None)
    await host.request("reveal")
    await host.wait_state(lambda s: s["riddle"] is not None and s["riddle"]["stage"] == "revealed")
    await next_step(host, "round_ended")


async def test_keepsake_keeps_every_story_round(make_store: Callable[[], RoomStore]) -> None:
    clock = FakeClock()
    async with running_server(fast_settings(), store=make_store(), clock=clock) as server:
        room = await create_room(server.base_url, "Keepsake night")
        code, token = room["code"], room["host_token"]
        await upload_pack(server.base_url, code, token)
        host = await RitrovoClient.connect(server.ws_url)
        clients = [host]
        try:
            await host.hello("host", room=code, token=token)
            teams = [t["id"] for t in host.state["state"]["teams"]]  # type: ignore[index]
            players: dict[str, RitrovoClient] = {}
            ids: dict[str, str] = {}
            for name, team in (("Ada", teams[0]), ("Dee", teams[1])):
                client = await join(server.ws_url, code, name, team=team)
                clients.append(client)
                assert client.welcome is not None
                players[name], ids[name] = client, client.welcome["player"]["id"]
            await host.wait_state(lambda s: s["players_count"] == 2)

            status, body = await stories_markdown(server.base_url, code, token)
            assert status == 404 and '"no_story"' in body

            # -- round 1: riddles; still no story ---------------------------------
            await play_riddle_round(host, players["Ada"])
            status, body = await stories_markdown(server.base_url, code, token)
            assert status == 404 and '"no_story"' in body

            # -- round 2: the first story round -------------------------------
            await next_step(host, "round_started")
            await write_story_round(host, players, ids, FIRST)
            await next_step(host, "story_revealed")
            await next_step(host, "story_revealed")
            await next_step(host, "voting_opened")
            await players["Ada"].request("vote", team=teams[1])
            await players["Dee"].request("vote", team=teams[0])
            await next_step(host, "voting_closed")
            status, first_md = await stories_markdown(server.base_url, code, token)
            assert status == 200, first_md
            await next_step(host, "round_ended")
            status, after_round = await stories_markdown(server.base_url, code, token)
            assert status == 200 and after_round == first_md
            assert first_md.splitlines()[0] == "# First tales"
            assert "Ada read the letter \\*twice\\* qzfirsta" in first_md
            assert FIRST["Dee"] in first_md

            # -- round 3: riddles; the first story stays downloadable ---------
            await play_riddle_round(host, players["Dee"])
            status, during_riddles = await stories_markdown(server.base_url, code, token)
            assert status == 200 and during_riddles == first_md

            # -- round 4: the second story round, finished during the vote ------
            await next_step(host, "round_started")
            await write_story_round(host, players, ids, SECOND)
            await next_step(host, "story_revealed")
            await next_step(host, "story_revealed")
            await next_step(host, "voting_opened")
            await players["Ada"].request("vote", team=teams[1])
            state = await host.wait_state(
                lambda s: s["story"] is not None and len(s["story"].get("voters", [])) == 1
            )
            score_before = {t["id"]: t["score"] for t in state["teams"]}
            await host.request("finish")
            state = await host.wait_state(lambda s: s["phase"] == "finished")
            # Ada's vote was counted when the game ended, once.
            gained = stories.POINTS_PER_VOTE + stories.TOP_STORY_BONUS
            assert {t["id"]: t["score"] for t in state["teams"]} == {
                teams[0]: score_before[teams[0]],
                teams[1]: score_before[teams[1]] + gained,
            }
            await refused(players["Dee"], "no_story", "vote", team=teams[0])
            await refused(players["Dee"], "no_story", "line", text="one more line")
            await refused(host, "no_story", "close_voting")
            await refused(host, "no_story", "hide_line", team=teams[0], line=0, hidden=True)

            status, markdown = await stories_markdown(server.base_url, code, token)
            assert status == 200, markdown
            lines = markdown.splitlines()
            assert lines[0] == "# First tales"
            assert lines.index("# First tales") < lines.index("# Night tales")
            first_part, second_part = markdown.split("# Night tales")
            assert first_part.rstrip("\n") == first_md.rstrip("\n")
            assert "The lights went out at midnight." in second_part
            for text in SECOND.values():
                assert text in second_part and text not in first_part
            assert "_Writers: Ada_" in second_part and "_Writers: Dee_" in second_part
        finally:
            for client in clients:
                if not client.closed.done():
                    await client.close()
