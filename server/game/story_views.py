"""What host, screen and players see of a story round.

``story_view`` builds what one audience may see (see ``stories`` for the
rules of the round), ``view_key`` tells which players can share one view, and
``player_private`` carries the personal bits no shared view holds (own vote,
own turn). Line texts are plain data and are never interpreted as HTML.
"""

from __future__ import annotations

from ..errors import BadRequest, ErrorCode
from . import stories
from .kept import Heard, Kept
from .models import Role, Room, StoryLine, StoryState, TeamStory
from .pack import StoryPrompt, StoryRound
from .rooms import get_player


class StoryRows(Kept):
    """Parts of story views kept from one build to the next for one room (see ``views.Rows``).

    A line, once written, shows the same until the host hides it: its row is
    the very same dict from one flush to the next, and so are the lists of
    rows that did not change, which the patch diff skips by identity. Without
    them every flush rebuilt and compared every line of every story, so a
    line cost more the longer the stories grew.
    """

    def __init__(self) -> None:
        super().__init__()
        # (team id, index, host) -> ((player id, text, hidden), row)
        self._lines: dict[tuple[str, int, bool], tuple[tuple[str, str, bool], dict[str, object]]]
        self._lines = {}
        self._writers: dict[str, tuple[str, dict[str, object]]] = {}  # player id -> (name, row)
        # id(prompt) -> (the prompt, kept alive so the id stays its own, view)
        self._prompts: dict[tuple[int, bool], tuple[StoryPrompt, dict[str, object]]] = {}
        # (team id, host) -> ((round started at, line count, lines_edited), line rows, writer ids)
        self.stories: dict[
            tuple[str, bool],
            tuple[tuple[float | None, int, int], list[dict[str, object]], list[str]],
        ] = {}
        # What changed when, if the room's changes are heard (the hub's rows):
        # a team's entry whose story and players did not change since it was
        # built, and whose bits of the room's scalars are the same, is handed
        # back as it is: (seq built at, those bits, entry) by the entry's key.
        self.heard: Heard | None = None
        self._teams: dict[tuple[object, ...], tuple[int, tuple[object, ...], dict[str, object]]]
        self._teams = {}

    def line(self, team_id: str, index: int, line: StoryLine, *, host: bool) -> dict[str, object]:
        key = (team_id, index, host)
        stamp = (line.player_id, line.text, line.hidden)
        found = self._lines.get(key)
        if found is not None and found[0] == stamp:
            return found[1]
        row: dict[str, object]
        if line.hidden and not host:
            row = {"index": index, "hidden": True}
        else:
            row = {"index": index, "player_id": line.player_id, "text": line.text}
            row["hidden"] = line.hidden
        self._lines[key] = (stamp, row)
        return row

    def writer(self, player_id: str, name: str) -> dict[str, object]:
        found = self._writers.get(player_id)
        if found is not None and found[0] == name:
            return found[1]
        row: dict[str, object] = {"id": player_id, "name": name}
        self._writers[player_id] = (name, row)
        return row

    def prompt(self, prompt: StoryPrompt, *, with_opening: bool) -> dict[str, object]:
        key = (id(prompt), with_opening)
        found = self._prompts.get(key)
        if found is not None and found[0] is prompt:
            return found[1]
        view = _prompt_view(prompt, with_opening=with_opening)
        self._prompts[key] = (prompt, view)
        return view

    def team(
        self, key: tuple[object, ...], team_id: str, bits: tuple[object, ...]
    ) -> dict[str, object] | None:
        """The team entry kept under ``key`` if nothing it shows changed since it was built."""
        found = self._teams.get(key)
        if (
            found is None
            or self.heard is None
            or found[1] != bits
            or self.heard.story_since(team_id, found[0])
        ):
            return None
        return found[2]

    def keep_team(
        self, key: tuple[object, ...], seq: int, bits: tuple[object, ...], entry: dict[str, object]
    ) -> dict[str, object]:
        """``entry``, or the same one kept under ``key`` (``same_row``), kept as built at ``seq``."""
        entry = self.same_row(key, entry)
        if self.heard is not None:
            self._teams[key] = (seq, bits, entry)
        return entry

    def forget(self) -> None:
        """Drop everything kept (a story round ended: its teams' lines are history)."""
        self._lines.clear()
        self._teams.clear()
        self.stories.clear()
        self.forget_kept()
        self._writers.clear()
        self._prompts.clear()


def lines_view(
    room: Room, ts: TeamStory, *, host: bool, kept: StoryRows | None = None
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The lines and the writers of a story; hidden lines keep their text only for the host.

    The writers are those of the lines shown (a writer whose every line is
    hidden is not named), in the order they first wrote.
    """
    rows = kept or StoryRows()
    team_id = ts.team_id
    # The round (a team's story in the next round starts empty again), and
    # how many lines there are and how often one changed.
    round_started = room.story.started_at if room.story is not None else None
    stamp = (round_started, len(ts.lines), ts.lines_edited)
    found = rows.stories.get((team_id, host))
    if found is not None and found[0] == stamp:
        lines, writers = found[1], found[2]
    else:
        # Lines only ever change by one more at the end, or by the host
        # hiding one (``lines_edited``): after a new line, only it is new.
        start = 0
        lines, writers = [], []
        if found is not None and found[0][::2] == stamp[::2] and found[0][1] <= stamp[1]:
            start, lines, writers = found[0][1], list(found[1]), list(found[2])
        for index in range(start, len(ts.lines)):
            line = ts.lines[index]
            lines.append(rows.line(team_id, index, line, host=host))
            if (host or not line.hidden) and line.player_id not in writers:
                writers.append(line.player_id)
        rows.stories[(team_id, host)] = (stamp, lines, writers)
    named = [rows.writer(pid, stories.player_name(room, pid)) for pid in writers]
    return lines, rows.same_list(("writers", team_id, host), named)


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
    kept: StoryRows,
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
    detail = _detail(role, rnd, own=own, writing=state.stage == "writing", revealed=revealed)
    if detail == "progress":
        return entry
    if role == "host" or own:
        entry["order"] = kept.same_list(("order", ts.team_id), list(ts.order))
        entry["turns_taken"] = kept.same_row(("turns", ts.team_id), dict(ts.turns_taken))
    if detail == "chain":
        # Nobody on the team reads the story while it is written, except the
        # writer, who gets the one line they continue from.
        entry["prompt"] = kept.prompt(stories.prompt_of(rnd, ts), with_opening=False)
        if player_id is not None and player_id == ts.turn_player:
            entry["previous_line"] = _previous_line(rnd, ts)
        return entry
    entry["prompt"] = kept.prompt(stories.prompt_of(rnd, ts), with_opening=True)
    lines, writers = lines_view(room, ts, host=role == "host", kept=kept)
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
    kept: StoryRows | None = None,
) -> dict[str, object]:
    """What one audience may see of the story round, as a JSON-able dict.

    ``role="player"`` needs ``team_id``; ``player_id`` only matters for the
    current writer in chain mode (see ``view_key``), so one view serves every
    other player of the team. The host sees everything (live vote counts too,
    but never who voted for whom); the screen sees what is public. ``kept``
    holds the rows of earlier builds for the same room (``views.Rows``), so
    what did not change is the same object as last time.
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
    kept = kept or StoryRows()
    teams = team_entries(
        room, rnd, state, order, role=role, team_id=team_id, player_id=player_id, kept=kept
    )
    view.update(
        {
            "round_index": state.round_index,
            "stage": state.stage,
            "paused": state.paused_remaining is not None,
            "reveal_index": state.reveal_index,
            "reveal_order": kept.same_list(("reveal_order",), order),
            "vote_deadline_at": state.vote_deadline_at,
            "teams": kept.same_row(teams_key(role, team_id, player_id), teams),
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


def teams_key(role: Role, team_id: str | None, player_id: str | None) -> tuple[object, ...]:
    """What a view's dict of team entries is kept under (``Kept.same_row``)."""
    return ("teams", role, team_id, player_id)


def team_entries(
    room: Room,
    rnd: StoryRound,
    state: StoryState,
    order: list[str],
    *,
    role: Role,
    team_id: str | None,
    player_id: str | None,
    kept: StoryRows,
) -> dict[str, object]:
    """Each team's entry of a story view, by team id in ``order``: kept ones as they were."""
    revealed = set(order[: state.reveal_index + 1]) if state.stage != "writing" else set()
    teams: dict[str, object] = {}
    names = {team.id: team.name for team in room.teams}
    paused = state.paused_remaining
    writing = state.stage == "writing"
    for tid in order:
        ts = state.stories[tid]
        own = role == "player" and tid == team_id
        writes = player_id is not None and player_id == ts.turn_player
        shape = _entry_shape(
            role, rnd, ts, own=own, writing=writing, revealed=tid in revealed, writes=writes
        )
        key = ("team", tid, *shape)
        # What the entry shows of the room's scalars (``meta``): the rest is
        # the team's story and the players' names (``Heard.story_since``).
        bits = (
            names.get(tid),
            state.stage,
            state.round_index,
            state.started_at,
            None if paused is None else paused.get(tid, -1.0),
            tid in revealed,
            id(rnd),
        )
        entry = kept.team(key, tid, bits)
        if entry is None:
            entry = _team_view(
                room,
                rnd,
                state,
                ts,
                role=role,
                own=own,
                revealed=tid in revealed,
                player_id=player_id,
                kept=kept,
            )
            entry = kept.keep_team(key, room.seq, bits, entry)
        teams[tid] = entry
    return teams


def _detail(role: Role, rnd: StoryRound, *, own: bool, writing: bool, revealed: bool) -> str:
    """How much of a team's story an audience sees: all (the host), full or chain (the team,
    while writing), public (revealed, or its own in full visibility), or progress."""
    if role == "host":
        return "all"
    if writing:
        return ("full" if rnd.visibility == "full" else "chain") if own else "progress"
    return "public" if revealed or (own and rnd.visibility == "full") else "progress"


def _entry_shape(
    role: Role,
    rnd: StoryRound,
    ts: TeamStory,
    *,
    own: bool,
    writing: bool,
    revealed: bool,
    writes: bool,
) -> tuple[object, ...]:
    """What decides how a team's entry looks, besides the room's state (``_team_view``).

    Audiences whose entries take the same shape share one kept entry, built
    and diffed once per flush (a line changes one entry, not one per
    audience): everyone who sees only a story's progress; the screen and the
    other teams once it is revealed; and the host and the team itself, which
    see its lines and its rotation (while a full-visibility story is written,
    and after the writing), unless a line was ever hidden: hidden lines keep
    their text for the host only (``lines_edited`` counts the host's hides
    and shows; ``parts.join`` counts a hidden line of a room stored before
    it did).
    """
    detail = _detail(role, rnd, own=own, writing=writing, revealed=revealed)
    if detail == "progress":
        return ("progress",)
    if detail == "chain":  # (the team's own, while writing)
        return ("chain", writes)
    return ("lines", role == "host" or own, role == "host" and ts.lines_edited > 0)


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


def private_stamp(room: Room, player_id: str) -> tuple[object, ...]:
    """What ``player_private`` shows, as a tuple: the same stamp, the same private bits.

    A flush compares stamps to learn whose ``you`` frame changed without
    building and encoding one per player.
    """
    state = room.story
    player = room.players.get(player_id)
    my_vote: str | None = None
    turn: tuple[object, ...] | None = None
    if state is not None and player is not None:
        if state.stage in ("voting", "results"):
            my_vote = state.votes.get(player.id)
        if state.stage == "writing":
            ts = state.stories.get(player.team_id)
            if ts is not None and ts.turn_player == player.id:
                paused = state.paused_remaining
                seconds_left = paused.get(ts.team_id) if paused is not None else None
                turn = (ts.team_id, ts.turn_deadline_at, paused is not None, seconds_left)
    return (my_vote, turn)


def player_private(room: Room, player_id: str) -> dict[str, object]:
    """The personal bits no shared view carries: the player's vote and turn."""
    my_vote, turn = private_stamp(room, player_id)
    your_turn: dict[str, object] | None = None
    if isinstance(turn, tuple):
        team_id, deadline_at, paused, seconds_left = turn
        your_turn = {
            "team_id": team_id,
            "deadline_at": deadline_at,
            "paused": paused,
            "seconds_left": seconds_left,
        }
    return {"my_vote": my_vote, "your_turn": your_turn}
