"""A riddle round over real WebSockets, against both stores, on a fake clock.

The server's clock is a FakeClock: the timer poller reads it every 20 ms, so
``clock.advance(s)`` makes whatever falls due fire within a poll, and the
tests wait for the resulting state (never sleep).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import pytest
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.store.base import RoomStore
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.servers import RunningServer, running_server
from support.servers import test_settings as fast_settings

# Distinctive answers, so that a leak is found by a plain substring search.
PACK_YAML = """
id: riddle-round-test
title: Islands, owls and moons
language: en
rounds:
  - kind: riddles
    title: Mixed bag
    riddles:
      - text: Which spice island lies off the coast of Tanzania?
        answers: [Zanzibar, Unguja]
        time_limit: 60
        points: 200
        near:
          - answers: [Madagascar]
            nudge: Smaller, and further north.
        hints:
          - text: It is famous for cloves.
            after: 10
            cost: 20
          - text: Freddie Mercury was born there.
            after: 30
            cost: 40
        explanation: Stone Town, its old quarter, is a World Heritage Site.
      - text: What do you call a group of owls?
        answers: [parliament]
        time_limit: 30
        points: 100
        explanation: Owls have looked wise since Athena's days, hence the assembly.
      - text: Which planet has the most known moons?
        answers: [Saturn]
        options: [Jupiter, Saturn, Uranus, Neptune]
        time_limit: 20
        points: 50
        explanation: The ringed giant overtook its neighbour in the 2023 count.
"""
# Per riddle: texts no player or screen may receive before that riddle's reveal.
# (A multiple-choice answer is one of the options, shown by design: only its
# explanation is secret.)
SECRETS = {
    0: ("zanzibar", "unguja", "stone town, its old quarter, is a world heritage site."),
    1: ("parliament", "owls have looked wise since athena's days, hence the assembly."),
    2: ("the ringed giant overtook its neighbour in the 2023 count.",),
}


@dataclass
class Clocked:
    server: RunningServer
    clock: FakeClock


@pytest.fixture
async def clocked(make_store: Callable[[], RoomStore]) -> AsyncIterator[Clocked]:
    clock = FakeClock()
    async with running_server(fast_settings(), store=make_store(), clock=clock) as server:
        yield Clocked(server, clock)


async def upload_pack(base_url: str, code: str, host_token: str, text: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/api/rooms/{code}/pack",
            params={"filename": "riddles.yaml"},
            data=text.encode(),
            headers={"Authorization": f"Bearer {host_token}"},
        ) as r,
    ):
        assert r.status == 201, await r.text()
        return dict(await r.json())


async def get_results(base_url: str, code: str, fmt: str, token: str | None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base_url}/api/rooms/{code}/results.{fmt}", headers=headers) as r,
    ):
        return r.status, await r.read()


async def expect_error(client: RitrovoClient, code: str, kind: str, **fields: Any) -> None:
    with pytest.raises(ProtocolError) as err:
        await client.request(kind, **fields)
    assert err.value.code == code, (kind, fields, err.value.body)


async def synced(clients: Iterable[RitrovoClient], seq: int) -> None:
    """Every client has received the state of version ``seq`` or later."""
    for client in clients:
        await client.wait_state(lambda s: s["seq"] >= seq)


def riddle_at(index: int, stage: str) -> Callable[[dict[str, Any]], bool]:
    return lambda s: (
        s["riddle"] is not None and s["riddle"]["index"] == index and s["riddle"]["stage"] == stage
    )


def raw(client: RitrovoClient) -> str:
    return "\n".join(orjson.dumps(m).decode() for m in client.messages).lower()


def assert_no_secret_before_reveal(client: RitrovoClient, who: str) -> None:
    """Scan every message in arrival order; a riddle's secrets are allowed only
    from the first state that shows it revealed."""
    revealed: set[int] = set()
    for n, message in enumerate(client.messages):
        if message["type"] == "state":
            riddle = message["state"]["riddle"]
            if riddle is not None and riddle["stage"] == "revealed":
                revealed.add(riddle["index"])
        text = orjson.dumps(message).decode().lower()
        for index, secrets in SECRETS.items():
            if index in revealed:
                continue
            for secret in secrets:
                assert secret not in text, (
                    f"{who} got {secret!r} before riddle {index} was revealed (message {n})"
                )


def team_of(state: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in state["teams"] if t["name"] == name)


def board(state: dict[str, Any]) -> list[tuple[str, int, int, int]]:
    return [(t["name"], t["score"], t["rank"], t["delta"]) for t in state["teams"]]


def player_points(state: dict[str, Any]) -> dict[str, int]:
    return {p["name"]: p["points"] for t in state["teams"] for p in t["players"]}


async def test_riddle_round_end_to_end(clocked: Clocked) -> None:
    server, clock = clocked.server, clocked.clock
    room = await create_room(server.base_url, "Offsite")
    code, token = room["code"], room["host_token"]
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=code, token=token)
    team_c = (await host.request("create_team", name="Cobalt"))["result"]["team"]
    uploaded = await upload_pack(server.base_url, code, token, PACK_YAML)
    assert "zanzibar" not in orjson.dumps(uploaded).decode().lower()
    # The upload chooses the pack for the room.
    state = await host.wait_state(lambda s: s["pack"] is not None and len(s["teams"]) == 3)
    assert (
        state["pack"]["id"].startswith("upload:")
        and state["pack"]["title"] == "Islands, owls and moons"
    )
    team_a, team_b = state["teams"][0]["id"], state["teams"][1]["id"]
    assert [t["name"] for t in state["teams"]] == ["Aurora", "Bora", "Cobalt"]

    screen = await RitrovoClient.connect(server.ws_url)
    await screen.hello("screen", room=code)
    ada = await join(server.ws_url, code, "Ada", team=team_a)
    ben = await join(server.ws_url, code, "Ben", team=team_a)
    cy = await join(server.ws_url, code, "Cy", team=team_b)
    di = await join(server.ws_url, code, "Di", team=team_c)
    players = [ada, ben, cy, di]
    audience = [screen, *players]
    everyone = [host, *audience]

    # -- riddle 1: hints, wrong, near, correct, rate limit, accept_guess, reveal --
    started_at = clock.now
    assert (await host.request("next"))["result"] == {"step": "round_started"}
    for client in everyone:
        s = await client.wait_state(riddle_at(0, "open"))
        r = s["riddle"]
        assert s["phase"] == "riddle" and s["round"]["title"] == "Mixed bag"
        assert r["text"] == "Which spice island lies off the coast of Tanzania?"
        assert (r["time_limit"], r["points"], r["count"]) == (60, 200, 3)
        # Server-authoritative deadline, with the server's time to correct clocks.
        assert s["server_time"] == started_at and r["deadline_at"] == started_at + 60
        assert [(h["after"], h["cost"], h["unlocked"]) for h in r["hints"]] == [
            (10, 20, False),
            (30, 40, False),
        ]
    for client in audience:
        r = client.state["state"]["riddle"]  # type: ignore[index]
        assert "secret" not in r and "guesses" not in r and "reveal" not in r
        assert all("text" not in h for h in r["hints"])

    await expect_error(ada, "hint_locked", "hint")
    clock.advance(10)  # the timer wakes for the unlock and every client learns of it
    for client in everyone:
        await client.wait_state(lambda s: s["riddle"]["hints"][0]["unlocked"])
    assert (await ada.request("hint"))["result"] == {"hint": 0}
    await ben.wait_state(
        lambda s: s["riddle"]["hints"][0].get("text") == "It is famous for cloves."
    )
    await host.wait_state(lambda s: s["riddle"]["progress"][team_a]["hints_opened"] == 1)
    await synced(audience, host.state["seq"])  # type: ignore[index]
    for client in (screen, cy, di):
        assert "famous for cloves" not in raw(client)

    wrong = await cy.request("guess", text="Atlantis")
    assert wrong["result"] == {"verdict": "wrong", "nudge": "", "points": 0}
    near = await di.request("guess", text="madagascar")
    assert near["result"] == {
        "verdict": "near",
        "nudge": "Smaller, and further north.",
        "points": 0,
    }
    clock.advance(5)  # t = 15
    correct = await ben.request("guess", text="zanzibra")  # one typo: accepted
    # round(200 × (1 − 0.5 × 15/60)) = 175, − 20 (hint) + 20 (first) = 175.
    assert correct["result"] == {"verdict": "correct", "nudge": "", "points": 175}
    await expect_error(ada, "already_solved", "guess", text="Zanzibar")
    await expect_error(ada, "already_solved", "hint")
    for text in ("Avalon", "Lemuria", "Thule", "Hyperborea"):  # Cy's team: five wrong in all
        assert (await cy.request("guess", text=text))["result"]["verdict"] == "wrong"
    await expect_error(cy, "guess_rate_limited", "guess", text="Shangrila")

    # The team sees its own guesses live, who guessed what.
    s = await ada.wait_state(lambda s: s["riddle"]["team"]["solved"])
    assert [
        (g["player_name"], g["text"], g["verdict"]) for g in s["riddle"]["team"]["guesses"]
    ] == [("Ben", "zanzibra", "correct")]
    assert s["riddle"]["team"]["points"] == 175
    s = await cy.wait_state(lambda s: len(s["riddle"]["team"]["guesses"]) == 5)
    assert [g["text"] for g in s["riddle"]["team"]["guesses"]] == [
        "Atlantis",
        "Avalon",
        "Lemuria",
        "Thule",
        "Hyperborea",
    ]
    s = await di.wait_state(lambda s: s["riddle"]["progress"][team_a]["solved"])
    assert s["riddle"]["team"]["guesses"][0]["nudge"] == "Smaller, and further north."
    # The host sees every team's guesses.
    s = await host.wait_state(lambda s: len(s["riddle"]["guesses"][team_b]) == 5)
    assert [g["text"] for g in s["riddle"]["guesses"][team_a]] == ["zanzibra"]
    assert [(g["player_name"], g["verdict"]) for g in s["riddle"]["guesses"][team_c]] == [
        ("Di", "near")
    ]
    # Other teams and the screen never received another team's guesses.
    await synced(audience, s["seq"])
    for client, foreign in [
        (screen, ("atlantis", "hyperborea", "madagascar", "zanzibra", "smaller, and further")),
        (ada, ("atlantis", "hyperborea", "madagascar", "smaller, and further")),
        (ben, ("atlantis", "lemuria", "madagascar")),
        (cy, ("zanzibra", "madagascar", "smaller, and further")),
        (di, ("zanzibra", "atlantis", "thule")),
    ]:
        for text in foreign:
            assert text not in raw(client), (client.welcome, text)

    # The host accepts Di's near guess: team C is credited as of t = 10 and
    # takes the first-solver bonus from team A.
    await host.request("accept_guess", team=team_c, guess=0)
    # Team C: round(200 × (1 − 0.5 × 10/60)) = 183, + 20 = 203. Team A: 175 − 20 = 155.
    for client in everyone:
        s = await client.wait_state(lambda s: team_of(s, "Cobalt")["score"] == 203)
        assert board(s) == [("Cobalt", 203, 1, 203), ("Aurora", 155, 2, 155), ("Bora", 0, 3, 0)]
        assert player_points(s) == {"Di": 203, "Ada": 0, "Ben": 155, "Cy": 0}
    s = await di.wait_state(lambda s: s["riddle"]["team"]["solved"])
    assert s["riddle"]["team"]["guesses"][0]["accepted_by_host"] is True
    await expect_error(host, "already_solved", "accept_guess", team=team_a, guess=0)
    await expect_error(host, "guess_not_found", "accept_guess", team=team_b, guess=9)

    await host.request("reveal")
    for client in everyone:
        s = await client.wait_state(riddle_at(0, "revealed"))
        reveal = s["riddle"]["reveal"]
        assert reveal["answer"] == "Zanzibar" and reveal["end_reason"] == "host_reveal"
        assert reveal["explanation"] == "Stone Town, its old quarter, is a World Heritage Site."
        assert [(x["team_id"], x["elapsed"], x["points"]) for x in reveal["solvers"]] == [
            (team_c, 10.0, 203),
            (team_a, 15.0, 155),
        ]
        assert [h["text"] for h in s["riddle"]["hints"]] == [
            "It is famous for cloves.",
            "Freddie Mercury was born there.",
        ]
    await expect_error(cy, "riddle_closed", "guess", text="Zanzibar")

    # -- riddle 2: pause, resume, extend, time out, auto-advance -------------
    assert (await host.request("next"))["result"] == {"step": "riddle_started"}
    s = await host.wait_state(riddle_at(1, "open"))
    assert s["riddle"]["deadline_at"] == clock.now + 30
    assert board(s) == [("Cobalt", 203, 1, 0), ("Aurora", 155, 2, 0), ("Bora", 0, 3, 0)]
    assert (await cy.request("guess", text="a flock"))["result"]["verdict"] == "wrong"
    clock.advance(4)
    await host.request("pause")
    for client in everyone:
        s = await client.wait_state(lambda s: s["riddle"]["paused"])
        assert s["riddle"]["remaining"] == 26
    await expect_error(ada, "paused", "guess", text="owls")
    clock.advance(100)  # paused: nothing is due
    await host.request("resume")
    s = await host.wait_state(lambda s: not s["riddle"]["paused"])
    assert s["riddle"]["deadline_at"] == clock.now + 26 and s["riddle"]["stage"] == "open"
    await host.request("extend", seconds=10)
    s = await host.wait_state(lambda s: s["riddle"]["time_limit"] == 40)
    deadline = clock.now + 36
    assert s["riddle"]["deadline_at"] == deadline
    await expect_error(host, "invalid_field", "extend", seconds=0)
    await host.request("auto_advance", enabled=True)
    await host.wait_state(lambda s: s["auto_advance"])

    clock.advance(35.9)
    assert (await cy.request("guess", text="a hoot"))["result"]["verdict"] == "wrong"
    clock.advance(0.2)
    for client in everyone:
        s = await client.wait_state(riddle_at(1, "revealed"))
        assert s["riddle"]["reveal"]["end_reason"] == "timeout"
        assert (
            s["riddle"]["reveal"]["answer"] == "parliament"
            and s["riddle"]["reveal"]["solvers"] == []
        )
    await expect_error(ada, "too_late", "guess", text="parliament")
    clock.advance(8)  # auto-advance
    for client in everyone:
        await client.wait_state(riddle_at(2, "open"))

    # -- riddle 3: multiple choice, one answer per team, spread --------------
    await host.request("auto_advance", enabled=False)
    s = await ada.wait_state(lambda s: not s["auto_advance"])
    assert s["riddle"]["options"] == ["Jupiter", "Saturn", "Uranus", "Neptune"]
    clock.advance(4)
    # round(50 × (1 − 0.5 × 4/20)) = 45, + 5 first.
    assert (await ada.request("guess", text="Saturn"))["result"]["points"] == 50
    await expect_error(ben, "already_solved", "guess", text="b")
    clock.advance(4)
    assert (await cy.request("guess", text="b"))["result"]["points"] == 40  # 50 × 0.8
    await expect_error(di, "not_an_option", "guess", text="Pluto")
    assert (await di.request("guess", text="Jupiter"))["result"]["verdict"] == "wrong"
    # Every team has now solved or used its one answer: no need to wait.
    s = await di.wait_state(lambda s: s["riddle"]["team"]["locked_out"])
    await expect_error(di, "riddle_closed", "guess", text="Saturn")
    for client in everyone:
        s = await client.wait_state(riddle_at(2, "revealed"))
        assert s["riddle"]["reveal"]["end_reason"] == "all_answered"
        assert s["riddle"]["reveal"]["answer"] == "Saturn"
        assert s["riddle"]["reveal"]["spread"] == [1, 2, 0, 0]
        assert board(s) == [("Aurora", 205, 1, 50), ("Cobalt", 203, 2, 0), ("Bora", 40, 3, 40)]
        assert player_points(s) == {"Ada": 50, "Ben": 155, "Cy": 40, "Di": 203}
    assert (await host.request("next"))["result"] == {"step": "round_ended"}
    s = await screen.wait_state(lambda s: s["phase"] == "finished")
    assert s["riddle"] is None

    # -- nothing secret reached a player or the screen before its reveal -----
    final_seq = host.state["seq"]  # type: ignore[index]
    await synced(audience, final_seq)
    for name, client in zip(("screen", "Ada", "Ben", "Cy", "Di"), audience, strict=True):
        assert_no_secret_before_reveal(client, name)
    # The host, on the other hand, saw the answers all along.
    first_host_riddle = next(
        m for m in host.messages if m["type"] == "state" and m["state"]["riddle"]
    )
    assert first_host_riddle["state"]["riddle"]["secret"]["answers"] == ["Zanzibar", "Unguja"]

    # -- results, for the host only ------------------------------------------
    for bad in (None, "not-the-token"):
        status, _ = await get_results(server.base_url, code, "json", bad)
        assert status == 403
    status, body = await get_results(server.base_url, code, "json", token)
    assert status == 200
    results = orjson.loads(body)
    assert results["room"] == {"code": code, "name": "Offsite", "pack": "Islands, owls and moons"}
    assert [(t["rank"], t["team"], t["score"], t["players"]) for t in results["standings"]] == [
        (1, "Aurora", 205, [{"name": "Ada", "points": 50}, {"name": "Ben", "points": 155}]),
        (2, "Cobalt", 203, [{"name": "Di", "points": 203}]),
        (3, "Bora", 40, [{"name": "Cy", "points": 40}]),
    ]
    rows = {(r["round"], r["riddle"]): r for r in results["riddles"]}
    assert sorted(rows) == [(1, 1), (1, 2), (1, 3)]
    assert rows[(1, 1)]["end_reason"] == "host_reveal"
    assert rows[(1, 1)]["text"] == "Which spice island lies off the coast of Tanzania?"
    assert {
        t["team"]: (t["points"], t["seconds"], t["solved_by"]) for t in rows[(1, 1)]["teams"]
    } == {
        "Aurora": (155, 15.0, "Ben"),
        "Bora": (0, None, None),
        "Cobalt": (203, 10.0, "Di"),
    }
    assert rows[(1, 2)]["end_reason"] == "timeout"
    assert all(t["points"] == 0 for t in rows[(1, 2)]["teams"])
    assert {t["team"]: t["points"] for t in rows[(1, 3)]["teams"]} == {
        "Aurora": 50,
        "Bora": 40,
        "Cobalt": 0,
    }

    status, body = await get_results(server.base_url, code, "csv", token)
    assert status == 200
    assert list(csv.reader(io.StringIO(body.decode()))) == [
        ["rank", "team", "team_score", "player", "player_points"],
        ["1", "Aurora", "205", "Ada", "50"],
        ["1", "Aurora", "205", "Ben", "155"],
        ["2", "Cobalt", "203", "Di", "203"],
        ["3", "Bora", "40", "Cy", "40"],
    ]
    for client in everyone:
        await client.close()


async def test_all_teams_solving_ends_the_riddle_and_pack_from_creation(clocked: Clocked) -> None:
    """The pack can be given when the room is created; the riddle ends as soon
    as every team with players has solved it (an unused team does not count)."""
    server, clock = clocked.server, clocked.clock
    room = await create_room(server.base_url, "Quick", pack="office-riddles")
    code = room["code"]
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=code, token=room["host_token"])
    state = host.state["state"]  # type: ignore[index]
    assert state["pack"]["id"] == "office-riddles"
    await host.request("create_team", name="Nobody here")
    ada = await join(server.ws_url, code, "Ada", team=state["teams"][0]["id"])
    bob = await join(server.ws_url, code, "Bob", team=state["teams"][1]["id"])
    await host.request("next")
    s = await ada.wait_state(riddle_at(0, "open"))
    assert "secret" not in s["riddle"]
    s = await host.wait_state(riddle_at(0, "open"))
    answer = s["riddle"]["secret"]["answers"][0]
    clock.advance(3)
    assert (await ada.request("guess", text=answer))["result"]["verdict"] == "correct"
    assert (await bob.request("guess", text=answer))["result"]["verdict"] == "correct"
    s = await host.wait_state(riddle_at(0, "revealed"))
    assert s["riddle"]["reveal"]["end_reason"] == "all_solved"
    assert [x["elapsed"] for x in s["riddle"]["reveal"]["solvers"]] == [3.0, 3.0]
    for client in (host, ada, bob):
        await client.close()


async def test_choose_pack_and_host_only_controls(clocked: Clocked) -> None:
    server = clocked.server
    room = await create_room(server.base_url)
    code = room["code"]
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=code, token=room["host_token"])
    ada = await join(server.ws_url, code, "Ada")
    await expect_error(host, "no_pack", "next")
    await expect_error(host, "pack_not_found", "choose_pack", pack="no-such-pack")
    await expect_error(host, "no_open_riddle", "pause")
    await host.request("choose_pack", pack="team-mix")
    await host.wait_state(lambda s: s["pack"] is not None and s["pack"]["id"] == "team-mix")
    host_only: list[tuple[str, dict[str, Any]]] = [
        ("next", {}),
        ("reveal", {}),
        ("skip", {}),
        ("pause", {}),
        ("extend", {"seconds": 5}),
        ("accept_guess", {"team": "t1", "guess": 0}),
        ("auto_advance", {"enabled": True}),
    ]
    for kind, fields in host_only:
        await expect_error(ada, "not_allowed", kind, **fields)
    assert (await host.request("next"))["result"] == {"step": "round_started"}
    s = await ada.wait_state(lambda s: s["phase"] in ("riddle", "story"))
    assert s["round"]["index"] == 0
    await expect_error(host, "game_in_progress", "choose_pack", pack="office-riddles")
    for client in (host, ada):
        await client.close()


async def test_upload_response_gives_the_id_the_room_uses(server: RunningServer) -> None:
    room = await create_room(server.base_url)
    uploaded = await upload_pack(server.base_url, room["code"], room["host_token"], PACK_YAML)
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=room["code"], token=room["host_token"])
    room_pack = host.state["state"]["pack"]["id"]  # type: ignore[index]
    await host.close()
    assert uploaded["pack"]["id"] == room_pack
