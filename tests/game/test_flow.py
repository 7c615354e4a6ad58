"""The game's progression as pure rules: rounds in pack order, the story keepsake, ``finish``.

Covers what crosses rounds: finished story rounds kept in ``room.story_archive``
for the host's ``stories.md`` keepsake, ``finish`` stopping whatever runs
(an open riddle is recorded, open votes are counted once, nothing is accepted
afterwards), and a fresh game after ``choose_pack`` on a finished room.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from ritrovo.errors import NotFound, RitrovoError
from ritrovo.game import exports, flow, riddles, rooms, stories
from ritrovo.game.models import Room
from ritrovo.game.pack import Pack, Riddle, RiddleRound, StoryPrompt, StoryRound
from ritrovo.store.codec import decode_room, encode_room

T0 = 1_000_000.0

PIANO = Riddle(
    text="What has keys but can't open locks?", answers=("piano",), time_limit=60, points=200
)
TOWEL = Riddle(
    text="What gets wetter the more it dries?", answers=("towel",), time_limit=30, points=100
)

OFFICE = StoryRound(
    title="Office *tales*",
    prompts=(
        StoryPrompt(opening="The coffee machine spoke."),
        StoryPrompt(opening="The lift stopped."),
    ),
    turns_per_player=1,
    seconds_per_turn=60,
)
NIGHT = StoryRound(
    title="Night shift",
    prompts=(StoryPrompt(opening="The lights went out.", theme="horror"),),
    turns_per_player=1,
    seconds_per_turn=60,
    vote_seconds=90,
)
WARM_UP = RiddleRound(title="Warm-up", riddles=(PIANO,))

# Like the shipped team-mix pack: a story round, a riddle round, another story round.
MIX = Pack(id="mix", title="Mix", language="en", rounds=(OFFICE, WARM_UP, NIGHT))
# A riddle round first, for finishing mid-riddle.
RIDDLES_FIRST = Pack(
    id="riddles-first",
    title="Riddles first",
    language="en",
    rounds=(RiddleRound(title="Warm-up", riddles=(PIANO, TOWEL)), OFFICE),
)


def make_room(pack: Pack) -> Room:
    """Teams Red (t1) and Blue (t2), two connected players each: Red0, Red1, Blue0, Blue1."""
    room = rooms.new_room("ABCDEF", "Offsite", "hosthash", T0 - 100, team_names=("Red", "Blue"))
    room.pack_id = pack.id
    for team in room.teams:
        for n in range(2):
            name = f"{team.name}{n}"
            player = rooms.join(
                room, name=name, team_id=team.id, token_hash="h-" + name, now=T0 - 50
            )
            player.connections = 1
    return room


RED, BLUE = "t1", "t2"


def pid(room: Room, name: str) -> str:
    return next(p.id for p in room.players.values() if p.name == name)


def team_of(room: Room, player_id: str) -> str:
    return room.players[player_id].team_id


def refused(code: str, call: Callable[[], object]) -> RitrovoError:
    with pytest.raises(RitrovoError) as info:
        call()
    assert info.value.code == code, info.value
    return info.value


def dump(room: Room) -> bytes:
    return orjson.dumps(room)


def score(room: Room, team_id: str) -> int:
    team = room.team(team_id)
    assert team is not None
    return team.score


def write_round(room: Room, pack: Pack, texts: dict[str, list[str]], now: float) -> float:
    """Each team's writers write ``texts[team]`` in turn; returns the time after the last line."""
    rnd = flow.story_round(room, pack)
    for team_id, lines in texts.items():
        for text in lines:
            state = room.story
            assert state is not None
            writer = state.stories[team_id].turn_player
            assert writer is not None, (team_id, text)
            now += 1
            stories.submit_line(room, rnd, writer, text, now)
    return now


def vote_across(room: Room, pack: Pack, now: float) -> None:
    """Every player votes for the other team's story."""
    flow.story_round(room, pack)
    for player in room.players.values():
        other = BLUE if player.team_id == RED else RED
        stories.vote(room, player.id, other, now)


def play_story_round(room: Room, pack: Pack, texts: dict[str, list[str]], now: float) -> float:
    """From the round's start to ``round_ended``, everyone voting; returns the time after."""
    assert room.phase == "story"
    now = write_round(room, pack, texts, now)
    state = room.story
    assert state is not None and state.stage == "reveal"
    assert flow.advance(room, pack, now + 1) == "story_revealed"
    assert flow.advance(room, pack, now + 2) == "story_revealed"
    assert flow.advance(room, pack, now + 3) == "voting_opened"
    vote_across(room, pack, now + 4)
    assert flow.advance(room, pack, now + 5) == "voting_closed"
    assert flow.advance(room, pack, now + 6) == "round_ended"
    return now + 7


FIRST = {RED: ["Red *one* <b>", "Red two"], BLUE: ["# Blue one", "Blue [two](x)"]}
SECOND = {RED: ["Night red one", "Night red two"], BLUE: ["Night blue one", "Night blue two"]}


def play_mix_to_second_story(room: Room) -> float:
    assert flow.advance(room, MIX, T0) == "round_started"
    now = play_story_round(room, MIX, FIRST, T0)
    assert room.phase == "between_rounds"
    assert flow.advance(room, MIX, now) == "round_started"
    # mypy keeps the narrowing above across advance(), which changed the phase
    assert room.phase == "riddle"  # type: ignore[comparison-overlap]
    riddles.guess(room, MIX, pid(room, "Red0"), "piano", now + 1)
    riddles.reveal(room, MIX, now + 2)
    assert flow.advance(room, MIX, now + 3) == "round_ended"
    assert flow.advance(room, MIX, now + 4) == "round_started"
    assert room.phase == "story" and room.round_index == 2
    return now + 5


# -- the story archive --------------------------------------------------------


def test_finished_story_rounds_are_archived_across_a_riddle_round() -> None:
    room = make_room(MIX)
    assert flow.advance(room, MIX, T0) == "round_started"
    now = play_story_round(room, MIX, FIRST, T0)
    # The round's end moves the story to the archive: nothing is "running" now.
    assert room.story is None
    assert [s.round_index for s in room.story_archive] == [0]
    assert room.story_archive[0].stage == "results"
    assert flow.advance(room, MIX, now) == "round_started"  # the riddle round
    assert [s.round_index for s in room.story_archive] == [0]
    riddles.reveal(room, MIX, now + 1)
    assert flow.advance(room, MIX, now + 2) == "round_ended"
    assert flow.advance(room, MIX, now + 3) == "round_started"  # the second story round
    assert room.story is not None and room.story.round_index == 2
    play_story_round(room, MIX, SECOND, now + 4)
    assert room.phase == "finished" and room.story is None
    assert [s.round_index for s in room.story_archive] == [0, 2]
    texts = [
        [line.text for ts in s.stories.values() for line in ts.lines] for s in room.story_archive
    ]
    assert texts == [FIRST[RED] + FIRST[BLUE], SECOND[RED] + SECOND[BLUE]]
    # The store's round trip (orjson out, msgspec in) keeps the archive.
    assert dump(decode_room(encode_room(room))) == dump(room)


def test_a_room_saved_before_the_archive_existed_still_loads() -> None:
    room = make_room(MIX)
    raw = orjson.loads(encode_room(room))
    del raw["story_archive"]
    assert decode_room(orjson.dumps(raw)).story_archive == []


# -- the keepsake ---------------------------------------------------------------


def test_keepsake_has_every_story_round_escaped_and_in_order() -> None:
    room = make_room(MIX)
    with pytest.raises(NotFound) as info:
        exports.markdown_keepsake(room, MIX)
    assert info.value.code == "no_story"
    assert info.value.message == "no story round has been played yet"

    now = play_mix_to_second_story(room)
    # While the second round is being written, the first is in the keepsake already.
    now = write_round(room, MIX, {RED: SECOND[RED][:1]}, now)
    running = exports.markdown_keepsake(room, MIX)
    assert running.index("# Office \\*tales\\*") < running.index("# Night shift")
    assert "Night red one" in running and "Night red two" not in running

    write_round(room, MIX, {RED: SECOND[RED][1:], BLUE: SECOND[BLUE]}, now)
    md = exports.markdown_keepsake(room, MIX)
    lines = md.splitlines()
    assert lines[0] == "# Office \\*tales\\*"
    assert lines.count("# Night shift") == 1
    first, second = md.split("# Night shift")
    # Round one: escaped player text, both teams, the openings.
    assert "Red \\*one\\* &lt;b&gt;" in first and "<b>" not in md
    assert "\n\\# Blue one\n" in first
    assert "Blue \\[two\\](x)" in first
    assert "The coffee machine spoke." in first and "The lift stopped." in first
    assert "_Writers: Red0, Red1_" in first and "_Writers: Blue0, Blue1_" in first
    # Round two: its own lines only.
    for text in SECOND[RED] + SECOND[BLUE]:
        assert text in second and text not in first
    assert "_Theme: horror_" in second
    # Each round reads exactly as the single-round export of that round.
    assert room.story is not None
    assert md == exports.markdown_export(room, OFFICE, room.story_archive[0]) + "\n" + (
        exports.markdown_export(room, NIGHT)
    )


def test_keepsake_masks_hidden_lines_and_needs_the_pack() -> None:
    room = make_room(MIX)
    assert flow.advance(room, MIX, T0) == "round_started"
    write_round(room, MIX, {RED: ["secret javascript:x"]}, T0)
    stories.hide_line(room, RED, 0, True)
    md = exports.markdown_keepsake(room, MIX)
    assert stories.HIDDEN_LINE_TEXT in md and "javascript" not in md
    refused("no_story", lambda: exports.markdown_keepsake(room, None))


def test_hiding_a_line_is_for_the_running_story_only() -> None:
    room = make_room(MIX)
    assert flow.advance(room, MIX, T0) == "round_started"
    play_story_round(room, MIX, FIRST, T0)
    assert room.phase == "between_rounds"
    refused("no_story", lambda: flow.story_round(room, MIX))


# -- finish during a riddle --------------------------------------------------------


def test_finish_during_a_riddle_records_it_and_refuses_guesses() -> None:
    room = make_room(RIDDLES_FIRST)
    assert flow.advance(room, RIDDLES_FIRST, T0) == "round_started"
    outcome = riddles.guess(room, RIDDLES_FIRST, pid(room, "Red0"), "piano", T0 + 6)
    assert outcome.points > 0
    flow.finish(room, T0 + 10, RIDDLES_FIRST)
    assert room.phase == "finished"
    state = room.riddle
    assert state is not None and state.stage == "revealed" and state.end_reason == "finished"
    assert state.ended_at == T0 + 10 and state.advance_at is None
    [result] = room.riddle_results
    assert (result.round_index, result.riddle_index, result.end_reason) == (0, 0, "finished")
    assert result.points == {RED: outcome.points, BLUE: 0}
    assert result.solved_by == {RED: pid(room, "Red0")}
    assert score(room, RED) == outcome.points and score(room, BLUE) == 0

    before = dump(room)
    refused(
        "no_riddle",
        lambda: riddles.guess(room, RIDDLES_FIRST, pid(room, "Blue0"), "piano", T0 + 11),
    )
    refused("no_riddle", lambda: riddles.accept_guess(room, RIDDLES_FIRST, BLUE, 0, T0 + 11))
    refused("no_riddle", lambda: riddles.reveal(room, RIDDLES_FIRST, T0 + 11))
    refused("no_open_riddle", lambda: riddles.pause(room, T0 + 11))
    refused("game_over", lambda: flow.advance(room, RIDDLES_FIRST, T0 + 11))
    assert not flow.tick(room, RIDDLES_FIRST, T0 + 1000)
    assert flow.next_deadline(room, RIDDLES_FIRST, T0 + 11) is None
    assert dump(room) == before


def test_finish_during_a_riddle_without_the_pack_still_records_it() -> None:
    room = make_room(RIDDLES_FIRST)
    room.auto_advance = True
    assert flow.advance(room, RIDDLES_FIRST, T0) == "round_started"
    outcome = riddles.guess(room, RIDDLES_FIRST, pid(room, "Blue1"), "piano", T0 + 3)
    flow.finish(room, T0 + 4)  # as ws.py called it before it passed the pack
    state = room.riddle
    assert room.phase == "finished"
    assert state is not None and state.stage == "revealed" and state.end_reason == "finished"
    assert state.advance_at is None
    [result] = room.riddle_results
    assert result.end_reason == "finished" and result.points == {RED: 0, BLUE: outcome.points}
    refused(
        "no_riddle", lambda: riddles.guess(room, RIDDLES_FIRST, pid(room, "Red0"), "piano", T0 + 5)
    )


@pytest.mark.parametrize("with_pack", [True, False], ids=["pack", "no-pack"])
def test_finish_after_the_deadline_ends_the_riddle_as_the_timer_would(with_pack: bool) -> None:
    room = make_room(RIDDLES_FIRST)
    assert flow.advance(room, RIDDLES_FIRST, T0) == "round_started"
    flow.finish(room, T0 + 75, RIDDLES_FIRST if with_pack else None)  # the timer has not fired
    state = room.riddle
    assert state is not None and (state.end_reason, state.ended_at) == ("timeout", T0 + 60)
    [result] = room.riddle_results
    assert result.end_reason == "timeout"


def test_finish_after_a_revealed_riddle_keeps_its_result() -> None:
    room = make_room(RIDDLES_FIRST)
    assert flow.advance(room, RIDDLES_FIRST, T0) == "round_started"
    riddles.reveal(room, RIDDLES_FIRST, T0 + 5)
    flow.finish(room, T0 + 6, RIDDLES_FIRST)
    [result] = room.riddle_results
    assert result.end_reason == "host_reveal"


# -- finish during a story round ------------------------------------------------------


def test_finish_during_writing_archives_the_story_and_refuses_lines() -> None:
    room = make_room(MIX)
    assert flow.advance(room, MIX, T0) == "round_started"
    write_round(room, MIX, {RED: ["Before the end"]}, T0)
    writer = room.story.stories[BLUE].turn_player  # type: ignore[union-attr]
    assert writer is not None
    flow.finish(room, T0 + 10, MIX)
    assert room.phase == "finished" and room.story is None
    [archived] = room.story_archive
    assert archived.round_index == 0
    assert [line.text for line in archived.stories[RED].lines] == ["Before the end"]
    assert all(
        ts.turn_player is None and ts.turn_deadline_at is None for ts in archived.stories.values()
    )
    assert "Before the end" in exports.markdown_keepsake(room, MIX)

    before = dump(room)
    refused("no_story", lambda: flow.story_round(room, MIX))
    refused("not_writing", lambda: stories.submit_line(room, OFFICE, writer, "too late", T0 + 11))
    refused("no_story", lambda: stories.hide_line(room, RED, 0, True))
    refused("not_writing", lambda: stories.end_writing(room, T0 + 11))
    assert not flow.tick(room, MIX, T0 + 1000)
    assert flow.next_deadline(room, MIX, T0 + 11) is None
    assert dump(room) == before


def test_finish_during_voting_counts_the_open_votes_once() -> None:
    room = make_room(MIX)
    now = play_mix_to_second_story(room)
    red_before, blue_before = score(room, RED), score(room, BLUE)
    points_before = dict(room.story_points)
    now = write_round(room, MIX, SECOND, now)
    assert flow.advance(room, MIX, now + 1) == "story_revealed"
    assert flow.advance(room, MIX, now + 2) == "story_revealed"
    assert flow.advance(room, MIX, now + 3) == "voting_opened"
    # Two votes for Blue, one for Red; Blue1 has not voted.
    stories.vote(room, pid(room, "Red0"), BLUE, now + 4)
    stories.vote(room, pid(room, "Red1"), BLUE, now + 4)
    stories.vote(room, pid(room, "Blue0"), RED, now + 4)
    flow.finish(room, now + 5, MIX)

    per_vote, bonus = stories.POINTS_PER_VOTE, stories.TOP_STORY_BONUS
    assert room.phase == "finished" and room.story is None
    assert score(room, BLUE) == blue_before + 2 * per_vote + bonus
    assert score(room, RED) == red_before + per_vote
    assert room.story_points[BLUE] == points_before.get(BLUE, 0) + 2 * per_vote + bonus
    archived = room.story_archive[-1]
    assert archived.round_index == 2 and archived.stage == "results"
    assert archived.vote_counts == {RED: 1, BLUE: 2}
    assert [m.kind for m in room.moments][-3:] == ["votes_closed", "story_won", "game_finished"]
    assert room.moments[-3].text == "Night shift"

    # Nothing more is accepted, and nothing is counted twice.
    before = dump(room)
    refused("no_story", lambda: flow.story_round(room, MIX))
    refused("not_voting", lambda: stories.vote(room, pid(room, "Blue1"), RED, now + 6))
    refused("not_voting", lambda: stories.close_voting(room, NIGHT, now + 6))
    assert not flow.tick(room, MIX, now + 1000)
    assert dump(room) == before
    flow.finish(room, now + 7, MIX)
    assert score(room, BLUE) == blue_before + 2 * per_vote + bonus
    assert score(room, RED) == red_before + per_vote


def test_finish_during_voting_without_the_pack_counts_the_votes() -> None:
    room = make_room(MIX)
    assert flow.advance(room, MIX, T0) == "round_started"
    now = write_round(room, MIX, FIRST, T0)
    assert flow.advance(room, MIX, now + 1) == "story_revealed"
    assert flow.advance(room, MIX, now + 2) == "story_revealed"
    assert flow.advance(room, MIX, now + 3) == "voting_opened"
    stories.vote(room, pid(room, "Blue0"), RED, now + 4)
    flow.finish(room, now + 5)
    assert score(room, RED) == stories.POINTS_PER_VOTE + stories.TOP_STORY_BONUS
    assert room.story is None and room.story_archive[0].stage == "results"


def test_finish_during_the_reveal_archives_without_scoring() -> None:
    room = make_room(MIX)
    assert flow.advance(room, MIX, T0) == "round_started"
    now = write_round(room, MIX, FIRST, T0)
    assert flow.advance(room, MIX, now + 1) == "story_revealed"
    flow.finish(room, now + 2, MIX)
    assert room.story is None and room.story_archive[0].stage == "reveal"
    assert score(room, RED) == score(room, BLUE) == 0


# -- a fresh game ------------------------------------------------------------------------


def test_choose_pack_after_a_finished_game_starts_from_zero() -> None:
    room = make_room(MIX)
    play_mix_to_second_story(room)
    flow.finish(room, T0 + 500, MIX)
    assert score(room, RED) > 0 and room.players[pid(room, "Red0")].points > 0
    assert room.riddle_results and room.story_points and room.story_archive and room.moments

    flow.choose_pack(room, RIDDLES_FIRST.id)
    assert room.phase == "lobby" and room.round_index == -1 and room.pack_id == RIDDLES_FIRST.id
    assert all(
        t.score == 0 and t.last_scored_at == 0.0 and t.score_before_round_item == 0
        for t in room.teams
    )
    assert all(p.points == 0 for p in room.players.values())
    assert room.riddle_results == [] and room.story_points == {} and room.story_archive == []
    assert room.moments == [] and room.riddle is None and room.story is None
    assert len(room.players) == 4 and [t.name for t in room.teams] == ["Red", "Blue"]
    refused("no_story", lambda: exports.markdown_keepsake(room, RIDDLES_FIRST))
    assert flow.advance(room, RIDDLES_FIRST, T0 + 600) == "round_started"


def test_choose_pack_in_the_lobby_keeps_the_lobby_as_it_is() -> None:
    room = make_room(MIX)
    moments = list(room.moments)
    flow.choose_pack(room, RIDDLES_FIRST.id)
    assert room.moments == moments


def test_choose_pack_is_refused_during_the_game() -> None:
    room = make_room(MIX)
    assert flow.advance(room, MIX, T0) == "round_started"
    refused("game_in_progress", lambda: flow.choose_pack(room, RIDDLES_FIRST.id))
