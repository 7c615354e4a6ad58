"""The "Who's who" round: players' own answers to prompts, played as riddles about people.

A round in two parts (``WhosWhoRound`` in the pack, ``WhosWhoState`` in the room):

1. **Answering** (stage ``answering``): each player privately answers one to
   ``max_answers`` of the round's prompts ("a place you'd go back to"), or
   skips (``answer`` with none), and may add a line shown beside their name
   at the reveal. They may change their answers until the host moves on. The
   host reviews the answers, without their authors, and hides those that
   should not be played (``hide``): an answer is named by an opaque id.
2. **Questions**: the host's "next" draws up to ``questions`` of the answers
   that are not hidden (``start_questions``: one per author first, seeded
   by the room, so every process draws the same), and plays each as
   "Who wrote: ...?" (stage ``open``). A team answers once by choosing a
   player of the room or typing a name, matched as names are
   (``names.comparison_key``); the author may not answer their own
   (``own_answer``). The question ends when every team that can answer has
   (a team whose only members are the author cannot), at its time limit, or
   when the host reveals it (stage ``revealed``). The host may pause an open
   question's clock (no answer is taken meanwhile: ``paused``), resume it
   with the time it had left, and give it more time (``extend``), as for a
   riddle.

**The author's identity is a secret until the reveal.** It is in the
room's state (the drawn question keeps it), never in a view before its
question is revealed, not even the host's, whose review names answers by
their ids. So a choice is not judged in the open: a team learns whether it
was right at the reveal, and points are given then, or the scoreboard
would tell. The author's own ``you`` frame says the question is theirs.

Scoring is a riddle's (``riddles.py``): a right team gets
``max(10% of P, round(P × (1 − 0.5 × t / T)))``, plus 10% of P for the
first right team, where P is the round's ``points``, T its ``time_limit``
(plus any extension) and t the question's seconds the team took (pauses
excluded). Points go to the team and to the player
who chose; each revealed question joins the riddles' results (the results
export), with its answer and its author, and, for the session's keepsake
(``keepsake.py``), its prompt, the author's team and their reveal line (the
round's state, which holds them until then, is dropped when the round ends).

Like every rule, each function refuses before it changes anything.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from ..errors import BadRequest, Conflict, ErrorCode, NotFound, StoreUnavailable
from . import changes, clock, rooms
from .kept import Kept
from .models import (
    RiddleResult,
    Role,
    Room,
    WhosWhoAnswer,
    WhosWhoEntry,
    WhosWhoGuess,
    WhosWhoQuestion,
    WhosWhoState,
)
from .pack import Pack, WhosWhoRound
from .riddles import FIRST_SOLVER_BONUS, MIN_SHARE

ANSWER_MAX_CHARS = 200
REVEAL_LINE_MAX_CHARS = 120
ANSWER = rooms.TextField(
    "answer", ErrorCode.EMPTY_ANSWER, ErrorCode.ANSWER_TOO_LONG, ErrorCode.INVALID_ANSWER
)
REVEAL_LINE = rooms.TextField(
    "line", ErrorCode.EMPTY_ANSWER, ErrorCode.ANSWER_TOO_LONG, ErrorCode.INVALID_ANSWER
)
# How many fresh answer ids a command hands to ``answer``: a round's
# ``max_answers`` is at most 3 (packs/loader.py), and two spare in case a
# random id is already taken in the round.
NEW_IDS = 5


def current(room: Room, pack: Pack | None) -> tuple[WhosWhoRound, WhosWhoState]:
    """The running round and its state; refused (``no_whoswho``) in any other phase."""
    state = room.whoswho
    if pack is None or state is None or room.phase != "whoswho":
        raise Conflict("no Who's who round is running", code=ErrorCode.NO_WHOSWHO)
    rnd = pack.rounds[state.round_index]
    assert isinstance(rnd, WhosWhoRound)
    return rnd, state


def start_round(room: Room, round_index: int, now: float) -> None:
    """The round starts with its answering stage."""
    changes.everything(room)
    room.phase = "whoswho"
    room.round_index = round_index
    room.riddle = None
    room.story = None
    room.whoswho = WhosWhoState(round_index=round_index, stage="answering", started_at=now)


# -- answering ---------------------------------------------------------------


def answer(
    room: Room,
    pack: Pack | None,
    player_id: str,
    answers: Sequence[tuple[object, object]],
    line: object,
    now: float,
    new_ids: Sequence[str],
) -> WhosWhoEntry:
    """A player's answers, (prompt index, text) each, replacing any they gave; none: they skip.

    ``new_ids``: opaque random ids (``NEW_IDS`` of them, drawn by the command,
    never from the room's counter: the host reviews answers by id), taken in
    order for the new answers, skipping any already used in the round. An
    answer given again as it was keeps its id and whether the host hid it;
    a new one starts hidden if the host has hidden one of the player's
    answers before (``WhosWhoEntry.held``).
    """
    rnd, state = current(room, pack)
    player = rooms.get_player(room, player_id)
    if state.stage != "answering":
        raise Conflict("the answers are closed", code=ErrorCode.ANSWERS_CLOSED)
    if len(answers) > rnd.max_answers:
        raise BadRequest(
            f"answer at most {rnd.max_answers} prompts", code=ErrorCode.TOO_MANY_ANSWERS
        )
    given: list[tuple[int, str]] = []
    for prompt, text in answers:
        if (
            isinstance(prompt, bool)
            or not isinstance(prompt, int)
            or not 0 <= prompt < len(rnd.prompts)
        ):
            raise BadRequest("no such prompt", code=ErrorCode.NOT_A_PROMPT)
        if any(prompt == p for p, _ in given):
            raise BadRequest("each prompt is answered once", code=ErrorCode.NOT_A_PROMPT)
        given.append((prompt, rooms.clean_text(text, field=ANSWER, max_chars=ANSWER_MAX_CHARS)))
    shown = ""
    if line is not None and not (isinstance(line, str) and not line.strip()):
        shown = rooms.clean_text(line, field=REVEAL_LINE, max_chars=REVEAL_LINE_MAX_CHARS)
    old = state.entries.get(player.id)
    kept = {(a.prompt, a.text): a for a in old.answers} if old is not None else {}
    fresh = _fresh_ids(state, new_ids, sum((p, t) not in kept for p, t in given))
    held = old is not None and old.held
    changes.entry(room, player.id)
    changes.whoswho(room)
    if old is not None:
        state.answered -= 1 if old.answers else 0
        state.skipped -= 0 if old.answers else 1
    state.answered += 1 if given else 0
    state.skipped += 0 if given else 1
    state.edits += 1
    entry = WhosWhoEntry(line=shown, at=now, held=held)
    for prompt, text in given:
        same = kept.get((prompt, text))
        entry.answers.append(
            WhosWhoAnswer(id=same.id, prompt=prompt, text=text, hidden=same.hidden)
            if same is not None
            else WhosWhoAnswer(id=fresh.pop(0), prompt=prompt, text=text, hidden=held)
        )
    state.entries[player.id] = entry
    return entry


def _fresh_ids(state: WhosWhoState, new_ids: Sequence[str], needed: int) -> list[str]:
    """``needed`` of ``new_ids`` not used in the round yet; refused (``busy``) if too few."""
    if not needed:
        return []
    taken = {a.id for e in state.entries.values() for a in e.answers}
    fresh: list[str] = []
    for candidate in new_ids:
        if candidate not in taken:
            taken.add(candidate)
            fresh.append(candidate)
            if len(fresh) == needed:
                return fresh
    # Only if the command's random ids were already taken: a retry draws others.
    raise StoreUnavailable("could not name the answers; try again", code=ErrorCode.BUSY)


def player_left(room: Room, player_id: str) -> None:
    """A player left (or was removed) while answers come in: they no longer count as
    answered or skipped. Call it once they are out of ``room.players``.

    Their answers stay in the host's review (rows vanishing as a player
    leaves would name their author) but are never played (``draw`` takes
    players still in the room). Once the questions are drawn the counts stay
    as they were: one moving as a player leaves would tell whether they wrote
    an answer still to be played.
    """
    state = room.whoswho
    if state is None or room.phase != "whoswho" or state.stage != "answering":
        return
    entry = state.entries.get(player_id)
    if entry is None:
        return
    changes.whoswho(room)
    state.answered -= 1 if entry.answers else 0
    state.skipped -= 0 if entry.answers else 1


def hide(room: Room, pack: Pack | None, answer_id: object, hidden: object) -> None:
    """The host hides an answer (or shows it again) before the questions: a hidden one is never played.

    Hiding one also holds its author's answers: those they give from then on
    start hidden (``answer``), until the host shows them one by one.
    """
    _, state = current(room, pack)
    if not isinstance(hidden, bool):
        raise BadRequest("hidden must be true or false", code=ErrorCode.INVALID_FIELD)
    if state.stage != "answering":
        raise Conflict("the answers are closed", code=ErrorCode.ANSWERS_CLOSED)
    for player_id, entry in state.entries.items():
        for item in entry.answers:
            if item.id == answer_id:
                changes.entry(room, player_id)
                changes.whoswho(room)
                item.hidden = hidden
                entry.held = entry.held or hidden
                state.edits += 1
                return
    raise NotFound("no such answer", code=ErrorCode.ANSWER_NOT_FOUND)


def draw(room: Room, rnd: WhosWhoRound, state: WhosWhoState, seed: int) -> list[WhosWhoQuestion]:
    """The questions to play: up to ``rnd.questions`` answers not hidden, of players still
    in the room, one per author before any author's second, in an order drawn from ``seed``.

    ``seed`` must be secret (the command draws it with ``secrets``): with the
    same seed, the same answers and the same players, the draw is the same,
    and the players' ids, their join order and how many answered are public.
    """
    chooser = random.Random(seed)
    by_author: list[list[tuple[str, WhosWhoAnswer]]] = []
    # In the players' join order, which every process keeps (the entries' own
    # order is the order their parts were applied in).
    for player_id in room.players:
        entry = state.entries.get(player_id)
        shown = [(player_id, a) for a in entry.answers if not a.hidden] if entry else []
        if shown:
            chooser.shuffle(shown)
            by_author.append(shown)
    chooser.shuffle(by_author)
    picked: list[tuple[str, WhosWhoAnswer]] = []
    depth = 0
    while len(picked) < rnd.questions and any(depth < len(items) for items in by_author):
        picked.extend(items[depth] for items in by_author if depth < len(items))
        depth += 1
    picked = picked[: rnd.questions]
    chooser.shuffle(picked)
    questions = []
    for player_id, item in picked:
        author = room.players[player_id]
        questions.append(
            WhosWhoQuestion(
                answer_id=item.id,
                prompt=item.prompt,
                text=item.text,
                author=author.id,
                author_name=author.name,
                author_team=author.team_id,
                line=state.entries[player_id].line,
            )
        )
    return questions


def start_questions(room: Room, pack: Pack | None, now: float, seed: int) -> bool:
    """End the answering: draw the questions (``draw``, from the secret ``seed``) and open
    the first. False if there is none to play."""
    rnd, state = current(room, pack)
    if state.stage != "answering":
        raise Conflict("the questions have started", code=ErrorCode.ANSWERS_CLOSED)
    questions = draw(room, rnd, state, seed)
    if not questions:
        return False
    changes.whoswho(room)
    state.questions = questions
    _open(room, rnd, state, 0, now)
    return True


def _open(room: Room, rnd: WhosWhoRound, state: WhosWhoState, index: int, now: float) -> None:
    changes.whoswho(room)
    state.stage = "open"
    state.index = index
    state.question_started_at = now
    state.deadline_at = now + rnd.time_limit
    state.paused_remaining = None
    state.extra_seconds = 0.0
    state.guesses = {}
    state.ended_at = None
    state.end_reason = ""
    for team in room.teams:
        team.score_before_round_item = team.score
    room.add_moment("whoswho_question", now, text=str(index + 1))


def has_next(state: WhosWhoState) -> bool:
    return state.index + 1 < len(state.questions)


def next_question(room: Room, pack: Pack | None, now: float) -> None:
    rnd, state = current(room, pack)
    if state.stage != "revealed":
        raise Conflict("reveal the question first", code=ErrorCode.QUESTION_OPEN)
    if not has_next(state):
        raise Conflict("that was the last question", code=ErrorCode.NOTHING_TO_REVEAL)
    _open(room, rnd, state, state.index + 1, now)


# -- questions ---------------------------------------------------------------


def _answering_teams(room: Room, author: str) -> set[str]:
    """Teams with someone who may answer: anyone but the author."""
    return {p.team_id for p in room.players.values() if p.id != author}


def choose(
    room: Room,
    pack: Pack | None,
    player_id: str,
    now: float,
    *,
    chosen: object = None,
    name: object = None,
) -> str:
    """A player answers for their team with a person: ``chosen`` (a player id) or a typed
    ``name``. Returns the id of the person chosen; whether it is right is told at the reveal."""
    rnd, state = current(room, pack)
    player = rooms.get_player(room, player_id)
    if state.stage != "open":
        if state.end_reason == "timeout":
            raise Conflict("time is up for this question", code=ErrorCode.TOO_LATE)
        raise Conflict("this question is over", code=ErrorCode.QUESTION_CLOSED)
    if state.paused_remaining is not None:
        raise Conflict("the host has paused the game", code=ErrorCode.PAUSED)
    if now >= state.deadline_at:
        raise Conflict("time is up for this question", code=ErrorCode.TOO_LATE)
    question = state.questions[state.index]
    if player.id == question.author:
        raise Conflict("this one is yours: let the others guess", code=ErrorCode.OWN_ANSWER)
    if (chosen is None) == (name is None):
        raise BadRequest("give either player or name", code=ErrorCode.INVALID_FIELD)
    if chosen is not None:
        person = rooms.get_player(room, chosen)
    else:
        typed = rooms.clean_name(name, field=rooms.NAME, max_chars=rooms.NAME_MAX_CHARS)
        found = rooms.player_by_name(room, typed)
        if found is None:
            raise NotFound("nobody in this room has that name", code=ErrorCode.PLAYER_NOT_FOUND)
        person = found
    if player.team_id in state.guesses:
        raise Conflict("your team has used its answer", code=ErrorCode.NO_MORE_GUESSES)
    changes.whoswho(room)
    state.guesses[player.team_id] = WhosWhoGuess(
        player_id=player.id,
        chosen=person.id,
        at=now,
        elapsed=elapsed(rnd, state, now),
        correct=person.id == question.author,
    )
    _end_if_done(room, rnd, state, now)
    return person.id


def _end_if_done(room: Room, rnd: WhosWhoRound, state: WhosWhoState, now: float) -> bool:
    if state.stage != "open":
        return False
    teams = _answering_teams(room, state.questions[state.index].author)
    if teams and teams <= state.guesses.keys():
        _end(room, rnd, state, now, "all_answered")
        return True
    return False


def points_for(rnd: WhosWhoRound, elapsed: float, first: bool, extra_seconds: float = 0.0) -> int:
    """A right answer's points, as a riddle's (see the module docstring); ``extra_seconds``:
    what the host added to the question's time limit."""
    share = 1 - 0.5 * min(1.0, elapsed / (rnd.time_limit + extra_seconds))
    points = max(round(rnd.points * MIN_SHARE), round(rnd.points * share))
    if first:
        points += round(rnd.points * FIRST_SOLVER_BONUS)
    return points


def _end(room: Room, rnd: WhosWhoRound, state: WhosWhoState, now: float, reason: str) -> None:
    """Reveal the current question and score it."""
    changes.whoswho(room)
    state.stage = "revealed"
    state.ended_at = now
    state.end_reason = reason
    state.paused_remaining = None
    right = sorted(
        (tid for tid, g in state.guesses.items() if g.correct),
        key=lambda tid: (state.guesses[tid].elapsed, state.guesses[tid].at),
    )
    for position, team_id in enumerate(right):
        guess = state.guesses[team_id]
        guess.points = points_for(rnd, guess.elapsed, position == 0, state.extra_seconds)
        team = room.team(team_id)
        if team is not None:
            team.score += guess.points
            team.last_scored_at = guess.at
        scorer = room.players.get(guess.player_id)
        if scorer is not None:
            changes.player(room, scorer.id)
            scorer.points += guess.points
    question = state.questions[state.index]
    changes.results(room)
    room.riddle_results.append(
        RiddleResult(
            round_index=state.round_index,
            riddle_index=state.index,
            points={tid: g.points for tid, g in state.guesses.items()},
            solved_elapsed={tid: g.elapsed for tid, g in state.guesses.items() if g.correct},
            solved_by={tid: g.player_id for tid, g in state.guesses.items() if g.correct},
            end_reason=reason,
            text=question.text,
            author=question.author_name,
            author_id=question.author,
            prompt=question.prompt,
            author_team=question.author_team,
            line=question.line,
        )
    )
    room.add_moment(
        "whoswho_revealed",
        now,
        player_id=question.author,
        team_id=question.author_team,
        text=question.author_name,
    )


def reveal(room: Room, pack: Pack | None, now: float) -> None:
    """The host reveals the open question now."""
    rnd, state = current(room, pack)
    if state.stage != "open":
        raise Conflict("no question is open", code=ErrorCode.NOTHING_TO_REVEAL)
    _end(room, rnd, state, now, "host_reveal")


def finish(room: Room, pack: Pack | None, now: float) -> None:
    """The game ends: an open question is revealed and scored (reason "finished")."""
    state = room.whoswho
    if state is None or state.stage != "open" or pack is None:
        return
    rnd = pack.rounds[state.round_index]
    if isinstance(rnd, WhosWhoRound):
        if tick(room, pack, now):  # its time ran out before the timer fired
            return
        _end(room, rnd, state, now, "finished")


def tick(room: Room, pack: Pack | None, now: float) -> bool:
    """An open question whose time is up, or that nobody can still answer, is revealed."""
    state = room.whoswho
    if state is None or state.stage != "open" or pack is None or room.phase != "whoswho":
        return False
    rnd, _ = current(room, pack)
    if state.paused_remaining is not None:
        return False  # a paused question waits for the host, whoever has answered
    if now >= state.deadline_at:
        _end(room, rnd, state, state.deadline_at, "timeout")
        return True
    return _end_if_done(room, rnd, state, now)


def next_deadline(room: Room) -> float | None:
    state = room.whoswho
    if (
        state is None
        or state.stage != "open"
        or room.phase != "whoswho"
        or state.paused_remaining is not None
    ):
        return None
    return state.deadline_at


# -- the host's clock: pause, resume, more time ---------------------------------


remaining = clock.remaining  # the open question's seconds left (frozen while paused)


def elapsed(rnd: WhosWhoRound, state: WhosWhoState, now: float) -> float:
    """The open question's seconds used so far, pauses excluded."""
    return clock.elapsed(state, rnd.time_limit, now)


def _open_question(room: Room, pack: Pack | None) -> tuple[WhosWhoRound, WhosWhoState]:
    rnd, state = current(room, pack)
    if state.stage != "open":
        raise Conflict("no question is open", code=ErrorCode.NO_OPEN_QUESTION)
    return rnd, state


def pause(room: Room, pack: Pack | None, now: float) -> None:
    """The host stops the open question's clock: no answer is taken until they resume."""
    _, state = _open_question(room, pack)
    changes.whoswho(room)
    clock.pause(state, now, "question")


def resume(room: Room, pack: Pack | None, now: float) -> None:
    """The open question's clock runs again with the seconds it had left."""
    rnd, state = _open_question(room, pack)
    changes.whoswho(room)
    clock.resume(state, now)
    # Every team that can answer may have done so meanwhile (a player left).
    _end_if_done(room, rnd, state, now)


def extend(room: Room, pack: Pack | None, seconds: object, now: float) -> None:
    """Give the open question ``seconds`` more (1 to 600, as a riddle; paused or not)."""
    _, state = _open_question(room, pack)
    changes.whoswho(room)
    clock.extend(state, seconds, now, "question")


# -- views -------------------------------------------------------------------


def _order(answer: WhosWhoAnswer) -> str:
    # By the random id: not the order answers came in, which would line them up
    # with who was seen typing, and the same wherever the review is built.
    return answer.id


# The host's review by the state it shows: built again only when the answers
# change (``WhosWhoState.edits``; another process's change brings a new state
# object), not per flush: it is O(answers).
_REVIEW: dict[int, tuple[WhosWhoState, int, list[dict[str, Any]]]] = {}
_REVIEW_KEPT = 64


def review(state: WhosWhoState) -> list[dict[str, Any]]:
    """Every answer, ``{id, prompt, text, hidden}``, sorted by their random ids (in no
    meaningful order): never its author."""
    found = _REVIEW.get(id(state))
    if found is not None and found[0] is state and found[1] == state.edits:
        return found[2]
    answers = sorted((a for e in state.entries.values() for a in e.answers), key=_order)
    rows: list[dict[str, Any]] = [
        {"id": a.id, "prompt": a.prompt, "text": a.text, "hidden": a.hidden} for a in answers
    ]
    if len(_REVIEW) >= _REVIEW_KEPT:
        _REVIEW.clear()
    _REVIEW[id(state)] = (state, state.edits, rows)
    return rows


def player_stamp(room: Room, player_id: str) -> tuple[object, ...] | None:
    """What ``player_view`` shows, as a tuple (the same stamp, the same ``you`` frame)."""
    state = room.whoswho
    if state is None or room.phase != "whoswho":
        return None
    entry = state.entries.get(player_id)
    answers = () if entry is None else tuple((a.prompt, a.text, a.hidden) for a in entry.answers)
    line = None if entry is None else entry.line
    return (state.round_index, answers, line, _own(state, player_id))


def _own(state: WhosWhoState, player_id: str) -> bool:
    return state.stage == "open" and state.questions[state.index].author == player_id


def player_view(room: Room, player_id: str) -> dict[str, Any] | None:
    """A player's own answers, and whether the open question is theirs (only they are told)."""
    state = room.whoswho
    if state is None or room.phase != "whoswho":
        return None
    entry = state.entries.get(player_id)
    return {
        "answered": entry is not None,
        "answers": []
        if entry is None
        else [{"prompt": a.prompt, "text": a.text, "hidden": a.hidden} for a in entry.answers],
        "line": "" if entry is None else entry.line,
        "own_question": _own(state, player_id),
    }


def view(
    room: Room,
    rnd: WhosWhoRound,
    now: float,
    role: Role,
    team_id: str | None,
    kept: Kept,
) -> dict[str, Any]:
    """What a role sees of the round: never an author before their question's reveal."""
    state = room.whoswho
    assert state is not None
    body: dict[str, Any] = {
        "round_index": state.round_index,
        "stage": state.stage,
        "prompts": kept.same_list(("ww", "prompts"), list(rnd.prompts)),
        "max_answers": rnd.max_answers,
        "answered": state.answered,
        "skipped": state.skipped,
        "count": len(state.questions),
        "question": None,
    }
    if state.stage == "answering":
        if role == "host":
            body["review"] = review(state)
        return body
    question = state.questions[state.index]
    revealed = state.stage == "revealed"
    shown: dict[str, Any] = {
        "index": state.index,
        "text": question.text,
        "prompt": question.prompt,
        "time_limit": rnd.time_limit + state.extra_seconds,
        "points": rnd.points,
        "started_at": state.question_started_at,
        "deadline_at": state.deadline_at,
        "paused": state.paused_remaining is not None,
        "remaining": 0.0 if revealed else round(remaining(state, now), 3),
        "answered_teams": sorted(state.guesses),
    }
    own = state.guesses.get(team_id) if team_id else None
    if own is not None:
        chooser = room.players.get(own.player_id)
        picked = room.players.get(own.chosen)
        shown["team"] = {
            "chosen": own.chosen,
            "chosen_name": picked.name if picked else "",
            "by": own.player_id,
            "by_name": chooser.name if chooser else "",
        }
    if revealed:
        team = room.team(question.author_team)
        shown["reveal"] = {
            "author": {
                "id": question.author,
                "name": question.author_name,
                "team_id": question.author_team,
                "team_name": team.name if team else "",
            },
            "line": question.line,
            "end_reason": state.end_reason,
            "teams": [
                {
                    "team_id": tid,
                    "chosen": g.chosen,
                    "correct": g.correct,
                    "points": g.points,
                }
                for tid, g in state.guesses.items()
            ],
        }
    body["question"] = shown
    return body
