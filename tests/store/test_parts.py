"""A room stored as parts: what the rules record as changed is all that changed.

Random games are played through the rules the way the service plays them
(inside ``changes.tracking``), and after every command the parts a commit
would write are applied to (1) a stored copy of the parts and (2) another
process's decoded copy of the room. Both must equal the room itself: a rule
that changed a part without recording it fails here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ritrovo.errors import RitrovoError
from ritrovo.game import changes, flow, riddles, rooms
from ritrovo.game.models import Room
from ritrovo.game.pack import Pack, RiddleRound
from ritrovo.packs import load_pack
from ritrovo.service import Cached
from ritrovo.store import parts

PUZZLES = Path(__file__).resolve().parents[2] / "puzzles"
_SHIPPED = load_pack(PUZZLES / "team-mix-en.yaml")
_QUICK, _STORY, _TEASERS, _CORPSE = _SHIPPED.rounds
assert isinstance(_QUICK, RiddleRound) and isinstance(_TEASERS, RiddleRound)
# Short rounds, a story first, so that random games reach every kind of round.
MIX = Pack(
    id=_SHIPPED.id,
    title=_SHIPPED.title,
    language=_SHIPPED.language,
    rounds=(
        _STORY,
        RiddleRound(title=_QUICK.title, riddles=_QUICK.riddles[:2]),
        _CORPSE,
        RiddleRound(title=_TEASERS.title, riddles=_TEASERS.riddles[:1]),
    ),
)
T0 = 1_000_000.0

Command = Callable[[Room, Pack, float], None]


def _answer(room: Room, pack: Pack) -> str:
    state = room.riddle
    if state is None:
        return "nothing"
    rnd = pack.rounds[state.round_index]
    assert isinstance(rnd, RiddleRound)
    return rnd.riddles[state.riddle_index].answers[0]


def command(kind: str, who: int, seconds: float) -> Command:
    """One command of a random game; ``who`` picks a player, ``seconds`` a small wait."""

    def player_id(room: Room) -> str:
        ids = list(room.players)
        return ids[who % len(ids)] if ids else "p0"

    def run(room: Room, pack: Pack, now: float) -> None:
        if kind == "join":
            rooms.join(
                room, name=f"P{who}-{room.next_id}", team_id=None, token_hash=f"h{who}", now=now
            )
            return
        if kind == "connect":
            rooms.connect(room, rooms.get_player(room, player_id(room)), now, "proc-a")
            return
        if kind == "disconnect":
            rooms.disconnect(room, player_id(room), now, "proc-a")
            return
        if kind == "drop":
            rooms.drop_process(room, "proc-a", now)
            return
        if kind == "next":
            flow.advance(room, pack, now)
            return
        if kind == "guess_right":
            riddles.guess(room, pack, player_id(room), _answer(room, pack), now)
            return
        if kind == "guess_wrong":
            riddles.guess(room, pack, player_id(room), f"wrong {who}", now)
            return
        if kind == "hint":
            riddles.open_hint(room, pack, player_id(room), now)
            return
        if kind == "reveal":
            flow.reveal(room, pack, now)
            return
        if kind == "line":  # by whoever's turn it is in one of the stories
            turns = [ts.turn_player for ts in (room.story.stories.values() if room.story else ())]
            writers = [p for p in turns if p] or [player_id(room)]
            flow.submit_line(room, pack, writers[who % len(writers)], f"then {who}", now)
            return
        if kind == "vote":
            teams = [t.id for t in room.teams]
            flow.vote(room, pack, player_id(room), teams[who % len(teams)], now)
            return
        if kind == "tick":
            flow.tick(room, pack, now)
            return
        if kind == "leave":
            rooms.leave(room, player_id(room), now)
            return
        if kind == "kick":
            flow.kick(room, pack, player_id(room), now)
            return
        if kind == "move":
            teams = [t.id for t in room.teams]
            flow.move_player(room, pack, player_id(room), teams[who % len(teams)], now)
            return
        if kind == "pause":
            flow.pause(room, pack, now)
            return
        if kind == "resume":
            flow.resume(room, pack, now)
            return
        if kind == "finish":
            flow.finish(room, now, pack)
            return
        raise AssertionError(kind)

    return run


KINDS = [
    "join", "join", "connect", "connect", "disconnect", "drop", "next", "next", "next",
    "guess_right", "guess_wrong", "guess_wrong", "hint", "reveal", "reveal", "line", "line",
    "line", "line", "line", "vote", "vote", "tick", "tick", "tick", "leave", "kick", "move",
    "pause", "resume",
]  # fmt: skip


steps = st.lists(
    st.tuples(st.sampled_from([*KINDS, "finish"]), st.integers(0, 50), st.floats(0, 40)),
    min_size=5,
    max_size=100,
)


def new_room() -> Room:
    room = rooms.new_room("PARTS2", "Parts", "hosthash", T0, team_names=("Red", "Blue", "Gold"))
    room.pack_id = MIX.id
    for n in range(6):
        player = rooms.join(room, name=f"Start{n}", team_id=None, token_hash=f"s{n}", now=T0)
        rooms.connect(room, player, T0, "proc-a")
    return room


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_recorded_parts_rebuild_the_room_after_every_command(
    game: list[tuple[str, int, float]],
) -> None:
    room = new_room()
    stored = parts.split(room)
    elsewhere = parts.join(stored)  # another process's decoded copy
    assert elsewhere == room
    now = T0
    for kind, who, wait in [*game, ("finish", 0, 1.0)]:
        now += wait
        before = copy.deepcopy(room)
        with changes.tracking(room) as changed:
            try:
                command(kind, who, wait)(room, MIX, now)
            except RitrovoError:
                assert room == before  # refused before changing anything
                continue
        room.seq += 1
        if changed.is_whole:
            stored = parts.split(room)
            elsewhere = parts.join(stored)
        else:
            written, gone = parts.changed_parts(room, changed)
            # A writer that lost its compare-and-set puts the room back as stored.
            undone = Cached(room.seq - 1, copy.deepcopy(room), dict(stored))
            undone.undo(written, gone, whole=False)
            assert undone.room == before, f"after {kind}: undoing it did not restore the room"
            assert list(undone.room.players) == list(before.players), "roster order"
            stored.update(written)
            for name in gone:
                stored.pop(name, None)
            notice, received = parts.decode_notice(
                parts.encode_notice(room.seq, written, gone, whole=False)
            )
            assert notice.seq == room.seq and received == written
            parts.apply(elsewhere, received, notice.gone)
        assert parts.join(stored) == room, f"after {kind}: the stored parts differ"
        assert elsewhere == room, f"after {kind}: the applied change differs"
        assert list(elsewhere.players) == list(room.players), f"after {kind}: roster order"
        assert stored == parts.split(room), f"after {kind}: a part was not recorded"


def test_a_guess_writes_meta_its_attempt_and_itself_only() -> None:
    room = new_room()
    for player in room.players.values():
        player.connections = 1
    flow.advance(room, MIX, T0)  # the story round
    flow.advance(room, MIX, T0)  # the writing ends
    while room.phase != "riddle":
        flow.advance(room, MIX, T0)
    player = next(iter(room.players.values()))
    with changes.tracking(room) as changed:
        riddles.guess(room, MIX, player.id, "not it", T0 + 1)
    written, gone = parts.changed_parts(room, changed)
    assert not changed.is_whole
    assert set(written) == {
        parts.META,
        parts.ATTEMPT + player.team_id,
        f"{parts.GUESS}{player.team_id}:0",
    }
    assert gone == []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.integers(2, 5))
def test_undoing_a_group_commit_restores_the_room(
    game: list[tuple[str, int, float]], group: int
) -> None:
    # Commands committed together (service._try_batch) and lost together: the
    # parts they touched, merged, must put the room back as it was before them.
    room = new_room()
    stored = parts.split(room)
    now = T0
    for start in range(0, len(game), group):
        before = copy.deepcopy(room)
        merged = changes.Changes()
        for kind, who, wait in game[start : start + group]:
            now += wait
            with changes.tracking(room) as one:
                try:
                    command(kind, who, wait)(room, MIX, now)
                except RitrovoError:
                    continue
            merged.merge(one)
        if not merged.recorded:
            continue
        room.seq += 1
        if merged.is_whole:
            stored = parts.split(room)
            continue
        written, gone = parts.changed_parts(room, merged)
        undone = Cached(room.seq - 1, copy.deepcopy(room), dict(stored))
        undone.undo(written, gone, whole=False)
        assert undone.room == before, "undoing the group did not restore the room"
        assert list(undone.room.players) == list(before.players), "roster order"
        stored.update(written)
        for name in gone:
            stored.pop(name, None)
        assert stored == parts.split(room)


def test_undoing_several_guesses_of_one_team_removes_them_all() -> None:
    room = new_room()
    while room.phase != "riddle":
        flow.advance(room, MIX, T0)
    player = next(iter(room.players.values()))
    riddles.guess(room, MIX, player.id, "stored already", T0 + 1)
    stored = parts.split(room)
    before = copy.deepcopy(room)
    merged = changes.Changes()
    for i in range(3):  # three guesses of one team, committed together
        with changes.tracking(room) as one:
            riddles.guess(room, MIX, player.id, f"wrong {i}", T0 + 2 + i)
        merged.merge(one)
    room.seq += 1
    written, gone = parts.changed_parts(room, merged)
    undone = Cached(room.seq - 1, copy.deepcopy(room), dict(stored))
    undone.undo(written, gone, whole=False)
    assert undone.room == before
    assert len(undone.room.riddle.teams[player.team_id].guesses) == 1  # type: ignore[union-attr]
