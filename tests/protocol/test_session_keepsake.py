"""The session's keepsake over HTTP (``keepsake.json``, ``keepsake.md``), on both stores.

Three players meet in a coffee pairing and a "Who's who" round (one answer
hidden by the host). Who may read what: the host sees everyone's count of
colleagues met, a player only their own (with their resume token); a wrong
token, no token and an unknown room get one answer. Before its reveal no
answer is in anybody's keepsake, a hidden one never is; after the round the
revealed one keeps its author, team and line, and the Markdown escapes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from ritrovo.client import RitrovoClient, join
from ritrovo.store.base import RoomStore
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

ADA_ANSWER = "Lisbon, <b>for the light</b> *on the river*"
ADA_LINE = "Ask me about the <script>tram</script>"
BEA_ANSWER = "Something the host should not show"


async def get_keepsake(
    base_url: str, code: str, token: str | None, fmt: str = "json", **params: str
) -> tuple[int, Any, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{base_url}/api/rooms/{code}/keepsake.{fmt}", headers=headers, params=params
        ) as r,
    ):
        body: Any = await r.json() if fmt == "json" or r.status != 200 else await r.text()
        return r.status, body, dict(r.headers)


async def test_keepsake_over_http(make_store: Callable[[], RoomStore]) -> None:
    async with running_server(fast_settings(), store=make_store(), clock=FakeClock()) as server:
        room = await create_room(server.base_url, "Offsite", pack="whos-who")
        code, host_token = room["code"], room["host_token"]
        host = await RitrovoClient.connect(server.ws_url)
        clients = [host]
        try:
            await host.hello("host", room=code, token=host_token)
            teams = [t["id"] for t in host.state["state"]["teams"]]  # type: ignore[index]
            players: dict[str, RitrovoClient] = {}
            tokens: dict[str, str] = {}
            for name, team in (("Ada", teams[0]), ("Bea", teams[1]), ("Cy", teams[1])):
                client = await join(server.ws_url, code, name, team=team)
                clients.append(client)
                assert client.welcome is not None
                players[name], tokens[name] = client, client.welcome["token"]
            await host.wait_state(lambda s: s["players_count"] == 3)

            # Who may read it.
            for token in (None, "not-a-token"):
                status, body, _ = await get_keepsake(server.base_url, code, token)
                assert status == 403 and body["error"]["code"] == "unknown_token"
            status, body, _ = await get_keepsake(server.base_url, "ZZZZZZ", host_token)
            assert status == 403 and body["error"]["code"] == "unknown_token"

            # A coffee pairing of the three: one trio, so everyone meets everyone.
            await host.request("start_pairing", seconds=300, seed=3)
            await host.request("end_pairing")

            # The Who's who round: Ada answers, Bea's answer is hidden, Cy skips.
            assert (await host.request("next"))["result"] == {"step": "round_started"}
            await players["Ada"].wait_state(lambda s: s["whoswho"] is not None)
            await players["Ada"].request(
                "whoswho_answer", answers=[{"prompt": 0, "text": ADA_ANSWER}], line=ADA_LINE
            )
            await players["Bea"].request(
                "whoswho_answer", answers=[{"prompt": 1, "text": BEA_ANSWER}]
            )
            await players["Cy"].request("whoswho_answer", answers=[])
            state = await host.wait_state(lambda s: s["whoswho"]["answered"] == 2)
            hidden = next(r["id"] for r in state["whoswho"]["review"] if r["text"] == BEA_ANSWER)
            await host.request("whoswho_hide", answer=hidden)
            await host.wait_state(lambda s: any(r["hidden"] for r in s["whoswho"]["review"]))
            assert (await host.request("next"))["result"] == {"step": "question_started"}
            await players["Bea"].wait_state(
                lambda s: (
                    s["whoswho"]["question"] is not None
                    and "reveal" not in s["whoswho"]["question"]
                )
            )
            for token in (host_token, *tokens.values()):
                status, body, _ = await get_keepsake(server.base_url, code, token)
                assert status == 200 and body["whoswho"] == []
                assert "Lisbon" not in str(body) and "tram" not in str(body)
            # Bea's team chooses Ada: every team that may answer has, so it is revealed.
            ada_id = players["Ada"].welcome["player"]["id"]  # type: ignore[index]
            await players["Bea"].request("whoswho_choose", player=ada_id)
            await host.wait_state(
                lambda s: (
                    s["whoswho"] is not None
                    and s["whoswho"]["question"] is not None
                    and "reveal" in s["whoswho"]["question"]
                )
            )
            assert (await host.request("next"))["result"] == {"step": "round_ended"}
            await host.wait_state(lambda s: s["phase"] == "finished")

            # The host: every player's count, the revealed fact with its line.
            status, body, _ = await get_keepsake(server.base_url, code, host_token)
            assert status == 200
            assert body["room"]["code"] == code and body["room"]["phase"] == "finished"
            team_names = {t["id"]: t["name"] for t in host.state["state"]["teams"]}  # type: ignore[index]
            assert body["whoswho"] == [
                {
                    "round": "Who wrote this?",
                    "prompt": "A place you would go back to tomorrow",
                    "answer": ADA_ANSWER,
                    "author": "Ada",
                    "team": team_names[teams[0]],
                    "line": ADA_LINE,
                }
            ]
            assert body["colleagues"] == [
                {"name": n, "team": team_names[t], "met": 2}
                for n, t in (("Ada", teams[0]), ("Bea", teams[1]), ("Cy", teams[1]))
            ]
            assert "you" not in body and BEA_ANSWER not in str(body)
            # Bea's team was right: first on the podium; teams nobody played in are left out.
            assert [row["team"] for row in body["podium"]] == [
                team_names[teams[1]],
                team_names[teams[0]],
            ]

            # A player: their own count and whom they met, nobody else's.
            status, mine, _ = await get_keepsake(server.base_url, code, tokens["Cy"])
            assert status == 200 and "colleagues" not in mine
            assert mine["you"] == {
                "name": "Cy",
                "team": team_names[teams[1]],
                "met": 2,
                "colleagues": ["Ada", "Bea"],
            }
            assert mine["whoswho"] == body["whoswho"] and BEA_ANSWER not in str(mine)

            # The Markdown download, in the language asked for, text escaped.
            status, text, headers = await get_keepsake(
                server.base_url, code, tokens["Cy"], "md", lang="it"
            )
            assert status == 200
            assert headers["Content-Type"].startswith("text/markdown")
            assert headers["Cache-Control"] == "no-store"
            assert headers["Content-Disposition"] == (
                f'attachment; filename="ritrovo-{code}-keepsake.md"'
            )
            assert "Oggi hai conosciuto 2 nuovi colleghi: Ada, Bea" in text
            assert "&lt;b&gt;for the light&lt;/b&gt; \\*on the river\\*" in text
            assert "&lt;script&gt;" in text and "<script>" not in text
            assert BEA_ANSWER not in text
        finally:
            for client in clients:
                await client.close()
