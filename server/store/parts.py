"""A room as separately stored parts, so a commit writes what changed.

Part names (fields of the room's Redis hash, keys of the memory store's dict):

- ``meta``: everything small: the room's scalars, teams and scores, timers,
  the running riddle without its team attempts, the running story without
  its team stories and votes. Bounded by the room's limits (26 teams), not
  by its players; written by every commit. It starts with the parts'
  ``layout`` (``LAYOUT``).
- ``m:<slot>``: one moment, with its number (``Room.moments_added`` counts
  them), in slot ``number % KEPT_MOMENTS`` of a ring: a commit writes the
  moments it added, and a newer moment takes the slot of one trimmed from
  the list. ``meta`` says where the list starts (``moments_from``), so a
  slot left from before (the moments cleared for a fresh game) is never read.
- ``p:<player id>``: one player.
- ``a:<team id>``: one team's attempt at the running riddle, without its guesses.
- ``g:<team id>:<index>``: one guess of that attempt (a guess writes one small part,
  however many the team made before).
- ``s:<team id>``: one team's story in the running story round, without its lines.
- ``l:<team id>:<index>``: one line of that story (a line writes one small part,
  however long the story is).
- ``v:<player id>``: one player's vote in the running story round.
- ``results``, ``archive``: finished riddles' results, finished story rounds.
- ``pairings``: the session's coffee pairings, the running one and the past
  ones (``Room.pairings``): O(players) per rotation, written only when a
  pairing starts, is shuffled or ends. A room stored before it existed has
  none: ``join`` gives it the empty default.
- ``whoswho``: the running "Who's who" round without its players' answers
  (its stage, the questions drawn, at most ``WhosWhoRound.questions``, and
  the teams' choices at the current one); absent when none runs.
- ``w:<player id>``: one player's answers in that round (a player's answer
  writes this small part and ``whoswho``, which holds no answer and, while
  answers come in, no question either, however many others answered).

``split`` encodes a whole room; ``changed_parts`` encodes only the parts a
``Changes`` record names (and says which of them are gone); ``join`` rebuilds
a room from all its parts; ``apply`` brings a decoded room up to date with
the parts of one change (what other processes do with a published change).
Dict order is part of a room's meaning (rosters list players in join order),
so ``join`` restores it: players by join order, attempts and stories by team,
moments by number. ``join`` also reads rooms stored in an older layout
(``is_old_layout``: their next commit writes them whole); ``apply`` takes
changes in the current layout only (``decode_notice`` refuses others: the
room is read again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

import msgspec
import orjson

from ..game import rooms
from ..game.changes import Changes
from ..game.models import (
    KEPT_MOMENTS,
    Guess,
    Moment,
    Pairings,
    Player,
    RiddleResult,
    RiddleState,
    Room,
    StoryLine,
    StoryState,
    TeamAttempt,
    TeamStory,
    WhosWhoEntry,
    WhosWhoState,
)

META = "meta"
RESULTS = "results"
ARCHIVE = "archive"
PAIRINGS = "pairings"
PLAYER = "p:"
ATTEMPT = "a:"
STORY = "s:"
VOTE = "v:"
GUESS = "g:"
MOMENT = "m:"
LINE = "l:"
WHOSWHO = "whoswho"
ENTRY = "w:"
# The layout of the parts, first in ``meta``: 1 (no number) kept the moments
# in ``meta`` and the lines in their story's part; 2 kept the lines there
# still; 3 keeps both in parts of their own, moments in a ring of MAX_MOMENTS
# slots; 4 in a ring of KEPT_MOMENTS (the list grows to twice as long); 5
# adds ``lines_edited`` to a story's part (a process of layout 4 would drop it,
# and a hidden line would stay in the views other processes keep); 6 adds
# the "Who's who" round's parts (``whoswho``, ``w:``) and its phase.
LAYOUT = 6
_LAYOUT_MARK = b'{"layout":%d,' % LAYOUT
# Where the list of moments starts (the ordinal of ``room.moments[0]``), in
# ``meta``: moments before it are not the room's, whatever slot still holds them.
MOMENTS_FROM = "moments_from"

_ROOM_FIELDS = tuple(f.name for f in fields(Room))
_META_FIELDS = tuple(
    name
    for name in _ROOM_FIELDS
    if name not in ("players", "riddle_results", "story_archive", "moments", "pairings", "whoswho")
)
_WHOSWHO_FIELDS = tuple(f.name for f in fields(WhosWhoState) if f.name != "entries")
_RIDDLE_FIELDS = tuple(f.name for f in fields(RiddleState) if f.name != "teams")
_ATTEMPT_FIELDS = tuple(f.name for f in fields(TeamAttempt) if f.name != "guesses")
_STORY_FIELDS = tuple(f.name for f in fields(StoryState) if f.name not in ("stories", "votes"))
_TEAM_STORY_FIELDS = tuple(f.name for f in fields(TeamStory) if f.name != "lines")

Parts = dict[str, bytes]


def _dumps(value: Any) -> bytes:
    """A part's JSON, in an object of its own size.

    Parts live as long as their room. orjson's result keeps the buffer it grew
    while encoding (4 KiB for a 100-byte player): copied, a room of 2,000
    idle players holds 8 MB less.
    """
    return bytes(memoryview(orjson.dumps(value)))


def _meta(room: Room) -> bytes:
    body: dict[str, Any] = {"layout": LAYOUT, MOMENTS_FROM: _moments_from(room)}
    body.update((name, getattr(room, name)) for name in _META_FIELDS)
    if room.riddle is not None:
        body["riddle"] = {name: getattr(room.riddle, name) for name in _RIDDLE_FIELDS}
    if room.story is not None:
        body["story"] = {name: getattr(room.story, name) for name in _STORY_FIELDS}
    return _dumps(body)


def _moments_from(room: Room) -> int:
    """The ordinal of ``room.moments[0]`` (see ``Room.moments_added``)."""
    return room.moments_added - len(room.moments)


def _moment_parts(room: Room, first: int) -> Parts:
    """The moments numbered ``first`` and after, each in its ring slot, with its number."""
    start = _moments_from(room)
    return {
        f"{MOMENT}{n % KEPT_MOMENTS}": _dumps([n, room.moments[n - start]])
        for n in range(max(first, start), room.moments_added)
    }


def _attempt(attempt: TeamAttempt) -> bytes:
    return _dumps({name: getattr(attempt, name) for name in _ATTEMPT_FIELDS})


def _story(story: TeamStory) -> bytes:
    return _dumps({name: getattr(story, name) for name in _TEAM_STORY_FIELDS})


def _whoswho(state: WhosWhoState) -> bytes:
    return _dumps({name: getattr(state, name) for name in _WHOSWHO_FIELDS})


def split(room: Room) -> Parts:
    """Every part of ``room``, encoded."""
    parts: Parts = {META: _meta(room), **_moment_parts(room, 0)}
    for player_id, player in room.players.items():
        parts[PLAYER + player_id] = _dumps(player)
    if room.riddle is not None:
        for team_id, attempt in room.riddle.teams.items():
            parts[ATTEMPT + team_id] = _attempt(attempt)
            for index, guess in enumerate(attempt.guesses):
                parts[f"{GUESS}{team_id}:{index}"] = _dumps(guess)
    if room.story is not None:
        for team_id, story in room.story.stories.items():
            parts[STORY + team_id] = _story(story)
            for index, line in enumerate(story.lines):
                parts[f"{LINE}{team_id}:{index}"] = _dumps(line)
        for voter, team_id in room.story.votes.items():
            parts[VOTE + voter] = _dumps(team_id)
    parts[RESULTS] = _dumps(room.riddle_results)
    parts[ARCHIVE] = _dumps(room.story_archive)
    parts[PAIRINGS] = _dumps(room.pairings)
    if room.whoswho is not None:
        parts[WHOSWHO] = _whoswho(room.whoswho)
        for player_id, entry in room.whoswho.entries.items():
            parts[ENTRY + player_id] = _dumps(entry)
    return parts


def changed_parts(room: Room, changes: Changes) -> tuple[Parts, list[str]]:
    """The parts ``changes`` names, encoded, and the names of those that no longer exist."""
    # The moments the commit added; a moment trimmed from the list needs no
    # "gone": its slot is taken by a newer one, or ``moments_from`` passes it.
    written: Parts = {META: _meta(room), **_moment_parts(room, changes.moments_from)}
    gone: list[str] = []

    def put(name: str, value: Any) -> None:
        if value is None:
            gone.append(name)
        else:
            written[name] = _dumps(value)

    for player_id in changes.players:
        put(PLAYER + player_id, room.players.get(player_id))
    attempts = room.riddle.teams if room.riddle is not None else {}
    for team_id in changes.attempts:
        attempt = attempts.get(team_id)
        if attempt is None:
            gone.append(ATTEMPT + team_id)
        else:
            written[ATTEMPT + team_id] = _attempt(attempt)
    for team_id, index in changes.guesses:
        guesses = attempts[team_id].guesses if team_id in attempts else []
        put(f"{GUESS}{team_id}:{index}", guesses[index] if index < len(guesses) else None)
    stories = room.story.stories if room.story is not None else {}
    for team_id in changes.stories:
        story = stories.get(team_id)
        if story is None:
            gone.append(STORY + team_id)
        else:
            written[STORY + team_id] = _story(story)
    for team_id, index in changes.lines:
        lines = stories[team_id].lines if team_id in stories else []
        put(f"{LINE}{team_id}:{index}", lines[index] if index < len(lines) else None)
    votes = room.story.votes if room.story is not None else {}
    for voter in changes.votes:
        put(VOTE + voter, votes.get(voter))
    if changes.results:
        put(RESULTS, room.riddle_results)
    if changes.archive:
        put(ARCHIVE, room.story_archive)
    if changes.pairings:
        put(PAIRINGS, room.pairings)
    if changes.whoswho:
        if room.whoswho is None:
            gone.append(WHOSWHO)
        else:
            written[WHOSWHO] = _whoswho(room.whoswho)
    entries = room.whoswho.entries if room.whoswho is not None else {}
    for player_id in changes.entries:
        put(ENTRY + player_id, entries.get(player_id))
    return written, gone


def is_old_layout(stored: Mapping[str, bytes]) -> bool:
    """Whether a room was stored in an older layout of its parts (``LAYOUT``).

    ``join`` reads such a room; its next commit must write it whole, since a
    commit of what changed would leave behind what only the old parts hold
    (layout 1: the moments, in ``meta``; layouts 1 and 2: the lines, in
    their story's part).
    """
    return not stored[META].startswith(_LAYOUT_MARK)


def _indexed(name: str, prefix: str) -> tuple[str, int]:
    """The team id and index of a part named ``<prefix><team id>:<index>`` (a guess, a line)."""
    team_id, _, position = name[len(prefix) :].rpartition(":")
    return team_id, int(position)


def _put_at(items: list[Any], index: int, item: Any) -> None:
    """``item`` at ``index``: replaced, or appended (parts apply in index order)."""
    if index < len(items):
        items[index] = item
    else:
        items.append(item)


def _loads(data: bytes) -> Any:
    return orjson.loads(data)


def _join_order(player: Mapping[str, Any]) -> tuple[float, int, str]:
    pid = str(player["id"])
    digits = pid[1:]
    return (float(player["joined_at"]), int(digits) if digits.isdigit() else 0, pid)


def join(parts: Mapping[str, bytes]) -> Room:
    """The room whose parts these are (all of them, as ``split`` made them)."""
    body: dict[str, Any] = _loads(parts[META])
    body.pop("layout", None)
    players: list[dict[str, Any]] = []
    attempts: dict[str, Any] = {}
    guesses: dict[str, dict[int, Any]] = {}
    stories: dict[str, Any] = {}
    lines: dict[str, dict[int, Any]] = {}
    votes: dict[str, Any] = {}
    entries: dict[str, Any] = {}
    moments: dict[int, Any] = {}
    for name, data in parts.items():
        if name.startswith(MOMENT):
            number, moment = _loads(data)
            moments[number] = moment
        elif name.startswith(PLAYER):
            players.append(_loads(data))
        elif name.startswith(ATTEMPT):
            attempts[name[len(ATTEMPT) :]] = _loads(data)
        elif name.startswith(GUESS):
            team_id, index = _indexed(name, GUESS)
            guesses.setdefault(team_id, {})[index] = _loads(data)
        elif name.startswith(STORY):
            stories[name[len(STORY) :]] = _loads(data)
        elif name.startswith(LINE):
            team_id, index = _indexed(name, LINE)
            lines.setdefault(team_id, {})[index] = _loads(data)
        elif name.startswith(VOTE):
            votes[name[len(VOTE) :]] = _loads(data)
        elif name.startswith(ENTRY):
            entries[name[len(ENTRY) :]] = _loads(data)
    players.sort(key=_join_order)
    body["players"] = {p["id"]: p for p in players}
    first = body.pop(MOMENTS_FROM, None)
    if first is None:  # stored before moments were parts: the list is in meta
        body.setdefault("moments_added", len(body.get("moments", [])))
    else:
        body["moments"] = [moments[n] for n in range(first, body["moments_added"]) if n in moments]
    team_order = [team["id"] for team in body.get("teams", [])]
    for team_id, attempt in attempts.items():
        found = guesses.get(team_id, {})
        attempt["guesses"] = [found[i] for i in sorted(found)]
    if body.get("riddle") is not None:
        body["riddle"]["teams"] = _in_team_order(attempts, team_order)
    for team_id, story in stories.items():
        if "lines" not in story:  # else stored before lines were parts: they are in it
            found = lines.get(team_id, {})
            story["lines"] = [found[i] for i in sorted(found)]
        if "lines_edited" not in story:
            # Stored before layout 5 counted the host's hides: a hidden line
            # counts as one, so the views know the host reads what the team
            # does not (``story_views._entry_shape``).
            story["lines_edited"] = sum(1 for line in story["lines"] if line.get("hidden"))
    if body.get("story") is not None:
        body["story"]["stories"] = _in_team_order(stories, team_order)
        body["story"]["votes"] = votes
    body["riddle_results"] = _loads(parts[RESULTS]) if RESULTS in parts else []
    body["story_archive"] = _loads(parts[ARCHIVE]) if ARCHIVE in parts else []
    body["pairings"] = _loads(parts[PAIRINGS]) if PAIRINGS in parts else {}
    if WHOSWHO in parts:
        # Answers in the order the players joined, as the room holds them.
        rank = {pid: i for i, pid in enumerate(body["players"])}
        ordered = sorted(entries.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))
        body["whoswho"] = {**_loads(parts[WHOSWHO]), "entries": dict(ordered)}
    return msgspec.convert(body, type=Room)


def _in_team_order(by_team: dict[str, Any], team_order: list[str]) -> dict[str, Any]:
    rank = {team_id: i for i, team_id in enumerate(team_order)}
    return dict(sorted(by_team.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


def _ordering(player: Player) -> dict[str, Any]:
    return {"id": player.id, "joined_at": player.joined_at}


def _last(room: Room) -> list[Player]:
    """The most recently added player (dicts keep insertion order), if any."""
    return [next(reversed(room.players.values()))] if room.players else []


def _lists_last(item: tuple[str, bytes]) -> tuple[int, str, int]:
    """Apply order: an attempt before its guesses, a story before its lines, each by index."""
    name = item[0]
    for prefix in (GUESS, LINE):
        if name.startswith(prefix):
            team_id, index = _indexed(name, prefix)
            return (1, prefix + team_id, index)
    return (0, name, 0)


def apply(room: Room, written: Mapping[str, bytes], gone: Iterable[str]) -> None:
    """Bring ``room`` (decoded, one version behind) up to date with one change, in place."""
    attempts = room.riddle.teams if room.riddle is not None else {}
    stories = room.story.stories if room.story is not None else {}
    votes = room.story.votes if room.story is not None else {}
    entries = room.whoswho.entries if room.whoswho is not None else {}
    # The moments known so far, by number, before meta says where the list starts now.
    moments = dict(enumerate(room.moments, start=_moments_from(room)))
    moments_start = _moments_from(room)
    meta = written.get(META)
    if meta is not None:
        body: dict[str, Any] = _loads(meta)
        riddle, story = body.pop("riddle", None), body.pop("story", None)
        del body["layout"]  # the current one (decode_notice refuses others)
        moments_start = body.pop(MOMENTS_FROM)
        fresh = msgspec.convert({**body, "riddle": None, "story": None, "players": {}}, type=Room)
        for name in _META_FIELDS:
            if name not in ("riddle", "story"):
                setattr(room, name, getattr(fresh, name))
        room.riddle = (
            None if riddle is None else msgspec.convert({**riddle, "teams": {}}, type=RiddleState)
        )
        room.story = (
            None
            if story is None
            else msgspec.convert({**story, "stories": {}, "votes": {}}, type=StoryState)
        )
        if room.riddle is not None:
            room.riddle.teams = attempts
        if room.story is not None:
            room.story.stories = stories
            room.story.votes = votes
    for name, data in written.items():
        if name.startswith(MOMENT):
            number, moment = msgspec.json.decode(data, type=tuple[int, Moment])
            moments[number] = moment
    room.moments = [moments[n] for n in range(moments_start, room.moments_added) if n in moments]
    # Guesses and lines go only from the end (undoing those of a lost commit,
    # in any order): each list is cut at its first item that is gone.
    cut: dict[tuple[str, str], int] = {}
    for name in gone:
        for prefix in (GUESS, LINE):
            if name.startswith(prefix):
                team_id, index = _indexed(name, prefix)
                key = (prefix, team_id)
                cut[key] = min(index, cut.get(key, index))
    for (prefix, team_id), first in cut.items():
        if prefix == GUESS and team_id in attempts:
            del attempts[team_id].guesses[first:]
        elif prefix == LINE and team_id in stories:
            del stories[team_id].lines[first:]
    for name in gone:
        if name.startswith(PLAYER):
            rooms.player_replaced(room, room.players.pop(name[len(PLAYER) :], None), None)
        elif name.startswith(ATTEMPT):
            attempts.pop(name[len(ATTEMPT) :], None)
        elif name.startswith(STORY):
            stories.pop(name[len(STORY) :], None)
        elif name.startswith(VOTE):
            votes.pop(name[len(VOTE) :], None)
        elif name.startswith(ENTRY):
            entries.pop(name[len(ENTRY) :], None)
        elif name == WHOSWHO:
            room.whoswho = None
            entries = {}
    # Rosters list players in join order: a player put back (undoing a leave)
    # goes back to their place, not to the end.
    reorder = False
    last_joined = max((_join_order(_ordering(p)) for p in _last(room)), default=(0.0, 0, ""))
    for name, data in sorted(written.items(), key=_lists_last):
        if name.startswith(LINE):
            team_id, index = _indexed(name, LINE)
            _put_at(stories[team_id].lines, index, msgspec.json.decode(data, type=StoryLine))
        elif name.startswith(GUESS):
            team_id, index = _indexed(name, GUESS)
            _put_at(attempts[team_id].guesses, index, msgspec.json.decode(data, type=Guess))
        elif name.startswith(PLAYER):
            player = msgspec.json.decode(data, type=Player)
            old = room.players.get(player.id)
            rooms.player_replaced(room, old, player)
            room.players[player.id] = player
            if old is None and len(room.players) > 1:
                reorder = reorder or _join_order(_ordering(player)) < last_joined
                last_joined = max(last_joined, _join_order(_ordering(player)))
        elif name.startswith(ATTEMPT):
            team_id = name[len(ATTEMPT) :]
            attempt = msgspec.json.decode(data, type=TeamAttempt)
            known = attempts.get(team_id)
            attempt.guesses = known.guesses if known is not None else []
            attempts[team_id] = attempt
        elif name.startswith(STORY):
            team_id = name[len(STORY) :]
            team_story = msgspec.json.decode(data, type=TeamStory)
            known_story = stories.get(team_id)
            team_story.lines = known_story.lines if known_story is not None else []
            stories[team_id] = team_story
        elif name.startswith(VOTE):
            votes[name[len(VOTE) :]] = msgspec.json.decode(data, type=str)
        elif name == RESULTS:
            room.riddle_results = msgspec.json.decode(data, type=list[RiddleResult])
        elif name == ARCHIVE:
            room.story_archive = msgspec.json.decode(data, type=list[StoryState])
        elif name == PAIRINGS:
            room.pairings = msgspec.json.decode(data, type=Pairings)
        elif name == WHOSWHO:
            state = msgspec.json.decode(data, type=WhosWhoState)
            state.entries = entries
            room.whoswho = state
        elif name.startswith(ENTRY):
            entries[name[len(ENTRY) :]] = msgspec.json.decode(data, type=WhosWhoEntry)
    if reorder:
        room.players = dict(
            sorted(room.players.items(), key=lambda item: _join_order(_ordering(item[1])))
        )


# -- change notices ----------------------------------------------------------
#
# What a commit publishes: the change itself, so that other processes bring
# their cached room up to date instead of reading it back. A header line of
# JSON, then one line per written part, in the header's order. orjson never
# writes a raw newline (it escapes them in strings), so lines frame safely.


class Notice(msgspec.Struct, frozen=True):
    """A published change: ``seq`` follows ``seq - 1``; ``whole`` means "read the room again"."""

    seq: int = 0
    whole: bool = False
    deleted: bool = False
    names: list[str] = []
    gone: list[str] = []


def encode_notice(seq: int, written: Mapping[str, bytes], gone: list[str], *, whole: bool) -> bytes:
    if whole:
        return orjson.dumps({"seq": seq, "whole": True})
    names = list(written)
    header = orjson.dumps({"seq": seq, "names": names, "gone": gone})
    return b"\n".join([header, *(written[name] for name in names)])


def changes_of(notice: Notice) -> Changes | None:
    """What a published change changed, as the rules recorded it; None for a whole-room change.

    The parts' names say it: the players, the team stories and lines, the
    votes... written or gone (moments and ``meta`` are in every change and
    need no record).
    """
    if notice.whole or notice.deleted:
        return None
    changes = Changes(recorded=True)
    for name in (*notice.names, *notice.gone):
        if name.startswith(PLAYER):
            changes.players.add(name[len(PLAYER) :])
        elif name.startswith(STORY):
            changes.stories.add(name[len(STORY) :])
        elif name.startswith(LINE):
            changes.lines.add(_indexed(name, LINE))
        elif name.startswith(VOTE):
            changes.votes.add(name[len(VOTE) :])
        elif name.startswith(ATTEMPT):
            changes.attempts.add(name[len(ATTEMPT) :])
        elif name.startswith(GUESS):
            changes.guesses.add(_indexed(name, GUESS))
        elif name.startswith(ENTRY):
            changes.entries.add(name[len(ENTRY) :])
        elif name == RESULTS:
            changes.results = True
        elif name == ARCHIVE:
            changes.archive = True
        elif name == PAIRINGS:
            changes.pairings = True
        elif name == WHOSWHO:
            changes.whoswho = True
    return changes


def decode_notice(data: bytes) -> tuple[Notice, Parts]:
    """The header and the written parts; raises ``ValueError`` on a malformed notice."""
    header, *bodies = data.split(b"\n")
    try:
        notice = msgspec.json.decode(header, type=Notice)
    except msgspec.DecodeError as exc:
        raise ValueError(f"malformed change notice: {exc}") from None
    if len(bodies) != len(notice.names):
        raise ValueError("malformed change notice: parts do not match their names")
    written = dict(zip(notice.names, bodies, strict=True))
    if META in written and not written[META].startswith(_LAYOUT_MARK):
        # A process of another version: its change is read from the store.
        raise ValueError("change notice in another layout of the parts")
    return notice, written
