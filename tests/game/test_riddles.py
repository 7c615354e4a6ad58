"""Riddle rounds as pure rules: no event loop, no store, ``now`` handed in.

The scoring formula under test (server/game/riddles.py, docs/packs.md):

    points = max(10% of P, round(P × (1 − 0.5 × t / T)) − hint costs)
           + 10% of P for the first team to solve
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from ritrovo.errors import RitrovoError
from ritrovo.game import flow, riddles, rooms, views
from ritrovo.game.models import Room
from ritrovo.game.pack import Hint, NearAnswer, Pack, Riddle, RiddleRound

T0 = 1_000_000.0

PIANO = Riddle(
    text="What has keys but can't open locks?",
    answers=("piano", "pianoforte"),
    time_limit=60,
    points=200,
    near=(NearAnswer(answers=("keyboard", "organ"), nudge="Close: which instrument?"),),
    hints=(
        Hint(text="It makes music.", after=10, cost=20),
        Hint(text="Grand or upright?", after=30, cost=150),
    ),
    explanation="Eighty-eight keys, not a single lock.",
)
COLOUR = Riddle(
    text="Which of these is not a primary colour of light?",
    answers=("Yellow",),
    time_limit=20,
    points=50,
    options=("Red", "Green", "Yellow", "Blue"),
    explanation="Light mixes red, green and blue.",
)
TOWEL = Riddle(
    text="What gets wetter the more it dries?", answers=("towel",), time_limit=30, points=100
)
SHADOW = Riddle(
    text="What follows you all day and hides at night?",
    answers=("shadow",),
    time_limit=30,
    points=100,
)

PACK = Pack(
    id="test-pack",
    title="Test pack",
    language="en",
    rounds=(
        RiddleRound(title="Warm-up", riddles=(PIANO, COLOUR, TOWEL)),
        RiddleRound(title="Encore", riddles=(SHADOW,)),
    ),
)

RED, GREEN, BLUE = "t1", "t2", "t3"


def make_room(*, teams: tuple[str, ...] = ("Red", "Green", "Blue"), per_team: int = 2) -> Room:
    """Teams t1, t2, ... each with ``per_team`` players named <Team><n>."""
    room = rooms.new_room("ABCDEF", "Offsite", "hosthash", T0 - 100, team_names=teams)
    room.pack_id = PACK.id
    for team in room.teams:
        for n in range(per_team):
            name = f"{team.name}{n}"
            rooms.join(room, name=name, team_id=team.id, token_hash="h-" + name, now=T0 - 50)
    return room


def pid(room: Room, name: str) -> str:
    return next(p.id for p in room.players.values() if p.name == name)


def started(pack: Pack = PACK, **kwargs: Any) -> Room:
    room = make_room(**kwargs)
    assert flow.advance(room, pack, T0) == "round_started"
    assert room.phase == "riddle" and room.riddle is not None
    return room


def guess(room: Room, name: str, text: str, at: float, pack: Pack = PACK) -> riddles.GuessOutcome:
    return riddles.guess(room, pack, pid(room, name), text, at)


def refused(code: str, call: Callable[[], object]) -> RitrovoError:
    with pytest.raises(RitrovoError) as err:
        call()
    assert err.value.code == code
    return err.value


def score(room: Room, team_id: str) -> int:
    team = room.team(team_id)
    assert team is not None
    return team.score


def points_of(room: Room, name: str) -> int:
    return room.players[pid(room, name)].points


def dump(room: Room) -> bytes:
    return orjson.dumps(room)


# -- the riddle as each audience sees it -----------------------------------


def test_round_start_shows_the_riddle_but_never_the_answer() -> None:
    room = started()
    state = room.riddle
    assert state is not None
    assert (state.round_index, state.riddle_index, state.stage) == (0, 0, "open")
    assert state.started_at == T0 and state.deadline_at == T0 + 60
    assert set(state.teams) == {RED, GREEN, BLUE}

    for role, player in (("screen", None), ("player", pid(room, "Red0"))):
        view = views.build(room, PACK, T0 + 1, role, player)  # type: ignore[arg-type]
        r = view["riddle"]
        assert view["server_time"] == T0 + 1 and view["phase"] == "riddle"
        assert r["text"] == PIANO.text and r["time_limit"] == 60 and r["points"] == 200
        assert r["deadline_at"] == T0 + 60 and r["remaining"] == 59 and r["paused"] is False
        assert [(h["after"], h["cost"], h["unlocked"]) for h in r["hints"]] == [
            (10, 20, False),
            (30, 150, False),
        ]
        assert all("text" not in h for h in r["hints"])
        raw = orjson.dumps(view).decode().lower()
        for secret in (*PIANO.answers, PIANO.explanation.lower(), "secret", "reveal"):
            assert secret not in raw, (role, secret)
    host = views.build(room, PACK, T0 + 1, "host")["riddle"]
    assert host["secret"] == {"answers": ["piano", "pianoforte"], "explanation": PIANO.explanation}
    assert [h["text"] for h in host["hints"]] == ["It makes music.", "Grand or upright?"]


# -- guesses ---------------------------------------------------------------


def test_wrong_near_and_correct_verdicts() -> None:
    room = started()
    assert guess(room, "Red0", "violin", T0 + 5) == riddles.GuessOutcome("wrong")
    near = guess(room, "Red1", "  KEYBOARD ", T0 + 6)
    assert near == riddles.GuessOutcome("near", nudge="Close: which instrument?")
    correct = guess(room, "Red0", "The pianno", T0 + 12)  # article dropped, one typo allowed
    assert correct.verdict == "correct"
    # t = 12 of 60: round(200 × 0.9) = 180, + 20 for the first solve.
    assert correct.points == 200
    attempt = room.riddle.teams[RED]  # type: ignore[union-attr]
    assert [(g.player_id, g.text, g.verdict, g.elapsed) for g in attempt.guesses] == [
        (pid(room, "Red0"), "violin", "wrong", 5.0),
        (pid(room, "Red1"), "KEYBOARD", "near", 6.0),
        (pid(room, "Red0"), "The pianno", "correct", 12.0),
    ]
    assert attempt.solved_by == pid(room, "Red0") and attempt.solved_at == T0 + 12
    assert (
        score(room, RED) == 200 and points_of(room, "Red0") == 200 and points_of(room, "Red1") == 0
    )
    # Nobody else was touched.
    assert room.riddle.teams[GREEN].guesses == [] and score(room, GREEN) == 0  # type: ignore[union-attr]
    assert room.riddle.stage == "open"  # type: ignore[union-attr]


def test_each_team_sees_its_own_guesses_and_the_host_sees_all() -> None:
    room = started()
    guess(room, "Red0", "harmonium", T0 + 3)
    guess(room, "Green1", "typewriter", T0 + 4)
    red_view = views.build(room, PACK, T0 + 5, "player", pid(room, "Red1"))
    rows = red_view["riddle"]["team"]["guesses"]
    assert [(r["player_name"], r["text"], r["verdict"]) for r in rows] == [
        ("Red0", "harmonium", "wrong")
    ]
    assert "typewriter" not in orjson.dumps(red_view).decode()
    green_view = views.build(room, PACK, T0 + 5, "player", pid(room, "Green0"))
    assert [r["text"] for r in green_view["riddle"]["team"]["guesses"]] == ["typewriter"]
    assert "harmonium" not in orjson.dumps(green_view).decode()
    screen = orjson.dumps(views.build(room, PACK, T0 + 5, "screen")).decode()
    assert "harmonium" not in screen and "typewriter" not in screen
    host = views.build(room, PACK, T0 + 5, "host")["riddle"]["guesses"]
    assert [r["text"] for r in host[RED]] == ["harmonium"]
    assert [r["text"] for r in host[GREEN]] == ["typewriter"]
    assert host[BLUE] == []
    # Players of one team share one view; teams do not.
    assert views.view_key(room, PACK, "player", pid(room, "Red0")) == views.view_key(
        room, PACK, "player", pid(room, "Red1")
    )
    assert views.view_key(room, PACK, "player", pid(room, "Red0")) != views.view_key(
        room, PACK, "player", pid(room, "Green0")
    )


def test_guess_rate_limit_counts_wrong_guesses_only() -> None:
    assert (riddles.GUESS_LIMIT, riddles.GUESS_WINDOW) == (5, 10.0)
    room = started()
    for i in range(4):
        assert guess(room, "Red0", f"wrong {i}", T0 + 1 + i * 0.1).verdict == "wrong"
    for _ in range(3):  # near answers do not count against the limit
        assert guess(room, "Red1", "organ", T0 + 2).verdict == "near"
    assert guess(room, "Red1", "wrong 4", T0 + 2.5).verdict == "wrong"  # the fifth wrong one
    before = dump(room)
    # A sixth wrong guess inside the window is refused, whoever in the team sends it.
    refused("guess_rate_limited", lambda: guess(room, "Red0", "wrong 5", T0 + 3))
    refused("guess_rate_limited", lambda: guess(room, "Red1", "piano", T0 + 3))
    assert dump(room) == before
    # Other teams are not affected.
    assert guess(room, "Green0", "bad", T0 + 3).verdict == "wrong"
    # Once the first wrong guess (at T0 + 1) is 10 s old, one more fits.
    refused("guess_rate_limited", lambda: guess(room, "Red0", "wrong 5", T0 + 10.99))
    assert guess(room, "Red0", "wrong 5", T0 + 11).verdict == "wrong"
    refused("guess_rate_limited", lambda: guess(room, "Red0", "wrong 6", T0 + 11.05))


def test_too_late_after_the_deadline() -> None:
    room = started()
    assert guess(room, "Red0", "flute", T0 + 59.9).verdict == "wrong"
    before = dump(room)
    # The timer has not fired yet, but the server's deadline has passed.
    refused("too_late", lambda: guess(room, "Green0", "piano", T0 + 60))
    assert dump(room) == before
    assert riddles.tick(room, PACK, T0 + 60.05)
    # After the timeout reveal a guess is still "too late".
    refused("too_late", lambda: guess(room, "Green0", "piano", T0 + 61))


def test_already_solved_team_is_refused() -> None:
    room = started()
    assert guess(room, "Red0", "piano", T0 + 20).verdict == "correct"
    before = dump(room)
    refused("already_solved", lambda: guess(room, "Red1", "pianoforte", T0 + 21))
    refused("already_solved", lambda: guess(room, "Red0", "nope", T0 + 21))
    refused("already_solved", lambda: riddles.open_hint(room, PACK, pid(room, "Red1"), T0 + 40))
    assert dump(room) == before


def test_invalid_guess_texts_are_refused() -> None:
    room = started()
    before = dump(room)
    refused("empty_guess", lambda: guess(room, "Red0", "   ", T0 + 1))
    refused("guess_too_long", lambda: guess(room, "Red0", "x" * 201, T0 + 1))
    refused("invalid_field", lambda: riddles.guess(room, PACK, pid(room, "Red0"), 42, T0 + 1))
    refused("player_not_found", lambda: riddles.guess(room, PACK, "p999", "piano", T0 + 1))
    assert dump(room) == before


# -- hints -----------------------------------------------------------------


def test_hints_unlock_in_riddle_time_and_cost_points() -> None:
    room = started()
    red0 = pid(room, "Red0")
    refused("hint_locked", lambda: riddles.open_hint(room, PACK, red0, T0 + 9.9))
    assert riddles.unlocked_hints(room.riddle, PIANO, T0 + 9.9) == 0  # type: ignore[arg-type]
    assert riddles.unlocked_hints(room.riddle, PIANO, T0 + 10) == 1  # type: ignore[arg-type]
    assert riddles.open_hint(room, PACK, red0, T0 + 10) == 0
    refused("hint_locked", lambda: riddles.open_hint(room, PACK, red0, T0 + 29))
    # A pause does not count: 10 s paused, so hint 2 unlocks at T0 + 40.
    riddles.pause(room, T0 + 20)
    riddles.resume(room, T0 + 30)
    refused("hint_locked", lambda: riddles.open_hint(room, PACK, red0, T0 + 39.9))
    assert riddles.open_hint(room, PACK, pid(room, "Red1"), T0 + 40) == 1
    refused("no_more_hints", lambda: riddles.open_hint(room, PACK, red0, T0 + 41))
    assert room.riddle.teams[RED].hints_opened == 2  # type: ignore[union-attr]
    assert room.riddle.teams[GREEN].hints_opened == 0  # type: ignore[union-attr]

    # Only the team that opened a hint (and the host) reads it.
    red_hints = views.build(room, PACK, T0 + 41, "player", red0)["riddle"]["hints"]
    assert [h.get("text") for h in red_hints] == ["It makes music.", "Grand or upright?"]
    green_hints = views.build(room, PACK, T0 + 41, "player", pid(room, "Green0"))["riddle"]["hints"]
    assert [h["unlocked"] for h in green_hints] == [True, True]
    assert all("text" not in h for h in green_hints)
    assert all(
        "text" not in h for h in views.build(room, PACK, T0 + 41, "screen")["riddle"]["hints"]
    )

    # Hints cost nothing until the team solves: then the formula takes them off,
    # never below 10% of P. t = 40 - 10 (paused) = 30 of 60:
    # max(20, round(200 × 0.75) − 170) = 20, + 20 first-solver bonus = 40.
    assert score(room, RED) == 0
    outcome = guess(room, "Red0", "piano", T0 + 40)
    assert outcome.points == 40 and score(room, RED) == 40
    # Green, one hint, t = 31: round(200 × (1 − 0.5 × 31/60)) = round(148.33) = 148, − 20 = 128.
    assert riddles.open_hint(room, PACK, pid(room, "Green0"), T0 + 41) == 0
    assert guess(room, "Green1", "piano", T0 + 41).points == 128


# -- scoring -----------------------------------------------------------------


def test_scoring_formula_with_exact_numbers() -> None:
    room = started()
    # Red, hint 1 opened, t = 15: round(200 × 0.875) = 175, − 20 = 155, + 20 first = 175.
    riddles.open_hint(room, PACK, pid(room, "Red1"), T0 + 10)
    assert guess(room, "Red0", "piano", T0 + 15).points == 175
    # Green, no hints, t = 30: round(200 × 0.75) = 150.
    assert guess(room, "Green1", "pianoforte", T0 + 30).points == 150
    # Blue, both hints, t = 59: round(200 × (1 − 0.5 × 59/60)) = 102, − 170 < 20: min share 20.
    riddles.open_hint(room, PACK, pid(room, "Blue0"), T0 + 30)
    riddles.open_hint(room, PACK, pid(room, "Blue0"), T0 + 30)
    assert guess(room, "Blue0", "piano", T0 + 59).points == 20

    assert (score(room, RED), score(room, GREEN), score(room, BLUE)) == (175, 150, 20)
    assert (points_of(room, "Red0"), points_of(room, "Red1")) == (175, 0)
    assert (points_of(room, "Green0"), points_of(room, "Green1")) == (0, 150)
    # Every team solved: the riddle ended at once.
    state = room.riddle
    assert state is not None
    assert (state.stage, state.end_reason, state.ended_at) == ("revealed", "all_solved", T0 + 59)

    board = views.scoreboard(room, T0 + 60, host=False)
    assert [(row["name"], row["score"], row["rank"], row["delta"]) for row in board] == [
        ("Red", 175, 1, 175),
        ("Green", 150, 2, 150),
        ("Blue", 20, 3, 20),
    ]
    assert [(p["name"], p["points"]) for p in board[0]["players"]] == [("Red0", 175), ("Red1", 0)]

    reveal = views.build(room, PACK, T0 + 60, "screen")["riddle"]["reveal"]
    assert reveal["answer"] == "piano" and reveal["explanation"] == PIANO.explanation
    assert reveal["end_reason"] == "all_solved" and reveal["spread"] == []
    assert [
        (s["team_id"], s["player_id"], s["elapsed"], s["points"]) for s in reveal["solvers"]
    ] == [
        (RED, pid(room, "Red0"), 15.0, 175),
        (GREEN, pid(room, "Green1"), 30.0, 150),
        (BLUE, pid(room, "Blue0"), 59.0, 20),
    ]
    # After the reveal everybody may read the hints.
    assert all("text" in h for h in views.build(room, PACK, T0 + 60, "screen")["riddle"]["hints"])

    # The next riddle: the deltas start again from zero, the totals stay.
    assert flow.advance(room, PACK, T0 + 70) == "riddle_started"
    board = views.scoreboard(room, T0 + 70, host=False)
    assert [(row["score"], row["delta"]) for row in board] == [(175, 0), (150, 0), (20, 0)]
    assert room.riddle_results[0].points == {RED: 175, GREEN: 150, BLUE: 20}
    assert room.riddle_results[0].solved_elapsed == {RED: 15.0, GREEN: 30.0, BLUE: 59.0}


def test_an_extension_lengthens_T() -> None:
    room = started()
    riddles.extend(room, 30, T0 + 50)  # T = 90
    # t = 60 of 90: round(200 × (1 − 0.5 × 60/90)) = round(133.33) = 133, + 20 first.
    assert guess(room, "Red0", "piano", T0 + 60).points == 153
    # t = 89.5 of 90, no hints: round(200 × 0.50278) = 101.
    assert guess(room, "Green0", "piano", T0 + 89.5).points == 101


def test_equal_scores_are_ranked_by_who_got_there_first() -> None:
    pack = Pack(id="ties", title="Ties", language="en", rounds=(RiddleRound("R", (TOWEL, SHADOW)),))
    room = started(pack)
    # Riddle 1: Green solves at t = 15 of 30: round(100 × 0.75) = 75, + 10 first = 85.
    assert guess(room, "Green0", "towel", T0 + 15, pack).points == 85
    riddles.reveal(room, pack, T0 + 20)
    flow.advance(room, pack, T0 + 30)
    # Riddle 2: Red the same, later: 85 too.
    assert guess(room, "Red0", "shadow", T0 + 45, pack).points == 85
    assert score(room, RED) == score(room, GREEN) == 85
    board = views.scoreboard(room, T0 + 50, host=False)
    assert [(row["name"], row["rank"]) for row in board] == [("Green", 1), ("Red", 2), ("Blue", 3)]
    # Blue, with 0, is last even though its last_scored_at is the oldest.
    assert room.team(BLUE).last_scored_at == 0.0  # type: ignore[union-attr]


# -- the clock: pause, resume, extend, timeout ------------------------------


def test_pause_resume_and_extend_arithmetic() -> None:
    room = started()
    state = room.riddle
    assert state is not None
    riddles.pause(room, T0 + 20)
    assert state.paused_remaining == 40
    assert riddles.remaining(state, T0 + 500) == 40
    assert riddles.elapsed(state, PIANO, T0 + 500) == 20
    view = views.build(room, PACK, T0 + 25, "screen")["riddle"]
    assert view["paused"] is True and view["remaining"] == 40
    refused("paused", lambda: guess(room, "Red0", "piano", T0 + 25))
    refused("already_paused", lambda: riddles.pause(room, T0 + 26))
    assert not riddles.tick(room, PACK, T0 + 1000)  # no timeout while paused
    riddles.extend(room, 15, T0 + 80)  # extended while paused
    assert state.paused_remaining == 55 and state.extra_seconds == 15

    riddles.resume(room, T0 + 100)
    assert state.paused_remaining is None and state.deadline_at == T0 + 155
    refused("not_paused", lambda: riddles.resume(room, T0 + 101))
    assert riddles.elapsed(state, PIANO, T0 + 110) == 30
    riddles.extend(room, 5, T0 + 110)  # extended while running
    assert state.deadline_at == T0 + 160 and state.extra_seconds == 20
    assert riddles.remaining(state, T0 + 110) == 50
    assert riddles.elapsed(state, PIANO, T0 + 110) == 30
    view = views.build(room, PACK, T0 + 110, "screen")["riddle"]
    assert view["time_limit"] == 80 and view["deadline_at"] == T0 + 160 and view["remaining"] == 50

    before = dump(room)
    for bad in (0, -1, 601, True, 1.5, "5", None):
        refused("invalid_field", lambda bad=bad: riddles.extend(room, bad, T0 + 111))
    assert dump(room) == before

    # Guess at t = 35 of T = 80: round(200 × (1 − 0.5 × 35/80)) = round(156.25) = 156, + 20.
    assert guess(room, "Red0", "piano", T0 + 115).points == 176
    assert not riddles.tick(room, PACK, T0 + 159.99)
    assert riddles.tick(room, PACK, T0 + 160.3)
    assert (state.stage, state.end_reason, state.ended_at) == ("revealed", "timeout", T0 + 160)


def test_a_riddle_whose_time_is_up_cannot_be_paused_or_extended() -> None:
    # Due but not yet fired (the timer polls): a pause would freeze it at zero
    # and leave it waiting for the host; the same rule as "Who's who" (game/clock.py).
    room = started()
    state = room.riddle
    assert state is not None
    before = dump(room)
    refused("too_late", lambda: riddles.pause(room, state.deadline_at))
    refused("too_late", lambda: riddles.extend(room, 30, state.deadline_at + 0.05))
    assert dump(room) == before
    riddles.pause(room, state.deadline_at - 1)  # a second left: paused with it
    assert state.paused_remaining == 1


def test_timeout_reveals_via_tick() -> None:
    room = started()
    guess(room, "Red0", "piano", T0 + 30)
    assert not riddles.tick(room, PACK, T0 + 59.999)
    assert not flow.tick(room, PACK, T0 + 59.999)
    assert flow.tick(room, PACK, T0 + 60.02)
    state = room.riddle
    assert state is not None
    # Ended at the deadline, not when the timer happened to run.
    assert (state.stage, state.end_reason, state.ended_at, state.advance_at) == (
        "revealed",
        "timeout",
        T0 + 60,
        None,
    )
    assert not flow.tick(room, PACK, T0 + 61)  # fires once
    assert room.riddle_results[-1].end_reason == "timeout"
    assert room.riddle_results[-1].points == {RED: 170, GREEN: 0, BLUE: 0}
    refused("no_open_riddle", lambda: riddles.pause(room, T0 + 62))
    refused("no_open_riddle", lambda: riddles.reveal(room, PACK, T0 + 62))
    refused("no_open_riddle", lambda: riddles.skip(room, PACK, T0 + 62))


def test_riddle_ends_when_every_team_solved() -> None:
    room = started()
    guess(room, "Red0", "piano", T0 + 10)
    guess(room, "Green0", "piano", T0 + 11)
    assert room.riddle.stage == "open"  # type: ignore[union-attr]
    guess(room, "Blue1", "piano", T0 + 12)
    assert room.riddle.stage == "revealed"  # type: ignore[union-attr]
    assert room.riddle.end_reason == "all_solved"  # type: ignore[union-attr]
    refused("riddle_closed", lambda: guess(room, "Blue0", "piano", T0 + 13))


def test_a_team_without_players_does_not_hold_the_riddle_open() -> None:
    room = make_room(teams=("Red", "Green"), per_team=1)
    rooms.create_team(room, "Nobody")  # an empty team, e.g. a default one left unused
    flow.advance(room, PACK, T0)
    guess(room, "Red0", "piano", T0 + 10)
    guess(room, "Green0", "piano", T0 + 20)
    assert room.riddle.stage == "revealed"  # type: ignore[union-attr]
    assert room.riddle.end_reason == "all_solved"  # type: ignore[union-attr]


def test_host_reveals_early() -> None:
    room = started()
    guess(room, "Red0", "piano", T0 + 10)
    riddles.pause(room, T0 + 20)
    riddles.reveal(room, PACK, T0 + 25)
    state = room.riddle
    assert state is not None
    assert (state.stage, state.end_reason, state.ended_at, state.paused_remaining) == (
        "revealed",
        "host_reveal",
        T0 + 25,
        None,
    )
    assert score(room, RED) == 203  # round(200 × (1 − 0.5 × 10/60)) = 183, + 20
    view = views.build(room, PACK, T0 + 26, "player", pid(room, "Green0"))["riddle"]
    assert view["reveal"]["answer"] == "piano"
    # After the reveal, guesses are refused and nothing can be paused.
    refused("riddle_closed", lambda: guess(room, "Green0", "piano", T0 + 26))
    refused("no_open_riddle", lambda: riddles.resume(room, T0 + 26))


def test_skip_ends_without_scoring() -> None:
    room = started()
    guess(room, "Red0", "piano", T0 + 10)
    guess(room, "Green1", "piano", T0 + 20)
    assert score(room, RED) == 203 and points_of(room, "Red0") == 203
    riddles.skip(room, PACK, T0 + 30)
    state = room.riddle
    assert state is not None
    assert (state.stage, state.end_reason) == ("revealed", "skipped")
    assert score(room, RED) == score(room, GREEN) == 0
    # The players' contributions go with the team's points.
    assert points_of(room, "Red0") == points_of(room, "Green1") == 0
    assert sum(p.points for p in room.players.values()) == 0
    assert room.riddle_results[-1].points == {RED: 0, GREEN: 0, BLUE: 0}
    assert room.riddle_results[-1].end_reason == "skipped"
    # A skipped riddle stays unscored: the host cannot credit it afterwards.
    before = dump(room)
    refused("riddle_skipped", lambda: riddles.accept_guess(room, PACK, GREEN, 0, T0 + 31))
    assert dump(room) == before


# -- the host's corrections -------------------------------------------------


def test_accept_guess_credits_as_of_the_guess_and_moves_the_bonus() -> None:
    room = started()
    # Green0 has it right in spirit at t = 5, but the matcher says wrong.
    assert guess(room, "Green0", "grand pianola", T0 + 5).verdict == "wrong"
    # Red solves at t = 20: round(200 × (1 − 0.5 × 20/60)) = 167, + 20 first = 187.
    assert guess(room, "Red0", "piano", T0 + 20).points == 187
    # Green1 solves at t = 40: round(200 × (1 − 0.5 × 40/60)) = 133.
    assert guess(room, "Green1", "piano", T0 + 40).points == 133
    assert (score(room, RED), score(room, GREEN)) == (187, 133)

    riddles.accept_guess(room, PACK, GREEN, 0, T0 + 45)
    attempt = room.riddle.teams[GREEN]  # type: ignore[union-attr]
    accepted = attempt.guesses[0]
    assert accepted.verdict == "correct" and accepted.accepted_by_host
    assert (attempt.solved_at, attempt.solved_elapsed, attempt.solved_by) == (
        T0 + 5,
        5.0,
        pid(room, "Green0"),
    )
    # Green now solved first, at t = 5: round(200 × (1 − 0.5 × 5/60)) = 192, + 20 = 212.
    # Red loses the first-solver bonus: 167.
    assert (score(room, RED), score(room, GREEN), score(room, BLUE)) == (167, 212, 0)
    assert attempt.points == 212 and room.riddle.teams[RED].points == 167  # type: ignore[union-attr]
    # The credit goes to the player whose guess was accepted, and only to them.
    assert (points_of(room, "Green0"), points_of(room, "Green1")) == (212, 0)
    assert points_of(room, "Red0") == 167
    assert room.team(GREEN).last_scored_at == T0 + 5  # type: ignore[union-attr]
    board = views.scoreboard(room, T0 + 46, host=True)
    assert [(row["name"], row["score"], row["rank"]) for row in board] == [
        ("Green", 212, 1),
        ("Red", 167, 2),
        ("Blue", 0, 3),
    ]
    host_rows = views.build(room, PACK, T0 + 46, "host")["riddle"]["guesses"][GREEN]
    assert host_rows[0]["accepted_by_host"] is True and host_rows[0]["verdict"] == "correct"
    assert any(m.kind == "guess_accepted" and m.team_id == GREEN for m in room.moments)

    # A later guess than the team's solve cannot be accepted; bad ids are refused.
    before = dump(room)
    refused("already_solved", lambda: riddles.accept_guess(room, PACK, GREEN, 1, T0 + 47))
    refused("team_not_found", lambda: riddles.accept_guess(room, PACK, "t99", 0, T0 + 47))
    refused("guess_not_found", lambda: riddles.accept_guess(room, PACK, BLUE, 0, T0 + 47))
    refused("guess_not_found", lambda: riddles.accept_guess(room, PACK, RED, 5, T0 + 47))
    refused("guess_not_found", lambda: riddles.accept_guess(room, PACK, RED, True, T0 + 47))
    refused("guess_not_found", lambda: riddles.accept_guess(room, PACK, RED, -1, T0 + 47))
    assert dump(room) == before


def test_accept_guess_after_the_reveal_updates_the_results() -> None:
    room = started()
    guess(room, "Blue0", "keyboard", T0 + 8)  # near
    guess(room, "Red0", "piano", T0 + 30)  # 150 + 20
    assert not riddles.tick(room, PACK, T0 + 59)
    assert riddles.tick(room, PACK, T0 + 60)
    assert room.riddle_results[-1].points == {RED: 170, GREEN: 0, BLUE: 0}
    riddles.accept_guess(room, PACK, BLUE, 0, T0 + 70)
    # Blue at t = 8: round(200 × (1 − 0.5 × 8/60)) = round(186.67) = 187, + 20; Red 150.
    assert (score(room, RED), score(room, BLUE)) == (150, 207)
    assert room.riddle_results[-1].points == {RED: 150, GREEN: 0, BLUE: 207}
    assert room.riddle_results[-1].solved_by[BLUE] == pid(room, "Blue0")
    assert len(room.riddle_results) == 1
    reveal = views.build(room, PACK, T0 + 71, "screen")["riddle"]["reveal"]
    assert [(s["team_id"], s["points"]) for s in reveal["solvers"]] == [(BLUE, 207), (RED, 150)]


def test_accepting_the_last_unsolved_team_ends_the_riddle() -> None:
    room = started(teams=("Red", "Green"), per_team=1)
    guess(room, "Red0", "piano", T0 + 10)
    guess(room, "Green0", "pianist", T0 + 12)
    riddles.accept_guess(room, PACK, GREEN, 0, T0 + 14)
    assert room.riddle.stage == "revealed"  # type: ignore[union-attr]
    assert room.riddle.end_reason == "all_solved"  # type: ignore[union-attr]


def test_extension_counts_the_same_for_every_solve() -> None:
    """T includes any extension: a team's points must not depend on whether
    another team happened to solve after the host extended the time."""

    def play(other_team_solves: bool) -> int:
        room = started(teams=("Red", "Green"), per_team=1)
        guess(room, "Red0", "piano", T0 + 30)
        riddles.extend(room, 60, T0 + 40)
        if other_team_solves:
            guess(room, "Green0", "piano", T0 + 90)
        else:
            assert riddles.tick(room, PACK, T0 + 120)
        assert room.riddle.stage == "revealed"  # type: ignore[union-attr]
        return score(room, RED)

    # t = 30 of T = 120: round(200 × 0.875) = 175, + 20 first.
    assert play(True) == play(False) == 195


# -- multiple choice ---------------------------------------------------------


def test_multiple_choice_one_answer_per_team_and_spread() -> None:
    room = started()
    riddles.reveal(room, PACK, T0 + 1)
    flow.advance(room, PACK, T0 + 10)
    assert room.riddle.riddle_index == 1  # type: ignore[union-attr]
    options = views.build(room, PACK, T0 + 10, "screen")["riddle"]["options"]
    assert options == ["Red", "Green", "Yellow", "Blue"]

    before = dump(room)
    refused("not_an_option", lambda: guess(room, "Blue0", "purple", T0 + 11))
    refused("not_an_option", lambda: guess(room, "Blue0", "5", T0 + 11))
    assert dump(room) == before
    # By letter: "c" is Yellow. t = 4 of 20: round(50 × 0.9) = 45, + 5 first.
    assert guess(room, "Red1", "c", T0 + 14).points == 50
    assert guess(room, "Green0", "Blue", T0 + 15).verdict == "wrong"
    assert room.riddle.teams[GREEN].locked_out  # type: ignore[union-attr]
    before = dump(room)
    refused("no_more_guesses", lambda: guess(room, "Green1", "yellow", T0 + 16))
    assert dump(room) == before
    assert guess(room, "Blue0", "2", T0 + 16).verdict == "wrong"  # by number: Green
    view = views.build(room, PACK, T0 + 16, "player", pid(room, "Green1"))["riddle"]
    assert view["team"]["locked_out"] is True
    # Every team has solved or used its answer: the riddle ends without waiting.
    assert room.riddle.stage == "revealed"  # type: ignore[union-attr]
    assert room.riddle.end_reason == "all_answered"  # type: ignore[union-attr]
    reveal = views.build(room, PACK, T0 + 17, "screen")["riddle"]["reveal"]
    assert reveal["answer"] == "Yellow" and reveal["explanation"] == COLOUR.explanation
    assert reveal["spread"] == [0, 1, 1, 1]  # Red, Green, Yellow, Blue


def test_multiple_choice_host_can_accept_a_locked_out_answer() -> None:
    room = started()
    riddles.reveal(room, PACK, T0 + 1)
    flow.advance(room, PACK, T0 + 10)
    guess(room, "Green0", "Blue", T0 + 12)
    riddles.accept_guess(room, PACK, GREEN, 0, T0 + 13)
    attempt = room.riddle.teams[GREEN]  # type: ignore[union-attr]
    assert not attempt.locked_out and attempt.solved_elapsed == 2
    # t = 2 of 20: round(50 × 0.95) = round(47.5) = 48 (half to even), + 5 first.
    assert attempt.points == 53


# -- deadlines and progression ----------------------------------------------


def test_next_deadline_includes_hint_unlocks() -> None:
    room = started()
    assert riddles.next_deadline(room, PACK, T0) == T0 + 10
    assert flow.next_deadline(room, PACK, T0) == T0 + 10
    assert riddles.next_deadline(room, PACK, T0 + 10) == T0 + 30
    assert riddles.next_deadline(room, PACK, T0 + 30) == T0 + 60
    # A pause moves every unlock: paused, nothing is due.
    riddles.pause(room, T0 + 5)
    assert riddles.next_deadline(room, PACK, T0 + 6) is None
    riddles.resume(room, T0 + 105)  # 5 s used, 55 left
    assert riddles.next_deadline(room, PACK, T0 + 105) == T0 + 110
    assert riddles.next_deadline(room, PACK, T0 + 111) == T0 + 130
    assert riddles.next_deadline(room, PACK, T0 + 131) == T0 + 160
    # The timer wakes at an unlock: nothing ends, the view just unlocks the hint.
    assert not flow.tick(room, PACK, T0 + 110)
    assert views.build(room, PACK, T0 + 110, "screen")["riddle"]["hints"][0]["unlocked"] is True
    riddles.reveal(room, PACK, T0 + 140)
    assert riddles.next_deadline(room, PACK, T0 + 140) is None


def test_auto_advance_starts_the_next_riddle() -> None:
    room = started()
    room.auto_advance = True
    guess(room, "Red0", "piano", T0 + 10)
    assert riddles.tick(room, PACK, T0 + 60)
    state = room.riddle
    assert state is not None and state.advance_at == T0 + 60 + riddles.AUTO_ADVANCE_SECONDS
    assert flow.next_deadline(room, PACK, T0 + 61) == T0 + 68
    assert not flow.tick(room, PACK, T0 + 67.9)
    assert flow.tick(room, PACK, T0 + 68)
    assert room.riddle is not None and room.riddle.riddle_index == 1 and room.riddle.stage == "open"
    assert room.riddle.started_at == T0 + 68 and room.riddle.deadline_at == T0 + 88


def test_host_next_walks_riddles_rounds_and_the_end() -> None:
    room = make_room()
    refused("no_pack", lambda: flow.advance(room, None, T0))
    assert flow.advance(room, PACK, T0) == "round_started"
    refused("riddle_open", lambda: flow.advance(room, PACK, T0 + 1))
    riddles.reveal(room, PACK, T0 + 2)
    assert flow.advance(room, PACK, T0 + 3) == "riddle_started"
    riddles.skip(room, PACK, T0 + 4)
    assert flow.advance(room, PACK, T0 + 5) == "riddle_started"
    assert room.riddle.riddle_index == 2  # type: ignore[union-attr]
    riddles.reveal(room, PACK, T0 + 6)
    assert flow.advance(room, PACK, T0 + 7) == "round_ended"
    assert room.phase == "between_rounds" and room.riddle is None
    refused("no_riddle", lambda: guess(room, "Red0", "towel", T0 + 8))
    assert flow.advance(room, PACK, T0 + 9) == "round_started"
    encore = room.riddle
    assert encore is not None and (room.round_index, encore.round_index, encore.riddle_index) == (
        1,
        1,
        0,
    )
    riddles.reveal(room, PACK, T0 + 10)
    assert flow.advance(room, PACK, T0 + 11) == "round_ended"
    assert room.phase == "finished"
    refused("game_over", lambda: flow.advance(room, PACK, T0 + 12))


def test_finishing_mid_riddle_stops_guesses() -> None:
    room = started()
    flow.finish(room, T0 + 5)
    assert room.phase == "finished"
    before = dump(room)
    refused("no_riddle", lambda: guess(room, "Red0", "piano", T0 + 6))
    refused("no_riddle", lambda: riddles.open_hint(room, PACK, pid(room, "Red0"), T0 + 20))
    refused("no_riddle", lambda: riddles.accept_guess(room, PACK, RED, 0, T0 + 20))
    refused("no_open_riddle", lambda: riddles.pause(room, T0 + 20))
    refused("no_open_riddle", lambda: riddles.extend(room, 10, T0 + 20))
    assert dump(room) == before
    assert score(room, RED) == 0


# -- refused actions change nothing ------------------------------------------


def test_refused_actions_change_nothing() -> None:
    room = started()
    riddles.open_hint(room, PACK, pid(room, "Green0"), T0 + 10)
    guess(room, "Green0", "piano", T0 + 11)
    for i in range(5):
        guess(room, "Blue0", f"nope {i}", T0 + 12)
    # A team created mid-riddle has no attempt yet: a refused action must not create one.
    late = rooms.create_team(room, "Late")
    rooms.join(room, name="Latecomer", team_id=late.id, token_hash="h-late", now=T0 + 12)

    cases: list[tuple[str, Callable[[], object]]] = [
        ("already_solved", lambda: guess(room, "Green1", "piano", T0 + 13)),
        ("guess_rate_limited", lambda: guess(room, "Blue1", "piano", T0 + 13)),
        ("hint_locked", lambda: riddles.open_hint(room, PACK, pid(room, "Red0"), T0 + 9)),
        ("hint_locked", lambda: riddles.open_hint(room, PACK, pid(room, "Latecomer"), T0 + 9)),
        ("empty_guess", lambda: guess(room, "Latecomer", "", T0 + 13)),
        ("too_late", lambda: guess(room, "Latecomer", "piano", T0 + 60)),
        ("too_late", lambda: guess(room, "Red0", "piano", T0 + 61)),
        ("not_paused", lambda: riddles.resume(room, T0 + 13)),
        ("invalid_field", lambda: riddles.extend(room, 0, T0 + 13)),
        ("already_solved", lambda: riddles.accept_guess(room, PACK, GREEN, 0, T0 + 13)),
        ("guess_not_found", lambda: riddles.accept_guess(room, PACK, RED, 0, T0 + 13)),
        ("team_not_found", lambda: riddles.accept_guess(room, PACK, late.id, 0, T0 + 13)),
        ("riddle_open", lambda: riddles.next_riddle(room, PACK, T0 + 13)),
        ("riddle_open", lambda: flow.advance(room, PACK, T0 + 13)),
        ("no_riddle", lambda: guess(room, "Red0", "piano", T0 + 13, None)),  # type: ignore[arg-type]
    ]
    for code, call in cases:
        before = dump(room)
        refused(code, call)
        assert dump(room) == before, code

    riddles.pause(room, T0 + 20)
    for code, call in [
        ("paused", lambda: guess(room, "Red0", "piano", T0 + 21)),
        ("already_paused", lambda: riddles.pause(room, T0 + 21)),
    ]:
        before = dump(room)
        refused(code, call)
        assert dump(room) == before, code
    riddles.resume(room, T0 + 22)
    riddles.reveal(room, PACK, T0 + 23)
    for code, call in [
        ("riddle_closed", lambda: guess(room, "Red0", "piano", T0 + 24)),
        ("riddle_closed", lambda: riddles.open_hint(room, PACK, pid(room, "Red0"), T0 + 24)),
        ("no_open_riddle", lambda: riddles.pause(room, T0 + 24)),
        ("no_open_riddle", lambda: riddles.extend(room, 10, T0 + 24)),
        ("no_open_riddle", lambda: riddles.reveal(room, PACK, T0 + 24)),
        ("no_open_riddle", lambda: riddles.skip(room, PACK, T0 + 24)),
    ]:
        before = dump(room)
        refused(code, call)
        assert dump(room) == before, code


def test_riddle_ends_when_the_last_team_still_playing_leaves() -> None:
    room = started()
    for name in ("Red0", "Red1"):
        assert guess(room, name, "nope", T0 + 2).verdict == "wrong"
    state = room.riddle
    assert state is not None and state.stage == "open"
    # Only one team has not solved: it solves, the rest leave.
    solvers = [p.id for p in room.players.values() if p.team_id == GREEN]
    answer = PACK.rounds[0].riddles[0].answers[0]  # type: ignore[union-attr]
    assert guess(room, room.players[solvers[0]].name, answer, T0 + 3).verdict == "correct"
    for p in list(room.players.values()):
        if p.team_id != GREEN:
            rooms.leave(room, p.id, T0 + 4)
    assert flow.tick(room, PACK, T0 + 5)
    # mypy keeps the narrowing to "open" across tick(), which revealed the riddle
    assert state.stage == "revealed" and state.end_reason == "all_solved"  # type: ignore[comparison-overlap]


def test_near_answers_are_limited_too() -> None:
    room = started()
    near = PACK.rounds[0].riddles[0].near[0].answers[0]  # type: ignore[union-attr]
    for i in range(riddles.NEAR_GUESS_LIMIT):
        assert guess(room, "Red0", near, T0 + 1 + i * 0.01).verdict == "near"
    refused("guess_rate_limited", lambda: guess(room, "Red0", near, T0 + 1.5))


def test_solvers_are_listed_by_exact_time_and_the_first_is_named() -> None:
    # Blue solves 0.004 s before Red: both elapsed round to 15.0, and the view
    # used to break that tie by team order, listing Red (no bonus) first.
    room = started()
    assert guess(room, "Blue0", "piano", T0 + 15.0).points == 175 + 20  # the bonus
    assert guess(room, "Red0", "piano", T0 + 15.004).points == 175
    assert guess(room, "Green0", "piano", T0 + 20).points == 167
    reveal = views.build(room, PACK, T0 + 21, "screen")["riddle"]["reveal"]
    assert [(s["team_id"], s["elapsed"], s["points"]) for s in reveal["solvers"]] == [
        (BLUE, 15.0, 195),
        (RED, 15.0, 175),
        (GREEN, 20.0, 167),
    ]
    assert reveal["first_solver"] == BLUE


def test_solvers_at_the_same_instant_keep_team_order() -> None:
    room = started()
    for name in ("Blue0", "Green0", "Red0"):
        guess(room, name, "piano", T0 + 15.0)
    reveal = views.build(room, PACK, T0 + 21, "screen")["riddle"]["reveal"]
    assert [s["team_id"] for s in reveal["solvers"]] == [RED, GREEN, BLUE]
    assert reveal["first_solver"] == RED
    assert [s["points"] for s in reveal["solvers"]] == [195, 175, 175]


def test_first_solver_is_null_when_nobody_solved() -> None:
    room = started()
    riddles.reveal(room, PACK, T0 + 5)
    reveal = views.build(room, PACK, T0 + 6, "screen")["riddle"]["reveal"]
    assert reveal["solvers"] == [] and reveal["first_solver"] is None


def test_a_guess_refused_by_the_near_limit_changes_nothing() -> None:
    room = started()
    # "plano" is one edit from "piano" but another word: near, not correct,
    # and counted with the near answers (not against the wrong-guess limit).
    assert guess(room, "Red0", "plano", T0 + 1) == riddles.GuessOutcome("near")
    for i in range(1, riddles.NEAR_GUESS_LIMIT):
        assert guess(room, "Red0", "organ", T0 + 1 + i * 0.01).verdict == "near"
    before = dump(room)
    refused("guess_rate_limited", lambda: guess(room, "Red1", "plano", T0 + 2))
    refused("guess_rate_limited", lambda: guess(room, "Red1", "piano", T0 + 2))
    assert dump(room) == before
    # Ten seconds after the first near guesses, the team may guess again.
    assert guess(room, "Red1", "piano", T0 + 11.5).verdict == "correct"


def test_a_guess_refused_by_the_riddle_cap_changes_nothing() -> None:
    room = started()
    # 100 guesses spread so that no 10-second window limit is reached
    for i in range(riddles.MAX_GUESSES_PER_TEAM):
        assert guess(room, "Red0", "organ", T0 + i * 0.5).verdict == "near"
    before = dump(room)
    refused("guess_rate_limited", lambda: guess(room, "Red0", "piano", T0 + 55))
    assert dump(room) == before
