"""The "Who's who" round (``game/whoswho.py``): answers, the host's review, questions, the reveal.

Pure: rooms and packs as plain data, ``now`` handed in. Every refusal is
checked to change nothing; every view before a question's reveal is checked
to hold nothing of its author.
"""

from __future__ import annotations

import copy
import functools
import itertools
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from ritrovo.errors import RitrovoError
from ritrovo.game import changes, exports, flow, rooms, views, whoswho
from ritrovo.game.models import Room, WhosWhoEntry
from ritrovo.game.pack import Pack, WhosWhoRound
from ritrovo.store import parts
from support.whoswho_outsider import predicted_authors

T0 = 1_000_000.0
ROUND = WhosWhoRound(
    title="Who's who",
    prompts=("A place you'd go back to", "Something you learned this year", "A hidden talent"),
    max_answers=2,
    questions=4,
    time_limit=40,
    points=100,
)
PACK = Pack(id="ww", title="WW", language="en", rounds=(ROUND,))
# What the host's "next" hands the draw (drawn with ``secrets``; fixed here).
SEED = 2**100 + 12345
_FRESH = itertools.count()


def new_ids() -> list[str]:
    """What the answer command hands in (random ids, from ``secrets``): ids never used yet."""
    return [f"id{next(_FRESH):05d}" for _ in range(whoswho.NEW_IDS)]


def give(
    room: Room,
    player_id: str,
    answers: list[tuple[Any, Any]],
    line: object,
    now: float,
    fresh: list[str] | None = None,
) -> WhosWhoEntry:
    """``whoswho.answer`` with the ids the command would hand in (``fresh``, else new ones)."""
    return whoswho.answer(
        room, PACK, player_id, answers, line, now, new_ids() if fresh is None else fresh
    )


def make_room(players: int = 6) -> Room:
    room = rooms.new_room("WHOSWH", "Offsite", "hosthash", T0 - 100, team_names=("Red", "Blue"))
    room.pack_id = PACK.id
    for n in range(players):
        player = rooms.join(room, name=f"P{n}", team_id=None, token_hash=f"h{n}", now=T0 - 50)
        player.connections = 1
    flow.advance(room, PACK, T0)  # the round starts: answering
    return room


def ids(room: Room) -> list[str]:
    return list(room.players)


def refused(code: str, room: Room, call: Callable[[], object]) -> None:
    before = copy.deepcopy(room)
    with pytest.raises(RitrovoError) as info:
        call()
    assert info.value.code == code, info.value
    assert room == before, "a refused command changed the room"


def all_views(room: Room, now: float) -> list[dict[str, Any]]:
    out = [views.build(room, PACK, now, "host"), views.build(room, PACK, now, "screen")]
    for pid in room.players:
        out.append(views.build(room, PACK, now, "player", pid))
    return out


def test_the_round_starts_with_answering_and_players_answer_privately() -> None:
    room = make_room()
    p0, p1, p2 = ids(room)[:3]
    assert room.phase == "whoswho" and room.whoswho is not None
    assert room.whoswho.stage == "answering"
    give(room, p0, [(0, "  Lisbon "), (2, "juggling")], "Ask me!", T0 + 1)
    give(room, p1, [], None, T0 + 2)  # skips
    entry = room.whoswho.entries[p0]
    assert [(a.prompt, a.text) for a in entry.answers] == [(0, "Lisbon"), (2, "juggling")]
    assert entry.line == "Ask me!"
    mine = views.private_view(room, p0)["whoswho"]
    assert mine["answers"] == [
        {"prompt": 0, "text": "Lisbon", "hidden": False},
        {"prompt": 2, "text": "juggling", "hidden": False},
    ]
    assert views.private_view(room, p2)["whoswho"]["answered"] is False
    screen = views.build(room, PACK, T0 + 3, "screen")["whoswho"]
    assert screen["answered"] == 1 and screen["skipped"] == 1 and "review" not in screen
    # Changing one's mind moves the counts: p1 answers after all, p0 skips.
    give(room, p1, [(1, "bread")], None, T0 + 3)
    give(room, p0, [], None, T0 + 3)
    screen = views.build(room, PACK, T0 + 3, "screen")["whoswho"]
    assert (screen["answered"], screen["skipped"]) == (1, 1)
    give(room, p0, [(0, "Lisbon"), (2, "juggling")], "Ask me!", T0 + 3)
    host = views.build(room, PACK, T0 + 3, "host")["whoswho"]
    assert (host["answered"], host["skipped"]) == (2, 0) and len(host["review"]) == 3
    # The review is the same list while the answers stay as they are.
    assert views.build(room, PACK, T0 + 4, "host")["whoswho"]["review"] is host["review"]
    for view in all_views(room, T0 + 3):
        assert "Lisbon" not in orjson.dumps(view).decode() or "review" in view["whoswho"]


def test_answering_refusals_change_nothing() -> None:
    room = make_room()
    p0 = ids(room)[0]
    refused("too_many_answers", room, lambda: give(
        room, p0, [(0, "a"), (1, "b"), (2, "c")], None, T0))  # fmt: skip
    refused("not_a_prompt", room, lambda: give(room, p0, [(3, "a")], None, T0))
    refused("not_a_prompt", room, lambda: give(room, p0, [(True, "a")], None, T0))
    refused("not_a_prompt", room, lambda: give(room, p0, [(1, "a"), (1, "b")], None, T0))
    refused("empty_answer", room, lambda: give(room, p0, [(1, "  ")], None, T0))
    refused("answer_too_long", room, lambda: give(room, p0, [(1, "x" * 201)], None, T0))
    refused("invalid_answer", room, lambda: give(room, p0, [(1, "a\u202eb")], None, T0))
    refused("answer_too_long", room, lambda: give(room, p0, [(1, "a")], "y" * 121, T0))
    refused("player_not_found", room, lambda: give(room, "p99", [], None, T0))
    refused("no_whoswho", make_room(), lambda: give(make_lobby(), p0, [], None, T0))


def make_lobby() -> Room:
    room = rooms.new_room("LOBBY2", "Lobby", "hosthash", T0 - 100)
    room.pack_id = PACK.id
    return room


def test_the_host_reviews_answers_without_their_authors_and_hides_them() -> None:
    room = make_room()
    p0, p1 = ids(room)[:2]
    give(room, p0, [(0, "Lisbon")], "", T0 + 1)
    give(room, p1, [(1, "knitting")], "", T0 + 2)
    review = views.build(room, PACK, T0 + 3, "host")["whoswho"]["review"]
    assert sorted(r["text"] for r in review) == ["Lisbon", "knitting"]
    assert all(set(r) == {"id", "prompt", "text", "hidden"} for r in review)
    text = orjson.dumps(review).decode()
    assert p0 not in text and "P0" not in text
    lisbon = next(r["id"] for r in review if r["text"] == "Lisbon")
    refused("answer_not_found", room, lambda: whoswho.hide(room, PACK, "w999", True))
    refused("invalid_field", room, lambda: whoswho.hide(room, PACK, lisbon, "yes"))
    whoswho.hide(room, PACK, lisbon, True)
    assert views.private_view(room, p0)["whoswho"]["answers"][0]["hidden"] is True
    # Given again as it was, it stays hidden; changed, it is a new answer.
    give(room, p0, [(0, "Lisbon")], "", T0 + 4)
    assert room.whoswho is not None
    assert room.whoswho.entries[p0].answers[0].hidden is True
    flow.advance(room, PACK, T0 + 5, SEED)  # the questions: only knitting is left
    assert [q.text for q in room.whoswho.questions] == ["knitting"]
    refused("answers_closed", room, lambda: whoswho.hide(room, PACK, lisbon, False))
    refused("answers_closed", room, lambda: give(room, p0, [], None, T0 + 6))


def test_questions_take_one_answer_per_author_first_and_draw_the_same_everywhere() -> None:
    room = make_room()
    players = ids(room)
    give(room, players[0], [(0, "a0"), (1, "b0")], None, T0 + 1)
    give(room, players[1], [(0, "a1"), (1, "b1")], None, T0 + 1)
    give(room, players[2], [(2, "c2")], None, T0 + 1)
    assert room.whoswho is not None
    first = whoswho.draw(room, ROUND, room.whoswho, SEED)
    again = whoswho.draw(copy.deepcopy(room), ROUND, room.whoswho, SEED)
    assert [q.answer_id for q in first] == [q.answer_id for q in again]
    assert len(first) == 4  # ROUND.questions
    # Three authors, four questions: each author once before anyone's second.
    assert {q.author for q in first} == set(players[:3])
    texts = {q.text for q in first}
    assert "c2" in texts and len(texts & {"a0", "b0"}) >= 1 and len(texts & {"a1", "b1"}) >= 1


def test_nothing_to_play_ends_the_round() -> None:
    room = make_room()
    give(room, ids(room)[0], [], None, T0 + 1)
    assert flow.advance(room, PACK, T0 + 2, SEED) == "round_ended"
    assert room.phase == "finished" and room.whoswho is None


def play_to_questions(room: Room) -> None:
    players = ids(room)
    for n, pid in enumerate(players[:4]):
        give(room, pid, [(n % 3, f"fact {n}")], f"line {n}", T0 + 1)
    assert flow.advance(room, PACK, T0 + 10, SEED) == "question_started"


def test_no_view_names_the_author_before_the_reveal() -> None:
    room = make_room()
    play_to_questions(room)
    state = room.whoswho
    assert state is not None and state.stage == "open"
    question = state.questions[0]
    author = room.players[question.author]
    # Every other player chooses the author: still no view says who it is.
    for pid, player in room.players.items():
        if pid != author.id and player.team_id not in state.guesses:
            whoswho.choose(room, PACK, pid, T0 + 12, chosen=author.id)
            break
    for view in all_views(room, T0 + 12):
        shown = view["whoswho"]["question"]
        assert shown["text"] == question.text and "reveal" not in shown
        # the author's id may be in the rosters, and in the team's own choice: never beside
        # "correct", an author field, a line or a score for it
        assert "author" not in orjson.dumps(shown).decode()
        assert f"line {ids(room).index(author.id)}" not in orjson.dumps(view).decode()
    assert sum(t.score for t in room.teams) == 0  # scored at the reveal, not before
    assert views.private_view(room, author.id)["whoswho"]["own_question"] is True
    others = [pid for pid in room.players if pid != author.id]
    assert all(not views.private_view(room, pid)["whoswho"]["own_question"] for pid in others)


def test_choosing_a_person_scores_at_the_reveal_as_a_riddle() -> None:
    room = make_room()
    play_to_questions(room)
    state = room.whoswho
    assert state is not None
    question = state.questions[0]
    author = room.players[question.author]
    refused(
        "own_answer", room, lambda: whoswho.choose(room, PACK, author.id, T0 + 11, chosen=author.id)
    )
    mate = next(p for p in room.players.values() if p.id != author.id)
    other = next(
        p for p in room.players.values() if p.team_id != mate.team_id and p.id != author.id
    )
    refused(
        "player_not_found",
        room,
        lambda: whoswho.choose(room, PACK, mate.id, T0 + 11, name="Nobody"),
    )
    refused("invalid_field", room, lambda: whoswho.choose(room, PACK, mate.id, T0 + 11))
    # A typed name is matched as names are: case and look-alikes do not matter.
    typed = author.name.upper()
    assert whoswho.choose(room, PACK, mate.id, T0 + 20, name=typed) == author.id
    refused(
        "no_more_guesses",
        room,
        lambda: whoswho.choose(room, PACK, mate.id, T0 + 21, chosen=author.id),
    )
    wrong = next(p for p in room.players.values() if p.id not in (author.id, other.id))
    whoswho.choose(room, PACK, other.id, T0 + 22, chosen=wrong.id)
    assert state.stage == "revealed" and state.end_reason == "all_answered"
    # 10 s of 40: round(100 × (1 − 0.5 × 10/40)) = 88, + 10 for the first right team.
    team = room.team(mate.team_id)
    assert team is not None and team.score == 98 and room.players[mate.id].points == 98
    revealed = views.build(room, PACK, T0 + 23, "screen")["whoswho"]["question"]["reveal"]
    assert revealed["author"]["id"] == author.id and revealed["author"]["name"] == author.name
    assert revealed["line"] == question.line
    # The results export lists the question as a riddle, with its author.
    row = exports.results(room, PACK)["riddles"][-1]
    assert (row["riddle"], row["text"], row["author"]) == (1, question.text, author.name)
    assert {t["points"] for t in row["teams"]} == {98, 0}
    refused(
        "question_closed", room, lambda: whoswho.choose(room, PACK, mate.id, T0 + 24, chosen="p1")
    )


def test_a_question_ends_at_its_time_limit_and_the_host_moves_on() -> None:
    room = make_room()
    play_to_questions(room)
    state = room.whoswho
    assert state is not None
    assert flow.next_deadline(room, PACK, T0 + 11) == T0 + 10 + 40
    refused("question_open", room, lambda: flow.advance(room, PACK, T0 + 11))
    assert flow.tick(room, PACK, T0 + 51)
    assert state.stage == "revealed" and state.end_reason == "timeout"
    assert state.ended_at == T0 + 50
    refused(
        "too_late", room, lambda: whoswho.choose(room, PACK, ids(room)[0], T0 + 52, chosen="p1")
    )
    for n in range(1, len(state.questions)):
        assert flow.advance(room, PACK, T0 + 60 + n) == "question_started"
        assert state.index == n
        flow.reveal(room, PACK, T0 + 61 + n)
        assert state.end_reason == "host_reveal"
    refused("nothing_to_reveal", room, lambda: flow.reveal(room, PACK, T0 + 70))
    assert flow.advance(room, PACK, T0 + 80) == "round_ended"
    assert room.phase == "finished" and room.whoswho is None


def test_the_commands_record_the_parts_they_change() -> None:
    room = make_room()
    p0 = ids(room)[0]
    with changes.tracking(room) as changed:
        give(room, p0, [(0, "Lisbon")], None, T0 + 1)
    written, gone = parts.changed_parts(room, changed)
    # Its answers, and the round's counts (no questions yet: a small part).
    assert set(written) == {parts.META, parts.ENTRY + p0, parts.WHOSWHO} and gone == []
    assert parts.join(parts.split(room)) == room
    play_to_questions(room)
    state = room.whoswho
    assert state is not None
    chooser = next(pid for pid in room.players if pid != state.questions[0].author)
    with changes.tracking(room) as changed:
        whoswho.choose(room, PACK, chooser, T0 + 12, chosen=p0)
    written, gone = parts.changed_parts(room, changed)
    assert parts.WHOSWHO in written and not any(n.startswith(parts.ENTRY) for n in written)
    elsewhere = parts.join(parts.split(room))
    assert elsewhere == room


# -- what the host and the others must not learn before a reveal ---------------

ONE_EACH = WhosWhoRound(title="Who's who", prompts=("A talent",), max_answers=1, questions=10)
ONE_EACH_PACK = Pack(id="ww1", title="WW1", language="en", rounds=(ONE_EACH,))


def twelve_answered() -> Room:
    """Twelve players, each with one answer: the counts say so (answered 12, skipped 0)."""
    room = rooms.new_room("DRAWME", "Offsite", "hosthash", T0 - 100, team_names=("Red", "Blue"))
    room.pack_id = ONE_EACH_PACK.id
    for n in range(12):
        rooms.join(room, name=f"P{n}", team_id=None, token_hash=f"h{n}", now=T0 - 50)
    flow.advance(room, ONE_EACH_PACK, T0)
    for pid in room.players:
        whoswho.answer(room, ONE_EACH_PACK, pid, [(0, f"talent of {pid}")], None, T0, new_ids())
    return room


def test_the_draw_follows_a_secret_seed_not_the_rooms_public_facts() -> None:
    room = twelve_answered()
    state = room.whoswho
    assert state is not None and (state.answered, state.skipped) == (12, 0)
    outsider = predicted_authors(room.code, 0, list(room.players), ONE_EACH.questions)
    draws = [
        [q.author for q in whoswho.draw(room, ONE_EACH, state, seed)]
        for seed in (SEED, SEED + 1, 7)
    ]
    assert all(len(drawn) == 10 and len(set(drawn)) == 10 for drawn in draws)
    assert outsider not in draws
    assert len({tuple(drawn) for drawn in draws}) == 3  # the seed decides
    # Without the command's seed there is no draw: nothing public stands in for it.
    before = copy.deepcopy(room)
    with pytest.raises(ValueError):
        flow.advance(room, ONE_EACH_PACK, T0 + 1)
    assert room == before
    # A retry of the same command (the same seed) draws the same.
    again = copy.deepcopy(room)
    assert flow.advance(room, ONE_EACH_PACK, T0 + 1, SEED) == "question_started"
    assert flow.advance(again, ONE_EACH_PACK, T0 + 1, SEED) == "question_started"
    assert room.whoswho is not None and [q.author for q in room.whoswho.questions] == draws[0]
    assert room == again


def test_answers_are_named_by_the_random_ids_handed_in_not_by_the_rooms_counter() -> None:
    room = make_room()
    p0, p1, p2 = ids(room)[:3]
    counter = room.next_id
    give(room, p0, [(0, "Lisbon"), (2, "juggling")], None, T0 + 1, ["Zq", "Ab", "x", "y", "z"])
    assert room.whoswho is not None
    assert [a.id for a in room.whoswho.entries[p0].answers] == ["Zq", "Ab"]
    # An id already used in the round is passed over.
    give(room, p1, [(1, "bread")], None, T0 + 2, ["Ab", "Zq", "Mm", "q", "r"])
    assert [a.id for a in room.whoswho.entries[p1].answers] == ["Mm"]
    # Only if every id handed in is taken: refused, nothing changed, the command retries.
    refused("busy", room, lambda: give(room, p2, [(0, "x")], None, T0 + 3, ["Ab", "Mm", "Zq"]))
    # Given again as it was, an answer keeps its id; a changed one takes a new id.
    give(room, p0, [(0, "Lisbon"), (2, "juggling!")], None, T0 + 4, ["New", "a", "b", "c", "d"])
    assert [a.id for a in room.whoswho.entries[p0].answers] == ["Zq", "New"]
    # The room's counter (players' and teams' ids) did not move: a late joiner's id
    # does not tell how many answers came before them.
    assert room.next_id == counter
    late = rooms.join(room, name="Late", team_id=None, token_hash="late", now=T0 + 5)
    assert late.id == f"p{counter}"


def test_the_review_is_sorted_by_the_random_ids_not_by_when_answers_came() -> None:
    room = make_room()
    p0, p1, p2 = ids(room)[:3]
    give(room, p0, [(0, "first")], None, T0 + 1, ["Zq", "a", "b", "c", "d"])
    give(room, p1, [(0, "second")], None, T0 + 2, ["Ab", "e", "f", "g", "h"])
    give(room, p2, [(0, "third")], None, T0 + 3, ["Mm", "i", "j", "k", "l"])
    review = views.build(room, PACK, T0 + 4, "host")["whoswho"]["review"]
    assert [r["id"] for r in review] == ["Ab", "Mm", "Zq"]
    assert [r["text"] for r in review] == ["second", "third", "first"]


def test_once_the_host_hid_an_answer_the_players_new_answers_start_hidden() -> None:
    room = make_room()
    p0, p1 = ids(room)[:2]
    give(room, p0, [(0, "Something rude")], None, T0 + 1)
    give(room, p1, [(1, "knitting")], None, T0 + 1)
    state = room.whoswho
    assert state is not None
    whoswho.hide(room, PACK, state.entries[p0].answers[0].id, True)
    # The same text under another prompt, or with a trivial edit: hidden all the same.
    give(room, p0, [(1, "Something rude")], None, T0 + 2)
    assert [a.hidden for a in state.entries[p0].answers] == [True]
    give(room, p0, [(0, "Something rude!"), (2, "Something rude.")], None, T0 + 3)
    assert [a.hidden for a in state.entries[p0].answers] == [True, True]
    give(room, p0, [], None, T0 + 4)  # a skip does not clear it either
    give(room, p0, [(0, "Lisbon"), (2, "Something rude")], None, T0 + 5)
    assert [a.hidden for a in state.entries[p0].answers] == [True, True]
    mine = views.private_view(room, p0)["whoswho"]["answers"]
    assert [a["hidden"] for a in mine] == [True, True]
    # The host shows the good one: it is played; the player's next new answer starts hidden.
    lisbon = state.entries[p0].answers[0]
    whoswho.hide(room, PACK, lisbon.id, False)
    give(room, p0, [(0, "Lisbon"), (1, "Something rude")], None, T0 + 6)
    assert [(a.text, a.hidden) for a in state.entries[p0].answers] == [
        ("Lisbon", False),
        ("Something rude", True),
    ]
    # Others' answers are not held.
    give(room, p1, [(1, "knitting"), (2, "baking")], None, T0 + 7)
    assert [a.hidden for a in state.entries[p1].answers] == [False, False]
    assert parts.join(parts.split(room)) == room  # stored with the player's answers
    flow.advance(room, PACK, T0 + 8, SEED)
    assert sorted(q.text for q in state.questions) == ["Lisbon", "baking", "knitting"]


def test_players_who_leave_while_answers_come_in_are_no_longer_counted() -> None:
    room = make_room()
    p0, p1, p2, p3 = ids(room)[:4]
    give(room, p0, [(0, "Lisbon")], None, T0 + 1)
    give(room, p1, [], None, T0 + 1)
    give(room, p2, [(1, "knitting")], None, T0 + 1)
    give(room, p3, [(2, "baking")], None, T0 + 1)

    def counts() -> tuple[int, int]:
        shown = views.build(room, PACK, T0 + 2, "screen")["whoswho"]
        return shown["answered"], shown["skipped"]

    assert counts() == (3, 1)
    flow.leave(room, PACK, p0, T0 + 2)
    assert counts() == (2, 1)
    flow.kick(room, PACK, p1, T0 + 2)
    assert counts() == (2, 0)
    # The leaver's answer stays in the review (its going would name its author), unplayed.
    review = views.build(room, PACK, T0 + 2, "host")["whoswho"]["review"]
    assert sorted(r["text"] for r in review) == ["Lisbon", "baking", "knitting"]
    flow.advance(room, PACK, T0 + 3, SEED)
    state = room.whoswho
    assert state is not None and sorted(q.text for q in state.questions) == ["baking", "knitting"]
    # Once the questions are drawn the counts stay: one moving now would tell
    # whether the leaver wrote a question still to be played.
    flow.leave(room, PACK, state.questions[-1].author, T0 + 4)
    assert counts() == (2, 0)


# -- the host's clock: pause, resume, more time -----------------------------------


def test_the_host_pauses_resumes_and_extends_a_question_as_a_riddle() -> None:
    room = make_room()
    refused("no_open_question", room, lambda: flow.pause(room, PACK, T0 + 1))
    refused("no_open_question", room, lambda: flow.extend(room, PACK, 30, T0 + 1))
    play_to_questions(room)  # the first question opens at T0 + 10, for 40 s
    state = room.whoswho
    assert state is not None
    author = state.questions[0].author
    chooser = next(p for p in room.players.values() if p.id != author)
    refused("not_paused", room, lambda: flow.resume(room, PACK, T0 + 15))
    with changes.tracking(room) as changed:
        flow.pause(room, PACK, T0 + 20)
    written, _ = parts.changed_parts(room, changed)
    assert parts.WHOSWHO in written and parts.join(parts.split(room)) == room
    refused("already_paused", room, lambda: flow.pause(room, PACK, T0 + 21))
    # Paused: no answer is taken, the clock stands, nothing falls due.
    refused("paused", room, lambda: whoswho.choose(room, PACK, chooser.id, T0 + 22, chosen=author))
    assert flow.next_deadline(room, PACK, T0 + 22) is None
    assert not flow.tick(room, PACK, T0 + 500) and state.stage == "open"
    shown = views.build(room, PACK, T0 + 500, "screen")["whoswho"]["question"]
    assert shown["paused"] is True and shown["remaining"] == 30.0 and shown["time_limit"] == 40
    # +30 s while paused; bad amounts change nothing.
    for bad in (0, 601, True, 1.5, "30"):
        refused("invalid_field", room, functools.partial(flow.extend, room, PACK, bad, T0 + 501))
    flow.extend(room, PACK, 30, T0 + 501)
    shown = views.build(room, PACK, T0 + 502, "player", chooser.id)["whoswho"]["question"]
    assert shown["remaining"] == 60.0 and shown["time_limit"] == 70
    # Resumed with the 60 s it had left; +30 s more while it runs.
    flow.resume(room, PACK, T0 + 600)
    assert state.paused_remaining is None and state.deadline_at == T0 + 660
    flow.extend(room, PACK, 30, T0 + 610)
    assert flow.next_deadline(room, PACK, T0 + 610) == T0 + 690
    shown = views.build(room, PACK, T0 + 610, "screen")["whoswho"]["question"]
    assert shown["paused"] is False and shown["remaining"] == 80.0 and shown["time_limit"] == 100
    # Scored on the question's own time: 10 s before the pause, 10 s after it,
    # of 100: round(100 × (1 − 0.5 × 20/100)) = 90, + 10 for the first right team.
    whoswho.choose(room, PACK, chooser.id, T0 + 610, chosen=author)
    assert state.guesses[chooser.team_id].elapsed == 20.0
    flow.reveal(room, PACK, T0 + 611)
    assert state.guesses[chooser.team_id].points == 100
    refused("no_open_question", room, lambda: flow.pause(room, PACK, T0 + 612))
    refused("no_open_question", room, lambda: flow.resume(room, PACK, T0 + 612))


def test_a_paused_question_does_not_time_out_and_ends_at_its_new_deadline() -> None:
    room = make_room()
    play_to_questions(room)
    state = room.whoswho
    assert state is not None
    refused("too_late", room, lambda: flow.pause(room, PACK, T0 + 50))  # due, not yet fired
    flow.pause(room, PACK, T0 + 40)  # 10 s left
    flow.resume(room, PACK, T0 + 100)
    assert not flow.tick(room, PACK, T0 + 109)
    assert flow.tick(room, PACK, T0 + 110)
    assert state.stage == "revealed" and state.end_reason == "timeout"
    assert state.ended_at == T0 + 110
