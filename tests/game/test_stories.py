"""Story rounds: rotation, skips, host controls, reveal, voting, views and export."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial

import msgspec
import orjson
import pytest
from ritrovo.errors import BadRequest, Conflict, NotFound, RitrovoError
from ritrovo.game import exports, rooms, stories, story_views, views
from ritrovo.game.models import Player, Role, Room
from ritrovo.game.pack import Pack, StoryPrompt, StoryRound

T0 = 1_000_000.0
OPENINGS = ("Once upon a time, the coffee machine spoke.", "The last train left without us.")

ROUND = StoryRound(
    title="Office tales",
    prompts=tuple(StoryPrompt(opening=o, theme="mystery") for o in OPENINGS),
    turns_per_player=2,
    seconds_per_turn=60,
    max_chars=40,
    visibility="full",
    vote_seconds=0,
)
CHAIN = replace(ROUND, visibility="chain")


def make_room(*team_sizes: int, connected: bool = True) -> Room:
    """A room with one team per size (extra teams created as needed), players joined in order."""
    names = tuple(f"Team{i}" for i in range(max(2, len(team_sizes))))
    room = rooms.new_room("ABCD", "Offsite", "hosthash", T0 - 100, team_names=names)
    n = 0
    for team, size in zip(room.teams, team_sizes, strict=False):
        for _ in range(size):
            n += 1
            player = rooms.join(
                room, name=f"P{n}", team_id=team.id, token_hash=f"tok{n}", now=T0 - 100 + n
            )
            if connected:
                player.connections = 1
    return room


def team_ids(room: Room) -> list[str]:
    return [t.id for t in room.teams]


def members(room: Room, team_id: str) -> list[str]:
    return [p.id for p in room.team_players(team_id)]


def drop(player: Player, at: float) -> None:
    """Disconnect long enough ago that rooms.is_present is False at ``at``."""
    player.connections = 0
    player.last_seen = at - rooms.PRESENCE_GRACE_SECONDS - 1


def stage_of(room: Room) -> str:
    """The story stage, read through a call so type narrowing does not stick across actions."""
    assert room.story is not None
    return room.story.stage


def snapshot(room: Room) -> bytes:
    return orjson.dumps(room)


def writer(room: Room, team_id: str) -> str | None:
    assert room.story is not None
    return room.story.stories[team_id].turn_player


def refused(
    room: Room, code: str, action: Callable[[], object], exc: type[RitrovoError] = RitrovoError
) -> None:
    """The action raises ``code`` and leaves the room byte-for-byte unchanged."""
    before = snapshot(room)
    with pytest.raises(exc) as info:
        action()
    assert info.value.code == code
    assert snapshot(room) == before


def write_all(room: Room, rnd: StoryRound, now: float) -> Iterator[tuple[str, str]]:
    """Have the current writer of every team write until writing ends; yield (team, player)."""
    assert room.story is not None
    step = 0
    while room.story.stage == "writing":
        for tid, ts in list(room.story.stories.items()):
            if room.story.stage != "writing":
                break
            if ts.turn_player is not None:
                pid = ts.turn_player
                step += 1
                stories.submit_line(room, rnd, pid, f"line {step} by {pid}", now + step)
                yield tid, pid


# Rotation


@pytest.mark.parametrize("rnd", [ROUND, CHAIN], ids=["full", "chain"])
def test_rotation_in_join_order_until_every_member_took_their_turns(rnd: StoryRound) -> None:
    room = make_room(3, 2)
    t1, t2 = team_ids(room)
    stories.start_round(room, rnd, 1, T0)
    state = room.story
    assert state is not None
    assert room.phase == "story" and state.stage == "writing" and room.round_index == 1
    assert state.stories[t1].order == members(room, t1)
    assert state.stories[t1].prompt_index == 0 and state.stories[t2].prompt_index == 1
    assert writer(room, t1) == members(room, t1)[0]
    assert state.stories[t1].turn_deadline_at == T0 + 60

    written = list(write_all(room, rnd, T0))
    a, b, c = members(room, t1)
    d, e = members(room, t2)
    assert [pid for tid, pid in written if tid == t1] == [a, b, c, a, b, c]
    assert [pid for tid, pid in written if tid == t2] == [d, e, d, e]
    assert all(ts.done for ts in state.stories.values())
    assert stage_of(room) == "reveal" and state.reveal_index == -1
    assert state.stories[t1].turns_taken == {a: 2, b: 2, c: 2}
    assert state.stories[t1].turn_index == 6
    kinds = [m.kind for m in room.moments]
    assert "story_line" in kinds and "writing_ended" in kinds


def test_a_line_is_trimmed_and_whitespace_collapsed() -> None:
    room = make_room(1, 1)
    stories.start_round(room, ROUND, 0, T0)
    pid = writer(room, team_ids(room)[0])
    assert pid is not None
    line = stories.submit_line(room, ROUND, pid, "  It   spoke <b>loudly</b>  ", T0 + 1)
    assert line.text == "It spoke <b>loudly</b>"  # kept as plain text, escaped on output


def test_team_of_one_writes_alone() -> None:
    room = make_room(1, 0)
    t1, _t2 = team_ids(room)
    stories.start_round(room, ROUND, 0, T0)
    assert room.story is not None and list(room.story.stories) == [t1]
    (solo,) = members(room, t1)
    stories.submit_line(room, ROUND, solo, "First.", T0 + 1)
    assert writer(room, t1) == solo
    assert room.story.stories[t1].turn_deadline_at == T0 + 1 + 60
    stories.submit_line(room, ROUND, solo, "Second.", T0 + 2)
    assert room.story.stories[t1].done
    assert room.story.stage == "reveal"


def test_not_your_turn_refused() -> None:
    room = make_room(2, 2)
    t1, t2 = team_ids(room)
    stories.start_round(room, ROUND, 0, T0)
    first, second = members(room, t1)
    other, _ = members(room, t2)
    refused(room, "not_your_turn", lambda: stories.submit_line(room, ROUND, second, "hi", T0 + 1))
    # Having just written does not give another turn; the other team's turn is not yours.
    assert writer(room, t2) == other
    stories.submit_line(room, ROUND, other, "mine", T0 + 1)
    refused(room, "not_your_turn", lambda: stories.submit_line(room, ROUND, other, "x", T0 + 2))
    # Past the stored deadline the turn is over, even before tick() runs.
    refused(room, "not_your_turn", lambda: stories.submit_line(room, ROUND, first, "x", T0 + 60))
    refused(room, "player_not_found", lambda: stories.submit_line(room, ROUND, "p999", "x", T0 + 2))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty_line"),
        ("   \t  ", "empty_line"),
        ("x" * 41, "line_too_long"),
        ("two\nlines", "invalid_line"),
        ("bell\x07", "invalid_line"),
        ("nul\x00", "invalid_line"),
        (None, "invalid_field"),
        (42, "invalid_field"),
    ],
)
def test_bad_lines_refused_without_changing_anything(text: object, code: str) -> None:
    room = make_room(2, 2)
    stories.start_round(room, ROUND, 0, T0)
    pid = writer(room, team_ids(room)[0])
    assert pid is not None
    refused(room, code, lambda: stories.submit_line(room, ROUND, pid, text, T0 + 1), BadRequest)


def test_empty_line_error_is_clear() -> None:
    room = make_room(1, 1)
    stories.start_round(room, ROUND, 0, T0)
    pid = writer(room, team_ids(room)[0])
    assert pid is not None
    with pytest.raises(BadRequest) as info:
        stories.submit_line(room, ROUND, pid, " ", T0 + 1)
    assert "empty" in info.value.message
    assert info.value.to_dict()["code"] == "empty_line"


def test_max_chars_is_inclusive() -> None:
    room = make_room(1, 1)
    stories.start_round(room, ROUND, 0, T0)
    pid = writer(room, team_ids(room)[0])
    assert pid is not None
    assert stories.submit_line(room, ROUND, pid, "x" * 40, T0 + 1).text == "x" * 40


def test_writing_actions_refused_outside_writing() -> None:
    room = make_room(1, 1)
    pid = members(room, team_ids(room)[0])[0]
    refused(room, "not_writing", lambda: stories.submit_line(room, ROUND, pid, "x", T0))
    refused(room, "not_writing", lambda: stories.pause(room, T0))
    refused(room, "not_writing", lambda: stories.end_writing(room, T0))
    stories.start_round(room, ROUND, 0, T0)
    stories.end_writing(room, T0 + 1)
    refused(room, "not_writing", lambda: stories.submit_line(room, ROUND, pid, "x", T0 + 2))
    refused(room, "not_writing", lambda: stories.resume(room, T0 + 2))
    refused(room, "not_writing", lambda: stories.extend(room, 10, T0 + 2))


# Skips


def test_timeout_skips_the_turn_at_the_deadline() -> None:
    room = make_room(2, 1)
    t1, _ = team_ids(room)
    a, b = members(room, t1)
    stories.start_round(room, ROUND, 0, T0)
    assert stories.tick(room, ROUND, T0 + 59.9) is False
    assert writer(room, t1) == a
    assert stories.next_deadline(room, ROUND, T0 + 1) == T0 + 60

    assert stories.tick(room, ROUND, T0 + 60) is True
    assert room.story is not None
    ts = room.story.stories[t1]
    assert writer(room, t1) == b
    assert ts.turns_taken[a] == 1 and ts.turn_index == 1 and ts.lines == []
    assert ts.turn_deadline_at == T0 + 60 + 60
    skipped = [m for m in room.moments if m.kind == "turn_skipped" and m.team_id == t1]
    assert [(m.player_id, m.text) for m in skipped] == [(a, "timeout")]
    # Nothing else is due until the next deadline.
    assert stories.tick(room, ROUND, T0 + 60) is False
    assert stories.next_deadline(room, ROUND, T0 + 60) == T0 + 120


def test_timed_out_turns_still_count_towards_done() -> None:
    room = make_room(1, 0)
    t1 = team_ids(room)[0]
    stories.start_round(room, ROUND, 0, T0)
    assert stories.tick(room, ROUND, T0 + 60)
    assert stories.tick(room, ROUND, T0 + 120)
    assert room.story is not None
    assert room.story.stories[t1].done and room.story.stage == "reveal"
    assert stories.next_deadline(room, ROUND, T0 + 121) is None


def test_disconnected_writer_is_skipped_after_the_grace() -> None:
    room = make_room(3, 1)
    t1, _ = team_ids(room)
    a, b, c = members(room, t1)
    stories.start_round(room, ROUND, 0, T0)
    now = T0 + 10
    # A refresh (within the grace) keeps the turn.
    rooms.disconnect(room, a, now)
    stories.on_presence_changed(room, ROUND, now)
    assert writer(room, t1) == a
    assert stories.next_deadline(room, ROUND, now) == now + rooms.PRESENCE_GRACE_SECONDS

    drop(room.players[a], now)
    stories.on_presence_changed(room, ROUND, now)
    assert room.story is not None
    ts = room.story.stories[t1]
    assert writer(room, t1) == b and ts.turns_taken[a] == 1
    assert ts.turn_deadline_at == now + 60

    # b writes; c is gone too, so the turn goes back to b (c's turn counts as skipped).
    drop(room.players[c], now + 1)
    stories.submit_line(room, ROUND, b, "alone now", now + 1)
    assert writer(room, t1) == b
    assert ts.turns_taken == {a: 2, b: 1, c: 1}  # a and c were absent at their turns
    stories.submit_line(room, ROUND, b, "still alone", now + 2)
    # b used both turns and nobody present has turns left: the story is done.
    assert ts.done and ts.turn_player is None


def test_tick_skips_a_writer_whose_grace_ran_out() -> None:
    room = make_room(2, 1)
    t1, _ = team_ids(room)
    a, b = members(room, t1)
    stories.start_round(room, ROUND, 0, T0)
    rooms.disconnect(room, a, T0 + 5)
    grace_end = T0 + 5 + rooms.PRESENCE_GRACE_SECONDS
    assert stories.next_deadline(room, ROUND, T0 + 6) == grace_end
    assert stories.tick(room, ROUND, grace_end - 0.1) is False
    assert stories.tick(room, ROUND, grace_end) is True
    assert writer(room, t1) == b


def test_team_waits_when_everyone_dropped_and_resumes_on_reconnect() -> None:
    room = make_room(2, 1)
    t1, _t2 = team_ids(room)
    a, b = members(room, t1)
    stories.start_round(room, ROUND, 0, T0)
    stories.submit_line(room, ROUND, a, "one", T0 + 1)
    now = T0 + 20
    drop(room.players[a], now)
    drop(room.players[b], now)
    stories.on_presence_changed(room, ROUND, now)
    assert room.story is not None
    ts = room.story.stories[t1]
    assert ts.turn_player is None and ts.turn_deadline_at is None and not ts.done
    assert ts.turns_taken == {a: 1, b: 1}  # b was skipped; a's next turn is not burnt
    assert room.story.stage == "writing"
    assert stories.tick(room, ROUND, now + 1) is False  # still waiting, nothing to do

    rooms.connect(room, room.players[a], now + 30)
    stories.on_presence_changed(room, ROUND, now + 30)
    assert writer(room, t1) == a
    assert ts.turn_deadline_at == now + 30 + 60


def test_kicked_writer_is_skipped() -> None:
    room = make_room(2, 1)
    t1, _ = team_ids(room)
    a, b = members(room, t1)
    stories.start_round(room, ROUND, 0, T0)
    rooms.kick(room, a, T0 + 3)
    stories.on_presence_changed(room, ROUND, T0 + 3)
    assert writer(room, t1) == b


def test_late_joiner_enters_the_rotation() -> None:
    room = make_room(2, 1)
    t1, _t2 = team_ids(room)
    a, b = members(room, t1)
    stories.start_round(room, ROUND, 0, T0)
    stories.submit_line(room, ROUND, a, "a1", T0 + 1)
    late = rooms.join(room, name="Late", team_id=t1, token_hash="late", now=T0 + 2)
    late.connections = 1
    stories.on_player_joined(room, ROUND, late.id, T0 + 2)
    assert room.story is not None
    ts = room.story.stories[t1]
    assert ts.order == [a, b, late.id]
    order = []
    while not ts.done:
        pid = ts.turn_player
        assert pid is not None
        order.append(pid)
        stories.submit_line(room, ROUND, pid, "x", T0 + 3 + len(order))
    assert order == [b, late.id, a, b, late.id]
    assert ts.turns_taken == {a: 2, b: 2, late.id: 2}


def test_late_joiner_creates_the_story_of_an_empty_team() -> None:
    room = make_room(1, 0)
    _t1, t2 = team_ids(room)
    stories.start_round(room, ROUND, 0, T0)
    assert room.story is not None and t2 not in room.story.stories
    late = rooms.join(room, name="Late", team_id=t2, token_hash="late", now=T0 + 2)
    late.connections = 1
    stories.on_player_joined(room, ROUND, late.id, T0 + 2)
    ts = room.story.stories[t2]
    assert ts.order == [late.id] and ts.turn_player == late.id
    assert ts.prompt_index == 1
    assert ts.turn_deadline_at == T0 + 2 + 60


def test_player_absent_at_start_enters_when_they_connect() -> None:
    room = make_room(2, 1)
    t1, _ = team_ids(room)
    a, b = members(room, t1)
    room.players[b].connections = 0
    stories.start_round(room, ROUND, 0, T0)
    assert room.story is not None
    assert room.story.stories[t1].order == [a]
    room.players[b].connections = 1
    stories.on_presence_changed(room, ROUND, T0 + 1)
    assert room.story.stories[t1].order == [a, b]
    stories.submit_line(room, ROUND, a, "x", T0 + 2)
    assert writer(room, t1) == b


def test_done_story_stays_done_for_a_late_joiner() -> None:
    room = make_room(1, 1)
    t1, _t2 = team_ids(room)
    stories.start_round(room, ROUND, 0, T0)
    (solo,) = members(room, t1)
    stories.submit_line(room, ROUND, solo, "x", T0 + 1)
    stories.submit_line(room, ROUND, solo, "y", T0 + 2)
    assert room.story is not None and room.story.stories[t1].done
    late = rooms.join(room, name="Late", team_id=t1, token_hash="late", now=T0 + 3)
    late.connections = 1
    stories.on_player_joined(room, ROUND, late.id, T0 + 3)
    assert room.story.stories[t1].done and room.story.stories[t1].turn_player is None


# Host controls


def test_pause_and_resume_keep_the_remaining_time() -> None:
    room = make_room(2, 2)
    t1, t2 = team_ids(room)
    stories.start_round(room, ROUND, 0, T0)
    assert room.story is not None
    stories.pause(room, T0 + 20)
    assert room.story.paused_remaining == {t1: 40.0, t2: 40.0}
    assert all(ts.turn_deadline_at is None for ts in room.story.stories.values())
    assert stories.next_deadline(room, ROUND, T0 + 30) is None
    assert stories.tick(room, ROUND, T0 + 500) is False
    pid = writer(room, t1)
    assert pid is not None
    refused(room, "paused", lambda: stories.submit_line(room, ROUND, pid, "x", T0 + 30))
    refused(room, "already_paused", lambda: stories.pause(room, T0 + 30))
    assert story_views.player_private(room, pid)["your_turn"] == {
        "team_id": t1,
        "deadline_at": None,
        "paused": True,
        "seconds_left": 40.0,
    }

    stories.resume(room, T0 + 1000)
    assert room.story.paused_remaining is None
    assert room.story.stories[t1].turn_deadline_at == T0 + 1040
    refused(room, "not_paused", lambda: stories.resume(room, T0 + 1001))
    stories.submit_line(room, ROUND, pid, "after the break", T0 + 1001)


def test_skip_while_paused_starts_the_next_turn_paused() -> None:
    room = make_room(2, 1)
    t1, _ = team_ids(room)
    a, b = members(room, t1)
    stories.start_round(room, ROUND, 0, T0)
    stories.pause(room, T0 + 10)
    drop(room.players[a], T0 + 20)
    stories.on_presence_changed(room, ROUND, T0 + 20)
    assert room.story is not None and room.story.paused_remaining is not None
    assert writer(room, t1) == b
    assert room.story.paused_remaining[t1] == 60.0
    stories.resume(room, T0 + 30)
    assert room.story.stories[t1].turn_deadline_at == T0 + 90


def test_extend_adds_to_every_running_turn() -> None:
    room = make_room(1, 1)
    t1, t2 = team_ids(room)
    stories.start_round(room, ROUND, 0, T0)
    assert room.story is not None
    stories.extend(room, 30, T0 + 5)
    assert room.story.stories[t1].turn_deadline_at == T0 + 90
    assert room.story.stories[t2].turn_deadline_at == T0 + 90
    assert stories.tick(room, ROUND, T0 + 60) is False
    stories.pause(room, T0 + 70)
    stories.extend(room, 2.5, T0 + 71)
    assert room.story.paused_remaining == {t1: 22.5, t2: 22.5}
    for bad in (0, -5, True, "10", float("nan"), float("inf"), 10_000):
        refused(room, "invalid_field", partial(stories.extend, room, bad, T0 + 72))


def test_end_writing_then_reveal_one_story_at_a_time() -> None:
    room = make_room(2, 2, 1)
    t1, t2, t3 = team_ids(room)
    stories.start_round(room, ROUND, 0, T0)
    assert room.story is not None
    stories.pause(room, T0 + 5)
    stories.end_writing(room, T0 + 10)
    state = room.story
    assert state.stage == "reveal" and state.reveal_index == -1
    assert state.paused_remaining is None
    assert all(ts.turn_player is None for ts in state.stories.values())
    assert stories.next_deadline(room, ROUND, T0 + 11) is None
    assert state.stories[t3].prompt_index == 0  # team i uses prompts[i % len(prompts)]

    revealed = []
    for i in range(3):
        stories.reveal_next(room, T0 + 20 + i)
        revealed.append([m.team_id for m in room.moments if m.kind == "story_revealed"][-1])
        view = story_views.story_view(room, ROUND, T0 + 20, role="screen")
        assert view["reveal_index"] == i
    assert revealed == [t1, t2, t3]
    refused(room, "nothing_to_reveal", lambda: stories.reveal_next(room, T0 + 30))


def test_reveal_next_from_writing_ends_it_first() -> None:
    room = make_room(1, 1)
    stories.start_round(room, ROUND, 0, T0)
    stories.reveal_next(room, T0 + 1)
    assert room.story is not None
    assert room.story.stage == "reveal" and room.story.reveal_index == 0
    assert [m.kind for m in room.moments][-2:] == ["writing_ended", "story_revealed"]


def test_start_round_refuses_a_closed_room_and_empty_prompts() -> None:
    room = make_room(1, 1)
    refused(
        room, "no_prompts", lambda: stories.start_round(room, replace(ROUND, prompts=()), 0, T0)
    )
    rooms.close(room, T0)
    refused(room, "room_closed", lambda: stories.start_round(room, ROUND, 0, T0))


def test_state_survives_a_json_round_trip_mid_turn() -> None:
    room = make_room(2, 1)
    t1, _ = team_ids(room)
    a, b = members(room, t1)
    stories.start_round(room, ROUND, 0, T0)
    stories.submit_line(room, ROUND, a, "saved", T0 + 1)
    stories.pause(room, T0 + 2)
    reloaded = msgspec.json.decode(orjson.dumps(room), type=Room)
    assert reloaded == room
    stories.resume(reloaded, T0 + 100)
    assert reloaded.story is not None
    assert reloaded.story.stories[t1].turn_deadline_at == T0 + 100 + 59
    assert writer(reloaded, t1) == b
    assert stories.tick(reloaded, ROUND, T0 + 100 + 58.5) is True  # t2's turn (58 s left)
    assert writer(reloaded, t1) == b
    assert stories.tick(reloaded, ROUND, T0 + 100 + 59) is True
    assert writer(reloaded, t1) == a


# Moderation


def test_hide_line_masks_it_for_players_and_screen_but_not_the_host() -> None:
    room = make_room(2, 1)
    t1, t2 = team_ids(room)
    a, b = members(room, t1)
    stories.start_round(room, ROUND, 0, T0)
    stories.submit_line(room, ROUND, a, "rude words", T0 + 1)
    stories.submit_line(room, ROUND, b, "kind words", T0 + 2)
    stories.hide_line(room, t1, 0, True)  # during writing
    team_view = story_views.story_view(room, ROUND, T0 + 3, role="player", team_id=t1)
    assert b"rude words" not in orjson.dumps(team_view)
    host_view = story_views.story_view(room, ROUND, T0 + 3, role="host")
    host_lines = host_view["teams"][t1]["lines"]  # type: ignore[index]
    assert host_lines[0] == {"index": 0, "player_id": a, "text": "rude words", "hidden": True}

    stories.reveal_next(room, T0 + 4)
    for role in ("screen", "player"):
        view = story_views.story_view(room, ROUND, T0 + 5, role=role, team_id=t2)
        lines = view["teams"][t1]["lines"]  # type: ignore[index]
        assert lines[0] == {"index": 0, "hidden": True}
        assert lines[1]["text"] == "kind words"
        assert b"rude words" not in orjson.dumps(view)
        assert view["teams"][t1]["writers"] == [{"id": b, "name": "P2"}]  # type: ignore[index]

    stories.hide_line(room, t1, 0, False)  # the host can change their mind
    view = story_views.story_view(room, ROUND, T0 + 6, role="screen")
    assert view["teams"][t1]["lines"][0]["text"] == "rude words"  # type: ignore[index]

    refused(room, "team_not_found", lambda: stories.hide_line(room, "t99", 0, True), NotFound)
    refused(room, "line_not_found", lambda: stories.hide_line(room, t1, 2, True), NotFound)
    refused(room, "line_not_found", lambda: stories.hide_line(room, t1, -1, True), NotFound)
    refused(room, "invalid_field", lambda: stories.hide_line(room, t1, "0", True), BadRequest)
    refused(room, "invalid_field", lambda: stories.hide_line(room, t1, 0, "yes"), BadRequest)


def test_story_views_built_again_hand_back_what_did_not_change() -> None:
    # The patch diff skips what is the same object: a line written earlier,
    # the other team's story, must not be rebuilt (and compared) every flush.
    room = make_room(2, 2)
    t1, t2 = team_ids(room)
    a, b = members(room, t1)
    c, _ = members(room, t2)
    stories.start_round(room, ROUND, 0, T0)
    stories.submit_line(room, ROUND, a, "first", T0 + 1)
    stories.submit_line(room, ROUND, c, "other team", T0 + 1.5)
    kept = story_views.StoryRows()
    roles: tuple[Role, ...] = ("host", "player")
    before = {
        r: story_views.story_view(room, ROUND, T0 + 2, role=r, team_id=t1, kept=kept) for r in roles
    }
    stories.submit_line(room, ROUND, b, "second", T0 + 3)
    for role in roles:
        after = story_views.story_view(room, ROUND, T0 + 6, role=role, team_id=t1, kept=kept)
        old, new = before[role]["teams"], after["teams"]
        assert new[t1]["lines"][0] is old[t1]["lines"][0]  # type: ignore[index]
        assert new[t1]["lines"][-1]["text"] == "second"  # type: ignore[index]
        if role == "host":  # a player reads only their own team's story while it is written
            assert new[t2]["lines"] is old[t2]["lines"]  # type: ignore[index]
            assert new[t2]["order"] is old[t2]["order"]  # type: ignore[index]
        assert new[t1]["prompt"] is old[t1]["prompt"]  # type: ignore[index]
        fresh = story_views.story_view(room, ROUND, T0 + 6, role=role, team_id=t1)
        assert orjson.dumps(after) == orjson.dumps(fresh)  # kept rows change nothing shown
    stories.hide_line(room, t1, 0, True)
    hidden = story_views.story_view(room, ROUND, T0 + 7, role="player", team_id=t1, kept=kept)
    assert hidden["teams"][t1]["lines"][0] == {"index": 0, "hidden": True}  # type: ignore[index]
    host = story_views.story_view(room, ROUND, T0 + 7, role="host", kept=kept)
    assert host["teams"][t1]["lines"][0]["hidden"] is True  # type: ignore[index]


def test_private_stamp_changes_exactly_when_the_you_frame_does() -> None:
    # A flush sends a player's ``you`` frame only when their stamp changed.
    room = make_room(2, 2)
    t1, _ = team_ids(room)
    a, b = members(room, t1)
    room.phase = "story"

    def seen() -> dict[str, tuple[object, ...]]:
        return {pid: views.private_stamp(room, pid) for pid in room.players}

    def shown() -> dict[str, bytes]:
        return {pid: orjson.dumps(views.private_view(room, pid)) for pid in room.players}

    steps: list[Callable[[], object]] = [
        lambda: stories.start_round(room, ROUND, 0, T0),
        lambda: stories.submit_line(room, ROUND, a, "one", T0 + 1),
        lambda: stories.pause(room, T0 + 2),
        lambda: stories.resume(room, T0 + 5),
        lambda: stories.submit_line(room, ROUND, b, "two", T0 + 6),
    ]
    stamps, frames = seen(), shown()
    for step in steps:
        step()
        new_stamps, new_frames = seen(), shown()
        for pid in room.players:
            assert (new_stamps[pid] != stamps[pid]) == (new_frames[pid] != frames[pid]), pid
        assert new_stamps != stamps  # every step changed someone's turn
        stamps, frames = new_stamps, new_frames


# Voting


def voting_room() -> tuple[Room, list[str]]:
    room = make_room(2, 2, 1)
    stories.start_round(room, ROUND, 0, T0)
    list(write_all(room, ROUND, T0))
    stories.open_voting(room, ROUND, T0 + 100)
    return room, team_ids(room)


def test_open_voting_reveals_everything_and_refuses_twice() -> None:
    room, _tids = voting_room()
    assert room.story is not None
    assert room.story.stage == "voting" and room.story.reveal_index == 2
    assert room.story.vote_deadline_at is None
    refused(room, "already_voting", lambda: stories.open_voting(room, ROUND, T0 + 101))


def test_votes_refused_for_own_team_unknown_team_or_outside_voting() -> None:
    room, (t1, t2, _t3) = voting_room()
    a = members(room, t1)[0]
    refused(room, "own_team_vote", lambda: stories.vote(room, a, t1, T0 + 101), Conflict)
    refused(room, "team_not_found", lambda: stories.vote(room, a, "t99", T0 + 101), NotFound)
    refused(room, "team_not_found", lambda: stories.vote(room, a, None, T0 + 101), NotFound)
    refused(room, "player_not_found", lambda: stories.vote(room, "p99", t2, T0 + 101), NotFound)

    early = make_room(1, 1)
    stories.start_round(early, ROUND, 0, T0)
    p = members(early, team_ids(early)[0])[0]
    refused(early, "not_voting", lambda: stories.vote(early, p, team_ids(early)[1], T0 + 1))
    refused(early, "not_voting", lambda: stories.close_voting(early, ROUND, T0 + 1))


def test_votes_are_counted_once_and_points_follow_the_formula() -> None:
    room, (t1, t2, t3) = voting_room()
    a, b = members(room, t1)
    c, d = members(room, t2)
    (e,) = members(room, t3)
    stories.vote(room, a, t2, T0 + 101)
    stories.vote(room, a, t3, T0 + 102)  # changed: replaces the vote for t2
    stories.vote(room, b, t3, T0 + 103)
    stories.vote(room, c, t1, T0 + 104)
    stories.vote(room, d, t3, T0 + 105)
    stories.vote(room, e, t1, T0 + 106)
    assert room.story is not None

    # While voting is open: who voted is public, counts are not (the host sees a live tally).
    for role in ("screen", "player"):
        view = story_views.story_view(room, ROUND, T0 + 107, role=role, team_id=t1)
        assert view["voters"] == [a, b, c, d, e]
        assert "vote_counts" not in view and "live_counts" not in view
        assert t3 not in str(view.get("voters"))
    host = story_views.story_view(room, ROUND, T0 + 107, role="host")
    assert host["live_counts"] == {t1: 2, t2: 0, t3: 3}
    assert story_views.player_private(room, a) == {"my_vote": t3, "your_turn": None}
    assert story_views.player_private(room, c) == {"my_vote": t1, "your_turn": None}

    scores_before = {t.id: t.score for t in room.teams}
    stories.close_voting(room, ROUND, T0 + 110)
    assert room.story.stage == "results"
    assert room.story.vote_counts == {t1: 2, t2: 0, t3: 3}
    expected = {t1: 2 * 50, t2: 0, t3: 3 * 50 + 25}
    assert {t.id: t.score - scores_before[t.id] for t in room.teams} == expected
    assert room.story_points == {t1: 100, t3: 175}
    assert all(p.points == 0 for p in room.players.values())
    view = story_views.story_view(room, ROUND, T0 + 111, role="screen")
    assert view["vote_counts"] == {t1: 2, t2: 0, t3: 3}
    assert view["points"] == expected and view["winners"] == [t3]
    kinds = [m.kind for m in room.moments]
    assert "votes_closed" in kinds and "story_won" in kinds

    refused(room, "not_voting", lambda: stories.vote(room, a, t2, T0 + 112))
    refused(room, "not_voting", lambda: stories.close_voting(room, ROUND, T0 + 112))
    refused(room, "voting_closed", lambda: stories.open_voting(room, ROUND, T0 + 112))


def test_tied_stories_share_the_bonus_and_no_votes_means_no_bonus() -> None:
    room, (t1, t2, _t3) = voting_room()
    stories.vote(room, members(room, t1)[0], t2, T0 + 101)
    stories.vote(room, members(room, t2)[0], t1, T0 + 101)
    stories.close_voting(room, ROUND, T0 + 102)
    assert room.story_points == {t1: 75, t2: 75}

    quiet, _tids = voting_room()
    stories.close_voting(quiet, ROUND, T0 + 102)
    assert quiet.story_points == {} and all(t.score == 0 for t in quiet.teams)


def test_votes_of_departed_players_are_dropped() -> None:
    room, (t1, t2, _t3) = voting_room()
    a = members(room, t1)[0]
    stories.vote(room, a, t2, T0 + 101)
    rooms.leave(room, a, T0 + 102)
    stories.close_voting(room, ROUND, T0 + 103)
    assert room.story is not None and room.story.vote_counts[t2] == 0


def test_vote_deadline_closes_voting_on_tick() -> None:
    rnd = replace(ROUND, vote_seconds=30)
    room = make_room(1, 1)
    t1, t2 = team_ids(room)
    stories.start_round(room, rnd, 0, T0)
    stories.open_voting(room, rnd, T0 + 10)  # straight from writing
    assert room.story is not None and room.story.vote_deadline_at == T0 + 40
    assert stories.next_deadline(room, rnd, T0 + 11) == T0 + 40
    a = members(room, t1)[0]
    stories.vote(room, a, t2, T0 + 20)
    refused(room, "not_voting", lambda: stories.vote(room, a, t2, T0 + 40))
    assert stories.tick(room, rnd, T0 + 39) is False
    assert stories.tick(room, rnd, T0 + 40) is True
    assert room.story.stage == "results" and room.story.vote_counts == {t1: 0, t2: 1}
    assert stories.next_deadline(room, rnd, T0 + 41) is None


# Views


def test_players_see_only_their_own_team_story_in_full_mode() -> None:
    room = make_room(2, 2)
    t1, t2 = team_ids(room)
    a, b = members(room, t1)
    c, d = members(room, t2)
    stories.start_round(room, ROUND, 0, T0)
    stories.submit_line(room, ROUND, a, "secret of one", T0 + 1)
    stories.submit_line(room, ROUND, c, "secret of two", T0 + 1)

    mine = story_views.story_view(room, ROUND, T0 + 2, role="player", team_id=t1, player_id=a)
    teams = mine["teams"]
    assert isinstance(teams, dict)
    assert [ln["text"] for ln in teams[t1]["lines"]] == ["secret of one"]
    assert teams[t1]["prompt"]["opening"] == OPENINGS[0]
    assert teams[t1]["writer"] == b
    assert set(teams[t2]) == {
        "team_id", "name", "writer", "turn_deadline_at", "seconds_left",
        "lines_count", "turns_done", "done", "revealed",
    }  # fmt: skip
    assert teams[t2]["lines_count"] == 1 and teams[t2]["writer"] == d
    assert b"secret of two" not in orjson.dumps(mine)
    assert OPENINGS[1].encode() not in orjson.dumps(mine)

    screen = orjson.dumps(story_views.story_view(room, ROUND, T0 + 2, role="screen"))
    assert b"secret" not in screen and b"coffee" not in screen

    host = orjson.dumps(story_views.story_view(room, ROUND, T0 + 2, role="host"))
    assert b"secret of one" in host and b"secret of two" in host

    # Every teammate shares one view in full mode, the writer included.
    assert (
        story_views.story_view(room, ROUND, T0 + 2, role="player", team_id=t1, player_id=b) == mine
    )
    assert story_views.view_key(room, a, chain=False) == t1
    assert story_views.view_key(room, b, chain=False) == t1  # the writer too
    pack = Pack(id="p", title="P", language="en", rounds=(ROUND,))
    room.phase = "story"
    assert views.view_key(room, pack, "player", b) == views.view_key(room, pack, "player", a)
    assert story_views.player_private(room, b)["your_turn"] == {
        "team_id": t1, "deadline_at": T0 + 1 + 60, "paused": False, "seconds_left": None,
    }  # fmt: skip
    assert story_views.player_private(room, a)["your_turn"] is None


def test_chain_mode_never_shows_more_than_the_previous_line() -> None:
    room = make_room(3, 2)
    tids = team_ids(room)
    stories.start_round(room, CHAIN, 0, T0)
    assert room.story is not None
    state = room.story
    openings = {tid: OPENINGS[state.stories[tid].prompt_index] for tid in tids}
    texts: dict[str, list[str]] = {tid: [] for tid in tids}
    step = 0

    def check_views(now: float) -> None:
        everything = [*openings.values(), *(t for lines in texts.values() for t in lines)]
        for pid, player in room.players.items():
            tid = player.team_id
            ts = state.stories[tid]
            view = story_views.story_view(
                room, CHAIN, now, role="player", team_id=tid, player_id=pid
            )
            blob = orjson.dumps(view) + orjson.dumps(story_views.player_private(room, pid))
            seen = [t for t in everything if t.encode() in blob]
            if ts.turn_player == pid:
                expected = texts[tid][-1] if texts[tid] else openings[tid]
                assert seen == [expected], (pid, seen)
                assert view["teams"][tid]["previous_line"]["text"] == expected  # type: ignore[index]
                assert story_views.view_key(room, pid) == f"{tid}:{pid}"
            else:
                assert seen == [], (pid, seen)
                assert story_views.view_key(room, pid) == tid
        screen = orjson.dumps(story_views.story_view(room, CHAIN, now, role="screen"))
        assert not [t for t in everything if t.encode() in screen]

    check_views(T0)
    while state.stage == "writing":
        for tid in tids:
            pid = state.stories[tid].turn_player
            if pid is None:
                continue
            step += 1
            text = f"chain line number {step}"
            stories.submit_line(room, CHAIN, pid, text, T0 + step)
            texts[tid].append(text)
            check_views(T0 + step)
            if step == 3:
                # A timeout in the middle: the next writer still sees just one line.
                stories.tick(room, CHAIN, T0 + step + 60)
                check_views(T0 + step + 60)

    # At the reveal the stories become public one at a time.
    stories.reveal_next(room, T0 + 1000)
    first, second = tids
    view = orjson.dumps(
        story_views.story_view(room, CHAIN, T0 + 1000, role="player", team_id=second)
    )
    assert all(t.encode() in view for t in texts[first])
    assert not any(t.encode() in view for t in texts[second])


def test_chain_writer_continues_from_the_last_visible_line() -> None:
    room = make_room(3, 1)
    t1, _ = team_ids(room)
    a, b, c = members(room, t1)
    stories.start_round(room, CHAIN, 0, T0)
    stories.submit_line(room, CHAIN, a, "fine line", T0 + 1)
    stories.submit_line(room, CHAIN, b, "bad line", T0 + 2)
    stories.hide_line(room, t1, 1, True)
    view = story_views.story_view(room, CHAIN, T0 + 3, role="player", team_id=t1, player_id=c)
    prev = view["teams"][t1]["previous_line"]  # type: ignore[index]
    assert prev == {"text": "fine line", "player_id": a, "opening": False}
    assert b"bad line" not in orjson.dumps(view)


def test_views_are_json_and_deterministic() -> None:
    room = make_room(2, 1)
    stories.start_round(room, ROUND, 0, T0)
    for role in ("host", "screen", "player"):
        one = story_views.story_view(room, ROUND, T0, role=role, team_id=team_ids(room)[0])
        two = story_views.story_view(room, ROUND, T0, role=role, team_id=team_ids(room)[0])
        assert orjson.loads(orjson.dumps(one)) == one == two


# Export


def test_markdown_export_escapes_user_text() -> None:
    room = make_room(2, 1)
    t1, _t2 = team_ids(room)
    rooms.rename_team(room, t1, "# Team *Bold*")
    a, b = members(room, t1)
    stories.start_round(room, ROUND, 0, T0)
    stories.submit_line(room, ROUND, a, "<img src=x onerror=alert(1)>", T0 + 1)
    stories.submit_line(room, ROUND, b, "hidden [link](javascript:x)", T0 + 2)
    stories.submit_line(room, ROUND, a, "# not a heading & [x](y)", T0 + 3)
    stories.submit_line(room, ROUND, b, "1. not a list `code`", T0 + 4)
    stories.hide_line(room, t1, 1, True)
    md = exports.markdown_export(room, ROUND)

    assert md.startswith("# Office tales\n")
    assert "<" not in md and ">" not in md
    assert "&lt;img src=x onerror=alert(1)&gt;" in md
    assert "## \\# Team \\*Bold\\*" in md
    assert "_Writers: P1, P2_" in md
    assert OPENINGS[0] in md
    assert "[hidden by the host]" in md and "javascript" not in md
    assert "\n\\# not a heading &amp; \\[x\\](y)\n" in md
    assert "\n1\\. not a list \\`code\\`\n" in md
    assert not any(
        line.startswith(("#", "1.")) for line in md.splitlines()[1:] if "Team" not in line
    )


def test_a_story_view_shows_a_hidden_line_and_a_new_round_at_once() -> None:
    # Kept rows are reused by (round, line count, lines_edited): a hide, a
    # show and the next round's story (as long, in a new round) are seen.
    room = make_room(2, 2)
    t1, _ = team_ids(room)
    a, b = members(room, t1)
    kept = story_views.StoryRows()
    stories.start_round(room, ROUND, 0, T0)
    stories.submit_line(room, ROUND, a, "one", T0 + 1)
    stories.submit_line(room, ROUND, b, "two", T0 + 2)

    def texts(at: float) -> list[object]:
        view = story_views.story_view(room, ROUND, at, role="screen", kept=kept)
        lines = view["teams"][t1].get("lines", [])  # type: ignore[index]
        return [line.get("text") for line in lines]

    stories.reveal_next(room, T0 + 3)
    stories.reveal_next(room, T0 + 3)
    assert texts(T0 + 4) == ["one", "two"]
    stories.hide_line(room, t1, 1, True)
    assert texts(T0 + 5) == ["one", None]
    stories.hide_line(room, t1, 1, False)
    assert texts(T0 + 6) == ["one", "two"]
    assert room.story is not None
    room.story = replace(room.story, started_at=T0 + 7)  # another round, the same counts
    room.story.stories[t1].lines[0].text = "uno"
    assert texts(T0 + 8) == ["uno", "two"]
