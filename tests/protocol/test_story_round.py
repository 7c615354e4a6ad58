"""A whole story round over real WebSockets, against both stores and both visibilities.

Two teams of three (the third player of the second team joins late), a fake
clock for the turn deadlines and the presence grace, and every client's raw
messages kept so that what each one could read can be checked afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
import pytest
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.game import rooms, stories
from ritrovo.store.base import RoomStore
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.servers import RunningServer, running_server
from support.servers import test_settings as fast_settings

SECONDS_PER_TURN = 60
TURNS_PER_PLAYER = 2
MAX_CHARS = 120
OPENINGS = ("The lighthouse keeper found a letter.", "Nobody expected the snow in July.")

PACK = """\
id: story-round-test
title: Story round test
language: en
rounds:
  - kind: story
    title: Tales of the lighthouse
    prompts:
      - opening: {opening0}
        theme: mystery
      - opening: {opening1}
    turns_per_player: {turns}
    seconds_per_turn: {seconds}
    max_chars: {max_chars}
    visibility: {visibility}
"""

# Distinctive line texts: each holds a marker no other text contains, plain
# letters only so the Markdown export keeps them verbatim.
TEXTS = {
    "A1": "Ada opened it and read qzaone aloud",
    "A2": "Cy heard a bell ring qzatwo times",
    "A3": "Ben lit the lamp with qzathree matches",
    "A4": "Cy sailed away at qzafour dawn",
    "B1": "Dee built a snowman called qzbone",
    "B2": "Eli gave it a scarf qzbtwo wide",
    "B3": "Fay found footprints qzbthree deep",
    "B4": "Dee followed them to qzbfour caves",
    "B5": "Eli lit a fire for qzbfive friends",
}


def pack_yaml(visibility: str) -> str:
    return PACK.format(
        opening0=OPENINGS[0],
        opening1=OPENINGS[1],
        turns=TURNS_PER_PLAYER,
        seconds=SECONDS_PER_TURN,
        max_chars=MAX_CHARS,
        visibility=visibility,
    )


async def upload_pack(base_url: str, code: str, host_token: str, text: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/api/rooms/{code}/pack",
            params={"filename": "story.yaml"},
            data=text.encode(),
            headers={"Authorization": f"Bearer {host_token}"},
        ) as r,
    ):
        assert r.status == 201, await r.text()
        return dict(await r.json())


async def stories_markdown(base_url: str, code: str, host_token: str | None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {host_token}"} if host_token else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base_url}/api/rooms/{code}/stories.md", headers=headers) as r,
    ):
        return r.status, await r.text()


def story_of(state: dict[str, Any], team: str) -> dict[str, Any]:
    return dict(state["story"]["teams"][team])


async def check_patched_views(game: Game) -> None:
    """Each client's state, rebuilt from its first state and every patch since,
    is the full state the server sends when asked, byte for byte.

    The fake clock does not move here, so both are built at the same instant.
    """
    clients = [game.host, game.screen, *(c for c in game.players.values() if not c.closed.done())]
    assert game.host.state is not None
    latest = game.host.state["seq"]
    for client in clients:
        await client.wait_state(lambda s: s["seq"] >= latest)
    for client in clients:
        assert client.resyncs_sent == 0  # no patch came out of order
        assert client.patches_applied > 0
        kept = client.state
        assert kept is not None
        start = len(client.messages)
        await client.send("resync")
        full = await client.wait_for(
            lambda m: m["type"] == "state" and "base" not in m, timeout=5, start=start
        )
        assert full["seq"] == kept["seq"]
        assert orjson.dumps(full["state"]) == orjson.dumps(kept["state"])


class Game:
    """The clients of one room plus the test's own model of both stories."""

    def __init__(
        self, server: RunningServer, clock: FakeClock, room: dict[str, Any], visibility: str
    ) -> None:
        self.server = server
        self.clock = clock
        self.code: str = room["code"]
        self.host_token: str = room["host_token"]
        self.visibility = visibility
        self.host: RitrovoClient
        self.screen: RitrovoClient
        self.players: dict[str, RitrovoClient] = {}
        self.ids: dict[str, str] = {}
        self.team_of: dict[str, str] = {}
        self.teams: list[str] = []
        # team id -> [[key, writer name, hidden]]
        self.lines: dict[str, list[list[Any]]] = defaultdict(list)
        # player name -> line texts that player may legitimately have read during writing
        self.allowed: dict[str, set[str]] = defaultdict(set)

    async def open(self) -> None:
        self.host = await RitrovoClient.connect(self.server.ws_url)
        await self.host.hello("host", room=self.code, token=self.host_token)
        self.screen = await RitrovoClient.connect(self.server.ws_url)
        await self.screen.hello("screen", room=self.code)
        state = self.host.state["state"]  # type: ignore[index]
        self.teams = [t["id"] for t in state["teams"]]

    async def join(self, name: str, team: str) -> RitrovoClient:
        client = await join(self.server.ws_url, self.code, name, team=team)
        assert client.welcome is not None
        self.players[name] = client
        self.ids[name] = client.welcome["player"]["id"]
        self.team_of[name] = team
        return client

    def name_of(self, player_id: str) -> str:
        return next(n for n, pid in self.ids.items() if pid == player_id)

    async def close(self) -> None:
        for client in [self.host, self.screen, *self.players.values()]:
            if not client.closed.done():
                await client.close()

    def previous_text(self, team: str) -> str | None:
        """The last visible line of a story in the model; None: the opening."""
        for key, _, hidden in reversed(self.lines[team]):
            if not hidden:
                return TEXTS[key]
        return None

    def visible_texts(self, team: str) -> list[str]:
        return [TEXTS[key] for key, _, hidden in self.lines[team] if not hidden]

    async def host_state(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        return await self.host.wait_state(lambda s: s["story"] is not None and predicate(s))

    async def turn(self, name: str, deadline: float) -> None:
        """Wait until ``name`` holds their team's turn with ``deadline``; check their view."""
        team, pid = self.team_of[name], self.ids[name]
        count = len(self.lines[team])
        state = await self.host_state(
            lambda s: (
                story_of(s, team)["writer"] == pid and story_of(s, team)["lines_count"] == count
            )
        )
        assert story_of(state, team)["turn_deadline_at"] == deadline
        previous = self.previous_text(team)
        if previous is not None:
            self.allowed[name].add(previous)
        client = self.players[name]
        if self.visibility == "chain":
            expected = previous if previous is not None else OPENINGS[self.teams.index(team)]
            view = await client.wait_state(
                lambda s: (
                    s["story"] is not None
                    and story_of(s, team)["writer"] == pid
                    and story_of(s, team).get("previous_line", {}).get("text") == expected
                )
            )
            assert "lines" not in story_of(view, team)
            assert story_of(view, team)["previous_line"]["opening"] is (previous is None)
        else:
            view = await client.wait_state(
                lambda s: (
                    s["story"] is not None
                    and story_of(s, team)["writer"] == pid
                    and story_of(s, team)["lines_count"] == count
                )
            )
            lines = story_of(view, team)["lines"]
            shown = [line.get("text") for line in lines if not line["hidden"]]
            assert shown == self.visible_texts(team)
            assert "previous_line" not in story_of(view, team)
        # The private "you" message tells the writer it is their turn and until when.
        await client.wait_for(
            lambda m: (
                m["type"] == "you"
                and m.get("your_turn") is not None
                and m["your_turn"]["team_id"] == team
                and m["your_turn"]["deadline_at"] == deadline
            )
        )

    async def write(self, name: str, key: str) -> None:
        ack = await self.players[name].request("line", text=TEXTS[key])
        assert ack["type"] == "ack" and ack["of"] == "line"
        self.lines[self.team_of[name]].append([key, name, False])
        self.allowed[name].add(TEXTS[key])

    async def next(self, step: str) -> None:
        ack = await self.host.request("next")
        assert ack["result"] == {"step": step}

    async def refused(self, client: RitrovoClient, code: str, kind: str, **fields: Any) -> None:
        with pytest.raises(ProtocolError) as err:
            await client.request(kind, **fields)
        assert err.value.code == code, (kind, fields)


def my_vote_is(team: str) -> Callable[[dict[str, Any]], bool]:
    """Whether a message is a player's own view showing their vote for `team`."""
    return lambda m: m["type"] == "you" and m.get("my_vote") == team


def moments(state: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [m for m in state["moments"] if m["kind"] == kind]


def first_reveal_index(client: RitrovoClient) -> int:
    """Index of the first message in which any story is revealed (len if none)."""
    for index, message in enumerate(client.messages):
        if message["type"] == "state" and revealed_in(message):
            return index
    return len(client.messages)


def revealed_in(message: dict[str, Any]) -> set[str]:
    story = message["state"]["story"]
    if story is None:
        return set()
    return {tid for tid, t in story["teams"].items() if t["revealed"]}


def read_before_reveal(client: RitrovoClient, teams: dict[str, set[str]]) -> dict[str, set[str]]:
    """Per team, the texts of its story found in messages received before it was revealed."""
    revealed: set[str] = set()
    read: dict[str, set[str]] = {team: set() for team in teams}
    for message in client.messages:
        if message["type"] == "state":
            revealed |= revealed_in(message)
        raw = orjson.dumps(message).decode()
        for team, texts in teams.items():
            if team not in revealed:
                read[team].update(text for text in texts if text in raw)
    return read


def texts_seen(messages: list[dict[str, Any]]) -> set[str]:
    seen: set[str] = set()
    for message in messages:
        raw = orjson.dumps(message).decode()
        seen.update(text for text in TEXTS.values() if text in raw)
    return seen


@pytest.mark.parametrize("visibility", ["full", "chain"])
async def test_full_story_round(make_store: Callable[[], RoomStore], visibility: str) -> None:
    clock = FakeClock()
    t0 = clock.now
    async with running_server(fast_settings(), store=make_store(), clock=clock) as server:
        room = await create_room(server.base_url, "Story night")
        uploaded = await upload_pack(
            server.base_url, room["code"], room["host_token"], pack_yaml(visibility)
        )
        assert uploaded["pack"]["rounds"] == [
            {"kind": "story", "title": "Tales of the lighthouse", "items": 2}
        ]
        game = Game(server, clock, room, visibility)
        await game.open()
        try:
            await play(game, t0)
        finally:
            await game.close()


async def play(game: Game, t0: float) -> None:
    t1, t2 = game.teams
    host = game.host
    for name in ("Ada", "Ben", "Cy"):
        await game.join(name, t1)
    for name in ("Dee", "Eli"):
        await game.join(name, t2)
    await host.wait_state(lambda s: s["players_count"] == 5)

    # -- writing ------------------------------------------------------------
    await game.next("round_started")
    state = await game.host_state(lambda s: s["story"]["stage"] == "writing")
    assert state["phase"] == "story"
    assert story_of(state, t1)["order"] == [game.ids[n] for n in ("Ada", "Ben", "Cy")]
    assert story_of(state, t2)["order"] == [game.ids[n] for n in ("Dee", "Eli")]
    assert story_of(state, t1)["prompt"]["opening"] == OPENINGS[0]
    assert story_of(state, t2)["prompt"]["opening"] == OPENINGS[1]
    await game.turn("Ada", t0 + 60)
    await game.turn("Dee", t0 + 60)

    ada, ben = game.players["Ada"], game.players["Ben"]
    await game.refused(ada, "empty_line", "line", text="   ")
    await game.refused(ada, "empty_line", "line", text="")
    await game.refused(ada, "line_too_long", "line", text="x" * (MAX_CHARS + 1))
    await game.refused(ben, "not_your_turn", "line", text="Ben jumps the queue")
    await game.refused(game.players["Dee"], "not_voting", "vote", team=t1)
    await game.write("Ada", "A1")
    await game.turn("Ben", t0 + 60)
    await game.write("Dee", "B1")
    await game.turn("Eli", t0 + 60)

    # A late joiner is appended to the rotation and gets a turn after Eli.
    await game.join("Fay", t2)
    state = await game.host_state(lambda s: game.ids["Fay"] in story_of(s, t2)["order"])
    assert story_of(state, t2)["order"] == [game.ids[n] for n in ("Dee", "Eli", "Fay")]
    await game.write("Eli", "B2")
    await game.turn("Fay", t0 + 60)
    game.clock.advance(1)
    await game.write("Fay", "B3")
    await game.turn("Dee", t0 + 61)

    # A timeout skip: Ben's turn ends at its deadline and passes to Cy.
    game.clock.advance(59)
    await game.turn("Cy", t0 + 120)
    state = await game.host_state(lambda s: True)
    skipped = moments(state, "turn_skipped")
    assert [(m["player_id"], m["text"]) for m in skipped] == [(game.ids["Ben"], "timeout")]
    assert story_of(state, t1)["turns_taken"][game.ids["Ben"]] == 1
    assert story_of(state, t2)["writer"] == game.ids["Dee"]  # not due yet (t0 + 61)
    await game.write("Dee", "B4")
    await game.turn("Eli", t0 + 120)
    await game.write("Cy", "A2")
    await game.turn("Ada", t0 + 120)

    # A disconnect skip: Ada's connection closes while it is her turn; she keeps
    # the turn through the presence grace and is skipped when it runs out.
    await ada.close()

    def ada_row(s: dict[str, Any]) -> dict[str, Any]:
        return dict(next(p for t in s["teams"] for p in t["players"] if p["name"] == "Ada"))

    state = await game.host_state(lambda s: ada_row(s)["connections"] == 0)
    assert story_of(state, t1)["writer"] == game.ids["Ada"]
    game.clock.advance(rooms.PRESENCE_GRACE_SECONDS)
    await game.turn("Ben", t0 + 65 + 60)
    state = await game.host_state(lambda s: True)
    skipped = moments(state, "turn_skipped")
    assert [(m["player_id"], m["text"]) for m in skipped][-1] == (game.ids["Ada"], "away")
    assert not ada_row(state)["present"]

    await game.write("Ben", "A3")
    await game.turn("Cy", t0 + 125)

    # Pause, extend and resume: paused turns keep their seconds, the clock
    # running meanwhile changes nothing, the extension is added on resume.
    await host.request("pause")
    state = await game.host_state(lambda s: s["story"]["paused"])
    assert story_of(state, t1)["seconds_left"] == 60
    assert story_of(state, t1)["turn_deadline_at"] is None
    assert story_of(state, t2)["seconds_left"] == 55
    cy = game.players["Cy"]
    await game.refused(cy, "paused", "line", text="Cy writes during the pause")
    await host.request("extend", seconds=30)
    await game.refused(host, "invalid_field", "extend", seconds=0)
    await cy.wait_for(
        lambda m: (
            m["type"] == "you"
            and (m.get("your_turn") or {}).get("paused") is True
            and m["your_turn"]["seconds_left"] == 90
        )
    )
    game.clock.advance(100)  # t0 + 165
    await host.request("resume")
    state = await game.host_state(lambda s: not s["story"]["paused"])
    assert story_of(state, t1)["writer"] == game.ids["Cy"]
    assert story_of(state, t1)["turn_deadline_at"] == t0 + 165 + 90
    assert story_of(state, t2)["writer"] == game.ids["Eli"]
    assert story_of(state, t2)["turn_deadline_at"] == t0 + 165 + 85
    assert len(moments(state, "turn_skipped")) == 2
    await cy.wait_for(
        lambda m: m["type"] == "you" and (m.get("your_turn") or {}).get("deadline_at") == t0 + 255
    )

    # The host hides a line (Dee's first): its text stays with the host only.
    await host.request("hide_line", team=t2, line=0, hidden=True)
    game.lines[t2][0][2] = True
    state = await game.host_state(lambda s: story_of(s, t2)["lines"][0]["hidden"])
    assert story_of(state, t2)["lines"][0]["text"] == TEXTS["B1"]
    await game.refused(host, "line_not_found", "hide_line", team=t2, line=9, hidden=True)
    await check_patched_views(game)  # mid-round: lines written, skipped, hidden

    await game.write("Eli", "B5")
    await game.turn("Fay", t0 + 165 + 60)
    await game.write("Cy", "A4")
    # Ada is away with her turns used, Ben and Cy have written twice: done.
    state = await game.host_state(lambda s: story_of(s, t1)["done"])
    assert story_of(state, t1)["writer"] is None
    assert story_of(state, t1)["turns_taken"] == {game.ids[n]: 2 for n in ("Ada", "Ben", "Cy")}
    assert story_of(state, t2)["writer"] == game.ids["Fay"]

    # -- reveal: the host's "next" ends the writing, reveals each story, opens the vote
    await game.next("writing_ended")
    state = await game.host_state(lambda s: s["story"]["stage"] == "reveal")
    assert state["story"]["reveal_index"] == -1
    assert story_of(state, t2)["writer"] is None and story_of(state, t2)["turn_deadline_at"] is None
    fay = game.players["Fay"]
    await fay.wait_for(lambda m: m["type"] == "you" and "your_turn" in m and m["your_turn"] is None)
    view = await fay.wait_state(
        lambda s: s["story"] is not None and s["story"]["stage"] == "reveal"
    )
    assert not story_of(view, t1)["revealed"] and "lines" not in story_of(view, t1)
    if game.visibility == "chain":
        assert "lines" not in story_of(view, t2)  # not even the own team's story yet

    await game.next("story_revealed")
    view = await fay.wait_state(lambda s: story_of(s, t1)["revealed"])
    assert [line["text"] for line in story_of(view, t1)["lines"]] == [
        TEXTS[k] for k in ("A1", "A2", "A3", "A4")
    ]
    assert [w["name"] for w in story_of(view, t1)["writers"]] == ["Ada", "Cy", "Ben"]
    assert story_of(view, t1)["prompt"]["opening"] == OPENINGS[0]
    await game.next("story_revealed")
    view = await game.players["Cy"].wait_state(lambda s: story_of(s, t2)["revealed"])
    assert story_of(view, t2)["lines"][0] == {"index": 0, "hidden": True}
    assert [line.get("text") for line in story_of(view, t2)["lines"][1:]] == [
        TEXTS[k] for k in ("B2", "B3", "B4", "B5")
    ]
    screen_view = await game.screen.wait_state(lambda s: story_of(s, t2)["revealed"])
    assert story_of(screen_view, t2)["lines"][0] == {"index": 0, "hidden": True}

    await game.next("voting_opened")
    await game.host_state(lambda s: s["story"]["stage"] == "voting")

    # -- voting -----------------------------------------------------------
    players = game.players
    await game.refused(players["Ben"], "own_team_vote", "vote", team=t1)
    await game.refused(players["Ben"], "team_not_found", "vote", team="t999")
    await players["Ben"].request("vote", team=t2)
    await players["Ben"].request("vote", team=t2)  # voting again replaces: counted once
    await players["Cy"].request("vote", team=t2)
    await players["Dee"].request("vote", team=t1)
    await game.refused(players["Dee"], "own_team_vote", "vote", team=t2)  # her vote stays
    await players["Eli"].request("vote", team=t1)
    await game.refused(players["Fay"], "own_team_vote", "vote", team=t2)
    await players["Fay"].request("vote", team=t1)
    state = await game.host_state(lambda s: len(s["story"].get("voters", [])) == 5)
    assert state["story"]["live_counts"] == {t1: 3, t2: 2}
    for name, team in (("Ben", t2), ("Dee", t1), ("Fay", t1)):
        await players[name].wait_for(my_vote_is(team))
    screen_state = await game.screen.wait_state(lambda s: len(s["story"].get("voters", [])) == 5)
    assert "live_counts" not in screen_state["story"]

    await host.request("close_voting")
    state = await game.host_state(lambda s: s["story"]["stage"] == "results")
    per_vote, bonus = stories.POINTS_PER_VOTE, stories.TOP_STORY_BONUS
    expected = {t1: 3 * per_vote + bonus, t2: 2 * per_vote}
    assert state["story"]["vote_counts"] == {t1: 3, t2: 2}
    assert state["story"]["points"] == expected
    assert state["story"]["winners"] == [t1]
    board = {t["id"]: t for t in state["teams"]}
    assert {tid: board[tid]["score"] for tid in (t1, t2)} == expected
    assert board[t1]["rank"] == 1 and board[t2]["rank"] == 2
    await game.refused(players["Eli"], "not_voting", "vote", team=t1)
    await check_patched_views(game)  # the results: both stories shown, votes counted

    # -- export -----------------------------------------------------------
    status, _ = await stories_markdown(game.server.base_url, game.code, None)
    assert status == 403
    status, markdown = await stories_markdown(game.server.base_url, game.code, game.host_token)
    assert status == 200, markdown
    check_markdown(markdown, game)

    await game.next("round_ended")
    await game.host.wait_state(lambda s: s["phase"] == "finished")
    status, after = await stories_markdown(game.server.base_url, game.code, game.host_token)
    assert status == 200 and after == markdown

    check_what_each_client_read(game)


def check_markdown(markdown: str, game: Game) -> None:
    lines = markdown.splitlines()
    assert lines[0] == "# Tales of the lighthouse"
    aurora, bora = lines.index("## Aurora"), lines.index("## Bora")
    assert aurora < bora
    first, second = lines[aurora:bora], lines[bora:]
    assert "_Writers: Ada, Cy, Ben_" in first
    assert "_Writers: Eli, Fay, Dee_" in second  # Dee's first line is hidden, her second is not
    assert "_Theme: mystery_" in first
    body1 = [line for line in first if line and not line.startswith(("#", "_"))]
    body2 = [line for line in second if line and not line.startswith(("#", "_"))]
    assert body1 == [OPENINGS[0], *(TEXTS[k] for k in ("A1", "A2", "A3", "A4"))]
    assert body2 == [
        OPENINGS[1],
        stories.HIDDEN_LINE_TEXT,
        *(TEXTS[k] for k in ("B2", "B3", "B4", "B5")),
    ]
    assert TEXTS["B1"] not in markdown


def check_what_each_client_read(game: Game) -> None:
    """Scan every raw message each client received for the stories' line texts."""
    t1, t2 = game.teams
    team_texts = {team: {TEXTS[key] for key, _, _ in game.lines[team]} for team in (t1, t2)}
    for name, client in game.players.items():
        cut = first_reveal_index(client)
        before = texts_seen(client.messages[:cut])
        own, other = game.team_of[name], t2 if game.team_of[name] == t1 else t1
        # Never the other team's story before the reveal, in either mode.
        assert not before & team_texts[other], (name, before & team_texts[other])
        if game.visibility == "chain":
            # Only what they wrote and the line just before each of their turns.
            assert before <= game.allowed[name], (name, sorted(before - game.allowed[name]))
            assert before, name  # the scan is not vacuous: they saw at least something
        else:
            # Full mode: the own team's story, as it grew (Ada left after A2).
            read = {TEXTS["A1"], TEXTS["A2"]} if name == "Ada" else team_texts[own]
            assert before >= read, (name, sorted(read - before))
        assert cut < len(client.messages) or name == "Ada", name  # the others saw a reveal
        # The stories are revealed one by one: until its own reveal, neither story
        # shows more than the above (Aurora's reveal comes before Bora's).
        unrevealed = read_before_reveal(client, team_texts)
        assert not unrevealed[other], (name, unrevealed[other])
        if game.visibility == "chain":
            assert unrevealed[own] <= game.allowed[name], (name, unrevealed[own])
    # The screen reads no story before its reveal.
    assert not texts_seen(game.screen.messages[: first_reveal_index(game.screen)])
    assert not any(read_before_reveal(game.screen, team_texts).values())
    # The hidden line never reaches anyone on the other team, nor the screen.
    for name in ("Ada", "Ben", "Cy"):
        assert TEXTS["B1"] not in texts_seen(game.players[name].messages), name
    assert TEXTS["B1"] not in texts_seen(game.screen.messages)
    # After the reveal everyone who stayed read both stories (the scan can see texts).
    for name in ("Ben", "Fay"):
        assert texts_seen(game.players[name].messages) >= {TEXTS["A4"], TEXTS["B5"]}


async def test_moving_the_writer_to_another_team_hands_their_turn_on(
    make_store: Callable[[], RoomStore],
) -> None:
    """A writer the host moves away is no longer on the team: the turn passes at once."""
    clock = FakeClock()
    t0 = clock.now
    async with running_server(fast_settings(), store=make_store(), clock=clock) as server:
        room = await create_room(server.base_url, "Story night")
        await upload_pack(server.base_url, room["code"], room["host_token"], pack_yaml("full"))
        game = Game(server, clock, room, "full")
        await game.open()
        try:
            t1, t2 = game.teams
            for name, team in (("Ada", t1), ("Ben", t1), ("Dee", t2)):
                await game.join(name, team)
            await game.next("round_started")
            await game.turn("Ada", t0 + 60)
            await game.host.request("move_player", player=game.ids["Ada"], team=t2)
            game.team_of["Ada"] = t2
            # No clock advance: the turn must not wait for Ada's deadline.
            state = await game.host_state(lambda s: story_of(s, t1)["writer"] != game.ids["Ada"])
            assert story_of(state, t1)["writer"] == game.ids["Ben"]
            assert story_of(state, t2)["order"] == [game.ids["Dee"], game.ids["Ada"]]
            await game.write("Ben", "A1")
        finally:
            await game.close()


def test_timer_tick_reports_the_skip_of_a_writer_whose_grace_ran_out() -> None:
    """flow.tick's contract is "True if the room changed", also for a presence skip.

    (No WebSocket needed: this is what the timer poller runs when the grace ends.)
    """
    from ritrovo.game import flow
    from ritrovo.packs import load_pack_bytes

    pack = load_pack_bytes(pack_yaml("chain").encode(), "story.yaml")
    t0 = 1_000_000.0
    room = rooms.new_room("ABCDEF", "Tick", "hash", t0)
    team = room.teams[0].id
    ada = rooms.join(room, name="Ada", team_id=team, token_hash="a", now=t0)
    ben = rooms.join(room, name="Ben", team_id=team, token_hash="b", now=t0)
    for player in (ada, ben):
        rooms.connect(room, player, t0)
    flow.start_round(room, pack, 0, t0)
    assert room.story is not None and room.story.stories[team].turn_player == ada.id
    rooms.disconnect(room, ada.id, t0 + 1)
    flow.on_presence_changed(room, pack, t0 + 1)
    due = flow.next_deadline(room, pack, t0 + 1)
    assert due == t0 + 1 + rooms.PRESENCE_GRACE_SECONDS
    assert flow.tick(room, pack, due) is True
    assert room.story.stories[team].turn_player == ben.id
    assert flow.tick(room, pack, due) is False
