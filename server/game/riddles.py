"""Riddle rounds: timed riddles, guesses, hints, reveal and scoring.

Scoring (documented for players in docs/packs.md):

    points = max(10% of P, round(P × (1 − 0.5 × t / T)) − hint costs)
           + 10% of P for the first team to solve

where P is the riddle's points, T its time limit (plus any extension) and t the
riddle time the team used (pauses excluded). A right answer is worth at least
half of P before hints, and always something, so being right matters more
than being fast; speed still earns up to twice as much. Teams with equal
scores are ranked by who reached their score first.

Guess limits: a team may make GUESS_LIMIT wrong guesses per GUESS_WINDOW
seconds; near answers do not count against that (they have a looser limit of
their own), and a team keeps at most MAX_GUESSES_PER_TEAM guesses per riddle.
A multiple-choice riddle takes one answer per team; once every team has solved
or answered, it ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadRequest, Conflict, ErrorCode, LimitExceeded, NotFound
from . import changes, clock
from .matching import matcher_for
from .models import Guess, RiddleResult, RiddleState, Room, TeamAttempt
from .pack import Pack, Riddle, RiddleRound
from .rooms import GUESS, clean_text, get_player

GUESS_MAX_CHARS = 200
GUESS_LIMIT = 5
GUESS_WINDOW = 10.0
NEAR_GUESS_LIMIT = 20  # near answers per window: they are free, but not unlimited
MAX_GUESSES_PER_TEAM = 100  # per riddle: the room document must stay small
FIRST_SOLVER_BONUS = 0.10
MIN_SHARE = 0.10
AUTO_ADVANCE_SECONDS = 8.0


@dataclass(frozen=True, slots=True)
class GuessOutcome:
    verdict: str
    nudge: str = ""
    points: int = 0


def current_round(room: Room, pack: Pack | None) -> RiddleRound:
    if pack is None or room.riddle is None or room.phase != "riddle":
        raise Conflict("no riddle is running", code=ErrorCode.NO_RIDDLE)
    rnd = pack.rounds[room.riddle.round_index]
    assert isinstance(rnd, RiddleRound)
    return rnd


def current_riddle(room: Room, pack: Pack | None) -> Riddle:
    rnd = current_round(room, pack)
    assert room.riddle is not None
    return rnd.riddles[room.riddle.riddle_index]


remaining = clock.remaining  # riddle seconds left (frozen while paused)


def elapsed(state: RiddleState, riddle: Riddle, now: float) -> float:
    """Riddle seconds used so far, pauses excluded."""
    return clock.elapsed(state, riddle.time_limit, now)


def start_round(room: Room, pack: Pack, round_index: int, now: float) -> None:
    changes.everything(room)
    room.phase = "riddle"
    room.round_index = round_index
    room.story = None
    start_riddle(room, pack, round_index, 0, now)


def start_riddle(room: Room, pack: Pack, round_index: int, riddle_index: int, now: float) -> None:
    changes.everything(room)
    rnd = pack.rounds[round_index]
    assert isinstance(rnd, RiddleRound)
    riddle = rnd.riddles[riddle_index]
    room.riddle = RiddleState(
        round_index=round_index,
        riddle_index=riddle_index,
        stage="open",
        started_at=now,
        deadline_at=now + riddle.time_limit,
        teams={team.id: TeamAttempt() for team in room.teams},
    )
    for team in room.teams:
        team.score_before_round_item = team.score
    room.add_moment("riddle_started", now, text=str(riddle_index + 1))


def attempt_for(state: RiddleState, team_id: str) -> TeamAttempt:
    # Teams created mid-riddle get an attempt on first use. It is stored only
    # when the action succeeds (see _keep), so a refused action changes nothing.
    return state.teams.get(team_id) or TeamAttempt()


def _keep(state: RiddleState, team_id: str, attempt: TeamAttempt) -> None:
    state.teams.setdefault(team_id, attempt)


def _playing_teams(room: Room) -> list[str]:
    """Teams that have players, in team order (one pass over the players)."""
    manned = {p.team_id for p in room.players.values()}
    return [t.id for t in room.teams if t.id in manned]


def _all_solved(room: Room, state: RiddleState) -> bool:
    """Every team that has players has solved (an empty team cannot solve)."""
    playing = _playing_teams(room)
    return bool(playing) and all(
        tid in state.teams and state.teams[tid].solved_at is not None for tid in playing
    )


def _nobody_left_to_answer(room: Room, state: RiddleState) -> bool:
    """Every team that has players has solved or used its one multiple-choice answer."""
    playing = _playing_teams(room)
    return bool(playing) and all(
        tid in state.teams
        and (state.teams[tid].solved_at is not None or state.teams[tid].locked_out)
        for tid in playing
    )


def _end_if_done(room: Room, riddle: Riddle, state: RiddleState, now: float) -> bool:
    """End the riddle once no team can still act on it; True if it ended."""
    if state.stage != "open":
        return False
    if _all_solved(room, state):
        _end(room, riddle, state, now, "all_solved")
        return True
    if _nobody_left_to_answer(room, state):
        _end(room, riddle, state, now, "all_answered")
        return True
    return False


def _take_back(room: Room, team_id: str, attempt: TeamAttempt) -> None:
    """Remove the points this attempt gives from its team and from its solver.

    Done before the solver changes (a host correction) or the solve is
    cancelled (skip): _rescore applies differences to the *current* solver,
    which would leave the old solver's contribution in place.
    """
    if attempt.points:
        changes.attempt(room, team_id)
        if attempt.solved_by:
            changes.player(room, attempt.solved_by)
        team = room.team(team_id)
        if team is not None:
            team.score -= attempt.points
        if attempt.solved_by and attempt.solved_by in room.players:
            room.players[attempt.solved_by].points -= attempt.points
        attempt.points = 0


def guess(room: Room, pack: Pack | None, player_id: str, text: object, now: float) -> GuessOutcome:
    riddle = current_riddle(room, pack)
    state = room.riddle
    assert state is not None and pack is not None
    player = get_player(room, player_id)
    clean = clean_text(text, field=GUESS, max_chars=GUESS_MAX_CHARS)
    if state.stage != "open":
        if state.end_reason == "timeout":
            raise Conflict("time is up for this riddle", code=ErrorCode.TOO_LATE)
        raise Conflict("this riddle is over", code=ErrorCode.RIDDLE_CLOSED)
    if state.paused_remaining is not None:
        raise Conflict("the host has paused the game", code=ErrorCode.PAUSED)
    if now >= state.deadline_at:
        raise Conflict("time is up for this riddle", code=ErrorCode.TOO_LATE)
    attempt = attempt_for(state, player.team_id)
    if attempt.solved_at is not None:
        raise Conflict("your team already solved this riddle", code=ErrorCode.ALREADY_SOLVED)
    if attempt.locked_out:
        raise Conflict("your team has used its answer", code=ErrorCode.NO_MORE_GUESSES)
    recent = [g for g in attempt.guesses if g.verdict == "wrong" and g.at > now - GUESS_WINDOW]
    recent_near = [g for g in attempt.guesses if g.verdict == "near" and g.at > now - GUESS_WINDOW]
    if len(attempt.guesses) >= MAX_GUESSES_PER_TEAM or len(recent_near) >= NEAR_GUESS_LIMIT:
        raise LimitExceeded(
            "your team has guessed enough for now", code=ErrorCode.GUESS_RATE_LIMITED
        )
    if len(recent) >= GUESS_LIMIT:
        raise LimitExceeded(
            f"your team can make {GUESS_LIMIT} wrong guesses every {GUESS_WINDOW:g} seconds",
            code=ErrorCode.GUESS_RATE_LIMITED,
        )
    matcher = matcher_for(riddle, pack.language)
    option = matcher.option_index(clean) if riddle.options else None
    if riddle.options and option is None:
        raise BadRequest("choose one of the options", code=ErrorCode.NOT_AN_OPTION)
    verdict = matcher.check(clean)
    used = elapsed(state, riddle, now)
    _keep(state, player.team_id, attempt)
    changes.guess(room, player.team_id, len(attempt.guesses))
    attempt.guesses.append(
        Guess(
            player_id=player.id,
            text=clean,
            verdict=verdict.kind,
            at=now,
            elapsed=used,
            nudge=verdict.nudge,
            option=option,
        )
    )
    if verdict.kind == "correct":
        attempt.solved_at = now
        attempt.solved_elapsed = used
        attempt.solved_by = player.id
        _rescore(room, riddle, state)
        room.add_moment("team_solved", now, team_id=player.team_id, player_id=player.id)
        if _all_solved(room, state):
            _end(room, riddle, state, now, "all_solved")
        return GuessOutcome("correct", points=attempt.points)
    if riddle.options and verdict.kind == "wrong":
        attempt.locked_out = True
        _end_if_done(room, riddle, state, now)
    return GuessOutcome(verdict.kind, nudge=verdict.nudge)


def _points_for(riddle: Riddle, state: RiddleState, attempt: TeamAttempt, first: bool) -> int:
    assert attempt.solved_elapsed is not None
    limit = riddle.time_limit + state.extra_seconds
    share = 1 - 0.5 * min(1.0, attempt.solved_elapsed / limit)
    cost = sum(h.cost for h in riddle.hints[: attempt.hints_opened])
    points = max(round(riddle.points * MIN_SHARE), round(riddle.points * share) - cost)
    if first:
        points += round(riddle.points * FIRST_SOLVER_BONUS)
    return points


def solvers_in_order(state: RiddleState) -> list[str]:
    """The teams that solved, fastest first: by exact riddle time used (pauses
    excluded), then by the clock, then by team order. The first one gets the
    first-solver bonus; the reveal lists them in this order."""
    solved = [(tid, a) for tid, a in state.teams.items() if a.solved_elapsed is not None]
    solved.sort(key=lambda item: (item[1].solved_elapsed, item[1].solved_at or 0.0))
    return [tid for tid, _ in solved]


def _rescore(room: Room, riddle: Riddle, state: RiddleState) -> None:
    """Recompute this riddle's points for every team and apply the differences.

    Called after every solve and every host correction, so the first-solver
    bonus always goes to the earliest solve, whatever order credits arrive in.
    """
    solved = {tid: a for tid, a in state.teams.items() if a.solved_elapsed is not None}
    ordered = solvers_in_order(state)
    first = ordered[0] if ordered else None
    for tid, attempt in state.teams.items():
        new = _points_for(riddle, state, attempt, tid == first) if tid in solved else 0
        delta = new - attempt.points
        if delta == 0:
            continue
        attempt.points = new
        changes.attempt(room, tid)
        team = room.team(tid)
        if team is not None:
            team.score += delta
            team.last_scored_at = attempt.solved_at or team.last_scored_at
        if attempt.solved_by and attempt.solved_by in room.players:
            room.players[attempt.solved_by].points += delta
            changes.player(room, attempt.solved_by)


def open_hint(room: Room, pack: Pack | None, player_id: str, now: float) -> int:
    """Open the team's next unlocked hint; returns its index."""
    riddle = current_riddle(room, pack)
    state = room.riddle
    assert state is not None
    player = get_player(room, player_id)
    if state.stage != "open" or (state.paused_remaining is None and now >= state.deadline_at):
        raise Conflict("this riddle is over", code=ErrorCode.RIDDLE_CLOSED)
    if state.paused_remaining is not None:
        raise Conflict("the host has paused the game", code=ErrorCode.PAUSED)
    attempt = attempt_for(state, player.team_id)
    if attempt.solved_at is not None:
        raise Conflict("your team already solved this riddle", code=ErrorCode.ALREADY_SOLVED)
    index = attempt.hints_opened
    if index >= len(riddle.hints):
        raise Conflict("no more hints for this riddle", code=ErrorCode.NO_MORE_HINTS)
    if elapsed(state, riddle, now) < riddle.hints[index].after:
        raise Conflict("that hint is not unlocked yet", code=ErrorCode.HINT_LOCKED)
    _keep(state, player.team_id, attempt)
    changes.attempt(room, player.team_id)
    attempt.hints_opened += 1
    return index


def pause(room: Room, now: float) -> None:
    changes.meta(room)
    clock.pause(_open_state(room), now, "riddle")


def resume(room: Room, now: float) -> None:
    changes.meta(room)
    clock.resume(_open_state(room), now)


def extend(room: Room, seconds: object, now: float) -> None:
    changes.meta(room)
    clock.extend(_open_state(room), seconds, now, "riddle")


def reveal(room: Room, pack: Pack | None, now: float) -> None:
    riddle = current_riddle(room, pack)
    state = _open_state(room)
    _end(room, riddle, state, now, "host_reveal")


def skip(room: Room, pack: Pack | None, now: float) -> None:
    """End the riddle without scoring it and reveal it."""
    changes.everything(room)
    riddle = current_riddle(room, pack)
    state = _open_state(room)
    for tid, attempt in state.teams.items():
        _take_back(room, tid, attempt)
        attempt.solved_at = attempt.solved_elapsed = attempt.solved_by = None
    _rescore(room, riddle, state)
    _end(room, riddle, state, now, "skipped")


def accept_guess(
    room: Room, pack: Pack | None, team_id: object, guess_index: object, now: float
) -> None:
    """The host accepts a guess the matcher refused; the team is credited as of that guess."""
    changes.everything(room)
    riddle = current_riddle(room, pack)
    state = room.riddle
    assert state is not None
    if not isinstance(team_id, str) or team_id not in state.teams:
        raise NotFound("no such team", code=ErrorCode.TEAM_NOT_FOUND)
    if state.end_reason == "skipped":
        raise Conflict("this riddle was skipped: it scores nothing", code=ErrorCode.RIDDLE_SKIPPED)
    attempt = state.teams[team_id]
    if (
        isinstance(guess_index, bool)
        or not isinstance(guess_index, int)
        or not 0 <= guess_index < len(attempt.guesses)
    ):
        raise NotFound("no such guess", code=ErrorCode.GUESS_NOT_FOUND)
    accepted = attempt.guesses[guess_index]
    if attempt.solved_elapsed is not None and attempt.solved_elapsed <= accepted.elapsed:
        raise Conflict("the team had already solved it by then", code=ErrorCode.ALREADY_SOLVED)
    _take_back(room, team_id, attempt)
    accepted.accepted_by_host = True
    accepted.verdict = "correct"
    attempt.solved_at = accepted.at
    attempt.solved_elapsed = accepted.elapsed
    attempt.solved_by = accepted.player_id
    attempt.locked_out = False
    _rescore(room, riddle, state)
    if state.stage == "revealed":
        _record_result(room, state)
    room.add_moment("guess_accepted", now, team_id=team_id, player_id=accepted.player_id)
    if state.stage == "open" and _all_solved(room, state):
        _end(room, riddle, state, now, "all_solved")


def _open_state(room: Room) -> RiddleState:
    state = room.riddle
    if state is None or state.stage != "open" or room.phase != "riddle":
        raise Conflict("no riddle is open", code=ErrorCode.NO_OPEN_RIDDLE)
    return state


def _end(room: Room, riddle: Riddle, state: RiddleState, now: float, reason: str) -> None:
    # T includes any extension: the host may have extended after some teams
    # solved, so score every solve again with the final T.
    _rescore(room, riddle, state)
    state.stage = "revealed"
    state.ended_at = now
    state.end_reason = reason
    state.paused_remaining = None
    if room.auto_advance:
        state.advance_at = now + AUTO_ADVANCE_SECONDS
    _record_result(room, state)
    room.add_moment("riddle_revealed", now, text=reason)


def _record_result(room: Room, state: RiddleState) -> None:
    changes.results(room)
    result = RiddleResult(
        round_index=state.round_index,
        riddle_index=state.riddle_index,
        points={tid: a.points for tid, a in state.teams.items()},
        solved_elapsed={
            tid: a.solved_elapsed for tid, a in state.teams.items() if a.solved_elapsed is not None
        },
        solved_by={tid: a.solved_by for tid, a in state.teams.items() if a.solved_by},
        end_reason=state.end_reason,
    )
    room.riddle_results = [
        r
        for r in room.riddle_results
        if (r.round_index, r.riddle_index) != (state.round_index, state.riddle_index)
    ]
    room.riddle_results.append(result)


def finish(room: Room, pack: Pack | None, now: float) -> None:
    """The game ends: end the open riddle (reason "finished") and record its result.

    A riddle whose time ran out before the timer fired ends as the timer would
    have ended it ("timeout", at its deadline). Without the pack nothing can be
    rescored: the points already given stand. Nothing happens without a riddle.
    """
    changes.everything(room)
    state = room.riddle
    if state is None:
        return
    rnd = pack.rounds[state.round_index] if pack is not None else None
    if isinstance(rnd, RiddleRound) and state.riddle_index < len(rnd.riddles):
        tick(room, pack, now)  # whatever was due first
        if state.stage == "open":
            _end(room, rnd.riddles[state.riddle_index], state, now, "finished")
    elif state.stage == "open":
        due = state.paused_remaining is None and now >= state.deadline_at
        state.stage = "revealed"
        state.ended_at = state.deadline_at if due else now
        state.end_reason = "timeout" if due else "finished"
        state.paused_remaining = None
        _record_result(room, state)
    state.advance_at = None


def has_next_riddle(room: Room, pack: Pack) -> bool:
    state = room.riddle
    if state is None:
        return False
    rnd = pack.rounds[state.round_index]
    return isinstance(rnd, RiddleRound) and state.riddle_index + 1 < len(rnd.riddles)


def next_riddle(room: Room, pack: Pack, now: float) -> None:
    state = room.riddle
    if state is None or state.stage != "revealed":
        raise Conflict("reveal the riddle first", code=ErrorCode.RIDDLE_OPEN)
    start_riddle(room, pack, state.round_index, state.riddle_index + 1, now)


def tick(room: Room, pack: Pack | None, now: float) -> bool:
    """Timeout: reveal. Auto-advance: start the next riddle. True if anything changed."""
    state = room.riddle
    if state is None or pack is None:
        return False
    riddle = current_riddle(room, pack)
    if state.stage == "open" and state.paused_remaining is None and now >= state.deadline_at:
        _end(room, riddle, state, state.deadline_at, "timeout")
        return True
    # The last team still playing may have left or been kicked or moved.
    return state.paused_remaining is None and _end_if_done(room, riddle, state, now)


def unlocked_hints(state: RiddleState, riddle: Riddle, now: float) -> int:
    used = elapsed(state, riddle, now)
    return sum(1 for h in riddle.hints if used >= h.after)


def next_deadline(room: Room, pack: Pack | None, now: float) -> float | None:
    state = room.riddle
    if state is None or pack is None:
        return None
    if state.stage == "revealed":
        return state.advance_at
    if state.paused_remaining is not None:
        return None
    riddle = current_riddle(room, pack)
    times = [state.deadline_at]
    used = elapsed(state, riddle, now)
    # Wake up when a hint unlocks, so every client learns of it at once.
    times += [now + (h.after - used) for h in riddle.hints if h.after > used]
    return min(times)
