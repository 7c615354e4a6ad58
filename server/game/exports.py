"""What the host takes home: the results (JSON and CSV) and the stories keepsake (Markdown).

Every export escapes what players typed for its format: CSV cells that a
spreadsheet would run as formulas get a leading quote, and Markdown is escaped
so that it renders as the same text and nothing more (hidden lines are masked).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from ..errors import ErrorCode, NotFound
from . import stories, story_views
from .models import Room, StoryState
from .pack import Pack, RiddleRound, StoryRound
from .views import ranked_teams

# Results


def results(room: Room, pack: Pack | None) -> dict[str, Any]:
    """Everything a facilitator may want to keep: standings, players, riddle by riddle."""
    teams = {t.id: t.name for t in room.teams}
    riddle_rows = []
    for r in room.riddle_results:
        rnd = pack.rounds[r.round_index] if pack and r.round_index < len(pack.rounds) else None
        text = r.text
        if isinstance(rnd, RiddleRound) and r.riddle_index < len(rnd.riddles):
            text = rnd.riddles[r.riddle_index].text
        riddle_rows.append(
            {
                "round": r.round_index + 1,
                "riddle": r.riddle_index + 1,
                "text": text,
                **({"author": r.author} if r.author else {}),
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


# The stories keepsake

_MD_INLINE = str.maketrans(
    {
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "~": "\\~",
        "|": "\\|",
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
    }
)
_MD_ORDERED_ITEM = re.compile(r"^(\d+)([.)])")


def md_escape(text: str) -> str:
    """Plain text to Markdown that renders as the same text and nothing more."""
    # Paragraph text cannot hold line breaks or indentation without changing
    # the structure, so whitespace runs become single spaces.
    value = " ".join(text.split()).translate(_MD_INLINE)
    value = _MD_ORDERED_ITEM.sub(r"\1\\\2", value)
    if value[:1] in ("#", "+", "-", "="):
        value = "\\" + value
    return value


def markdown_export(room: Room, rnd: StoryRound, state: StoryState | None = None) -> str:
    """Every story of the round as Markdown, user text escaped, hidden lines masked.

    ``state`` is the round's stories (an archived round); by default the running one.
    """
    out = [f"# {md_escape(rnd.title)}", ""]
    if state is None:
        state = room.story
    if state is None or not state.stories:
        out += ["_No stories were written._", ""]
        return "\n".join(out)
    for team_id in stories.story_order(room, state):
        ts = state.stories[team_id]
        team = room.team(team_id)
        prompt = stories.prompt_of(rnd, ts)
        out += [f"## {md_escape(team.name if team is not None else team_id)}", ""]
        _, writers = story_views.lines_view(room, ts, host=False)
        if writers:
            names = ", ".join(md_escape(str(w["name"])) for w in writers)
            out += [f"_Writers: {names}_", ""]
        if prompt.theme:
            out += [f"_Theme: {md_escape(prompt.theme)}_", ""]
        out += [md_escape(prompt.opening), ""]
        for line in ts.lines:
            out += [stories.HIDDEN_LINE_TEXT if line.hidden else md_escape(line.text), ""]
    return "\n".join(out)


def played_rounds(room: Room, pack: Pack | None) -> list[tuple[StoryRound, StoryState]]:
    """Every story round played so far (archived, then the running one), in round order."""
    if pack is None:
        return []
    states = list(room.story_archive)
    if room.story is not None:
        states = [s for s in states if s.round_index != room.story.round_index] + [room.story]
    played: list[tuple[StoryRound, StoryState]] = []
    for state in sorted(states, key=lambda s: s.round_index):
        rnd = pack.rounds[state.round_index] if 0 <= state.round_index < len(pack.rounds) else None
        if isinstance(rnd, StoryRound):
            played.append((rnd, state))
    return played


def markdown_keepsake(room: Room, pack: Pack | None) -> str:
    """The host's keepsake: every story round played so far, one ``markdown_export`` each.

    Raises ``NotFound`` (``no_story``) when no story round has been played yet.
    """
    played = played_rounds(room, pack)
    if not played:
        raise NotFound("no story round has been played yet", code=ErrorCode.NO_STORY)
    return "\n".join(markdown_export(room, rnd, state) for rnd, state in played)
