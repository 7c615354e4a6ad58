"""The game's progression: rounds in pack order, the host's "next", deadlines.

A game is the pack's rounds played in order. Between rounds the room waits in
``between_rounds`` for the host; after the last round, or when the host
finishes early (``finish`` stops whatever round is running), it is
``finished``. A story round that ends is archived for the keepsake
(``stories.archive``). A "Who's who" round (``whoswho.py``) collects answers,
then plays them as questions, one "next" at a time. This module routes to
the riddle, story and "Who's who" rules and
answers the two questions every process asks of a room: what fires now
(``tick``) and when the next thing is due (``next_deadline``), a coffee
pairing's timer (``coffee.py``) among them.

The host's commands that apply to whichever round is running (``pause``,
``resume``, ``extend``, ``reveal``: a riddle, a story's turns or a "Who's
who" question) and those that touch both the room and the
running round (``move_player``, ``kick``, ``close``, ``set_auto_advance``) are
routed here too. Like every rule, each refuses before it changes anything.
"""

from __future__ import annotations

from ..errors import BadRequest, Conflict, ErrorCode
from . import changes, coffee, riddles, rooms, stories, whoswho
from .models import Room
from .pack import Pack, RiddleRound, StoryRound, WhosWhoRound


def require_pack(pack: Pack | None) -> Pack:
    if pack is None:
        raise Conflict("choose a pack first", code=ErrorCode.NO_PACK)
    return pack


def choose_pack(room: Room, pack_id: str) -> None:
    """Back to the lobby with ``pack_id``; after a finished game, a fresh game.

    A fresh game starts from zero: team scores, players' points, the riddle
    results, the story points, the archived stories and the moments go.
    Teams and players stay.
    """
    changes.everything(room)
    rooms.require_open(room)
    if room.phase not in ("lobby", "finished"):
        raise Conflict(
            "the pack can be changed only before the game", code=ErrorCode.GAME_IN_PROGRESS
        )
    if room.phase == "finished":
        for team in room.teams:
            team.score = 0
            team.last_scored_at = 0.0
            team.score_before_round_item = 0
        for player in room.players.values():
            player.points = 0
        room.riddle_results = []
        room.story_points = {}
        room.story_archive = []
        room.moments = []
    room.pack_id = pack_id
    room.phase = "lobby"
    room.round_index = -1
    room.riddle = None
    room.story = None
    room.whoswho = None


def start_round(room: Room, pack: Pack, round_index: int, now: float) -> None:
    changes.everything(room)
    rnd = pack.rounds[round_index]
    # A story round that is still in the room is over now: keep it for the keepsake.
    stories.archive(room)
    coffee.stop(room)  # a coffee pairing ends when a round starts
    room.round_index = round_index
    room.whoswho = None
    if isinstance(rnd, RiddleRound):
        riddles.start_round(room, pack, round_index, now)
    elif isinstance(rnd, WhosWhoRound):
        whoswho.start_round(room, round_index, now)
    else:
        room.riddle = None
        stories.start_round(room, rnd, round_index, now)
    room.add_moment("round_started", now, text=rnd.title)


def end_round(room: Room, pack: Pack, now: float) -> None:
    changes.everything(room)
    stories.archive(room)
    room.whoswho = None
    if room.round_index + 1 < len(pack.rounds):
        room.phase = "between_rounds"
    else:
        finish(room, now, pack)


def finish(room: Room, now: float, pack: Pack | None = None) -> None:
    """End the game now, whatever is running.

    An open riddle ends with ``end_reason`` "finished" and its result is
    recorded (points for the teams that solved it stay); a story round stops:
    votes cast while voting is open are counted (``stories.stop``) and the
    stories are archived for the keepsake. ``pack`` is only needed to rescore
    the riddle with its final time limit and to title the story moment;
    without it the points already given stand.
    """
    changes.everything(room)
    rooms.require_open(room)
    if room.phase == "riddle":
        riddles.finish(room, pack, now)
    if room.phase == "whoswho":
        whoswho.finish(room, pack, now)
    room.whoswho = None
    rnd: StoryRound | None = None
    if pack is not None and room.story is not None:
        index = room.story.round_index
        found = pack.rounds[index] if 0 <= index < len(pack.rounds) else None
        rnd = found if isinstance(found, StoryRound) else None
    stories.stop(room, rnd, now)
    room.phase = "finished"
    room.add_moment("game_finished", now)


def advance(room: Room, pack: Pack | None, now: float, seed: int | None = None) -> str:
    """The host's "next": the one obvious next step from wherever the game is.

    ``seed``: a secret the command draws (``secrets``), never a client's, for
    the step that draws a "Who's who" round's questions (``whoswho.draw``),
    which is refused without one. Returns what happened, for the host's
    acknowledgement.
    """
    changes.everything(room)
    rooms.require_open(room)
    pack = require_pack(pack)
    if room.phase in ("lobby", "between_rounds"):
        start_round(room, pack, room.round_index + 1, now)
        return "round_started"
    if room.phase == "riddle":
        state = room.riddle
        assert state is not None
        if state.stage == "open":
            raise Conflict(
                "the riddle is still open: reveal or skip it", code=ErrorCode.RIDDLE_OPEN
            )
        if riddles.has_next_riddle(room, pack):
            riddles.next_riddle(room, pack, now)
            return "riddle_started"
        room.riddle = None
        end_round(room, pack, now)
        return "round_ended"
    if room.phase == "story":
        rnd = story_round(room, pack)
        story = room.story
        assert story is not None
        if story.stage == "writing":
            stories.end_writing(room, now)
            return "writing_ended"
        if story.stage == "reveal":
            if story.reveal_index + 1 < len(story.stories):
                stories.reveal_next(room, now)
                return "story_revealed"
            stories.open_voting(room, rnd, now)
            return "voting_opened"
        if story.stage == "voting":
            stories.close_voting(room, rnd, now)
            return "voting_closed"
        end_round(room, pack, now)
        return "round_ended"
    if room.phase == "whoswho":
        _, ww = whoswho.current(room, pack)
        if ww.stage == "answering":
            if seed is None:
                raise ValueError("drawing the questions needs a secret seed")
            if whoswho.start_questions(room, pack, now, seed):
                return "question_started"
        elif ww.stage == "open":
            raise Conflict(
                "the question is still open: reveal it first", code=ErrorCode.QUESTION_OPEN
            )
        elif whoswho.has_next(ww):
            whoswho.next_question(room, pack, now)
            return "question_started"
        end_round(room, pack, now)
        return "round_ended"
    raise Conflict("the game is over", code=ErrorCode.GAME_OVER)


def story_round(room: Room, pack: Pack | None) -> StoryRound:
    """The running story round; refused (``no_story``) in any other phase."""
    if pack is None or room.story is None or room.phase != "story":
        raise Conflict("no story round is running", code=ErrorCode.NO_STORY)
    rnd = pack.rounds[room.story.round_index]
    assert isinstance(rnd, StoryRound)
    return rnd


def tick(room: Room, pack: Pack | None, now: float) -> bool:
    """Fire everything that is due at ``now``; True if the room changed."""
    changes.meta(room)  # the parts below record themselves
    rooms.forget_ended_graces(room, now)
    ended = coffee.tick(room, now)  # a coffee pairing whose time is up
    return _tick_round(room, pack, now) or ended


def _tick_round(room: Room, pack: Pack | None, now: float) -> bool:
    if room.phase == "riddle":
        if riddles.tick(room, pack, now):
            return True
        state = room.riddle
        if state and state.stage == "revealed" and state.advance_at and now >= state.advance_at:
            state.advance_at = None
            advance(room, pack, now)
            return True
        return False
    if room.phase == "story" and room.story is not None and pack is not None:
        rnd = story_round(room, pack)
        # A writer whose grace period just ended is skipped here.
        moved = stories.on_presence_changed(room, rnd, now)
        return stories.tick(room, rnd, now) or moved
    if room.phase == "whoswho":
        return whoswho.tick(room, pack, now)
    return False


def next_deadline(room: Room, pack: Pack | None, now: float) -> float | None:
    """The earliest time something will change by itself, or None."""
    times: list[float] = []
    presence = rooms.presence_deadline(room, now)
    if presence is not None:
        times.append(presence)
    pairing = coffee.next_deadline(room)
    if pairing is not None:
        times.append(pairing)
    question = whoswho.next_deadline(room)
    if question is not None:
        times.append(question)
    if room.phase == "riddle":
        due = riddles.next_deadline(room, pack, now)
        if due is not None:
            times.append(due)
    elif room.phase == "story" and room.story is not None and pack is not None:
        due = stories.next_deadline(room, story_round(room, pack), now)
        if due is not None:
            times.append(due)
    return min(times) if times else None


def on_presence_changed(room: Room, pack: Pack | None, now: float) -> None:
    """Connects and drops can change whose turn it is in a story."""
    if room.phase == "story" and room.story is not None and pack is not None:
        stories.on_presence_changed(room, story_round(room, pack), now)


def on_player_joined(room: Room, pack: Pack | None, player_id: str, now: float) -> None:
    if room.phase == "story" and room.story is not None and pack is not None:
        stories.on_player_joined(room, story_round(room, pack), player_id, now)


# -- the host's commands -------------------------------------------------------


def set_auto_advance(room: Room, enabled: object) -> None:
    """Turn auto-advance on or off; a riddle already revealed gets (or loses) its advance time."""
    changes.meta(room)  # the parts below record themselves
    rooms.require_open(room)
    if not isinstance(enabled, bool):
        raise BadRequest("enabled must be true or false", code=ErrorCode.INVALID_FIELD)
    room.auto_advance = enabled
    state = room.riddle
    if state is not None and state.stage == "revealed":
        state.advance_at = (
            (state.ended_at or 0.0) + riddles.AUTO_ADVANCE_SECONDS if enabled else None
        )


def _story_running(room: Room) -> bool:
    return room.phase == "story" and room.story is not None


def pause(room: Room, pack: Pack | None, now: float) -> None:
    """Pause the running round: the story's turns, the open "Who's who" question, else the
    open riddle."""
    changes.meta(room)  # the parts below record themselves
    rooms.require_open(room)
    if _story_running(room):
        stories.pause(room, now)
    elif room.phase == "whoswho":
        whoswho.pause(room, pack, now)
    else:
        riddles.pause(room, now)


def resume(room: Room, pack: Pack | None, now: float) -> None:
    """Resume the running round with the time it had left."""
    changes.meta(room)  # the parts below record themselves
    rooms.require_open(room)
    if _story_running(room):
        stories.resume(room, now)
    elif room.phase == "whoswho":
        whoswho.resume(room, pack, now)
    else:
        riddles.resume(room, now)


def extend(room: Room, pack: Pack | None, seconds: object, now: float) -> None:
    """Give the running round ``seconds`` more: every story turn, the open "Who's who"
    question, else the open riddle."""
    changes.meta(room)  # the parts below record themselves
    rooms.require_open(room)
    if _story_running(room):
        stories.extend(room, seconds, now)
    elif room.phase == "whoswho":
        whoswho.extend(room, pack, seconds, now)
    else:
        riddles.extend(room, seconds, now)


def reveal(room: Room, pack: Pack | None, now: float) -> None:
    """Reveal the next story in a story round, the open question of a Who's who round,
    else the open riddle."""
    rooms.require_open(room)
    if room.phase == "story":
        stories.reveal_next(room, now)
    elif room.phase == "whoswho":
        whoswho.reveal(room, pack, now)
    else:
        riddles.reveal(room, pack, now)


def move_player(
    room: Room, pack: Pack | None, player_id: object, team_id: object, now: float
) -> None:
    """Move a player to another team; in a story round they join its rotation."""
    player = rooms.move_player(room, player_id, team_id)
    on_player_joined(room, pack, player.id, now)


def leave(room: Room, pack: Pack | None, player_id: str, now: float) -> None:
    """A player leaves for good (``_gone``)."""
    rooms.leave(room, player_id, now)
    _gone(room, pack, player_id, now)


def kick(room: Room, pack: Pack | None, player_id: object, now: float) -> None:
    """The host removes a player for good (``_gone``)."""
    player = rooms.kick(room, player_id, now)
    _gone(room, pack, player.id, now)


def _gone(room: Room, pack: Pack | None, player_id: str, now: float) -> None:
    """What a player gone for good changes besides the roster: in a story round their
    turn passes on, in a "Who's who" round they no longer count as answered or skipped,
    in a coffee pairing a partner left alone joins another group."""
    whoswho.player_left(room, player_id)
    coffee.player_left(room, player_id)
    on_presence_changed(room, pack, now)


def close(room: Room, now: float) -> None:
    """Close the room for good, keeping a running story round for the keepsake."""
    changes.everything(room)
    rooms.require_open(room)
    stories.archive(room)
    rooms.close(room, now)


# -- story commands: each checks a story round is running, then applies the story rule


def submit_line(room: Room, pack: Pack | None, player_id: str, text: object, now: float) -> None:
    stories.submit_line(room, story_round(room, pack), player_id, text, now)


def vote(room: Room, pack: Pack | None, player_id: str, team_id: object, now: float) -> None:
    story_round(room, pack)
    stories.vote(room, player_id, team_id, now)


def hide_line(
    room: Room, pack: Pack | None, team_id: object, line_index: object, hidden: object
) -> None:
    story_round(room, pack)
    stories.hide_line(room, team_id, line_index, hidden)


def end_writing(room: Room, pack: Pack | None, now: float) -> None:
    story_round(room, pack)
    stories.end_writing(room, now)


def close_voting(room: Room, pack: Pack | None, now: float) -> None:
    stories.close_voting(room, story_round(room, pack), now)
