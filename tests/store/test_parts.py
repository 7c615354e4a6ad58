"""A room stored as parts: what the rules record as changed is all that changed.

Random games are played through the rules the way the service plays them
(inside ``changes.tracking``), and after every command the parts a commit
would write are applied to (1) a stored copy of the parts and (2) another
process's decoded copy of the room. Both must equal the room itself: a rule
that changed a part without recording it fails here.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ritrovo.errors import RitrovoError
from ritrovo.game import changes, coffee, flow, patches, riddles, rooms, views, whoswho
from ritrovo.game.kept import Heard
from ritrovo.game.models import KEPT_MOMENTS, MAX_MOMENTS, Role, Room, TeamStory
from ritrovo.game.pack import Pack, RiddleRound, StoryRound, WhosWhoRound
from ritrovo.packs import PackLibrary, load_pack
from ritrovo.service import Cached, GameService
from ritrovo.store import parts
from ritrovo.store.base import RoomStore

PUZZLES = Path(__file__).resolve().parents[2] / "puzzles"
_SHIPPED = load_pack(PUZZLES / "team-mix-en.yaml")
_QUICK, _STORY, _TEASERS, _CORPSE = _SHIPPED.rounds
assert isinstance(_QUICK, RiddleRound) and isinstance(_TEASERS, RiddleRound)
WHOSWHO = WhosWhoRound(title="Who's who", prompts=("A place?", "A talent?"), questions=3)
# Short rounds, a Who's who and a story first, so that random games reach every kind of round.
MIX = Pack(
    id=_SHIPPED.id,
    title=_SHIPPED.title,
    language=_SHIPPED.language,
    rounds=(
        WHOSWHO,
        _STORY,
        RiddleRound(title=_QUICK.title, riddles=_QUICK.riddles[:2]),
        _CORPSE,
        RiddleRound(title=_TEASERS.title, riddles=_TEASERS.riddles[:1]),
    ),
)
assert isinstance(_STORY, StoryRound) and isinstance(_CORPSE, StoryRound)
# Long stories: many turns each, so that stories grow and moments pass MAX_MOMENTS.
STORIES = Pack(
    id=_SHIPPED.id,
    title=_SHIPPED.title,
    language=_SHIPPED.language,
    rounds=(
        dataclasses.replace(_STORY, turns_per_player=12),
        dataclasses.replace(_CORPSE, turns_per_player=6),
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
        if kind == "next":  # a Who's who draw takes the seed the command would draw
            flow.advance(room, pack, now, seed=who)
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
        if kind == "hide":  # the host hides (or shows again) one line of a story
            found = [ts for ts in (room.story.stories.values() if room.story else ()) if ts.lines]
            ts = found[who % len(found)] if found else None
            team_id, index = (ts.team_id, who % len(ts.lines)) if ts else ("t0", 0)
            flow.hide_line(room, pack, team_id, index, who % 3 != 0)
            return
        if kind == "pack":  # a fresh game after a finished one (moments go)
            flow.choose_pack(room, pack.id)
            return
        if kind == "again":  # the game ends, a fresh one starts at once (one commit)
            flow.finish(room, now, pack)
            flow.choose_pack(room, pack.id)
            flow.advance(room, pack, now, seed=who)
            return
        if kind == "vote":
            teams = [t.id for t in room.teams]
            flow.vote(room, pack, player_id(room), teams[who % len(teams)], now)
            return
        if kind == "tick":
            flow.tick(room, pack, now)
            return
        if kind == "leave":
            flow.leave(room, pack, player_id(room), now)
            return
        if kind == "kick":
            flow.kick(room, pack, player_id(room), now)
            return
        if kind == "rename":  # a change of ``meta`` only, which kept views must see
            team = room.teams[who % len(room.teams)]
            rooms.rename_team(room, team.id, f"{team.name[:20]} {who}")
            return
        if kind == "lock":  # ``meta`` only, like the three below
            rooms.set_locked(room, who % 2 == 0)
            return
        if kind == "auto":
            flow.set_auto_advance(room, who % 2 == 0)
            return
        if kind == "extend":
            flow.extend(room, pack, 10 + who, now)
            return
        if kind == "team":
            rooms.create_team(room, f"New {who}")
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
        if kind == "pair":  # a coffee pairing of the present players (mentoring now and then)
            coffee.start(room, pack, 30 + who, now, mentoring=who % 2 == 0, seed=who)
            return
        if kind == "shuffle":
            coffee.shuffle(room, now, seed=who if who % 3 else None)
            return
        if kind == "unpair":
            coffee.end(room)
            return
        if kind == "mentor":
            roles = ("newcomer", "experienced", None)
            coffee.set_mentoring_role(room, player_id(room), roles[who % 3])
            return
        if kind == "ww_answer":  # one or two answers, or a skip
            given = [(n, f"fact {who} {n}") for n in range(who % 3)]
            # The command's random ids; some already taken in the round, as a clash would be.
            fresh = [f"a{who}-{n}" for n in range(whoswho.NEW_IDS)]
            whoswho.answer(
                room, pack, player_id(room), given, f"hi {who}" if who % 2 else None, now, fresh
            )
            return
        if kind == "ww_hide":  # the host hides (or shows again) one answer
            state = room.whoswho
            answer_ids = [
                a.id for e in (state.entries.values() if state else ()) for a in e.answers
            ]
            chosen = answer_ids[who % len(answer_ids)] if answer_ids else "w0"
            whoswho.hide(room, pack, chosen, who % 3 != 0)
            return
        if kind == "ww_choose":  # a player chooses a person, by id or by name
            people = list(room.players.values())
            person = people[(who // 2) % len(people)] if people else None
            if who % 2 and person is not None:
                whoswho.choose(room, pack, player_id(room), now, name=person.name)
            else:
                whoswho.choose(room, pack, player_id(room), now, chosen=person and person.id)
            return
        raise AssertionError(kind)

    return run


KINDS = [
    "join", "join", "connect", "connect", "disconnect", "drop", "next", "next", "next",
    "guess_right", "guess_wrong", "guess_wrong", "hint", "reveal", "reveal", "line", "line",
    "line", "line", "line", "vote", "vote", "tick", "tick", "tick", "leave", "kick", "move",
    "pause", "resume", "hide", "pack", "pair", "pair", "shuffle", "unpair", "mentor", "mentor", "rename",
    "ww_answer", "ww_answer", "ww_answer", "ww_hide", "ww_choose", "ww_choose", "ww_choose",
]  # fmt: skip
# Story rounds written at length: lines, the host hiding them, players coming
# and going, now and then a fresh game (moments go).
STORY_KINDS = [
    *["line"] * 30, *["hide"] * 4, "join", "connect", "connect", "disconnect",
    "leave", "move", "tick", "tick", "pause", "resume", "next", "reveal", "vote", "again",
    "pair", "mentor", "rename", "rename", "lock", "auto", "extend", "team",
]  # fmt: skip

# A Who's who round: answers, the host hiding some, players coming and going,
# the questions and the teams' choices.
WHOSWHO_KINDS = [
    *["ww_answer"] * 12, *["ww_choose"] * 12, "ww_hide", "ww_hide", "join", "connect",
    "disconnect", "leave", "kick", "move", "next", "next", "reveal", "tick", "tick",
]  # fmt: skip


steps = st.lists(
    st.tuples(st.sampled_from([*KINDS, "finish"]), st.integers(0, 50), st.floats(0, 40)),
    min_size=5,
    max_size=100,
)
whoswho_steps = st.lists(
    st.tuples(st.sampled_from(WHOSWHO_KINDS), st.integers(0, 50), st.floats(0, 20)),
    min_size=20,
    max_size=120,
)
story_steps = st.lists(
    st.tuples(st.sampled_from(STORY_KINDS), st.integers(0, 50), st.floats(0, 8)),
    min_size=20,
    max_size=150,
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
    _replay(game, MIX)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(story_steps)
def test_recorded_parts_rebuild_the_room_through_long_stories(
    game: list[tuple[str, int, float]],
) -> None:
    _replay([("next", 0, 0.0), *game], STORIES)  # straight into the first story round


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(whoswho_steps)
def test_recorded_parts_rebuild_the_room_through_a_whoswho_round(
    game: list[tuple[str, int, float]],
) -> None:
    _replay([("next", 0, 0.0), *game], MIX)  # straight into the Who's who round


def _replay(game: list[tuple[str, int, float]], pack: Pack) -> None:
    """Play ``game``, checking after every command that the parts written rebuild the room."""
    room = new_room()
    stored = parts.split(room)
    elsewhere = parts.join(stored)  # another process's decoded copy
    assert elsewhere == room
    # The rows a hub keeps between flushes, told every change as it is published.
    kept = views.Rows(Heard())
    # The view each audience was last sent, and its seq: a connection's.
    held: dict[tuple[Role, str | None], tuple[dict[str, object], int]] = {}
    now = T0
    for kind, who, wait in [*game, ("finish", 0, 1.0)]:
        now += wait
        before = copy.deepcopy(room)
        with changes.tracking(room) as changed:
            try:
                command(kind, who, wait)(room, pack, now)
            except RitrovoError:
                assert room == before  # refused before changing anything
                continue
        room.seq += 1
        if changed.is_whole:
            stored = parts.split(room)
            elsewhere = parts.join(stored)
            assert kept.heard is not None
            kept.heard.heard(room.seq, None)
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
            assert kept.heard is not None
            kept.heard.heard(notice.seq, parts.changes_of(notice))
        assert parts.join(stored) == room, f"after {kind}: the stored parts differ"
        assert elsewhere == room, f"after {kind}: the applied change differs"
        assert list(elsewhere.players) == list(room.players), f"after {kind}: roster order"
        # Every part as written whole; besides them, only moment slots of the
        # ring that a cut left behind (``moments_from`` in ``meta`` skips them).
        whole = parts.split(room)
        assert {n: stored[n] for n in whole if n in stored} == whole, (
            f"after {kind}: a part was not recorded"
        )
        left = set(stored) - set(whole)
        assert all(n.startswith(parts.MOMENT) for n in left), f"after {kind}: {sorted(left)} stayed"
        if who % 3:  # (a flush may come after several changes)
            _check_kept_views(room, pack, now, kept, held, kind)


def _check_kept_views(
    room: Room,
    pack: Pack,
    now: float,
    kept: views.Rows,
    held: dict[tuple[Role, str | None], tuple[dict[str, object], int]],
    kind: str,
) -> None:
    """Views built with the rows kept from every flush so far, skipping what the changes
    heard say did not change, are the views built from scratch; and so is a view
    patched from the one an audience holds (``views.patched``), with its patch."""
    audiences: list[tuple[Role, str | None]] = [("host", None), ("screen", None)]
    audiences += [("player", player) for player in room.players]
    shared = views.Build(room, kept)
    for role, who in audiences:
        fresh = orjson.dumps(views.build(room, pack, now, role, who))
        before = held.get((role, who))
        made = (
            None
            if before is None
            else views.patched(*before, room, pack, now, role, who, shared=shared)
        )
        if made is None:
            view = views.build(room, pack, now, role, who, shared=shared)
        else:
            assert before is not None
            view, ops = made
            assert orjson.dumps(patches.apply(before[0], ops)) == fresh, f"after {kind}: patch"
        assert orjson.dumps(view) == fresh, f"after {kind}: {role} {who}"
        held[(role, who)] = (view, room.seq)


def test_a_guess_writes_meta_its_attempt_and_itself_only() -> None:
    room = new_room()
    for player in room.players.values():
        player.connections = 1
    flow.advance(room, MIX, T0)  # the Who's who round
    flow.advance(room, MIX, T0, seed=1)  # nobody answered: it ends
    while room.phase != "riddle":
        flow.advance(room, MIX, T0, seed=1)
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


def test_undoing_the_moment_that_cut_the_list_brings_the_dropped_ones_back() -> None:
    # The 61st moment cuts the list to its last 30: the other 30 are in ring
    # slots that commit did not write, and a lost compare-and-set must find them.
    room = rooms.new_room("UNDO01", "Undo", "hosthash", T0)
    for n in range(KEPT_MOMENTS):
        room.add_moment("note", T0 + n, text=f"m{n}")
    stored = parts.split(room)
    before = copy.deepcopy(room)
    with changes.tracking(room) as changed:
        changes.meta(room)
        room.add_moment("note", T0 + 99, text="new")
    assert len(room.moments) == MAX_MOMENTS
    room.seq += 1
    written, gone = parts.changed_parts(room, changed)
    undone = Cached(room.seq - 1, room, dict(stored))
    undone.undo(written, gone, whole=False)
    assert [m.text for m in undone.room.moments] == [m.text for m in before.moments]
    assert undone.room == before


def test_undoing_several_guesses_of_one_team_removes_them_all() -> None:
    room = new_room()
    while room.phase != "riddle":
        flow.advance(room, MIX, T0, seed=1)
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


# -- moments and story lines ------------------------------------------------------


def _write_lines(room: Room, count: int, now: float) -> None:
    """``count`` lines, each by the writer whose turn it is in the first story with one."""
    for n in range(count):
        writer = next(ts.turn_player for ts in _stories(room) if ts.turn_player)
        flow.submit_line(room, STORIES, writer, f"and then the {n}th thing happened", now)


def _stories(room: Room) -> list[TeamStory]:
    assert room.story is not None
    return list(room.story.stories.values())


def _story_room(moments: int, lines: int = 0) -> Room:
    """A room writing its first story round, with ``lines`` lines and ``moments`` moments added."""
    room = new_room()
    flow.advance(room, STORIES, T0)
    _write_lines(room, lines, T0)
    while room.moments_added < moments:
        room.add_moment("filler", T0, text=f"moment {room.moments_added}")
    room.seq = 7
    return room


def _moment_names(written: parts.Parts) -> set[str]:
    return {name for name in written if name.startswith(parts.MOMENT)}


def test_a_commit_writes_the_moments_it_added_and_no_other() -> None:
    room = _story_room(moments=2 * MAX_MOMENTS + 5)
    first = room.moments_added
    with changes.tracking(room) as changed:
        _write_lines(room, 1, T0 + 1)
    room.seq += 1
    written, _ = parts.changed_parts(room, changed)
    added = range(first, room.moments_added)
    assert len(added) >= 1
    assert _moment_names(written) == {f"{parts.MOMENT}{n % KEPT_MOMENTS}" for n in added}
    assert MAX_MOMENTS <= len(room.moments) <= KEPT_MOMENTS
    team_id = next(ts.team_id for ts in _stories(room) if ts.lines)
    with changes.tracking(room) as changed:  # the host hides a line: no moment
        flow.hide_line(room, STORIES, team_id, 0, True)
    assert _moment_names(parts.changed_parts(room, changed)[0]) == set()


def test_moments_cleared_for_a_fresh_game_never_come_back() -> None:
    # A fresh game clears the moments in a whole-room write, which drops every
    # slot; even a commit of changes could not bring the old ones back.
    room = _story_room(moments=MAX_MOMENTS + 3)
    stored = parts.split(room)
    before = len(room.moments)
    with changes.tracking(room) as changed:
        changes.meta(room)
        room.moments = []
        room.add_moment("round_started", T0 + 2)
        room.add_moment("story_started", T0 + 2)
    room.seq += 1
    written, gone = parts.changed_parts(room, changed)
    assert gone == [] and len(_moment_names(written)) == 2
    stored.update(written)
    assert len(_moment_names(stored)) >= before > len(room.moments)  # old slots are still there
    assert parts.join(stored) == room
    assert [m.kind for m in parts.join(stored).moments] == ["round_started", "story_started"]


def test_a_line_writes_meta_its_story_itself_and_its_moment_only() -> None:
    room = _story_room(moments=MAX_MOMENTS, lines=2)
    sizes: list[int] = []
    for count in (2, 20):  # the same line commit, in a short story and in a long one
        _write_lines(room, count - sum(len(ts.lines) for ts in _stories(room)), T0)
        story = next(ts for ts in _stories(room) if ts.turn_player)
        team_id, index, moment = story.team_id, len(story.lines), room.moments_added % KEPT_MOMENTS
        with changes.tracking(room) as changed:
            _write_lines(room, 1, T0 + 1)
        assert room.story is not None and room.story.stage == "writing"
        room.seq += 1
        written, gone = parts.changed_parts(room, changed)
        assert set(written) == {
            parts.META,
            parts.STORY + team_id,
            f"{parts.LINE}{team_id}:{index}",
            f"{parts.MOMENT}{moment}",
        }
        assert gone == []
        assert b"happened" not in written[parts.STORY + team_id]  # no line in the story part
        sizes.append(sum(len(data) for data in written.values()))
    assert len(story.lines) >= 6
    assert abs(sizes[1] - sizes[0]) <= 8  # a digit or two, not the lines written since


def test_a_line_patches_each_view_at_its_team_entry_without_building_the_rest() -> None:
    room = _story_room(moments=0, lines=1)
    kept = views.Rows(Heard())
    shared = views.Build(room, kept)
    audiences: list[tuple[Role, str | None]] = [("host", None), ("screen", None)]
    audiences += [("player", player) for player in room.players]
    held = {who: views.build(room, STORIES, T0, *who, shared=shared) for who in audiences}
    built_at = room.seq
    team_id = next(ts.team_id for ts in _stories(room) if ts.turn_player)
    with changes.tracking(room) as changed:
        _write_lines(room, 1, T0 + 1)
    room.seq += 1
    assert kept.heard is not None
    kept.heard.heard(room.seq, changed)
    shared = views.Build(room, kept)
    for who in audiences:
        made = views.patched(held[who], built_at, room, STORIES, T0 + 2, *who, shared=shared)
        assert made is not None, who
        view, ops = made
        fresh = orjson.dumps(views.build(room, STORIES, T0 + 2, *who))
        assert orjson.dumps(view) == fresh == orjson.dumps(patches.apply(held[who], ops))
        # The writing team's entry, the line's moment, the seq and the time: nothing else.
        paths = {tuple(op[1][:3]) if op[1][0] == "story" else op[1][0] for op in ops}
        assert paths == {("story", "teams", team_id), "moments", "seq", "server_time"}, who
    # A team renamed since: ``meta`` changes with every commit, so what the
    # changes heard cannot tell is compared; the view is built whole.
    room.teams[-1].name = "Indaco"
    room.seq += 1
    kept.heard.heard(room.seq, changes.Changes(recorded=True))
    assert (
        views.patched(
            held[("host", None)],
            built_at,
            room,
            STORIES,
            T0 + 3,
            "host",
            shared=views.Build(room, kept),
        )
        is None
    )


# -- rooms stored in an older layout ---------------------------------------------


def _old_layout(room: Room, layout: int) -> parts.Parts:
    """``room``'s parts as an older layout stored them.

    Layout 1: the moments in ``meta``, the lines in their story's part; 2: the lines only;
    3: both in parts of their own (a ring of MAX_MOMENTS slots, read by number as now).
    """
    stored = parts.split(room)
    old = dict(stored)
    for team_id, story in room.story.stories.items() if room.story and layout < 3 else ():
        old = {name: data for name, data in old.items() if not name.startswith(parts.LINE)}
        body = orjson.loads(stored[parts.STORY + team_id])
        old[parts.STORY + team_id] = orjson.dumps({**body, "lines": story.lines})
    meta = orjson.loads(stored[parts.META])
    meta["layout"] = layout
    if layout == 3:  # its list held MAX_MOMENTS at most (the room must be so), slot: number % that
        assert len(room.moments) <= MAX_MOMENTS
        old = {name: data for name, data in old.items() if not name.startswith(parts.MOMENT)}
        first = room.moments_added - len(room.moments)
        for number, moment in enumerate(room.moments, start=first):
            old[f"{parts.MOMENT}{number % MAX_MOMENTS}"] = orjson.dumps([number, moment])
    if layout == 1:
        for name in ("layout", "moments_from", "moments_added"):
            del meta[name]
        meta["moments"] = room.moments
        old = {name: data for name, data in old.items() if not name.startswith(parts.MOMENT)}
    old[parts.META] = orjson.dumps(meta)
    return old


@pytest.mark.parametrize("layout", [1, 2, 3, 4, 5])
def test_a_room_stored_in_an_old_layout_loads(layout: int) -> None:
    room = _story_room(moments=MAX_MOMENTS + 4, lines=7)
    if layout == 3:  # it kept MAX_MOMENTS
        del room.moments[:-MAX_MOMENTS]
    old = _old_layout(room, layout)
    assert parts.is_old_layout(old) and not parts.is_old_layout(parts.split(room))
    if layout == 1:  # it did not count the moments: numbered from 0 again, they stay in order
        room.moments_added = len(room.moments)
    assert parts.join(old) == room


@pytest.mark.parametrize("layout", [1, 2, 3, 4, 5])
async def test_the_next_commit_writes_an_old_layout_room_whole(
    store: RoomStore, layout: int
) -> None:
    room = _story_room(moments=MAX_MOMENTS + 4, lines=7)
    if layout == 3:  # it kept MAX_MOMENTS
        del room.moments[:-MAX_MOMENTS]
    room.seq = 0
    room.pack_id = None  # STORIES is no pack of the library
    await store.create(room.code, _old_layout(room, layout), now=T0)
    service = GameService(store, PackLibrary(PUZZLES), clock=lambda: T0 + 5)

    def arrive(room: Room, pack: Pack | None, now: float) -> None:
        rooms.join(room, name="Late", team_id=None, token_hash="late", now=now)

    await service.execute(room.code, arrive)
    stored = await store.load(room.code)
    assert stored is not None and not parts.is_old_layout(stored.parts)
    expected = copy.deepcopy(room)
    if layout == 1:
        expected.moments_added = len(expected.moments)
    arrive(expected, None, T0 + 5)
    expected.seq = 1
    assert parts.join(stored.parts) == expected
    assert stored.parts == parts.split(expected)


def test_a_change_in_another_layout_is_not_applied() -> None:
    room = _story_room(moments=3, lines=2)
    notice = parts.encode_notice(8, _old_layout(room, 2), [], whole=False)
    with pytest.raises(ValueError, match="layout"):
        parts.decode_notice(notice)


def test_a_room_stored_by_the_code_of_layout_1_loads() -> None:
    # Parts written by split() as it was before moments and lines were parts
    # (a story room: 6 players, 14 lines, one hidden, 30 moments, seq 41).
    data = orjson.loads((Path(__file__).parent / "data" / "layout1-room.json").read_bytes())
    old = {name: text.encode() for name, text in data.items()}
    assert parts.is_old_layout(old)
    room = parts.join(old)
    assert room.seq == 41 and len(room.players) == 6
    assert len(room.moments) == room.moments_added == MAX_MOMENTS
    assert [m.at for m in room.moments] == sorted(m.at for m in room.moments)
    stories = {ts.team_id: ts for ts in _stories(room)}
    assert sum(len(ts.lines) for ts in stories.values()) == 14
    assert stories["t1"].lines[1].hidden and stories["t1"].lines[0].text == "line 0 of the old days"
    assert parts.join(parts.split(room)) == room


@pytest.mark.parametrize("host_first", [True, False])
def test_a_line_hidden_before_edits_were_counted_stays_the_hosts_alone(host_first: bool) -> None:
    """Layouts before 5 did not count the host's hides (``lines_edited``): the host and
    the team share a story entry only when no line was ever hidden, so a room read from
    one must not look as if none was (the team read the hidden text, or the host lost it)."""
    data = orjson.loads((Path(__file__).parent / "data" / "layout1-room.json").read_bytes())
    room = parts.join({name: text.encode() for name, text in data.items()})
    reader = next(pid for pid, p in room.players.items() if p.team_id == "t1")
    played = STORIES.rounds[0]  # (the team reads its story while writing)
    assert isinstance(played, StoryRound) and played.visibility == "full"
    shared = views.Build(room, views.Rows(Heard()))
    audiences: list[tuple[Role, str | None]] = [("host", None), ("player", reader)]
    built = {
        role: views.build(room, STORIES, T0, role, pid, shared=shared)
        for role, pid in (audiences if host_first else audiences[::-1])
    }
    host_line = built["host"]["story"]["teams"]["t1"]["lines"][1]
    team_line = built["player"]["story"]["teams"]["t1"]["lines"][1]
    assert host_line["text"] == "line 1 of the old days" and host_line["hidden"] is True
    assert team_line == {"index": 1, "hidden": True}


def test_one_flush_patches_audiences_that_hold_views_of_different_seqs() -> None:
    """A flush diffs each pair of values once for every audience that holds the same one
    (``views.Build.diff``): audiences a flush left behind (a slow connection) hold other
    values, and get their own operations."""
    room = _story_room(moments=0, lines=1)
    kept = views.Rows(Heard())
    audiences: list[tuple[Role, str | None]] = [("host", None), ("screen", None)]
    audiences += [("player", pid) for pid in room.players]

    def line(now: float) -> None:
        with changes.tracking(room) as changed:
            _write_lines(room, 1, now)
        room.seq += 1
        assert kept.heard is not None
        kept.heard.heard(room.seq, changed)

    shared = views.Build(room, kept)
    held = {a: (views.build(room, STORIES, T0, *a, shared=shared), room.seq) for a in audiences}
    line(T0 + 1)
    shared = views.Build(room, kept)
    for a in audiences[::2]:  # the others miss this flush
        made = views.patched(*held[a], room, STORIES, T0 + 2, *a, shared=shared)
        assert made is not None
        held[a] = (made[0], room.seq)
    line(T0 + 3)
    shared = views.Build(room, kept)
    patched = 0
    for a in audiences:
        made = views.patched(*held[a], room, STORIES, T0 + 4, *a, shared=shared)
        fresh = orjson.dumps(views.build(room, STORIES, T0 + 4, *a))
        if made is not None:
            patched += 1
            assert orjson.dumps(made[0]) == fresh, a
            assert orjson.dumps(patches.apply(held[a][0], made[1])) == fresh, a
    assert patched == len(audiences)
