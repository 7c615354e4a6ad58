"""Story rounds: each team writes its own story, one line per turn, then votes.

Like ``rooms``, every function here takes the room (a fresh copy loaded by the
caller), changes it in place and raises a ``RitrovoError`` subclass without
changing anything when the action is not allowed. Nothing reads the clock or
does I/O: ``now`` is handed in and every deadline is an absolute time stored in
the room, so a restarted server picks up exactly where the last one stopped.

Stages (``room.story.stage``)
-----------------------------
``writing`` -> ``reveal`` -> ``voting`` -> ``results``.

Writing
    Each team with players gets a ``TeamStory`` whose first line is the prompt's
    opening (``rnd.prompts[i % len(rnd.prompts)]``, ``i`` the team's position in
    ``room.teams``; the opening is not stored in ``TeamStory.lines``, so line
    index 0 is the first line a player wrote). The rotation (``TeamStory.order``)
    is the team's present players in join order; players who join the team or
    come back later are appended to it. The turn passes in rotation order to the
    next *present* player who still has turns left:

    * a written line or a skipped turn both count as one of the player's
      ``rnd.turns_per_player`` turns;
    * a turn that reaches its deadline is skipped (``tick``);
    * a writer who is no longer present (``rooms.is_present``) is skipped at
      once (``on_presence_changed``, and ``tick`` as a safety net); a rotation
      member who is absent when the turn reaches them is skipped too;
    * when no present player has turns left the team's story is done (absent
      members forfeit the turns they did not take); when no team member is
      present at all the team waits (no writer, no deadline) and resumes with
      the present member who has had the fewest turns as soon as one comes back;
    * a story that is done stays done, even if someone joins the team later.

    Writing ends by itself when every story is done, or when the host ends it.
    While the host has paused, nobody can write and the remaining seconds of
    each running turn are kept in ``StoryState.paused_remaining``.

Reveal
    ``reveal_next`` shows the stories one at a time in the order of
    ``room.teams``. Opening the vote reveals whatever was still hidden.

Voting and scoring
    Every player votes for one story that is neither their own team's nor one
    they wrote a line in; voting again replaces the earlier vote. Votes are
    counted when voting closes (by the host or at ``vote_deadline_at``); votes
    from players who left, or for their own team after a move, are dropped.

    A team receives ``POINTS_PER_VOTE`` (50) points per vote for its story, plus
    ``TOP_STORY_BONUS`` (25) for each story with the most votes (all tied
    stories get it; nobody gets it when no vote was cast). The points go to
    ``Team.score`` and are added up in ``room.story_points``. Players get no
    individual ``Player.points`` for votes: a story is the whole team's work.

Views and the keepsake
    What each audience sees of the round is built in ``story_views``; the
    Markdown keepsake in ``exports``. Both read the round through the public
    helpers here (``story_order``, ``prompt_of``, ``player_name``, ``tally``,
    ``round_points``). A hidden line reads ``HIDDEN_LINE_TEXT`` in the keepsake.

The end of a round
    When the round ends (``flow.end_round``, the next round starting, or the
    host's ``finish`` through ``stop``) its ``StoryState`` moves from
    ``room.story`` to ``room.story_archive`` (``archive``), so the host's
    keepsake (``exports.markdown_keepsake``) holds every story round played so far.
"""

from __future__ import annotations

import math

from ..errors import BadRequest, Conflict, ErrorCode, NotFound
from . import changes
from .models import Player, Room, StoryLine, StoryState, TeamStory
from .pack import StoryPrompt, StoryRound
from .rooms import LINE, PRESENCE_GRACE_SECONDS, clean_text, get_player, is_present, require_open

POINTS_PER_VOTE = 50
TOP_STORY_BONUS = 25
MAX_EXTEND_SECONDS = 3600.0
HIDDEN_LINE_TEXT = "[hidden by the host]"
FORMER_PLAYER_NAME = "a former player"


# Small helpers


def _touch_stories(room: Room) -> None:
    """Record every team's story as changed: at most 26 small parts, and always right."""
    changes.meta(room)
    if room.story is not None:
        for team_id in room.story.stories:
            changes.story(room, team_id)


def _writing_state(room: Room) -> StoryState:
    state = room.story
    if state is None or state.stage != "writing":
        raise Conflict("the story round is not in its writing phase", code=ErrorCode.NOT_WRITING)
    return state


def _member(room: Room, ts: TeamStory, player_id: str) -> Player | None:
    """The player, if they are still in the room and still on this team."""
    player = room.players.get(player_id)
    if player is None or player.team_id != ts.team_id:
        return None
    return player


def _present(room: Room, ts: TeamStory, player_id: str, now: float) -> bool:
    player = _member(room, ts, player_id)
    return player is not None and is_present(player, now)


def _has_turns_left(rnd: StoryRound, ts: TeamStory, player_id: str) -> bool:
    return ts.turns_taken.get(player_id, 0) < rnd.turns_per_player


def prompt_of(rnd: StoryRound, ts: TeamStory) -> StoryPrompt:
    """The prompt a team's story was given."""
    return rnd.prompts[ts.prompt_index % len(rnd.prompts)]


def _team_index(room: Room, team_id: str) -> int:
    for index, team in enumerate(room.teams):
        if team.id == team_id:
            return index
    return len(room.teams)


def _new_story(room: Room, rnd: StoryRound, team_id: str) -> TeamStory:
    return TeamStory(team_id=team_id, prompt_index=_team_index(room, team_id) % len(rnd.prompts))


def _enroll(ts: TeamStory, player_id: str) -> bool:
    if player_id in ts.order:
        return False
    ts.order.append(player_id)
    ts.turns_taken.setdefault(player_id, 0)
    return True


def _enroll_present(room: Room, ts: TeamStory, now: float) -> bool:
    """Append present team members missing from the rotation, in join order."""
    changed = False
    for player in sorted(room.team_players(ts.team_id), key=lambda p: p.joined_at):
        if is_present(player, now):
            changed = _enroll(ts, player.id) or changed
    return changed


def _clear_turn(state: StoryState, ts: TeamStory) -> None:
    ts.turn_player = None
    ts.turn_deadline_at = None
    if state.paused_remaining is not None:
        state.paused_remaining.pop(ts.team_id, None)


def _give_turn(
    state: StoryState, rnd: StoryRound, ts: TeamStory, player_id: str, now: float
) -> None:
    ts.turn_player = player_id
    if state.paused_remaining is not None:
        # A turn that starts while paused waits, whole, for the resume.
        ts.turn_deadline_at = None
        state.paused_remaining[ts.team_id] = float(rnd.seconds_per_turn)
    else:
        ts.turn_deadline_at = now + rnd.seconds_per_turn


def _count_skip(room: Room, ts: TeamStory, player_id: str, now: float, reason: str) -> None:
    ts.turns_taken[player_id] = ts.turns_taken.get(player_id, 0) + 1
    ts.turn_index += 1
    room.add_moment("turn_skipped", now, team_id=ts.team_id, player_id=player_id, text=reason)


def _finish_story(room: Room, state: StoryState, ts: TeamStory, now: float) -> None:
    _clear_turn(state, ts)
    ts.done = True
    room.add_moment("story_done", now, team_id=ts.team_id)


def _pass_turn(
    room: Room,
    rnd: StoryRound,
    state: StoryState,
    ts: TeamStory,
    now: float,
    after: str | None,
) -> None:
    """Hand the turn on from ``after`` (None: nobody had it), or finish or park the story."""
    _clear_turn(state, ts)
    _enroll_present(room, ts, now)
    members = [pid for pid in ts.order if _member(room, ts, pid) is not None]
    present = [pid for pid in members if _present(room, ts, pid, now)]
    if not present:
        # Everyone gone for good (or out of turns) ends the story; anyone who may
        # still come back and write keeps it waiting.
        if all(
            p.id in ts.order and not _has_turns_left(rnd, ts, p.id)
            for p in room.team_players(ts.team_id)
        ):
            _finish_story(room, state, ts, now)
        return
    ready = [pid for pid in present if _has_turns_left(rnd, ts, pid)]
    if not ready:
        _finish_story(room, state, ts, now)
        return
    if after is None or after not in ts.order:
        # No rotation position to continue from (start, or the team was parked):
        # whoever has written least goes first, rotation order breaking ties.
        chosen = min(ready, key=lambda pid: (ts.turns_taken.get(pid, 0), ts.order.index(pid)))
        _give_turn(state, rnd, ts, chosen, now)
        return
    size = len(ts.order)
    start = ts.order.index(after) + 1
    for step in range(size):
        pid = ts.order[(start + step) % size]
        if _member(room, ts, pid) is None or not _has_turns_left(rnd, ts, pid):
            continue
        if _present(room, ts, pid, now):
            _give_turn(state, rnd, ts, pid, now)
            return
        _count_skip(room, ts, pid, now, "away")
    # Unreachable: ``ready`` holds a present member with turns left, and the walk
    # visits every rotation position once without using up a present member's turns.
    raise AssertionError("rotation walk found no writer")


def _skip_current(
    room: Room, rnd: StoryRound, state: StoryState, ts: TeamStory, now: float, reason: str
) -> None:
    player_id = ts.turn_player
    if player_id is None:
        return
    _count_skip(room, ts, player_id, now, reason)
    _pass_turn(room, rnd, state, ts, now, after=player_id)


def _end_writing(room: Room, state: StoryState, now: float) -> None:
    _touch_stories(room)  # the story state (meta) and its team stories
    for ts in state.stories.values():
        ts.turn_player = None
        ts.turn_deadline_at = None
    state.paused_remaining = None
    state.stage = "reveal"
    state.reveal_index = -1
    room.add_moment("writing_ended", now)


def _maybe_end_writing(room: Room, state: StoryState, now: float) -> None:
    # An empty round keeps waiting for players instead of ending at once.
    if state.stage == "writing" and state.stories and all(ts.done for ts in state.stories.values()):
        _end_writing(room, state, now)


def _refresh_presence(room: Room, rnd: StoryRound, state: StoryState, now: float) -> bool:
    """Enroll arrivals, skip absent writers, wake parked teams; True if anything changed."""
    changed = False
    for team in room.teams:
        if team.id not in state.stories and any(
            is_present(p, now) for p in room.team_players(team.id)
        ):
            state.stories[team.id] = _new_story(room, rnd, team.id)
            changes.story(room, team.id)
            changed = True
    for ts in state.stories.values():
        if ts.done:
            continue
        changed = _enroll_present(room, ts, now) or changed
        if ts.turn_player is not None:
            if not _present(room, ts, ts.turn_player, now):
                _skip_current(room, rnd, state, ts, now, "away")
                changed = True
        else:
            _pass_turn(room, rnd, state, ts, now, after=None)
            changed = changed or ts.turn_player is not None or ts.done
    return changed


def story_order(room: Room, state: StoryState) -> list[str]:
    """Team ids of the stories in reveal order: the order of ``room.teams``."""
    listed = [team.id for team in room.teams if team.id in state.stories]
    return listed + [tid for tid in state.stories if tid not in listed]


def player_name(room: Room, player_id: str) -> str:
    """A writer's name as shown with their lines, also once they have left."""
    player = room.players.get(player_id)
    return player.name if player is not None else FORMER_PLAYER_NAME


def _wrote_in(ts: TeamStory, player_id: str) -> bool:
    return any(line.player_id == player_id for line in ts.lines)


def _valid_votes(room: Room, state: StoryState) -> dict[str, str]:
    valid: dict[str, str] = {}
    for voter_id, team_id in state.votes.items():
        voter = room.players.get(voter_id)
        ts = state.stories.get(team_id)
        if voter is None or ts is None:
            continue
        if voter.team_id == team_id or _wrote_in(ts, voter_id):
            continue
        valid[voter_id] = team_id
    return valid


def tally(room: Room, state: StoryState) -> dict[str, int]:
    """Valid votes per story, in reveal order (see the module docstring for which count)."""
    counts = {tid: 0 for tid in story_order(room, state)}
    for team_id in _valid_votes(room, state).values():
        counts[team_id] += 1
    return counts


def round_points(counts: dict[str, int]) -> tuple[dict[str, int], list[str]]:
    """Points per team for these vote counts, and the most-voted teams."""
    top = max(counts.values(), default=0)
    winners = [tid for tid, n in counts.items() if top > 0 and n == top]
    points = {
        tid: n * POINTS_PER_VOTE + (TOP_STORY_BONUS if tid in winners else 0)
        for tid, n in counts.items()
    }
    return points, winners


# Writing


def start_round(room: Room, rnd: StoryRound, round_index: int, now: float) -> None:
    """Start a story round: every team with players gets a story and its first writer."""
    changes.everything(room)
    require_open(room)
    if not rnd.prompts:
        raise BadRequest("this story round has no prompts", code=ErrorCode.NO_PROMPTS)
    state = StoryState(round_index=round_index, stage="writing", started_at=now)
    room.phase = "story"
    room.round_index = round_index
    room.riddle = None
    room.story = state
    for team in room.teams:
        team.score_before_round_item = team.score
    room.add_moment("story_started", now, text=rnd.title)
    for team in room.teams:
        if not room.team_players(team.id):
            continue
        ts = _new_story(room, rnd, team.id)
        state.stories[team.id] = ts
        _pass_turn(room, rnd, state, ts, now, after=None)
    _maybe_end_writing(room, state, now)


def submit_line(room: Room, rnd: StoryRound, player_id: str, text: object, now: float) -> StoryLine:
    """Add the current writer's line to their team's story and pass the turn on."""
    state = _writing_state(room)
    if state.paused_remaining is not None:
        raise Conflict("the host has paused the game", code=ErrorCode.PAUSED)
    player = get_player(room, player_id)
    ts = state.stories.get(player.team_id)
    if ts is None or ts.turn_player != player.id:
        raise Conflict("it is not your turn to write", code=ErrorCode.NOT_YOUR_TURN)
    if ts.turn_deadline_at is not None and now >= ts.turn_deadline_at:
        # Decided by the stored deadline, so the answer does not depend on
        # whether tick() has already run.
        raise Conflict("your turn is over", code=ErrorCode.NOT_YOUR_TURN)
    try:
        clean = clean_text(text, field=LINE, max_chars=rnd.max_chars)
    except BadRequest as exc:
        if exc.code == ErrorCode.EMPTY_LINE:
            raise BadRequest(
                "your line is empty: write something before sending it", code=ErrorCode.EMPTY_LINE
            ) from None
        if exc.code == ErrorCode.INVALID_LINE:
            raise BadRequest(
                "your line contains control characters (such as line breaks)",
                code=ErrorCode.INVALID_LINE,
            ) from None
        raise
    line = StoryLine(player_id=player.id, text=clean, at=now)
    # The turn passes on within the team (ending the writing records every story).
    changes.story(room, ts.team_id)
    changes.line(room, ts.team_id, len(ts.lines))
    ts.lines.append(line)
    ts.turns_taken[player.id] = ts.turns_taken.get(player.id, 0) + 1
    ts.turn_index += 1
    room.add_moment("story_line", now, team_id=ts.team_id, player_id=player.id)
    _pass_turn(room, rnd, state, ts, now, after=player.id)
    _maybe_end_writing(room, state, now)
    return line


def pause(room: Room, now: float) -> None:
    """Freeze every running turn, keeping the seconds each one has left."""
    _touch_stories(room)  # the story state (meta) and its team stories
    state = _writing_state(room)
    if state.paused_remaining is not None:
        raise Conflict("the game is already paused", code=ErrorCode.ALREADY_PAUSED)
    remaining: dict[str, float] = {}
    for ts in state.stories.values():
        if ts.turn_player is not None and ts.turn_deadline_at is not None:
            remaining[ts.team_id] = max(0.0, ts.turn_deadline_at - now)
            ts.turn_deadline_at = None
    state.paused_remaining = remaining
    room.add_moment("story_paused", now)


def resume(room: Room, now: float) -> None:
    """Restart the frozen turns with the seconds they had left."""
    _touch_stories(room)  # the story state (meta) and its team stories
    state = _writing_state(room)
    remaining = state.paused_remaining
    if remaining is None:
        raise Conflict("the game is not paused", code=ErrorCode.NOT_PAUSED)
    for team_id, seconds in remaining.items():
        ts = state.stories.get(team_id)
        if ts is not None and ts.turn_player is not None:
            ts.turn_deadline_at = now + seconds
    state.paused_remaining = None
    room.add_moment("story_resumed", now)


def extend(room: Room, seconds: object, now: float) -> None:
    """Give every running turn ``seconds`` more (paused turns included)."""
    _touch_stories(room)  # the story state (meta) and its team stories
    state = _writing_state(room)
    if (
        not isinstance(seconds, (int, float))
        or isinstance(seconds, bool)
        or not math.isfinite(seconds)
        or not 0 < seconds <= MAX_EXTEND_SECONDS
    ):
        raise BadRequest(
            f"seconds must be a number above 0 and at most {MAX_EXTEND_SECONDS:g}",
            code=ErrorCode.INVALID_FIELD,
        )
    extra = float(seconds)
    if state.paused_remaining is not None:
        for team_id in state.paused_remaining:
            state.paused_remaining[team_id] += extra
        return
    for ts in state.stories.values():
        if ts.turn_player is not None and ts.turn_deadline_at is not None:
            ts.turn_deadline_at += extra


def end_writing(room: Room, now: float) -> None:
    """Host: stop writing now; the stories wait to be revealed (reveal_index -1)."""
    _touch_stories(room)  # the story state (meta) and its team stories
    state = _writing_state(room)
    _end_writing(room, state, now)


def on_player_joined(room: Room, rnd: StoryRound, player_id: str, now: float) -> None:
    """Put a player who joined mid-round into their team's rotation."""
    state = room.story
    if state is None or state.stage != "writing":
        return
    player = room.players.get(player_id)
    if player is None:
        return
    ts = state.stories.get(player.team_id)
    if ts is None:
        ts = _new_story(room, rnd, player.team_id)
        state.stories[player.team_id] = ts
    _touch_stories(room)
    if not ts.done:
        _enroll(ts, player.id)
        if ts.turn_player is None:
            _pass_turn(room, rnd, state, ts, now, after=None)
    # A player the host moved here may have held their former team's turn:
    # they are no longer a member there, so that turn passes on at once.
    _refresh_presence(room, rnd, state, now)
    _maybe_end_writing(room, state, now)


def on_presence_changed(room: Room, rnd: StoryRound, now: float) -> bool:
    """After connects/disconnects: skip absent writers, let arrivals in, wake parked teams.

    True if anything changed.
    """
    state = room.story
    if state is None or state.stage != "writing":
        return False
    _touch_stories(room)
    if _refresh_presence(room, rnd, state, now):
        _maybe_end_writing(room, state, now)
        return True
    return False


def tick(room: Room, rnd: StoryRound, now: float) -> bool:
    """Fire what is due at ``now`` (turn timeouts, absent writers, the vote deadline)."""
    state = room.story
    if state is None:
        return False
    if state.stage == "writing":
        _touch_stories(room)
        changed = False
        if state.paused_remaining is None:
            for ts in state.stories.values():
                if (
                    ts.turn_player is not None
                    and ts.turn_deadline_at is not None
                    and now >= ts.turn_deadline_at
                ):
                    _skip_current(room, rnd, state, ts, now, "timeout")
                    changed = True
        changed = _refresh_presence(room, rnd, state, now) or changed
        if changed:
            _maybe_end_writing(room, state, now)
        return changed
    if state.stage == "voting" and (
        state.vote_deadline_at is not None and now >= state.vote_deadline_at
    ):
        close_voting(room, rnd, now)
        return True
    return False


def next_deadline(room: Room, rnd: StoryRound, now: float) -> float | None:
    """When ``tick`` next has something to do; None while paused or when nothing is timed.

    Includes turn deadlines, the end of a dropped writer's presence grace and the
    vote deadline. Right after ``tick(now)`` every returned time is after ``now``.
    """
    state = room.story
    if state is None:
        return None
    times: list[float] = []
    if state.stage == "writing":
        if state.paused_remaining is not None:
            return None
        for ts in state.stories.values():
            if ts.turn_player is None:
                continue
            if ts.turn_deadline_at is not None:
                times.append(ts.turn_deadline_at)
            writer = room.players.get(ts.turn_player)
            if writer is not None and writer.connections == 0:
                times.append(writer.last_seen + PRESENCE_GRACE_SECONDS)
    elif state.stage == "voting" and state.vote_deadline_at is not None:
        times.append(state.vote_deadline_at)
    return min(times) if times else None


# Reveal


def reveal_next(room: Room, now: float) -> None:
    """Host: show the next story (ending the writing first if it is still going)."""
    _touch_stories(room)  # the story state (meta) and its team stories
    state = room.story
    if state is None:
        raise Conflict("there is no story to reveal", code=ErrorCode.NOTHING_TO_REVEAL)
    if state.stage == "writing":
        if not state.stories:
            raise Conflict("there is no story to reveal", code=ErrorCode.NOTHING_TO_REVEAL)
        _end_writing(room, state, now)
    elif state.stage != "reveal" or state.reveal_index >= len(state.stories) - 1:
        raise Conflict("every story has been revealed", code=ErrorCode.NOTHING_TO_REVEAL)
    state.reveal_index += 1
    team_id = story_order(room, state)[state.reveal_index]
    room.add_moment("story_revealed", now, team_id=team_id)


def hide_line(room: Room, team_id: object, line_index: object, hidden: object) -> None:
    """Host moderation: hide (or show again) one player-written line, at any stage."""
    state = room.story
    if state is None:
        raise Conflict("there is no story round", code=ErrorCode.NO_STORY)
    ts = state.stories.get(team_id) if isinstance(team_id, str) else None
    if ts is None:
        raise NotFound("no story for that team", code=ErrorCode.TEAM_NOT_FOUND)
    if not isinstance(line_index, int) or isinstance(line_index, bool):
        raise BadRequest("line_index must be an integer", code=ErrorCode.INVALID_FIELD)
    if not 0 <= line_index < len(ts.lines):
        raise NotFound("no such line", code=ErrorCode.LINE_NOT_FOUND)
    if not isinstance(hidden, bool):
        raise BadRequest("hidden must be true or false", code=ErrorCode.INVALID_FIELD)
    changes.line(room, ts.team_id, line_index)
    changes.story(room, ts.team_id)  # its lines_edited
    ts.lines[line_index].hidden = hidden
    ts.lines_edited += 1


# Voting


def open_voting(room: Room, rnd: StoryRound, now: float) -> None:
    """Host: open the vote; every story not yet revealed is revealed now."""
    changes.everything(room)
    state = room.story
    if state is None:
        raise Conflict("there is no story round", code=ErrorCode.NO_STORY)
    if state.stage == "voting":
        raise Conflict("voting is already open", code=ErrorCode.ALREADY_VOTING)
    if state.stage == "results":
        raise Conflict("voting has already closed", code=ErrorCode.VOTING_CLOSED)
    if state.stage == "writing":
        _end_writing(room, state, now)
    state.stage = "voting"
    state.reveal_index = len(state.stories) - 1
    state.vote_deadline_at = now + rnd.vote_seconds if rnd.vote_seconds > 0 else None
    room.add_moment("voting_opened", now)


def vote(room: Room, player_id: str, team_id: object, now: float) -> None:
    """Record (or replace) a player's vote for another team's story."""
    state = room.story
    if (
        state is None
        or state.stage != "voting"
        or (state.vote_deadline_at is not None and now >= state.vote_deadline_at)
    ):
        raise Conflict("voting is not open", code=ErrorCode.NOT_VOTING)
    player = get_player(room, player_id)
    ts = state.stories.get(team_id) if isinstance(team_id, str) else None
    if ts is None:
        raise NotFound("no story for that team", code=ErrorCode.TEAM_NOT_FOUND)
    if ts.team_id == player.team_id or _wrote_in(ts, player.id):
        raise Conflict("you cannot vote for your own team's story", code=ErrorCode.OWN_TEAM_VOTE)
    state.votes[player.id] = ts.team_id
    changes.vote(room, player.id)


def close_voting(room: Room, rnd: StoryRound, now: float) -> None:
    """Count the votes, award the points (see the module docstring) and show the results."""
    changes.everything(room)
    state = room.story
    if state is None or state.stage != "voting":
        raise Conflict("voting is not open", code=ErrorCode.NOT_VOTING)
    _count_votes(room, state, rnd.title, now)


def _count_votes(room: Room, state: StoryState, title: str, now: float) -> None:
    changes.everything(room)
    counts = tally(room, state)
    points, winners = round_points(counts)
    for team_id, gained in points.items():
        team = room.team(team_id)
        if team is None or gained == 0:
            continue
        team.score += gained
        team.last_scored_at = now
        room.story_points[team_id] = room.story_points.get(team_id, 0) + gained
    state.vote_counts = counts
    state.vote_deadline_at = None
    state.stage = "results"
    room.add_moment("votes_closed", now, text=title)
    for team_id in winners:
        room.add_moment("story_won", now, team_id=team_id)


# The end of a round


def stop(room: Room, rnd: StoryRound | None, now: float) -> None:
    """The game ends mid-round: count the votes cast so far, stop the writing, archive.

    Votes still open are counted exactly as ``close_voting`` would (``rnd`` only
    gives the moment its title), so nobody's vote is lost; writing simply stops
    where it is. Nothing happens when no story round is running.
    """
    changes.everything(room)
    state = room.story
    if state is None:
        return
    if state.stage == "voting":
        _count_votes(room, state, rnd.title if rnd is not None else "", now)
    elif state.stage == "writing":
        for ts in state.stories.values():
            ts.turn_player = None
            ts.turn_deadline_at = None
        state.paused_remaining = None
    archive(room)


def archive(room: Room) -> None:
    """Keep the story round in ``room.story_archive`` for the keepsake; no round runs after."""
    changes.everything(room)
    state = room.story
    if state is None:
        return
    room.story_archive = [s for s in room.story_archive if s.round_index != state.round_index]
    room.story_archive.append(state)
    room.story = None
