"""The keepsake of a session (``game/keepsake.py``): podium, stories, Who's who facts, colleagues met.

Pure: a room plays a story round, a "Who's who" round and a coffee pairing
as plain data with ``now`` handed in; the keepsake is checked at each step
for what it may and may not hold (no story before all are shown, no answer
before its reveal, never a hidden one, no other player's colleagues).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from ritrovo.game import coffee, flow, keepsake, rooms, stories, whoswho
from ritrovo.game.models import Room
from ritrovo.game.pack import Pack, StoryPrompt, StoryRound, WhosWhoRound

T0 = 1_000_000.0
STORY = StoryRound(
    title="Tales",
    prompts=(StoryPrompt(opening="The lift stopped between floors.", theme="mystery"),),
    turns_per_player=1,
)
WHOSWHO = WhosWhoRound(
    title="Who's who",
    prompts=("A place you'd go back to", "A hidden talent"),
    max_answers=1,
    questions=3,
    time_limit=40,
)
PACK = Pack(id="kp", title="Keepsake pack", language="en", rounds=(STORY, WHOSWHO))


def make_room(players: int = 4) -> Room:
    room = rooms.new_room("KEEPSK", "Offsite", "hosthash", T0 - 100, team_names=("Red", "Blue"))
    room.pack_id = PACK.id
    for n in range(players):
        team = room.teams[n % 2].id
        player = rooms.join(room, name=f"P{n}", team_id=team, token_hash=f"h{n}", now=T0 - 50)
        player.connections = 1
    return room


def dumped(body: object) -> str:
    return orjson.dumps(body).decode()


def after_round(room: Room, round_index: int) -> None:
    """The room as between rounds, after ``round_index`` (this test skips it)."""
    room.round_index = round_index
    room.phase = "between_rounds"


def play_story_round(
    room: Room, now: float, line: Callable[[str], str] | None = None, written: float | None = None
) -> None:
    """Every writer writes their one line (``line(player id)``; by default "<name> wrote
    <b>this</b>") at ``written`` (default ``now``); writing then ends by itself (stage reveal)."""
    assert flow.advance(room, PACK, now) == "round_started"
    state = room.story
    assert state is not None
    while state.stage == "writing":
        ts = next(ts for ts in state.stories.values() if ts.turn_player is not None)
        writer = ts.turn_player
        assert writer is not None
        text = f"{room.players[writer].name} wrote <b>this</b>" if line is None else line(writer)
        stories.submit_line(room, STORY, writer, text, now if written is None else written)
    assert state.stage == "reveal"


def test_stories_are_kept_once_all_are_shown_and_hidden_lines_stay_hidden() -> None:
    room = make_room()
    play_story_round(room, T0)
    # Revealing, one story at a time: not yet the keepsake's.
    assert keepsake.build(room, PACK)["stories"] == []
    red = room.teams[0].id
    stories.hide_line(room, red, 0, True)
    while room.story is not None and room.story.stage == "reveal":
        flow.advance(room, PACK, T0 + 10)
    assert room.story is not None and room.story.stage == "voting"
    body = keepsake.build(room, PACK)
    [rnd] = body["stories"]
    assert rnd["round"] == "Tales"
    red_story, blue_story = rnd["stories"]
    assert red_story["team"] == "Red" and red_story["lines"] == [
        {"hidden": True},
        red_story["lines"][1],
    ]
    # (The second line is shown: its text as written, markup and all.)
    shown = red_story["lines"][1]
    assert room.story is not None
    assert "hidden" not in shown and shown["text"] == room.story.stories[red].lines[1].text
    assert (
        red_story["opening"] == "The lift stopped between floors."
        and red_story["theme"] == "mystery"
    )
    hidden_text = room.story.stories[red].lines[0].text
    assert hidden_text not in dumped(body)
    assert blue_story["writers"] == ["P1", "P3"]
    # The round ends: it is archived and stays, with its votes.
    flow.advance(room, PACK, T0 + 20)  # voting closed
    flow.advance(room, PACK, T0 + 21)  # round ended
    assert room.story is None and room.phase == "between_rounds"
    kept = keepsake.build(room, PACK)["stories"]
    assert [s["votes"] for s in kept[0]["stories"]] == [0, 0]
    markdown = keepsake.markdown(keepsake.build(room, PACK))
    assert "wrote &lt;b&gt;this&lt;/b&gt;" in markdown and "<b>" not in markdown
    assert stories.HIDDEN_LINE_TEXT in markdown and hidden_text not in markdown


def test_whoswho_facts_appear_at_their_reveal_with_their_line_and_never_hidden() -> None:
    room = make_room()
    after_round(room, 0)
    assert flow.advance(room, PACK, T0) == "round_started"
    p0, p1, p2, p3 = list(room.players)
    # The answers' random ids, as the command would hand them in.
    fresh = [[f"{pid}-{n}" for n in range(whoswho.NEW_IDS)] for pid in (p0, p1, p2, p3)]
    lisbon = [(0, "Lisbon *at dawn*")]
    whoswho.answer(room, PACK, p0, lisbon, "Ask me about <i>trams</i>", T0 + 1, fresh[0])
    whoswho.answer(room, PACK, p1, [(1, "I can juggle")], None, T0 + 1, fresh[1])
    whoswho.answer(room, PACK, p2, [(1, "Something to hide")], None, T0 + 1, fresh[2])
    whoswho.answer(room, PACK, p3, [], None, T0 + 1, fresh[3])
    state = room.whoswho
    assert state is not None
    hidden = next(a.id for a in state.entries[p2].answers)
    whoswho.hide(room, PACK, hidden, True)
    assert flow.advance(room, PACK, T0 + 2, seed=15) == "question_started"
    # An open question is in nobody's keepsake, nor is its author.
    for viewer in (None, p0, p1, p2, p3):
        body = keepsake.build(room, PACK, player_id=viewer)
        assert body["whoswho"] == []
        text = dumped(body)
        assert "Lisbon" not in text and "juggle" not in text and "Something to hide" not in text
        assert "trams" not in text
    revealed = []
    while True:
        question = state.questions[state.index]
        whoswho.reveal(room, PACK, T0 + 3 + state.index)
        revealed.append(question.text)
        facts = keepsake.build(room, PACK)["whoswho"]
        assert [f["answer"] for f in facts] == revealed
        if not whoswho.has_next(state):
            break
        flow.advance(room, PACK, T0 + 10 + state.index)
    assert flow.advance(room, PACK, T0 + 30) == "round_ended"
    assert room.whoswho is None and room.phase == "finished"
    # The round is over and its state gone: the facts keep their line, prompt and team.
    facts = {f["answer"]: f for f in keepsake.build(room, PACK)["whoswho"]}
    assert facts["Lisbon *at dawn*"] == {
        "round": "Who's who",
        "prompt": "A place you'd go back to",
        "answer": "Lisbon *at dawn*",
        "author": "P0",
        "team": "Red",
        "line": "Ask me about <i>trams</i>",
    }
    assert facts["I can juggle"]["team"] == "Blue" and facts["I can juggle"]["line"] == ""
    assert "Something to hide" not in dumped(keepsake.build(room, PACK))
    markdown = keepsake.markdown(keepsake.build(room, PACK, player_id=p1))
    assert "Lisbon \\*at dawn\\*" in markdown and "&lt;i&gt;trams&lt;/i&gt;" in markdown
    assert "Something to hide" not in markdown


def test_a_story_round_ended_before_its_stories_were_shown_is_not_kept() -> None:
    # The host finishes the game during the writing (or the reveal): the
    # round is archived in that stage, and nobody has read its stories.
    for stage in ("writing", "reveal"):
        room = make_room()
        if stage == "writing":
            assert flow.advance(room, PACK, T0) == "round_started"
            state = room.story
            assert state is not None
            ts = next(ts for ts in state.stories.values() if ts.turn_player is not None)
            assert ts.turn_player is not None
            stories.submit_line(room, STORY, ts.turn_player, "an unread line", T0 + 1)
            assert state.stage == "writing"
        else:
            play_story_round(room, T0)
        flow.finish(room, T0 + 5, PACK)
        assert room.story_archive and room.story_archive[-1].stage == stage
        body = keepsake.build(room, PACK)
        assert body["stories"] == []
        assert "wrote" not in dumped(body) and "an unread line" not in dumped(body)


def test_colleagues_counted_for_the_host_are_those_a_player_is_shown() -> None:
    # The host's counts are counted (a room of 2,000 in two teams took 0.74 s
    # per request when every player's colleagues were listed); they must be
    # what each player would be shown, with pairings across teams and pairs
    # known before.
    for seed in range(5):
        room = make_room(9)
        room.phase = "lobby"
        ids = list(room.players)
        coffee.start(room, PACK, 300, T0, seed=seed)
        coffee.end(room)
        coffee.start(room, PACK, 300, T0 + 400, seed=seed + 10)
        known = {(ids[0], ids[1]), (ids[2], ids[5]), (ids[3], ids[3]), (ids[4], "gone")}
        listed = keepsake.colleagues_met(room, known)
        assert keepsake.met_counts(room, known) == {pid: len(o) for pid, o in listed.items()}
        for pid in ids:
            body = keepsake.build(room, PACK, player_id=pid, known_before=known)
            assert body["you"]["met"] == len(listed[pid])


def test_colleagues_met_are_teammates_and_pairing_groups_counted_once() -> None:
    room = make_room(6)
    room.phase = "lobby"
    ids = list(room.players)
    coffee.start(room, PACK, 300, T0, seed=1)
    coffee.end(room)
    coffee.start(room, PACK, 300, T0 + 400, seed=2)  # still running: it counts too
    team_of = {pid: p.team_id for pid, p in room.players.items()}
    expected: dict[str, set[str]] = {pid: set() for pid in ids}
    groups = [g for p in room.pairings.past for g in p.groups]
    assert room.pairings.current is not None
    groups += room.pairings.current.groups
    for pid in ids:
        expected[pid] |= {o for o in ids if o != pid and team_of[o] == team_of[pid]}
        for group in groups:
            if pid in group:
                expected[pid] |= set(group) - {pid}
    met = keepsake.colleagues_met(room)
    assert {pid: set(others) for pid, others in met.items()} == expected
    assert all(others == [o for o in ids if o in others] for others in met.values())  # join order
    # Colleagues met before (a circle's past sessions) are not new.
    p0 = ids[0]
    before = met[p0][0]
    assert before not in keepsake.colleagues_met(room, {(before, p0)})[p0]
    # The host sees every player's count; a player only their own, with names.
    host = keepsake.build(room, PACK)
    assert [(c["name"], c["met"]) for c in host["colleagues"]] == [
        (room.players[pid].name, len(met[pid])) for pid in ids
    ]
    assert "you" not in host
    mine = keepsake.build(room, PACK, player_id=p0)
    assert "colleagues" not in mine
    assert mine["you"] == {
        "name": "P0",
        "team": "Red",
        "met": len(met[p0]),
        "colleagues": [room.players[o].name for o in met[p0]],
    }
    # Someone who left is in nobody's keepsake.
    gone = met[p0][-1]
    name = room.players[gone].name
    rooms.leave(room, gone, T0 + 500)
    assert name not in keepsake.build(room, PACK, player_id=p0)["you"]["colleagues"]
    assert len(keepsake.colleagues_met(room)[p0]) == len(met[p0]) - 1
    markdown = keepsake.markdown(keepsake.build(room, PACK, player_id=p0), "it")
    assert f"Oggi hai conosciuto {len(met[p0]) - 1} nuovi colleghi" in markdown


def test_podium_ranks_the_teams_that_played() -> None:
    room = make_room(3)
    room.teams[1].score = 120
    room.teams[1].last_scored_at = T0
    room.players[list(room.players)[1]].points = 120
    body = keepsake.build(room, PACK)
    rooms_teams = [t.name for t in room.teams]  # the podium's order is its own
    assert [(r["rank"], r["team"], r["score"]) for r in body["podium"]] == [
        (1, "Blue", 120),
        (2, "Red", 0),
    ]
    assert body["podium"][0]["players"] == [{"name": "P1", "points": 120}]
    assert rooms_teams == ["Red", "Blue"]
    markdown = keepsake.markdown(body)
    assert "1. **Blue**: 120 points (P1 (120))" in markdown
    assert "_No stories were written._" in markdown and "_No answer was revealed._" in markdown


def test_the_circles_keepsake_names_members_only_and_stays_bounded() -> None:
    room = make_room(4)
    p0, p1, p2, p3 = list(room.players)
    for pid, member in ((p0, "c1"), (p1, "c2"), (p2, "c3")):  # P3 is a guest
        rooms.set_member(room, pid, member)
    play_story_round(room, T0)
    while room.story is not None and room.story.stage == "reveal":
        flow.advance(room, PACK, T0 + 10)
    room.players[p3].points = 7
    kept = keepsake.for_circle(room, PACK)
    assert kept["v"] == 2
    assert [p for row in kept["podium"] for p in row["players"]] == [
        ["c1", 0],
        ["c3", 0],
        ["c2", 0],
    ]
    blue = kept["stories"][0]["stories"][1]
    assert blue["writers"] == ["c2"]  # P3 wrote too: a guest
    # Each line with its writer's member id; the guest's masked as a hidden one.
    assert blue["lines"] == [{"text": "P1 wrote <b>this</b>", "member": "c2"}, {"hidden": True}]
    assert kept["colleagues"] == [["c1", 1], ["c2", 1], ["c3", 1]]
    assert "P3 wrote" not in dumped(kept)
    no_lines = dumped({k: v for k, v in kept.items() if k != "stories"})
    assert "P0" not in no_lines and "P3" not in no_lines  # no names: the session's
    assert "trimmed" not in kept
    # Past the bound: the story lines go first (from the last story), then the stories,
    # the facts, and the names last.
    size = len(dumped(kept))
    lines_cut = keepsake.for_circle(room, PACK, max_bytes=size - 1)
    assert lines_cut["trimmed"] == ["story_lines"] and len(dumped(lines_cut)) <= size - 1
    red, blue = lines_cut["stories"][0]["stories"]
    assert blue["lines"] == [] and red["lines"] != []  # one story at a time
    tiny = keepsake.for_circle(room, PACK, max_bytes=10)
    assert tiny["trimmed"] == ["story_lines", "stories", "names"]  # (no facts to cut)
    assert tiny["colleagues"] == [] and all(row["players"] == [] for row in tiny["podium"])
    assert [row["team"] for row in tiny["podium"]] == ["Red", "Blue"]


def test_a_fact_is_its_authors_by_player_id_not_by_name() -> None:
    """Who's who facts go to the member who wrote them, found by player id: a newcomer who
    took the name of an author who left does not inherit the fact (review finding 5)."""
    room = make_room(4)
    after_round(room, 0)
    p0, p1, p2, p3 = list(room.players)
    for n, pid in enumerate((p0, p1, p2, p3)):
        rooms.set_member(room, pid, f"c{n + 1}")
    assert flow.advance(room, PACK, T0) == "round_started"
    fresh = [[f"{pid}-{n}" for n in range(whoswho.NEW_IDS)] for pid in (p0, p1, p2, p3)]
    whoswho.answer(room, PACK, p0, [(0, "Lisbon")], None, T0 + 1, fresh[0])
    whoswho.answer(room, PACK, p1, [(1, "I can juggle")], None, T0 + 1, fresh[1])
    whoswho.answer(room, PACK, p2, [], None, T0 + 1, fresh[2])
    whoswho.answer(room, PACK, p3, [], None, T0 + 1, fresh[3])
    assert flow.advance(room, PACK, T0 + 2, seed=3) == "question_started"
    state = room.whoswho
    assert state is not None
    while True:
        whoswho.reveal(room, PACK, T0 + 3 + state.index)
        if not whoswho.has_next(state):
            break
        flow.advance(room, PACK, T0 + 10 + state.index)
    facts = {f["answer"]: f["member"] for f in keepsake.for_circle(room, PACK)["whoswho"]}
    assert facts == {"Lisbon": "c1", "I can juggle": "c2"}
    # P0 leaves; someone new joins as "P0", another member.
    rooms.leave(room, p0, T0 + 40)
    newcomer = rooms.join(room, name="P0", team_id=room.teams[0].id, token_hash="hn", now=T0 + 41)
    rooms.set_member(room, newcomer.id, "c9")
    kept = keepsake.for_circle(room, PACK)
    assert {f["answer"]: f["member"] for f in kept["whoswho"]} == {"I can juggle": "c2"}
    assert "c9" not in dumped(kept["whoswho"])
    # A result stored before results kept their author's id is attributed to nobody.
    for result in room.riddle_results:
        result.author_id = ""
    assert keepsake.for_circle(room, PACK)["whoswho"] == []


def circle_keepsake(members: int, line: Callable[[str], str]) -> dict[str, Any]:
    """The circle's keepsake of a story round where ``members`` members wrote ``line(id)`` each."""
    room = rooms.new_room("BIGGER", "All hands", "hosthash", T0 - 100, team_names=("Red", "Blue"))
    room.pack_id = PACK.id
    for n in range(members):
        player = rooms.join(
            room,
            name=f"Participant {n:03d} Longname",
            team_id=room.teams[n % 2].id,
            token_hash=f"h{n}",
            now=T0 - 50,
        )
        player.connections = 1
        rooms.set_member(room, player.id, f"c{n + 1}")
    play_story_round(room, T0, line, written=T0 + 1)
    while room.story is not None and room.story.stage == "reveal":
        flow.advance(room, PACK, T0 + 10)
    return keepsake.for_circle(room, PACK)


def test_a_circle_of_200_keeps_its_stories_and_facts() -> None:
    """Names are the session's, not the keepsake's: 200 members with long names and a
    short story line each fit the bound whole (names four times per person did not)."""
    kept = circle_keepsake(200, lambda writer: f"line {writer}")
    assert "trimmed" not in kept, kept.get("trimmed")
    assert sum(len(st["lines"]) for st in kept["stories"][0]["stories"]) == 200
    assert len(kept["colleagues"]) == 200
    assert len(dumped(kept)) <= keepsake.CIRCLE_MAX_BYTES


def test_the_members_whose_longest_lines_fit_whole_are_the_documented_figure() -> None:
    """docs/architecture.md (the ``k:`` part) and docs/protocol.md (the export) give the
    figure: lines of the default 160 characters (ASCII) fit whole for 150 members, not 200
    (lines go first: 200 such lines are some 38 KB); 200 fit with lines of 100 characters."""
    assert STORY.max_chars == 160

    def longest(size: int) -> Callable[[str], str]:
        return lambda writer: (writer + " " + "x" * size)[:size]

    assert "trimmed" not in circle_keepsake(150, longest(160))
    assert circle_keepsake(200, longest(160))["trimmed"] == ["story_lines"]
    assert "trimmed" not in circle_keepsake(200, longest(100))
