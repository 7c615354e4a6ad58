"""Coffee pairing in a room (``game/coffee.py``): the host's commands, the timer, the views.

The drawing itself (``pairing.pair``) is tested in test_pairing.py; here, what
a room does with it: who is paired (the present players), the session's
history (no repeats), the prompt, the stored deadline, the refusals (each
before anything changes) and what each role may see.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from ritrovo.errors import RitrovoError
from ritrovo.game import changes, coffee, flow, rooms, views
from ritrovo.game.models import Room
from ritrovo.game.pack import Pack, Riddle, RiddleRound
from ritrovo.game.pairing import meetings
from ritrovo.store import parts

T0 = 1_000_000.0
PIANO = Riddle(text="Keys but no locks?", answers=("piano",), time_limit=60, points=100)
PACK = Pack(
    id="p", title="P", language="en", rounds=(RiddleRound(title="Warm-up", riddles=(PIANO,)),)
)
PROMPTS = Pack(
    id="q",
    title="Q",
    language="it",
    rounds=PACK.rounds,
    conversation_prompts=("Primo?", "Secondo?"),
)


def make_room(players: int = 7, teams: tuple[str, ...] = ("Aurora", "Bora")) -> Room:
    room = rooms.new_room("ABCDEF", "Offsite", "hosthash", T0 - 100, team_names=teams)
    room.pack_id = PACK.id
    for n in range(players):
        player = rooms.join(room, name=f"P{n}", team_id=None, token_hash=f"h{n}", now=T0 - 50)
        player.connections = 1
    return room


def refused(code: str, room: Room, call: Callable[[], object]) -> None:
    before = copy.deepcopy(room)
    with pytest.raises(RitrovoError) as info:
        call()
    assert info.value.code == code, info.value
    assert room == before, "a refused command changed the room"


def sizes(room: Room) -> list[int]:
    current = room.pairings.current
    assert current is not None
    return sorted(len(g) for g in current.groups)


def test_present_players_make_pairs_and_one_trio() -> None:
    odd = make_room(7)
    coffee.start(odd, PACK, 300, T0, seed=4)
    assert sizes(odd) == [2, 2, 3]
    room = make_room(9)
    pairing = coffee.start(room, PACK, 300, T0, seed=4)
    assert sizes(room) == [2, 2, 2, 3]
    assert pairing.started_at == T0 and pairing.deadline_at == T0 + 300
    assert room.pairings.prompt in coffee.DEFAULT_PROMPTS["en"]
    assert flow.next_deadline(room, PACK, T0) == T0 + 300
    # The same seed, the same groups (another process, a retried command).
    again = make_room(9)
    assert coffee.start(again, PACK, 300, T0, seed=4).groups == pairing.groups


def test_only_present_players_are_paired() -> None:
    room = make_room(5)
    away = next(iter(room.players.values()))
    away.connections = 0
    away.last_seen = T0 - 600
    coffee.start(room, PACK, 300, T0, seed=1)
    current = room.pairings.current
    assert current is not None
    assert away.id not in coffee.group_index(current)
    assert sizes(room) == [2, 2]


def test_refusals_change_nothing() -> None:
    room = make_room(1)
    refused("too_few_players", room, lambda: coffee.start(room, PACK, 300, T0))
    room = make_room(4)
    refused("invalid_field", room, lambda: coffee.start(room, PACK, 5, T0))
    refused("invalid_field", room, lambda: coffee.start(room, PACK, 300, T0, seed=-1))
    refused("invalid_field", room, lambda: coffee.start(room, PACK, 300, T0, mentoring="yes"))
    refused("no_pairing", room, lambda: coffee.end(room))
    refused("no_pairing", room, lambda: coffee.shuffle(room, T0))
    coffee.start(room, PACK, 300, T0)
    refused("pairing_running", room, lambda: coffee.start(room, PACK, 300, T0))
    coffee.end(room)
    flow.advance(room, PACK, T0)  # a riddle runs
    refused("round_in_progress", room, lambda: coffee.start(room, PACK, 300, T0))
    player = next(iter(room.players))
    refused("round_in_progress", room, lambda: coffee.set_mentoring_role(room, player, "newcomer"))
    rooms.close(room, T0)
    refused("room_closed", room, lambda: coffee.end(room))


def test_a_session_has_at_most_max_rotations() -> None:
    """Each rotation's groups stay in the room, weighed by every later draw: bounded."""
    room = make_room(4)
    coffee.start(room, PACK, 60, T0)
    coffee.end(room)
    room.pairings.past *= coffee.MAX_ROTATIONS
    refused("too_many_rotations", room, lambda: coffee.start(room, PACK, 60, T0 + 100))
    room.pairings.past.pop()
    assert coffee.start(room, PACK, 60, T0 + 100).rotation == coffee.MAX_ROTATIONS


def test_rotations_never_repeat_a_pair_while_a_fresh_one_exists() -> None:
    room = make_room(8, teams=("Aurora", "Bora", "Cirrus", "Delta"))
    met: set[tuple[str, str]] = set()
    for rotation in range(1, 5):  # 8 players: at least n/2 = 4 fresh rotations
        pairing = coffee.start(room, PACK, 60, T0 + rotation * 100)
        assert pairing.rotation == rotation
        now_met = meetings(pairing.groups)
        assert not now_met & met, f"rotation {rotation} repeats a pair"
        met |= now_met
        coffee.end(room)
    assert len(room.pairings.past) == 4
    # Each rotation had its own prompt while the defaults lasted.
    assert len({p.prompt_index for p in room.pairings.past}) == 4


def test_the_timer_ends_the_pairing_and_its_groups_become_history() -> None:
    room = make_room(4)
    pairing = coffee.start(room, PACK, 60, T0)
    assert not flow.tick(room, PACK, T0 + 59)
    assert room.pairings.current is pairing
    assert flow.tick(room, PACK, T0 + 60)
    assert room.pairings.current is None and room.pairings.past == [pairing]
    assert flow.next_deadline(room, PACK, T0 + 60) is None


def test_shuffle_draws_again_with_another_seed_and_restarts_the_timer() -> None:
    room = make_room(8, teams=("Aurora", "Bora", "Cirrus", "Delta"))
    first = coffee.start(room, PACK, 120, T0, seed=1)
    prompt = room.pairings.prompt
    second = coffee.shuffle(room, T0 + 30, seed=2)
    assert second.seed == 2 and second.rotation == first.rotation
    assert second.started_at == T0 + 30 and second.seconds == 120
    assert room.pairings.prompt == prompt
    assert room.pairings.past == []  # the first draw never happened, as far as history goes
    derived = coffee.shuffle(room, T0 + 31)
    assert derived.seed != second.seed


def test_a_round_that_starts_ends_the_pairing() -> None:
    room = make_room(4)
    pairing = coffee.start(room, PACK, 600, T0)
    flow.advance(room, PACK, T0 + 1)
    assert room.phase == "riddle"
    assert room.pairings.current is None and room.pairings.past == [pairing]


def test_pack_prompts_come_first_and_defaults_follow_the_pack_language() -> None:
    room = make_room(4)
    coffee.start(room, PROMPTS, 60, T0)
    assert room.pairings.prompt in ("Primo?", "Secondo?")
    italian = Pack(id="i", title="I", language="it", rounds=PACK.rounds)
    assert coffee.prompts_of(italian) == coffee.DEFAULT_PROMPTS["it"]
    other = Pack(id="d", title="D", language="de", rounds=PACK.rounds)
    assert coffee.prompts_of(other) == coffee.DEFAULT_PROMPTS["en"]
    assert coffee.prompts_of(None) == coffee.DEFAULT_PROMPTS["en"]


def test_mentoring_pairs_a_newcomer_with_an_experienced_player() -> None:
    room = make_room(4, teams=("Aurora",))
    ids = list(room.players)
    refused("invalid_field", room, lambda: coffee.set_mentoring_role(room, ids[0], "boss"))
    for pid in ids[:2]:
        coffee.set_mentoring_role(room, pid, "newcomer")
    for pid in ids[2:]:
        coffee.set_mentoring_role(room, pid, "experienced")
    for seed in range(10):
        pairing = coffee.start(room, PACK, 60, T0, mentoring=True, seed=seed)
        for group in pairing.groups:
            roles = {room.players[p].mentoring_role for p in group}
            assert roles == {"newcomer", "experienced"}, (seed, group)
        room.pairings.current = None  # drawn again from scratch, no history
    coffee.set_mentoring_role(room, ids[0], None)
    assert room.players[ids[0]].mentoring_role is None


def test_each_player_sees_only_their_group_and_the_host_everything() -> None:
    room = make_room(9)
    coffee.start(room, PACK, 300, T0, seed=3)
    current = room.pairings.current
    assert current is not None
    for pid in room.players:
        you = views.private_view(room, pid)["pairing"]
        group = current.groups[coffee.group_index(current)[pid]]
        assert you["breakout"] == current.groups.index(group) + 1
        assert sorted(m["id"] for m in you["with"]) == sorted(p for p in group if p != pid)
        assert all(m["team_name"] in ("Aurora", "Bora") for m in you["with"])
        assert you["deadline_at"] == T0 + 300 and you["prompt"] == room.pairings.prompt
        shared = views.build(room, PACK, T0, "player", pid)["pairing"]
        assert "assignment" not in shared and shared["groups"] == 4
    screen = views.build(room, PACK, T0, "screen")["pairing"]
    assert screen["groups"] == 4 and screen["players"] == 9 and "assignment" not in screen
    host = views.build(room, PACK, T0, "host")["pairing"]
    assert [len(g["players"]) for g in host["assignment"]["groups"]] == [
        len(g) for g in current.groups
    ]
    text = host["assignment"]["text"]
    assert text["en"].count("\nRoom ") == 4 and "trio" in text["en"]
    assert text["it"].count("\nSala ") == 4 and "terzetto" in text["it"]


def test_a_players_stamp_changes_exactly_when_their_you_frame_does() -> None:
    room = make_room(4)
    pid = next(iter(room.players))
    before = views.private_stamp(room, pid)
    coffee.start(room, PACK, 300, T0, seed=5)
    during = views.private_stamp(room, pid)
    assert during != before
    other = next(p for p in room.players if p != pid)
    coffee.set_mentoring_role(room, other, "experienced")  # not shown to pid
    assert views.private_stamp(room, pid) == during
    coffee.set_mentoring_role(room, pid, "newcomer")
    assert views.private_stamp(room, pid) != during
    coffee.end(room)
    assert views.private_view(room, pid)["pairing"] is None


def test_pairing_commands_write_only_meta_and_the_pairings_part() -> None:
    room = make_room(6)
    for run in (
        lambda: coffee.start(room, PACK, 300, T0),
        lambda: coffee.shuffle(room, T0 + 1),
        lambda: coffee.end(room),
    ):
        with changes.tracking(room) as changed:
            run()
        assert not changed.is_whole
        written, gone = parts.changed_parts(room, changed)
        assert set(written) == {parts.META, parts.PAIRINGS} and gone == []
    with changes.tracking(room) as changed:
        coffee.set_mentoring_role(room, next(iter(room.players)), "newcomer")
    written, _ = parts.changed_parts(room, changed)
    assert set(written) == {parts.META, parts.PLAYER + next(iter(room.players))}
    assert parts.join(parts.split(room)) == room


def test_views_keep_the_pairing_from_one_flush_to_the_next() -> None:
    """The summary and the host's assignment are built once per pairing: the same objects."""
    room = make_room(9)
    coffee.start(room, PACK, 300, T0, seed=2)
    rows = views.Rows()
    first = {
        role: views.build(room, PACK, T0, role, shared=views.Build(room, rows))["pairing"]
        for role in ("host", "screen")
    }
    rooms.join(room, name="Late", team_id=None, token_hash="late", now=T0 + 1)
    again = {
        role: views.build(room, PACK, T0 + 1, role, shared=views.Build(room, rows))["pairing"]
        for role in ("host", "screen")
    }
    assert again["screen"] is first["screen"]
    assert again["host"] is first["host"]
    assert again["host"]["assignment"] is first["host"]["assignment"]
    coffee.shuffle(room, T0 + 2, seed=3)
    shuffled = views.build(room, PACK, T0 + 2, "host", shared=views.Build(room, rows))["pairing"]
    assert shuffled["assignment"] is not first["host"]["assignment"]
    assert shuffled["started_at"] == T0 + 2


# -- a player leaves a running rotation -----------------------------------------------


def test_a_partner_left_alone_joins_another_group_at_once() -> None:
    room = make_room(9)
    coffee.start(room, PACK, 300, T0, seed=4)
    current = room.pairings.current
    assert current is not None
    gone, lone = next(g for g in current.groups if len(g) == 2)
    stamps = {pid: views.private_stamp(room, pid) for pid in room.players if pid != gone}
    rows = views.Rows()
    before = views.build(room, PACK, T0, "host", shared=views.Build(room, rows))["pairing"]
    at = coffee.group_index(current)[lone]
    with changes.tracking(room) as changed:
        flow.leave(room, PACK, gone, T0 + 10)
    written, _ = parts.changed_parts(room, changed)
    assert parts.PAIRINGS in written and parts.join(parts.split(room)) == room
    after = room.pairings.current
    assert after is not None and after is not current
    assert (after.rotation, after.started_at, after.seconds) == (1, T0, 300)
    # A pair (not the trio) took them in; their old breakout room stands empty.
    assert after.groups[at] == [] and sorted(len(g) for g in after.groups) == [0, 2, 3, 3]
    joined = coffee.group_index(after)[lone]
    assert len(current.groups[joined]) == 2 and after.groups[joined][-1] == lone
    you = views.private_view(room, lone)["pairing"]
    assert you["breakout"] == joined + 1
    assert sorted(m["id"] for m in you["with"]) == sorted(current.groups[joined])
    # Exactly the moved player's and their new partners' `you` frames change.
    moved = {pid for pid in stamps if views.private_stamp(room, pid) != stamps[pid]}
    assert moved == {lone, *current.groups[joined]}
    host = views.build(room, PACK, T0 + 10, "host", shared=views.Build(room, rows))["pairing"]
    assert host["assignment"] is not before["assignment"]
    assert host["groups"] == 3 and host["players"] == 8
    assert [g["breakout"] for g in host["assignment"]["groups"]] == [
        n + 1 for n, g in enumerate(after.groups) if g
    ]
    assert f"Room {at + 1}:" not in host["assignment"]["text"]["en"]
    assert "2 trios" in host["assignment"]["text"]["en"]


def test_a_partner_removed_with_nobody_else_leaves_the_other_alone() -> None:
    room = make_room(3)
    coffee.start(room, PACK, 300, T0, seed=1)
    trio = room.pairings.current
    assert trio is not None and sizes(room) == [3]
    first, second, third = trio.groups[0]
    flow.kick(room, PACK, first, T0 + 5)  # a trio becomes a pair: nobody moves
    assert sizes(room) == [2]
    flow.kick(room, PACK, second, T0 + 6)
    assert sizes(room) == [1]
    you = views.private_view(room, third)["pairing"]
    assert you["with"] == [] and you["breakout"] == 1
    # A player who joined after the rotation started is in no group: nothing moves.
    late = rooms.join(room, name="Late", team_id=None, token_hash="late", now=T0 + 7)
    current = room.pairings.current
    flow.leave(room, PACK, late.id, T0 + 8)
    assert room.pairings.current is current
    # The last one goes too: every group is empty until the rotation ends, and
    # every view still builds (the host's breakout list says nobody is left).
    flow.kick(room, PACK, third, T0 + 9)
    assert sizes(room) == [0]
    host = views.build(room, PACK, T0 + 9, "host")["pairing"]
    assert host["assignment"]["text"] == {
        "en": "Breakout rooms: 0 people\n",
        "it": "Sale per sottogruppi: 0 persone\n",
    }
    assert views.build(room, PACK, T0 + 9, "screen")["pairing"] is not None
