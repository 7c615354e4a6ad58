"""Final standings and the host's results export (JSON and CSV)."""

from __future__ import annotations

import csv
import io
from typing import Any

from .models import Room
from .pack import Pack, RiddleRound
from .views import ranked_teams


def results(room: Room, pack: Pack | None) -> dict[str, Any]:
    """Everything a facilitator may want to keep: standings, players, riddle by riddle."""
    teams = {t.id: t.name for t in room.teams}
    riddle_rows = []
    for r in room.riddle_results:
        rnd = pack.rounds[r.round_index] if pack and r.round_index < len(pack.rounds) else None
        text = rnd.riddles[r.riddle_index].text if isinstance(rnd, RiddleRound) else ""
        riddle_rows.append(
            {
                "round": r.round_index + 1,
                "riddle": r.riddle_index + 1,
                "text": text,
                "end_reason": r.end_reason,
                "teams": [
                    {
                        "team": teams.get(tid, tid),
                        "points": points,
                        "seconds": r.solved_elapsed.get(tid),
                        "solved_by": room.players[r.solved_by[tid]].name
                        if tid in r.solved_by and r.solved_by[tid] in room.players
                        else None,
                    }
                    for tid, points in r.points.items()
                ],
            }
        )
    return {
        "room": {"code": room.code, "name": room.name, "pack": pack.title if pack else None},
        "standings": [
            {
                "rank": rank,
                "team": team.name,
                "score": team.score,
                "story_points": room.story_points.get(team.id, 0),
                "players": [
                    {"name": p.name, "points": p.points} for p in room.team_players(team.id)
                ],
            }
            for rank, team in ranked_teams(room)
        ],
        "riddles": riddle_rows,
    }


def results_csv(room: Room, pack: Pack | None) -> str:
    """One row per player: rank, team, team score, player, player points."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["rank", "team", "team_score", "player", "player_points"])
    for rank, team in ranked_teams(room):
        members = room.team_players(team.id)
        if not members:
            writer.writerow([rank, _safe(team.name), team.score, "", ""])
        for p in members:
            writer.writerow([rank, _safe(team.name), team.score, _safe(p.name), p.points])
    return out.getvalue()


def _safe(text: str) -> str:
    # Spreadsheets run cells that start with these as formulas (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
