"""What each audience may see of a room.

Three roles see a room: the host (everything, answers included), the shared
screen (public information only) and players (public information plus their
own team's guesses and opened hints). Answers appear in a player's or the
screen's view only once the riddle is revealed. Connections whose view is
identical share one ``view_key`` so a broadcast is built and encoded once per
key, not once per connection.
"""

from __future__ import annotations

from typing import Any

from . import riddles, story_views
from .models import Role, Room, TeamAttempt
from .pack import Pack, RiddleRound, StoryRound
from .rooms import get_player, is_present

BIG_ROOM_PLAYERS = 100  # above this, a player's view lists only their own team's members


def view_key(room: Room, pack: Pack | None, role: Role, player_id: str | None = None) -> str:
    if role != "player" or player_id is None:
        return role
    player = room.players.get(player_id)
    if player is None:
        return "nobody"
    if room.phase == "story" and room.story is not None and pack is not None:
        return "player:" + story_views.view_key(room, player_id)
    return "player:" + player.team_id


def private_view(room: Room, player_id: str) -> dict[str, Any]:
    """The body of a player's ``you`` message: who they are and, in a story, their vote and turn."""
    player = get_player(room, player_id)
    private: dict[str, Any] = {
        "player": {
            "id": player.id,
            "name": player.name,
            "team_id": player.team_id,
            "points": player.points,
        }
    }
    if room.phase == "story" and room.story is not None:
        private.update(story_views.player_private(room, player_id))
    return private


def ranked_teams(room: Room) -> list[tuple[int, Any]]:
    """(rank, team) best first; equal scores are ranked by who got there first."""
    order = sorted(
        room.teams,
        key=lambda t: (-t.score, t.last_scored_at if t.score else 0.0),
    )
    ranked: list[tuple[int, Any]] = []
    for position, team in enumerate(order, start=1):
        ranked.append((position, team))
    return ranked


def scoreboard(
    room: Room, now: float, *, host: bool, own_team: str | None = None, rosters: bool = True
) -> list[dict[str, Any]]:
    """Team rows, best first; ``rosters=False`` lists the members of ``own_team`` only."""
    members: dict[str, list[Any]] = {}
    for p in room.players.values():
        members.setdefault(p.team_id, []).append(p)
    rows = []
    for rank, team in ranked_teams(room):
        team_members = members.get(team.id, [])
        players = []
        if rosters or team.id == own_team:
            for p in team_members:
                entry: dict[str, Any] = {
                    "id": p.id,
                    "name": p.name,
                    "present": is_present(p, now),
                    "points": p.points,
                }
                if host:
                    entry["connections"] = p.connections
                players.append(entry)
        rows.append(
            {
                "id": team.id,
                "name": team.name,
                "score": team.score,
                "rank": rank,
                "delta": team.score - team.score_before_round_item,
                "players_count": len(team_members),
                "players": players,
            }
        )
    return rows


def build(
    room: Room,
    pack: Pack | None,
    now: float,
    role: Role,
    player_id: str | None = None,
    *,
    boards: dict[tuple[bool, str | None], list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The full state message body for one audience.

    ``boards`` lets a caller building several views of one room version share
    the scoreboard rows (O(players) each) between views that see the same rows.
    """
    player = room.players.get(player_id) if player_id else None
    team_id = player.team_id if player else None
    host = role == "host"
    rosters = role != "player" or len(room.players) <= BIG_ROOM_PLAYERS
    board_key = (host, None if rosters else team_id)
    rows = boards.get(board_key) if boards is not None else None
    if rows is None:
        # In a big room every state would carry every player to every phone:
        # players then get their own team's roster, and counts for the others.
        rows = scoreboard(room, now, host=host, own_team=team_id, rosters=rosters)
        if boards is not None:
            boards[board_key] = rows
    current = (
        pack.rounds[room.round_index] if pack and 0 <= room.round_index < len(pack.rounds) else None
    )
    view: dict[str, Any] = {
        "code": room.code,
        "name": room.name,
        "phase": room.phase,
        "locked": room.locked,
        "seq": room.seq,
        "server_time": now,
        "auto_advance": room.auto_advance,
        "pack": None
        if pack is None
        else {
            "id": room.pack_id,
            "title": pack.title,
            "language": pack.language,
            "rounds": [{"kind": r.kind, "title": r.title} for r in pack.rounds],
        },
        "round": None
        if current is None
        else {
            "index": room.round_index,
            "count": len(pack.rounds) if pack else 0,
            "kind": current.kind,
            "title": current.title,
        },
        "teams": rows,
        "players_count": len(room.players),
        "moments": [
            {
                "seq": m.seq,
                "kind": m.kind,
                "at": m.at,
                "team_id": m.team_id,
                "player_id": m.player_id,
                "text": m.text,
            }
            for m in room.moments
        ],
        "riddle": None,
        "story": None,
    }
    if room.riddle is not None and pack is not None and room.phase == "riddle":
        view["riddle"] = riddle_view(room, pack, now, role, team_id)
    if room.story is not None and pack is not None and room.phase == "story":
        rnd = pack.rounds[room.story.round_index]
        assert isinstance(rnd, StoryRound)
        view["story"] = story_views.story_view(
            room, rnd, now, role=role, team_id=team_id, player_id=player_id
        )
    return view


def _guess_rows(room: Room, attempt: TeamAttempt) -> list[dict[str, Any]]:
    rows = []
    for index, g in enumerate(attempt.guesses):
        writer = room.players.get(g.player_id)
        rows.append(
            {
                "index": index,
                "player_id": g.player_id,
                "player_name": writer.name if writer else "",
                "text": g.text,
                "verdict": g.verdict,
                "nudge": g.nudge,
                "elapsed": round(g.elapsed, 2),
                "accepted_by_host": g.accepted_by_host,
            }
        )
    return rows


def riddle_view(
    room: Room, pack: Pack, now: float, role: Role, team_id: str | None
) -> dict[str, Any]:
    state = room.riddle
    assert state is not None
    rnd = pack.rounds[state.round_index]
    assert isinstance(rnd, RiddleRound)
    riddle = rnd.riddles[state.riddle_index]
    revealed = state.stage == "revealed"
    unlocked = riddles.unlocked_hints(state, riddle, now) if not revealed else len(riddle.hints)
    own = state.teams.get(team_id) if team_id else None
    hints = []
    for index, hint in enumerate(riddle.hints):
        entry: dict[str, Any] = {
            "index": index,
            "after": hint.after,
            "cost": hint.cost,
            "unlocked": index < unlocked,
        }
        # A hint's text costs points, so only the team that opened it (and the
        # host, and everyone after the reveal) may read it.
        if role == "host" or revealed or (own is not None and index < own.hints_opened):
            entry["text"] = hint.text
        hints.append(entry)
    view: dict[str, Any] = {
        "round_index": state.round_index,
        "index": state.riddle_index,
        "count": len(rnd.riddles),
        "stage": state.stage,
        "text": riddle.text,
        "time_limit": riddle.time_limit + state.extra_seconds,
        "points": riddle.points,
        "deadline_at": state.deadline_at,
        "paused": state.paused_remaining is not None,
        "remaining": 0.0 if revealed else round(riddles.remaining(state, now), 3),
        "options": list(riddle.options),
        "hints": hints,
        "progress": {
            tid: {
                "solved": a.solved_elapsed is not None,
                "elapsed": None if a.solved_elapsed is None else round(a.solved_elapsed, 2),
                "hints_opened": a.hints_opened,
                "guesses": len(a.guesses),
            }
            for tid, a in state.teams.items()
        },
    }
    if own is not None:
        view["team"] = {
            "guesses": _guess_rows(room, own),
            "hints_opened": own.hints_opened,
            "solved": own.solved_elapsed is not None,
            "points": own.points,
            "locked_out": own.locked_out,
        }
    if role == "host":
        view["secret"] = {"answers": list(riddle.answers), "explanation": riddle.explanation}
        view["guesses"] = {tid: _guess_rows(room, a) for tid, a in state.teams.items()}
    if revealed:
        view["reveal"] = {
            "answer": riddle.answers[0],
            "explanation": riddle.explanation,
            "end_reason": state.end_reason,
            "solvers": sorted(
                (
                    {
                        "team_id": tid,
                        "player_id": a.solved_by,
                        "elapsed": round(a.solved_elapsed, 2),
                        "points": a.points,
                    }
                    for tid, a in state.teams.items()
                    if a.solved_elapsed is not None
                ),
                key=lambda s: s["elapsed"],
            ),
            "spread": _spread(riddle.options, state.teams.values()) if riddle.options else [],
        }
    return view


def _spread(options: tuple[str, ...], attempts: Any) -> list[int]:
    """How many teams chose each option (each team's first choice)."""
    counts = [0] * len(options)
    for attempt in attempts:
        for g in attempt.guesses:
            if g.option is not None:
                counts[g.option] += 1
                break
    return counts
