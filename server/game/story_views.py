"""What host, screen and players see of a story round.

``story_view`` builds what one audience may see (see ``stories`` for the
rules of the round), ``view_key`` tells which players can share one view, and
``player_private`` carries the personal bits no shared view holds (own vote,
own turn). Line texts are plain data and are never interpreted as HTML.
"""

from __future__ import annotations

from ..errors import BadRequest, ErrorCode
from . import stories
from .models import Role, Room, StoryState, TeamStory
from .pack import StoryPrompt, StoryRound
from .rooms import get_player


def lines_view(
    room: Room, ts: TeamStory, *, host: bool
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The lines and the writers of a story; hidden lines keep their text only for the host.

    The writers are those of the lines shown (a writer whose every line is
    hidden is not named), in the order they first wrote.
    """
    lines: list[dict[str, object]] = []
    writers: list[str] = []
    for index, line in enumerate(ts.lines):
        if line.hidden and not host:
            lines.append({"index": index, "hidden": True})
            continue
        lines.append(
            {"index": index, "player_id": line.player_id, "text": line.text, "hidden": line.hidden}
        )
        if line.player_id not in writers:
            writers.append(line.player_id)
    return lines, [{"id": pid, "name": stories.player_name(room, pid)} for pid in writers]


def _prompt_view(prompt: StoryPrompt, *, with_opening: bool) -> dict[str, object]:
    view: dict[str, object] = {"must_include": list(prompt.must_include), "theme": prompt.theme}
    if with_opening:
        view["opening"] = prompt.opening
    return view


def _previous_line(rnd: StoryRound, ts: TeamStory) -> dict[str, object]:
    """What a chain-mode writer continues from: the last visible line, else the opening."""
    for line in reversed(ts.lines):
        if not line.hidden:
            return {"text": line.text, "player_id": line.player_id, "opening": False}
    return {"text": stories.prompt_of(rnd, ts).opening, "player_id": None, "opening": True}


def _team_view(
    room: Room,
    rnd: StoryRound,
    state: StoryState,
    ts: TeamStory,
    *,
    role: Role,
    own: bool,
    revealed: bool,
    player_id: str | None,
) -> dict[str, object]:
    team = room.team(ts.team_id)
    paused = state.paused_remaining
    entry: dict[str, object] = {
        "team_id": ts.team_id,
        "name": team.name if team is not None else "",
        "writer": ts.turn_player,
        "turn_deadline_at": ts.turn_deadline_at,
        "seconds_left": paused.get(ts.team_id) if paused is not None else None,
        "lines_count": len(ts.lines),
        "turns_done": ts.turn_index,
        "done": ts.done,
        "revealed": revealed,
    }
    writing = state.stage == "writing"
    if role == "host":
        detail = "all"
    elif writing:
        detail = ("full" if rnd.visibility == "full" else "chain") if own else "progress"
    else:
        detail = "public" if revealed or (own and rnd.visibility == "full") else "progress"
    if detail == "progress":
        return entry
    if role == "host" or own:
        entry["order"] = list(ts.order)
        entry["turns_taken"] = dict(ts.turns_taken)
    if detail == "chain":
        # Nobody on the team reads the story while it is written, except the
        # writer, who gets the one line they continue from.
        entry["prompt"] = _prompt_view(stories.prompt_of(rnd, ts), with_opening=False)
        if player_id is not None and player_id == ts.turn_player:
            entry["previous_line"] = _previous_line(rnd, ts)
        return entry
    entry["prompt"] = _prompt_view(stories.prompt_of(rnd, ts), with_opening=True)
    lines, writers = lines_view(room, ts, host=role == "host")
    entry["lines"] = lines
    entry["writers"] = writers
    return entry


def story_view(
    room: Room,
    rnd: StoryRound,
    now: float,
    *,
    role: Role,
    team_id: str | None = None,
    player_id: str | None = None,
) -> dict[str, object]:
    """What one audience may see of the story round, as a JSON-able dict.

    ``role="player"`` needs ``team_id``; ``player_id`` only matters for the
    current writer in chain mode (see ``view_key``), so one view serves every
    other player of the team. The host sees everything (live vote counts too,
    but never who voted for whom); the screen sees what is public.
    """
    if role not in ("host", "screen", "player"):
        raise BadRequest("unknown audience", code=ErrorCode.INVALID_FIELD)
    view: dict[str, object] = {
        "round_index": room.round_index,
        "title": rnd.title,
        "visibility": rnd.visibility,
        "max_chars": rnd.max_chars,
        "seconds_per_turn": rnd.seconds_per_turn,
        "turns_per_player": rnd.turns_per_player,
    }
    state = room.story
    if state is None:
        view.update({"stage": None, "paused": False, "teams": {}})
        return view
    order = stories.story_order(room, state)
    revealed = set(order[: state.reveal_index + 1]) if state.stage != "writing" else set()
    teams: dict[str, object] = {}
    for tid in order:
        teams[tid] = _team_view(
            room,
            rnd,
            state,
            state.stories[tid],
            role=role,
            own=role == "player" and tid == team_id,
            revealed=tid in revealed,
            player_id=player_id,
        )
    view.update(
        {
            "round_index": state.round_index,
            "stage": state.stage,
            "paused": state.paused_remaining is not None,
            "reveal_index": state.reveal_index,
            "reveal_order": order,
            "vote_deadline_at": state.vote_deadline_at,
            "teams": teams,
        }
    )
    if state.stage in ("voting", "results"):
        # Who has voted is public; for whom stays private until the counts.
        view["voters"] = [pid for pid in room.players if pid in state.votes]
    if state.stage == "voting" and role == "host":
        view["live_counts"] = stories.tally(room, state)
    if state.stage == "results":
        points, winners = stories.round_points(state.vote_counts)
        view["vote_counts"] = dict(state.vote_counts)
        view["points"] = points
        view["winners"] = winners
        view["points_per_vote"] = stories.POINTS_PER_VOTE
        view["top_story_bonus"] = stories.TOP_STORY_BONUS
    return view


def view_key(room: Room, player_id: str, *, chain: bool = True) -> str:
    """Players with the same key can share one ``story_view``.

    In chain mode (``chain``) the current writer gets a key of their own
    while writing: their view holds the previous line, which the rest of
    the team may not read. In full mode the whole team reads the story, and
    the writer's view is the team's.
    """
    player = get_player(room, player_id)
    state = room.story
    if chain and state is not None and state.stage == "writing":
        ts = state.stories.get(player.team_id)
        if ts is not None and ts.turn_player == player.id:
            return f"{player.team_id}:{player.id}"
    return player.team_id


def player_private(room: Room, player_id: str) -> dict[str, object]:
    """The personal bits no shared view carries: the player's vote and turn."""
    state = room.story
    player = room.players.get(player_id)
    my_vote: str | None = None
    your_turn: dict[str, object] | None = None
    if state is not None and player is not None:
        if state.stage in ("voting", "results"):
            my_vote = state.votes.get(player.id)
        if state.stage == "writing":
            ts = state.stories.get(player.team_id)
            if ts is not None and ts.turn_player == player.id:
                paused = state.paused_remaining
                your_turn = {
                    "team_id": ts.team_id,
                    "deadline_at": ts.turn_deadline_at,
                    "paused": paused is not None,
                    "seconds_left": paused.get(ts.team_id) if paused is not None else None,
                }
    return {"my_vote": my_vote, "your_turn": your_turn}
