"""A "Who's who" round survives a crash of the server process (real ``ritrovo serve``, real Redis).

Four players answer prompts, the host starts the questions and one team
chooses; the server is SIGKILLed and started again on the same Redis. After
it: each player's answers are still theirs (their ``you`` frame), the
question, its deadline and the team's choice are as they were, the author is
still refused their own question and told it is theirs, and the reveal,
when the other team answers, names the author.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ritrovo.client import ProtocolError, RitrovoClient, join
from support.protocol_helpers import create_room
from support.servers import ServeProcess, crash_and_restart

ANSWERS = {
    "Ada": "Lisbon, for the light",
    "Ben": "I can juggle five balls",
    "Cy": "Delivering pizzas",
    "Dee": "Sourdough bread",
}


def own(message: dict[str, Any]) -> dict[str, Any]:
    mine: dict[str, Any] = message.get("whoswho") or {}
    return mine


async def test_whoswho_round_survives_a_server_crash(redis_url: str) -> None:
    first = ServeProcess(redis_url)
    await asyncio.to_thread(first.start)
    second: ServeProcess | None = None
    clients: list[RitrovoClient] = []
    try:
        room = await create_room(first.base_url, "Who's who after a crash", pack="whos-who")
        code, host_token = room["code"], room["host_token"]
        host = await RitrovoClient.connect(first.ws_url)
        clients.append(host)
        await host.hello("host", room=code, token=host_token)
        players: dict[str, RitrovoClient] = {}
        for name in ANSWERS:
            players[name] = await join(first.ws_url, code, name)
            clients.append(players[name])
        tokens = {name: (c.welcome or {})["token"] for name, c in players.items()}
        ids = {name: (c.welcome or {})["player"]["id"] for name, c in players.items()}
        state = await host.wait_state(lambda s: s["players_count"] == 4)
        team_of = {p["id"]: t["id"] for t in state["teams"] for p in t["players"]}

        await host.request("next")
        for n, (name, text) in enumerate(ANSWERS.items()):
            await players[name].request("whoswho_answer", answers=[{"prompt": n, "text": text}])
        await host.wait_state(lambda s: (s["whoswho"] or {}).get("answered") == 4)
        await host.request("next")
        before = await host.wait_state(lambda s: (s["whoswho"] or {}).get("question") is not None)
        question = before["whoswho"]["question"]
        author = next(name for name, text in ANSWERS.items() if text == question["text"])
        chooser = next(n for n in ANSWERS if team_of[ids[n]] != team_of[ids[author]])
        await players[chooser].request("whoswho_choose", player=ids[author])
        before = await host.wait_state(
            lambda s: len(s["whoswho"]["question"]["answered_teams"]) == 1
        )

        # Crash mid-question: no shutdown, no goodbye to the clients.
        second = await crash_and_restart(first, clients)

        host = await RitrovoClient.connect(second.ws_url)
        clients.append(host)
        await host.hello("host", room=code, token=host_token)
        after = await host.wait_state(lambda s: s["whoswho"] is not None)
        assert after["whoswho"]["question"] == {
            **before["whoswho"]["question"],
            "remaining": after["whoswho"]["question"]["remaining"],
        }
        for name, text in ANSWERS.items():
            client = await RitrovoClient.connect(second.ws_url)
            clients.append(client)
            await client.hello("rejoin", room=code, token=tokens[name])
            players[name] = client
            mine = await client.wait_for(lambda m: m["type"] == "you" and bool(own(m)))
            assert [a["text"] for a in own(mine)["answers"]] == [text]
            assert own(mine)["own_question"] == (name == author)
        with pytest.raises(ProtocolError) as refused:
            await players[author].request("whoswho_choose", player=ids[author])
        assert refused.value.code == "own_answer"

        # The other team answers: the reveal names the author, and the first team scores.
        other = next(n for n in ANSWERS if team_of[ids[n]] == team_of[ids[author]] and n != author)
        await players[other].request("whoswho_choose", player=ids[chooser])
        revealed = await host.wait_state(lambda s: "reveal" in s["whoswho"]["question"])
        reveal = revealed["whoswho"]["question"]["reveal"]
        assert reveal["author"]["id"] == ids[author]
        rows = {row["team_id"]: row for row in reveal["teams"]}
        assert rows[team_of[ids[chooser]]]["correct"] and rows[team_of[ids[chooser]]]["points"] > 0
    finally:
        for client in clients:
            if not client.closed.done():
                await client.close()
        for process in (second, first):
            if process is not None:
                await asyncio.to_thread(process.stop)


pytestmark = pytest.mark.timeout(60)
