"""What each audience may see of a room.

Three roles see a room: the host (everything, answers included), the shared
screen (public information only) and players (public information plus their
own team's guesses and opened hints). Answers appear in a player's or the
screen's view only once the riddle is revealed; the author of a "Who's who"
answer appears in no view, the host's included, before its question is
revealed (``whoswho.view``). Connections whose view is
identical share one ``view_key`` so a broadcast is built and encoded once per
key, not once per connection.
"""

from __future__ import annotations

import math
from typing import Any

from . import coffee, patches, riddles, stories, story_views, whoswho
from .kept import Heard, Kept
from .models import KEPT_MOMENTS, Guess, Moment, Player, Role, Room, TeamAttempt
from .pack import Pack, RiddleRound, StoryRound, WhosWhoRound
from .rooms import PRESENCE_GRACE_SECONDS, get_player, is_present

BIG_ROOM_PLAYERS = 100  # above this, a player's view lists only their own team's members
# The members listed for a team whose roster a view leaves out: one shared
# list, so rows stay the same object from one flush to the next. Views are
# never changed once built (patches are computed from them), so sharing is safe.
_NO_PLAYERS: list[dict[str, Any]] = []


def view_key(room: Room, pack: Pack | None, role: Role, player_id: str | None = None) -> str:
    if role != "player" or player_id is None:
        return role
    player = room.players.get(player_id)
    if player is None:
        return "nobody"
    if room.phase == "story" and room.story is not None and pack is not None:
        rnd = pack.rounds[room.story.round_index]
        chain = not (isinstance(rnd, StoryRound) and rnd.visibility == "full")
        return "player:" + story_views.view_key(room, player_id, chain=chain)
    return "player:" + player.team_id


def private_view(room: Room, player_id: str) -> dict[str, Any]:
    """The body of a player's ``you`` message: who they are, their coffee pairing group
    and, in a story, their vote and turn."""
    player = get_player(room, player_id)
    private: dict[str, Any] = {
        "player": {
            "id": player.id,
            "name": player.name,
            "team_id": player.team_id,
            "points": player.points,
            "mentoring_role": player.mentoring_role,
        },
        "pairing": coffee.player_view(room, player_id),
        "whoswho": whoswho.player_view(room, player_id),
    }
    if room.phase == "story" and room.story is not None:
        private.update(story_views.player_private(room, player_id))
    return private


def private_stamp(room: Room, player_id: str) -> tuple[object, ...]:
    """What ``private_view`` shows, as a tuple (the same stamp, the same ``you`` frame)."""
    player = get_player(room, player_id)
    story = room.phase == "story" and room.story is not None
    private = story_views.private_stamp(room, player_id) if story else None
    pairing = coffee.player_stamp(room, player_id)
    answers = whoswho.player_stamp(room, player_id)
    return (
        player.name,
        player.team_id,
        player.points,
        player.mentoring_role,
        pairing,
        private,
        answers,
    )


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


class Rows(Kept):
    """Parts of views kept from one build to the next for one room.

    A player's scoreboard entry is rebuilt only when something it shows
    changed; otherwise the very same dict is reused, which the patch diff
    skips by identity. In a room of 2,000 a flush then costs lookups, not
    2,000 new entries per view and a deep comparison of each.
    """

    def __init__(self, heard: Heard | None = None) -> None:
        super().__init__()
        # The room's changes as committed, when the owner of these rows hears
        # them all (the hub): what did not change is then not even built.
        self.heard = heard
        self._entries: dict[tuple[bool, str], tuple[tuple[Any, ...], dict[str, Any]]] = {}
        self._guesses: dict[tuple[str, int], tuple[tuple[Any, ...], dict[str, Any]]] = {}
        self._pack: tuple[tuple[str | None, int], dict[str, Any]] | None = None
        self._moments: dict[tuple[int, str, float, str, str, str], dict[str, Any]] = {}
        self.story = story_views.StoryRows()  # the story round's lines, writers and prompts
        self.story.heard = heard
        # Lists and team rows handed out last time, kept by what they are for
        # (a roster, a board): a handful per team and audience, replaced in place.
        self._teams: dict[tuple[bool, str, bool], tuple[tuple[Any, ...], dict[str, Any]]] = {}
        # Whole scoreboards, by what they are for, when the room's changes are
        # heard: (seq and time built at, the teams' bits, until when every
        # player shows as then, board).
        self._boards: dict[
            tuple[object, ...],
            tuple[int, float, tuple[object, ...], float, list[dict[str, Any]]],
        ] = {}
        # The coffee pairing's summary and the host's assignment (both O(players)
        # to build), by the pairing they show: built once per pairing, not per flush.
        self._summary: tuple[object, dict[str, Any] | None] | None = None
        self._assignment: tuple[object, dict[str, Any] | None] | None = None

    def pairing_summary(self, room: Room) -> dict[str, Any] | None:
        """What every view shows of the running pairing (``coffee.summary_view``), once per pairing."""
        current = room.pairings.current
        if self._summary is not None and self._summary[0] is current:
            return self._summary[1]
        view = coffee.summary_view(room)
        self._summary = (current, view)
        return view

    def assignment(self, room: Room) -> dict[str, Any] | None:
        """The host's whole pairing assignment, built once per pairing (``coffee.assignment_view``)."""
        current = room.pairings.current
        if self._assignment is not None and self._assignment[0] is current:
            return self._assignment[1]
        view = coffee.assignment_view(room)
        self._assignment = (current, view)
        return view

    def board(
        self, key: tuple[object, ...], bits: tuple[object, ...], now: float
    ) -> list[dict[str, Any]] | None:
        """The board kept under ``key`` if nothing it shows changed since it was built."""
        found = self._boards.get(key)
        if found is None or self.heard is None:
            return None
        seq, built_at, kept_bits, until, board = found
        if kept_bits != bits or not built_at <= now < until or self.heard.players_since(seq):
            return None
        return board

    def keep_board(
        self,
        key: tuple[object, ...],
        room: Room,
        now: float,
        bits: tuple[object, ...],
        board: list[dict[str, Any]],
    ) -> None:
        """Keep ``board``, built at ``now``: it stands until a dropped player's grace ends."""
        if self.heard is None:
            return
        # A millisecond early, so that no rounding of ``is_present``'s own
        # sum makes the kept board outlive what it shows.
        graces = [
            p.last_seen + PRESENCE_GRACE_SECONDS - 1e-3
            for p in room.players.values()
            if p.connections == 0 and is_present(p, now)
        ]
        self._boards[key] = (room.seq, now, bits, min(graces, default=math.inf), board)

    def entry(self, p: Player, now: float, *, host: bool) -> dict[str, Any]:
        present = is_present(p, now)
        stamp = (p.name, present, p.points, p.connections if host else 0)
        found = self._entries.get((host, p.id))
        if found is not None and found[0] == stamp:
            return found[1]
        entry: dict[str, Any] = {"id": p.id, "name": p.name, "present": present, "points": p.points}
        if host:
            entry["connections"] = p.connections
        self._entries[(host, p.id)] = (stamp, entry)
        return entry

    def pack(self, pack_id: str | None, pack: Pack) -> dict[str, Any]:
        if self._pack is not None and self._pack[0] == (pack_id, id(pack)):
            return self._pack[1]
        view = {
            "id": pack_id,
            "title": pack.title,
            "language": pack.language,
            "rounds": [{"kind": r.kind, "title": r.title} for r in pack.rounds],
        }
        self._pack = ((pack_id, id(pack)), view)
        return view

    def moment(self, m: Moment) -> dict[str, Any]:
        # A moment never changes once it happened: what it says names it.
        key = (m.seq, m.kind, m.at, m.team_id, m.player_id, m.text)
        found = self._moments.get(key)
        if found is None:
            found = self._moments[key] = {
                "seq": m.seq,
                "kind": m.kind,
                "at": m.at,
                "team_id": m.team_id,
                "player_id": m.player_id,
                "text": m.text,
            }
            if len(self._moments) > 2 * KEPT_MOMENTS:
                # Keep as many as the room's list may hold, so a cut does not
                # rebuild rows the list still shows (and lose its identity).
                self._moments = dict(list(self._moments.items())[-KEPT_MOMENTS:])
        return found

    def guess(self, room: Room, team_id: str, index: int, g: Guess) -> dict[str, Any]:
        writer = room.players.get(g.player_id)
        name = writer.name if writer else ""
        stamp = (g.player_id, g.at, g.text, g.accepted_by_host, name)
        found = self._guesses.get((team_id, index))
        if found is not None and found[0] == stamp:
            return found[1]
        row = {
            "index": index,
            "player_id": g.player_id,
            "player_name": name,
            "text": g.text,
            "verdict": g.verdict,
            "nudge": g.nudge,
            "elapsed": round(g.elapsed, 2),
            "accepted_by_host": g.accepted_by_host,
        }
        self._guesses[(team_id, index)] = (stamp, row)
        return row

    def team_row(
        self, key: tuple[bool, str, bool], stamp: tuple[Any, ...], players: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """A team's scoreboard row, the same dict as last time if nothing in it changed."""
        found = self._teams.get(key)
        if found is not None and found[0] == stamp:
            return found[1]
        name, score, rank, delta, count, _ = stamp
        row = {
            "id": key[1],
            "name": name,
            "score": score,
            "rank": rank,
            "delta": delta,
            "players_count": count,
            "players": players,
        }
        self._teams[key] = (stamp, row)
        return row

    def forget_gone(self, room: Room) -> None:
        """Drop the entries of players who left (called now and then, not per build)."""
        if len(self._entries) > 2 * len(room.players) + 64:
            self._entries = {k: v for k, v in self._entries.items() if k[1] in room.players}
        if room.riddle is None or room.riddle.stage != "open":
            self._guesses.clear()  # a new riddle has new guesses
        if room.story is None:
            self.story.forget()  # the story round is over


class Build:
    """What the views of one room version share while they are built (one flush)."""

    def __init__(self, room: Room, rows: Rows | None = None) -> None:
        self.rows = rows or Rows()
        if self.rows.heard is not None:
            self.rows.heard.caught_up(room.seq)
        self.boards: dict[tuple[bool, str | None], list[dict[str, Any]]] = {}
        self._members: dict[str, list[Player]] | None = None
        self._moments: list[dict[str, Any]] | None = None
        self._room = room
        # The operations between two values at one path, for the views that
        # patch the same pair (``patched``): the moments, an entry the host
        # and a team share. Kept with the two values themselves: their ids
        # alone could be another pair's, once a value held at the start of the
        # flush is let go (its connections moved on to the new view).
        self._diffs: dict[tuple[tuple[str | int, ...], int, int], tuple[Any, Any, list[Any]]]
        self._diffs = {}

    def diff(self, old: Any, new: Any, path: patches.Path, ops: list[patches.Op]) -> None:
        """``patches.diff_into``, once per flush for each pair of values at one path."""
        key = (tuple(path), id(old), id(new))
        found = self._diffs.get(key)
        if found is None or found[0] is not old or found[1] is not new:
            found = self._diffs[key] = (old, new, [])
            patches.diff_into(old, new, path, found[2])
        ops.extend(found[2])

    @property
    def members(self) -> dict[str, list[Player]]:
        """Players by team, in join order: one pass over the players per flush."""
        if self._members is None:
            self._members = {}
            for p in self._room.players.values():
                self._members.setdefault(p.team_id, []).append(p)
        return self._members

    @property
    def moments(self) -> list[dict[str, Any]]:
        """The room's moments as every view shows them: built once per flush."""
        if self._moments is None:
            rows = self.rows
            self._moments = rows.same_list(
                ("moments",), [rows.moment(m) for m in self._room.moments]
            )
        return self._moments


def scoreboard(
    room: Room,
    now: float,
    *,
    host: bool,
    own_team: str | None = None,
    rosters: bool = True,
    build: Build | None = None,
) -> list[dict[str, Any]]:
    """Team rows, best first; ``rosters=False`` lists the members of ``own_team`` only."""
    shared = build or Build(room)
    kept = shared.rows
    key = ("board", host, rosters, own_team)
    # What a board shows of the room's scalars (``meta``): the rest is the
    # players, and the time (a dropped player shows as away after a grace).
    bits = tuple(
        (t.id, t.name, t.score, t.last_scored_at, t.score_before_round_item) for t in room.teams
    )
    found = kept.board(key, bits, now)
    if found is not None:
        return found
    board = _scoreboard(room, now, host=host, own_team=own_team, rosters=rosters, shared=shared)
    kept.keep_board(key, room, now, bits, board)
    return board


def _scoreboard(
    room: Room, now: float, *, host: bool, own_team: str | None, rosters: bool, shared: Build
) -> list[dict[str, Any]]:
    members = shared.members
    kept = shared.rows
    rows = []
    for rank, team in ranked_teams(room):
        team_members = members.get(team.id, [])
        players = _NO_PLAYERS
        if rosters or team.id == own_team:
            players = kept.same_list(
                ("roster", host, team.id), [kept.entry(p, now, host=host) for p in team_members]
            )
        stamp = (
            team.name,
            team.score,
            rank,
            team.score - team.score_before_round_item,
            len(team_members),
            id(players),
        )
        rows.append(kept.team_row((host, team.id, rosters or team.id == own_team), stamp, players))
    return kept.same_list(("board", host, rosters, own_team), rows)


def build(
    room: Room,
    pack: Pack | None,
    now: float,
    role: Role,
    player_id: str | None = None,
    *,
    shared: Build | None = None,
) -> dict[str, Any]:
    """The full state message body for one audience.

    ``shared`` lets a caller building several views of one room version share
    the scoreboard rows between views that see the same rows, and keep
    players' entries from one flush to the next.
    """
    player = room.players.get(player_id) if player_id else None
    team_id = player.team_id if player else None
    host = role == "host"
    shared = shared or Build(room)
    view: dict[str, Any] = {
        "code": room.code,
        "name": room.name,
        "phase": room.phase,
        "locked": room.locked,
        "seq": room.seq,
        "server_time": now,
        "auto_advance": room.auto_advance,
        "pack": None if pack is None else shared.rows.pack(room.pack_id, pack),
        "round": _round_row(room, pack, shared.rows),
        "teams": _board(room, now, role, team_id, shared),
        "players_count": len(room.players),
        "moments": shared.moments,
        "riddle": None,
        "story": None,
        "whoswho": None,
        "pairing": _pairing(room, host, shared.rows),
    }
    if room.riddle is not None and pack is not None and room.phase == "riddle":
        view["riddle"] = riddle_view(room, pack, now, role, team_id, shared.rows)
    if room.whoswho is not None and pack is not None and room.phase == "whoswho":
        played = pack.rounds[room.whoswho.round_index]
        assert isinstance(played, WhosWhoRound)
        view["whoswho"] = whoswho.view(room, played, now, role, team_id, shared.rows)
    if room.story is not None and pack is not None and room.phase == "story":
        rnd = pack.rounds[room.story.round_index]
        assert isinstance(rnd, StoryRound)
        view["story"] = story_views.story_view(
            room, rnd, now, role=role, team_id=team_id, player_id=player_id, kept=shared.rows.story
        )
    return view


def patched(
    held: dict[str, Any],
    held_seq: int,
    room: Room,
    pack: Pack | None,
    now: float,
    role: Role,
    player_id: str | None = None,
    *,
    shared: Build,
) -> tuple[dict[str, Any], list[patches.Op]] | None:
    """The view ``build`` would give from ``held`` (built at ``held_seq``) and the patch to it.

    While a story is written, a line changes one team's entry in each view
    and nothing else but the view's seq, time and moments: this builds only
    the story's team entries (kept ones as they were) and the moments, and
    diffs only what changed (``build`` then ``patches.diff`` would build and
    walk the whole view). None, for a full build, unless the room's changes since
    ``held_seq`` were all heard and touched nothing but teams' stories
    (``Heard``), and every other part of ``held`` is what a build would
    show now: the scalars equal, the kept rows (board, pack, round...) the
    very same objects.
    """
    rows = shared.rows
    state = room.story
    held_story = held.get("story")
    if (
        rows.heard is None
        or rows.heard.beyond_stories_since(held_seq)
        or state is None
        or pack is None
        or room.phase != "story"
        or state.stage != "writing"
        or held.get("phase") != "story"
        or held_story is None
        or held_story.get("stage") != "writing"
    ):
        return None
    rnd = pack.rounds[state.round_index]
    assert isinstance(rnd, StoryRound)
    player = room.players.get(player_id) if player_id else None
    team_id = player.team_id if player else None
    kept = rows.story
    order = stories.story_order(room, state)
    if not (
        _equal(held["name"], room.name)
        and _equal(held["locked"], room.locked)
        and _equal(held["auto_advance"], room.auto_advance)
        and _equal(held["players_count"], len(room.players))
        and held["pack"] is rows.pack(room.pack_id, pack)
        and held["round"] is _round_row(room, pack, rows)
        and held["teams"] is _board(room, now, role, team_id, shared)
        and held["pairing"] is _pairing(room, role == "host", rows)
        and held["riddle"] is None
        and held["whoswho"] is None
        and _equal(held_story["round_index"], state.round_index)
        and held_story["paused"] is (state.paused_remaining is not None)
        and _equal(held_story["reveal_index"], state.reveal_index)
        and held_story["reveal_order"] is kept.same_list(("reveal_order",), order)
        and _equal(held_story["vote_deadline_at"], state.vote_deadline_at)
    ):
        return None
    teams = story_views.team_entries(
        room, rnd, state, order, role=role, team_id=team_id, player_id=player_id, kept=kept
    )
    held_teams = held_story["teams"]
    if list(teams) != list(held_teams):
        return None
    ops: list[patches.Op] = []
    patches.diff_into(held["seq"], room.seq, ["seq"], ops)
    patches.diff_into(held["server_time"], now, ["server_time"], ops)
    moments = shared.moments  # (a line is a moment too)
    if moments is not held["moments"]:
        shared.diff(held["moments"], moments, ["moments"], ops)
    story = held_story
    changed = [tid for tid, entry in teams.items() if entry is not held_teams[tid]]
    if changed:
        for tid in changed:
            shared.diff(held_teams[tid], teams[tid], ["story", "teams", tid], ops)
        key = story_views.teams_key(role, team_id, player_id)
        story = {**held_story, "teams": kept.same_row(key, teams)}
    view = {**held, "seq": room.seq, "server_time": now, "moments": moments, "story": story}
    return view, ops


def _equal(a: Any, b: Any) -> bool:
    """Equal scalars of one type (``1`` is not ``True`` nor ``1.0``; ``0.0`` is ``-0.0``,
    which only a deadline could be, and deadlines are times)."""
    return type(a) is type(b) and a == b


def _board(
    room: Room, now: float, role: Role, team_id: str | None, shared: Build
) -> list[dict[str, Any]]:
    """The scoreboard an audience sees, built once per flush for the views that share it."""
    host = role == "host"
    rosters = role != "player" or len(room.players) <= BIG_ROOM_PLAYERS
    board_key = (host, None if rosters else team_id)
    rows = shared.boards.get(board_key)
    if rows is None:
        # In a big room every state would carry every player to every phone:
        # players then get their own team's roster, and counts for the others.
        # (Kept under the same key whoever builds it first: ``patched`` finds
        # the very same board from one flush to the next.)
        rows = shared.boards[board_key] = scoreboard(
            room, now, host=host, own_team=board_key[1], rosters=rosters, build=shared
        )
    return rows


def _round_row(room: Room, pack: Pack | None, rows: Rows) -> dict[str, Any] | None:
    """Where the game is in the pack: the same row as last time while it is the same round."""
    if pack is None or not 0 <= room.round_index < len(pack.rounds):
        return None
    current = pack.rounds[room.round_index]
    return rows.same_row(
        ("round",),
        {
            "index": room.round_index,
            "count": len(pack.rounds),
            "kind": current.kind,
            "title": current.title,
        },
    )


def _pairing(room: Room, host: bool, rows: Rows) -> dict[str, Any] | None:
    """The running coffee pairing as an audience sees it (the host: with the whole assignment)."""
    summary = rows.pairing_summary(room)
    if summary is not None and host:
        summary = rows.same_row(
            ("pairing", "host"), {**summary, "assignment": rows.assignment(room)}
        )
    return summary


def _guess_rows(room: Room, team_id: str, attempt: TeamAttempt, rows: Rows) -> list[dict[str, Any]]:
    return [rows.guess(room, team_id, index, g) for index, g in enumerate(attempt.guesses)]


def riddle_view(
    room: Room,
    pack: Pack,
    now: float,
    role: Role,
    team_id: str | None,
    rows: Rows | None = None,
) -> dict[str, Any]:
    rows = rows or Rows()
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
            "guesses": _guess_rows(room, team_id or "", own, rows),
            "hints_opened": own.hints_opened,
            "solved": own.solved_elapsed is not None,
            "points": own.points,
            "locked_out": own.locked_out,
        }
    if role == "host":
        view["secret"] = {"answers": list(riddle.answers), "explanation": riddle.explanation}
        view["guesses"] = {tid: _guess_rows(room, tid, a, rows) for tid, a in state.teams.items()}
    if revealed:
        solvers = riddles.solvers_in_order(state)
        view["reveal"] = {
            "answer": riddle.answers[0],
            "explanation": riddle.explanation,
            "end_reason": state.end_reason,
            # Exact order, not by the rounded elapsed: the first row (and
            # first_solver) is the team that got the first-solver bonus.
            "solvers": [
                {
                    "team_id": tid,
                    "player_id": state.teams[tid].solved_by,
                    "elapsed": round(state.teams[tid].solved_elapsed or 0.0, 2),
                    "points": state.teams[tid].points,
                }
                for tid in solvers
            ],
            "first_solver": solvers[0] if solvers else None,
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
