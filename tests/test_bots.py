"""``ritrovo bots``: rehearsal bots play a whole shipped pack against a real server.

The test is the host: it starts rounds, reveals riddles and moves the game on,
while the bots (over real WebSockets, through ``ritrovo.client``) guess, open
hints, write story lines and vote. A FakeClock lets the test unlock hints
without waiting 20 real seconds.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ritrovo.bots import (
    BotOptions,
    BotStats,
    bots_command,
    options_from_args,
    plausible_words,
    run_bots,
)
from ritrovo.client import ProtocolError, RitrovoClient
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.servers import REPO_ROOT, running_server
from support.servers import test_settings as fast_settings

PUZZLES = REPO_ROOT / "puzzles"


async def _command(host: RitrovoClient, kind: str, **fields: Any) -> dict[str, Any]:
    """Send a host command and wait until the host's state shows its effect."""
    before = host.state["seq"]  # type: ignore[index]
    reply = await host.request(kind, **fields)
    await host.wait_state(lambda s: s["seq"] > before, timeout=5)
    return reply


async def test_bots_play_a_whole_game_of_team_mix() -> None:
    clock = FakeClock()
    async with running_server(fast_settings(), clock=clock) as server:
        room = await create_room(server.base_url, "Rehearsal", pack="team-mix")
        code = room["code"]
        host = await RitrovoClient.connect(server.ws_url)
        await host.hello("host", room=code, token=room["host_token"])
        opts = BotOptions(
            url=server.base_url,
            code=code,
            players=4,
            accuracy=0.5,
            cheat=True,
            pack_dir=PUZZLES,
            speed=40.0,
            think=2.0,
            hint_chance=1.0,
            seed=7,
            verbose=False,
        )
        bots = asyncio.create_task(run_bots(opts))
        await host.wait_state(lambda s: s["players_count"] == 4, timeout=10)
        kinds_seen: set[str] = set()
        for _ in range(200):  # bounded: team-mix is 18 riddles and 2 story rounds
            state = host.state["state"]  # type: ignore[index]
            phase = state["phase"]
            if phase == "finished":
                break
            if phase in ("lobby", "between_rounds"):
                await _command(host, "next")
                if host.state["state"]["phase"] == "riddle":  # type: ignore[index]
                    clock.advance(25)  # the first hint unlocks; the timer pushes it
                continue
            if phase == "riddle":
                kinds_seen.add("riddle")
                riddle = state["riddle"]
                if riddle["stage"] == "open":
                    # Wait for the bots to guess (or to solve it all by themselves).
                    await host.wait_state(
                        lambda s: (
                            s["riddle"] is None
                            or s["riddle"]["stage"] != "open"
                            or sum(p["guesses"] for p in s["riddle"]["progress"].values()) >= 2
                        ),
                        timeout=10,
                    )
                    if host.state["state"]["riddle"]["stage"] == "open":  # type: ignore[index]
                        try:
                            await _command(host, "reveal")
                        except ProtocolError as exc:
                            # The bots solved it meanwhile: the riddle ended by itself.
                            assert exc.code == "no_open_riddle"
                            await host.wait_state(lambda s: s["riddle"]["stage"] == "revealed")
                    continue
                await _command(host, "next")
                if host.state["state"]["phase"] == "riddle":  # type: ignore[index]
                    clock.advance(25)
                continue
            assert phase == "story", phase
            kinds_seen.add("story")
            story = state["story"]
            if story["stage"] == "writing":
                # Writing ends by itself once every bot has written its turns.
                await host.wait_state(
                    lambda s: s["story"] is None or s["story"]["stage"] != "writing", timeout=10
                )
                continue
            if story["stage"] == "voting":
                await host.wait_state(lambda s: len(s["story"].get("voters", [])) == 4, timeout=10)
            await _command(host, "next")
        else:
            pytest.fail("the game did not finish")
        final = host.state["state"]  # type: ignore[index]
        assert final["phase"] == "finished"
        assert kinds_seen == {"riddle", "story"}
        stats = await asyncio.wait_for(bots, 10)
        await host.close()
    assert stats.joined == 4 and stats.finished
    assert stats.guesses >= 18 and stats.correct >= 1
    assert stats.hints >= 1
    # Two story rounds: 2 teams x 2 bots x 2 turns (full), then x 1 turn (chain).
    assert stats.lines == 12
    assert stats.votes == 8  # every bot voted in both rounds
    assert sum(t["score"] for t in final["teams"]) > 0


async def test_bots_command_joins_and_leaves_a_finished_game(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with running_server(fast_settings()) as server:
        room = await create_room(server.base_url, pack="office-riddles")
        host = await RitrovoClient.connect(server.ws_url)
        await host.hello("host", room=room["code"], token=room["host_token"])
        await _command(host, "finish")
        argv = [room["code"], "--players", "3", "--url", server.base_url, "--quiet", "--seed", "1"]
        status = await asyncio.to_thread(bots_command, argv)
        await host.wait_state(lambda s: s["players_count"] == 3)
        await host.close()
    assert status == 0
    assert "3 bots" in capsys.readouterr().out


def test_bots_arguments() -> None:
    opts = options_from_args(["abc123", "--players", "5", "--cheat", "--pack-dir", str(PUZZLES)])
    assert opts.code == "abc123" and opts.players == 5 and opts.cheat and opts.accuracy == 0.3
    with pytest.raises(SystemExit):
        options_from_args(["abc123", "--cheat"])  # cheating needs the pack files
    with pytest.raises(SystemExit):
        options_from_args(["abc123", "--accuracy", "2"])


def test_plausible_words_come_from_what_players_see() -> None:
    riddle = {
        "text": "I blink all day but never sleep. What am I?",
        "hints": [{"text": "Arrow keys move me"}],
    }
    words = plausible_words(riddle)
    assert words[:3] == ["blink", "sleep", "arrow"]
    assert "cursor" in words  # from the everyday vocabulary, not from the pack


async def test_bots_play_a_whoswho_round() -> None:
    async with running_server(fast_settings()) as server:
        room = await create_room(server.base_url, "Rehearsal", pack="whos-who")
        code = room["code"]
        host = await RitrovoClient.connect(server.ws_url)
        await host.hello("host", room=code, token=room["host_token"])
        opts = BotOptions(
            url=server.base_url, code=code, players=4, speed=40.0, think=2.0, seed=3, verbose=False
        )
        bots = asyncio.create_task(run_bots(opts))
        await host.wait_state(lambda s: s["players_count"] == 4, timeout=10)
        await _command(host, "next")
        state = await host.wait_state(
            lambda s: s["whoswho"]["answered"] + s["whoswho"]["skipped"] == 4, timeout=10
        )
        assert state["whoswho"]["answered"] >= 1
        step = (await _command(host, "next"))["result"]["step"]
        while step == "question_started":
            # Every team with someone but the author answers: the question ends by itself.
            await host.wait_state(lambda s: s["whoswho"]["stage"] == "revealed", timeout=10)
            step = (await _command(host, "next"))["result"]["step"]
        assert step == "round_ended"
        stats = await asyncio.wait_for(bots, 10)
        await host.close()
    assert stats.joined == 4 and stats.finished
    assert stats.answers >= 1 and stats.choices >= 1


async def test_bots_say_mentoring_roles_and_read_their_coffee_pairing() -> None:
    """Five bots: each says in the lobby whether it is new here or experienced, then
    finds its group (a pair or the trio) in its ``you`` frame when the host pairs them."""
    async with running_server(fast_settings()) as server:
        room = await create_room(server.base_url, "Rehearsal", pack="whos-who")
        host = await RitrovoClient.connect(server.ws_url)
        await host.hello("host", room=room["code"], token=room["host_token"])
        opts = BotOptions(
            url=server.base_url,
            code=room["code"],
            players=5,
            mentoring=1.0,
            speed=40.0,
            think=2.0,
            seed=11,
            verbose=False,
        )
        stats = BotStats()
        bots = asyncio.create_task(run_bots(opts, stats=stats))
        await host.wait_state(lambda s: s["players_count"] == 5, timeout=10)
        await stats.until(lambda s: s.roles == 5, timeout=10)
        await _command(host, "start_pairing", seconds=300, mentoring=True)
        pairing = host.state["state"]["pairing"]  # type: ignore[index]
        sizes = sorted(len(g["players"]) for g in pairing["assignment"]["groups"])
        assert sizes == [2, 3] and pairing["mentoring"] is True
        await stats.until(lambda s: s.pairings == 5, timeout=10)
        await _command(host, "shuffle_pairing")  # a new draw is a new group to read
        await stats.until(lambda s: s.pairings == 10, timeout=10)
        await _command(host, "end_pairing")
        await _command(host, "finish")
        assert await asyncio.wait_for(bots, 10) is stats
        await host.close()
    assert stats.joined == 5 and stats.finished and stats.refused == 0
    assert "5 mentoring roles, 10 coffee pairings" in stats.summary()
