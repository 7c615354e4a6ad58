"""The host's round commands as pure rules (``flow``): no event loop, ``now`` handed in.

``pause``, ``resume``, ``extend`` and ``reveal`` go to whichever round is
running; ``set_auto_advance``, ``move_player``, ``kick`` and ``close`` touch
the room and the running round together. Every refusal leaves the room
byte for byte as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import orjson
import pytest
from ritrovo.errors import RitrovoError
from ritrovo.game import flow, riddles, rooms
from ritrovo.game.models import RiddleState, Room, StoryState
from ritrovo.game.pack import Pack, Riddle, RiddleRound, StoryPrompt, StoryRound

T0 = 1_000_000.0

PIANO = Riddle(
    text="What has keys but can't open locks?", answers=("piano",), time_limit=60, points=200
)
OFFICE = StoryRound(
    title="Office tales",
    prompts=(StoryPrompt(opening="The coffee machine spoke."),),
    turns_per_player=1,
    seconds_per_turn=60,
)
# A riddle round, then a story round.
PACK = Pack(
    id="mix",
    title="Mix",
    language="en",
    rounds=(RiddleRound(title="Warm-up", riddles=(PIANO,)), OFFICE),
)
RED, BLUE = "t1", "t2"


def make_room() -> Room:
    """Teams Red (t1) and Blue (t2), two connected players each: Red0, Red1, Blue0, Blue1."""
    room = rooms.new_room("ABCDEF", "Offsite", "hosthash", T0 - 100, team_names=("Red", "Blue"))
    room.pack_id = PACK.id
    for team in room.teams:
        for n in range(2):
            name = f"{team.name}{n}"
            player = rooms.join(
                room, name=name, team_id=team.id, token_hash="h-" + name, now=T0 - 50
            )
            player.connections = 1
    return room


def in_riddle() -> Room:
    room = make_room()
    assert flow.advance(room, PACK, T0) == "round_started"
    assert room.phase == "riddle"
    return room


def in_story() -> Room:
    """The story round's writing stage, started at T0: Red0 and Blue0 hold the turns."""
    room = make_room()
    flow.start_round(room, PACK, 1, T0)
    assert room.phase == "story"
    return room


def pid(room: Room, name: str) -> str:
    return next(p.id for p in room.players.values() if p.name == name)


def riddle(room: Room) -> RiddleState:
    assert room.riddle is not None
    return room.riddle


def story(room: Room) -> StoryState:
    assert room.story is not None
    return room.story


def dump(room: Room) -> bytes:
    return orjson.dumps(room)


def refused_unchanged(room: Room, code: str, call: Callable[[], object]) -> None:
    """``call`` is refused with ``code`` and the room is exactly as it was."""
    before = dump(room)
    with pytest.raises(RitrovoError) as info:
        call()
    assert info.value.code == code, info.value
    assert dump(room) == before


# -- pause, resume, extend: whichever round is running -----------------------------


def test_pause_resume_and_extend_go_to_the_open_riddle() -> None:
    room = in_riddle()
    flow.pause(room, PACK, T0 + 10)
    assert riddle(room).paused_remaining == 50.0
    flow.extend(room, PACK, 30, T0 + 20)
    assert riddle(room).paused_remaining == 80.0
    assert riddle(room).extra_seconds == 30
    flow.resume(room, PACK, T0 + 100)
    assert riddle(room).paused_remaining is None
    assert riddle(room).deadline_at == T0 + 180
    assert room.story is None


def test_pause_resume_and_extend_go_to_the_story_turns() -> None:
    room = in_story()
    red = story(room).stories[RED]
    assert red.turn_player == pid(room, "Red0") and red.turn_deadline_at == T0 + 60
    flow.pause(room, PACK, T0 + 15)
    assert story(room).paused_remaining == {RED: 45.0, BLUE: 45.0}
    assert red.turn_deadline_at is None
    flow.extend(room, PACK, 10, T0 + 20)
    assert story(room).paused_remaining == {RED: 55.0, BLUE: 55.0}
    flow.resume(room, PACK, T0 + 100)
    assert story(room).paused_remaining is None
    assert red.turn_deadline_at == T0 + 155
    flow.extend(room, PACK, 5, T0 + 101)
    assert red.turn_deadline_at == T0 + 160
    assert room.riddle is None


@pytest.mark.parametrize(
    ("setup", "command", "code"),
    [
        (make_room, lambda r: flow.pause(r, PACK, T0 + 1), "no_open_riddle"),
        (make_room, lambda r: flow.resume(r, PACK, T0 + 1), "no_open_riddle"),
        (make_room, lambda r: flow.extend(r, PACK, 10, T0 + 1), "no_open_riddle"),
        (in_riddle, lambda r: flow.resume(r, PACK, T0 + 1), "not_paused"),
        (in_riddle, lambda r: flow.extend(r, PACK, 0, T0 + 1), "invalid_field"),
        (in_riddle, lambda r: flow.extend(r, PACK, 10, T0 + 60), "too_late"),
        (in_story, lambda r: flow.resume(r, PACK, T0 + 1), "not_paused"),
        (in_story, lambda r: flow.extend(r, PACK, 0, T0 + 1), "invalid_field"),
        (in_story, lambda r: flow.extend(r, PACK, True, T0 + 1), "invalid_field"),
    ],
)
def test_timer_commands_refuse_when_not_applicable(
    setup: Callable[[], Room], command: Callable[[Room], None], code: str
) -> None:
    room = setup()
    refused_unchanged(room, code, lambda: command(room))


def test_pausing_twice_is_refused_in_either_round() -> None:
    for room in (in_riddle(), in_story()):
        flow.pause(room, PACK, T0 + 1)
        refused_unchanged(room, "already_paused", partial(flow.pause, room, PACK, T0 + 2))


def test_timer_commands_refuse_after_the_riddle_or_the_writing() -> None:
    room = in_riddle()
    flow.reveal(room, PACK, T0 + 5)
    for command in (flow.pause, flow.resume):
        refused_unchanged(room, "no_open_riddle", partial(command, room, PACK, T0 + 6))
    room = in_story()
    flow.reveal(room, PACK, T0 + 5)  # ends the writing
    refused_unchanged(room, "not_writing", lambda: flow.pause(room, PACK, T0 + 6))
    refused_unchanged(room, "not_writing", lambda: flow.extend(room, PACK, 10, T0 + 6))


# -- reveal -------------------------------------------------------------------------


def test_reveal_ends_the_open_riddle() -> None:
    room = in_riddle()
    flow.reveal(room, PACK, T0 + 5)
    assert riddle(room).stage == "revealed"
    assert riddle(room).end_reason == "host_reveal"
    refused_unchanged(room, "no_open_riddle", lambda: flow.reveal(room, PACK, T0 + 6))


def test_reveal_shows_the_stories_one_at_a_time() -> None:
    room = in_story()
    flow.reveal(room, PACK, T0 + 5)
    assert story(room).stage == "reveal" and story(room).reveal_index == 0
    flow.reveal(room, PACK, T0 + 6)
    assert story(room).reveal_index == 1
    refused_unchanged(room, "nothing_to_reveal", lambda: flow.reveal(room, PACK, T0 + 7))


def test_reveal_without_a_round_is_refused() -> None:
    room = make_room()
    refused_unchanged(room, "no_riddle", lambda: flow.reveal(room, PACK, T0))
    refused_unchanged(room, "no_riddle", lambda: flow.reveal(room, None, T0))


# -- auto-advance -------------------------------------------------------------------


def test_auto_advance_sets_and_clears_the_advance_time_of_a_revealed_riddle() -> None:
    room = in_riddle()
    flow.reveal(room, PACK, T0 + 5)
    assert riddle(room).advance_at is None
    flow.set_auto_advance(room, True)
    assert room.auto_advance is True
    assert riddle(room).advance_at == T0 + 5 + riddles.AUTO_ADVANCE_SECONDS
    flow.set_auto_advance(room, False)
    assert room.auto_advance is False
    assert riddle(room).advance_at is None


def test_auto_advance_on_an_open_riddle_only_sets_the_flag() -> None:
    room = in_riddle()
    flow.set_auto_advance(room, True)
    assert room.auto_advance is True
    assert riddle(room).advance_at is None
    flow.reveal(room, PACK, T0 + 5)
    assert riddle(room).advance_at == T0 + 5 + riddles.AUTO_ADVANCE_SECONDS


def test_auto_advance_refusals() -> None:
    room = in_riddle()
    refused_unchanged(room, "invalid_field", lambda: flow.set_auto_advance(room, "yes"))
    flow.close(room, T0 + 1)
    refused_unchanged(room, "room_closed", lambda: flow.set_auto_advance(room, True))


# -- players: move and kick ---------------------------------------------------------


def test_moving_a_player_mid_story_puts_them_in_the_new_rotation() -> None:
    room = in_story()
    red0 = pid(room, "Red0")
    flow.move_player(room, PACK, red0, BLUE, T0 + 5)
    assert room.players[red0].team_id == BLUE
    assert red0 in story(room).stories[BLUE].order
    # They held Red's turn: it passes on at once.
    assert story(room).stories[RED].turn_player == pid(room, "Red1")


def test_kicking_the_writer_passes_the_turn_on() -> None:
    room = in_story()
    red0 = pid(room, "Red0")
    flow.kick(room, PACK, red0, T0 + 5)
    assert red0 not in room.players
    assert story(room).stories[RED].turn_player == pid(room, "Red1")


def test_move_and_kick_refusals() -> None:
    room = in_story()
    red0 = pid(room, "Red0")
    refused_unchanged(
        room, "team_not_found", lambda: flow.move_player(room, PACK, red0, "t9", T0 + 1)
    )
    refused_unchanged(
        room, "player_not_found", lambda: flow.move_player(room, PACK, "p99", BLUE, T0 + 1)
    )
    refused_unchanged(room, "player_not_found", lambda: flow.kick(room, PACK, "p99", T0 + 1))
    flow.close(room, T0 + 2)
    refused_unchanged(room, "room_closed", lambda: flow.move_player(room, PACK, red0, BLUE, T0 + 3))
    refused_unchanged(room, "room_closed", lambda: flow.kick(room, PACK, red0, T0 + 3))


# -- close --------------------------------------------------------------------------


def test_close_keeps_the_running_story_for_the_keepsake() -> None:
    room = in_story()
    running = story(room)
    flow.close(room, T0 + 5)
    assert room.phase == "closed"
    assert room.story is None
    assert room.story_archive == [running]


def test_closing_twice_is_refused_and_archives_nothing_more() -> None:
    room = in_story()
    flow.close(room, T0 + 5)
    refused_unchanged(room, "room_closed", lambda: flow.close(room, T0 + 6))
    for command in (flow.pause, flow.resume, flow.reveal):
        refused_unchanged(room, "room_closed", partial(command, room, PACK, T0 + 6))
    refused_unchanged(room, "room_closed", lambda: flow.extend(room, PACK, 10, T0 + 6))
