"""Lobby rules: creating rooms, joining, presence, teams and host powers.

Every function takes the room (a fresh copy loaded by the caller), changes it
in place, and raises a ``RitrovoError`` subclass without changing anything
when the action is not allowed. None of them reads the clock or does I/O.
"""

from __future__ import annotations

import unicodedata
import weakref
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import BadRequest, Conflict, ErrorCode, LimitExceeded, NotFound
from . import changes, names, pairing
from .models import DEFAULT_MAX_PLAYERS, Player, Room, Team

NAME_MAX_CHARS = 32
TEAM_NAME_MAX_CHARS = 32
ROOM_NAME_MAX_CHARS = 80
MAX_TEAMS = 26
DEFAULT_TEAM_NAMES = ("Aurora", "Bora")
ZWJ = "\u200d"
ZWNJ = "\u200c"
# A name may be typed with spaces and invisible characters that its display
# form drops, but not with more than this many times its maximum length.
RAW_NAME_FACTOR = 8
PRESENCE_GRACE_SECONDS = 5.0  # a dropped player shows as away only after this


class TextField(NamedTuple):
    """A short user text, named as error messages name it, with its three refusal codes."""

    name: str
    empty: ErrorCode
    too_long: ErrorCode
    invalid: ErrorCode


NAME = TextField("name", ErrorCode.EMPTY_NAME, ErrorCode.NAME_TOO_LONG, ErrorCode.INVALID_NAME)
TEAM_NAME = TextField(
    "team_name",
    ErrorCode.EMPTY_TEAM_NAME,
    ErrorCode.TEAM_NAME_TOO_LONG,
    ErrorCode.INVALID_TEAM_NAME,
)
ROOM_NAME = TextField(
    "room_name",
    ErrorCode.EMPTY_ROOM_NAME,
    ErrorCode.ROOM_NAME_TOO_LONG,
    ErrorCode.INVALID_ROOM_NAME,
)
GUESS = TextField("guess", ErrorCode.EMPTY_GUESS, ErrorCode.GUESS_TOO_LONG, ErrorCode.INVALID_GUESS)
LINE = TextField("line", ErrorCode.EMPTY_LINE, ErrorCode.LINE_TOO_LONG, ErrorCode.INVALID_LINE)


def clean_text(
    text: object, *, field: TextField, max_chars: int, joiners: tuple[str, ...] = (ZWJ,)
) -> str:
    """Trim and NFC-normalise a short user text; refuse empty, over-long or control characters."""
    if not isinstance(text, str):
        raise BadRequest(f"{field.name} must be a string", code=ErrorCode.INVALID_FIELD)
    value = unicodedata.normalize("NFC", text).strip()
    if not value:
        raise BadRequest(f"{field.name} must not be empty", code=field.empty)
    if len(value) > max_chars:
        raise BadRequest(
            f"{field.name} is too long ({len(value)} characters, at most {max_chars})",
            code=field.too_long,
        )
    # Cc: control characters; Cs: lone surrogates; Co/Cn: private/unassigned;
    # Zl/Zp: line breaks; Cf: invisible format characters (zero-width spaces,
    # direction overrides that reverse what follows on the screen), except the
    # zero-width joiner that emoji sequences need (and, in names, the
    # non-joiner that names.display_form keeps only where it shapes letters).
    # A printable text has none of them (str.isprintable refuses all those
    # categories, and separators other than the space): the character by
    # character look is for the rest (no-break spaces, joiners).
    if not value.isprintable() and any(
        unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp", "Cf") and ch not in joiners
        for ch in value
    ):
        raise BadRequest(f"{field.name} contains control characters", code=field.invalid)
    # Stripped and printable ASCII, it starts with a letter, digit, mark or symbol.
    visible = value.isascii() and value.isprintable()
    if not visible and not any(unicodedata.category(ch)[0] in "LNPS" for ch in value):
        raise BadRequest(f"{field.name} has nothing visible in it", code=field.empty)
    return " ".join(value.split())


def clean_name(text: object, *, field: TextField, max_chars: int) -> str:
    """A player's or a team's name in its display form (see ``names``), or refused.

    Refused as ``clean_text`` refuses, and, with the field's invalid code, a
    name typed only of characters that show nothing (zero-width and format
    characters, combining marks, blanks such as U+2800 or the Hangul fillers).
    """
    if not isinstance(text, str):
        raise BadRequest(f"{field.name} must be a string", code=ErrorCode.INVALID_FIELD)
    if len(text) > RAW_NAME_FACTOR * max_chars:  # before display_form reads it char by char
        raise BadRequest(
            f"{field.name} is too long ({len(text)} characters, at most {max_chars})",
            code=field.too_long,
        )
    shown = names.display_form(text)
    if text.strip() and not names.has_visible(shown):
        raise BadRequest(f"{field.name} has nothing visible in it", code=field.invalid)
    return clean_text(shown, field=field, max_chars=max_chars, joiners=(ZWJ, ZWNJ))


def new_room(
    code: str,
    name: str,
    host_token_hash: str,
    now: float,
    *,
    team_names: tuple[str, ...] = DEFAULT_TEAM_NAMES,
    max_players: int = DEFAULT_MAX_PLAYERS,
) -> Room:
    room = Room(
        code=code,
        name=clean_text(name, field=ROOM_NAME, max_chars=ROOM_NAME_MAX_CHARS),
        host_token_hash=host_token_hash,
        created_at=now,
        max_players=max_players,
    )
    for team_name in team_names:
        create_team(room, team_name)
    return room


def is_unused(room: Room) -> bool:
    """Nothing was ever committed in the room since it was created.

    The store keeps such a room only for the short unused-room TTL; its first
    change gives it the full one.
    """
    return room.seq == 0


def require_open(room: Room) -> None:
    if room.phase == "closed":
        raise Conflict("this room is closed", code=ErrorCode.ROOM_CLOSED)


@dataclass(slots=True)
class _Index:
    """Lookups over a room's players that joins and rejoins need, without a scan."""

    size: int  # len(room.players) when last in step: a different length means rebuild
    names: dict[str, str] = field(default_factory=dict)  # names.comparison_key -> player id
    tokens: dict[str, str] = field(default_factory=dict)  # token hash -> player id
    teams: Counter[str] = field(default_factory=Counter)  # team id -> players


# Derived from the room, so never stored with it: built on first use, kept in
# step by the rules that add, remove or move players (and by ``parts.apply``
# for changes made elsewhere), and rebuilt whenever its size is off.
# Rooms compare by value (they are dataclasses), so they are keyed by identity,
# and an index goes away with its room.
_indexes: dict[int, tuple[weakref.ref[Room], _Index]] = {}


def _cached_index(room: Room) -> _Index | None:
    found = _indexes.get(id(room))
    return found[1] if found is not None and found[0]() is room else None


def _index(room: Room) -> _Index:
    index = _cached_index(room)
    if index is None or index.size != len(room.players):
        index = _Index(size=0)
        for player in room.players.values():
            _add_to_index(index, player)
        key = id(room)
        _indexes[key] = (weakref.ref(room, lambda _: _indexes.pop(key, None)), index)
    return index


def _add_to_index(index: _Index, player: Player) -> None:
    index.size += 1
    # setdefault: two players of a room stored before names were compared by
    # their comparison keys may share one; the first keeps it.
    index.names.setdefault(names.comparison_key(player.name), player.id)
    index.tokens[player.token_hash] = player.id
    index.teams[player.team_id] += 1


def _remove_from_index(index: _Index, player: Player) -> None:
    index.size -= 1
    key = names.comparison_key(player.name)
    if index.names.get(key) == player.id:
        del index.names[key]
    index.tokens.pop(player.token_hash, None)
    index.teams[player.team_id] -= 1


def player_replaced(room: Room, old: Player | None, new: Player | None) -> None:
    """Keep the index in step when a player is added, replaced or removed from outside the rules."""
    index = _cached_index(room)
    if index is None:
        return
    if old is not None:
        _remove_from_index(index, old)
    if new is not None:
        _add_to_index(index, new)


def team_size(room: Room, team_id: str) -> int:
    return _index(room).teams[team_id]


def smallest_team(room: Room) -> Team:
    if not room.teams:
        raise Conflict("the room has no teams", code=ErrorCode.NO_TEAMS)
    teams = _index(room).teams
    # min() keeps the first of equal sizes, so teams fill in their listed order.
    return min(room.teams, key=lambda t: teams[t.id])


def join(room: Room, *, name: object, team_id: str | None, token_hash: str, now: float) -> Player:
    """Add a new player; ``team_id`` None means the smallest team."""
    require_open(room)
    clean = clean_name(name, field=NAME, max_chars=NAME_MAX_CHARS)
    if room.locked:
        raise Conflict("the host has locked this room", code=ErrorCode.ROOM_LOCKED)
    if len(room.players) >= room.max_players:
        raise LimitExceeded("this room is full", code=ErrorCode.ROOM_FULL)
    if team_id is None:
        team = smallest_team(room)
    else:
        found = room.team(team_id)
        if found is None:
            raise NotFound("no such team", code=ErrorCode.TEAM_NOT_FOUND)
        team = found
    index = _index(room)
    if names.comparison_key(clean) in index.names:
        raise Conflict("that name is already taken in this room", code=ErrorCode.NAME_TAKEN)
    player = Player(
        id=room.new_id("p"), name=clean, team_id=team.id, token_hash=token_hash, joined_at=now
    )
    room.players[player.id] = player
    _add_to_index(index, player)
    changes.player(room, player.id)
    room.add_moment("player_joined", now, player_id=player.id, team_id=team.id, text=clean)
    return player


def player_by_token(room: Room, token_hash: str) -> Player:
    if token_hash in room.kicked_token_hashes:
        raise Conflict("you were removed from this room by the host", code=ErrorCode.KICKED)
    player_id = _index(room).tokens.get(token_hash)
    player = room.players.get(player_id) if player_id is not None else None
    if player is None or player.token_hash != token_hash:
        raise NotFound("unknown resume token", code=ErrorCode.UNKNOWN_TOKEN)
    return player


def player_by_name(room: Room, name: str) -> Player | None:
    """The player whose name is ``name`` as names are compared (``names.comparison_key``)."""
    player_id = _index(room).names.get(names.comparison_key(name))
    return room.players.get(player_id) if player_id is not None else None


def get_player(room: Room, player_id: object) -> Player:
    player = room.players.get(player_id) if isinstance(player_id, str) else None
    if player is None:
        raise NotFound("no such player", code=ErrorCode.PLAYER_NOT_FOUND)
    return player


def get_team(room: Room, team_id: object) -> Team:
    team = room.team(team_id) if isinstance(team_id, str) else None
    if team is None:
        raise NotFound("no such team", code=ErrorCode.TEAM_NOT_FOUND)
    return team


def connect(room: Room, player: Player, now: float, process: str = "") -> None:
    """Count one more live connection of ``player``, held by server ``process``."""
    player.connections += 1
    room.grace_ends.pop(player.id, None)
    changes.player(room, player.id)
    if process:
        player.links[process] = player.links.get(process, 0) + 1


def disconnect(room: Room, player_id: str, now: float, process: str = "") -> None:
    changes.meta(room)
    player = room.players.get(player_id)
    if player is None:  # kicked or left meanwhile
        return
    if process:
        if process not in player.links:
            # That process's connections were already dropped (it was taken
            # for dead): this late goodbye must not count a second time.
            return
        player.links[process] -= 1
        if player.links[process] <= 0:
            del player.links[process]
    player.connections = max(0, player.connections - 1)
    if player.connections == 0:
        player.last_seen = now
        room.grace_ends[player.id] = now + PRESENCE_GRACE_SECONDS
    changes.player(room, player.id)


def drop_process(room: Room, process: str, now: float) -> bool:
    """Forget every connection a dead server process held; True if any player changed."""
    changes.meta(room)
    changed = False
    for player in room.players.values():
        lost = player.links.pop(process, 0)
        if lost:
            changed = True
            changes.player(room, player.id)
            player.connections = max(0, player.connections - lost)
            if player.connections == 0:
                player.last_seen = now
                room.grace_ends[player.id] = now + PRESENCE_GRACE_SECONDS
    return changed


def restore_process(room: Room, process: str, live: Mapping[str, int], now: float) -> bool:
    """Count again the live connections of a process taken for dead while it was frozen.

    ``live`` is the process's own count of each player's open connections
    in this room (it is the authority on its sockets). True if any changed.
    """
    changes.meta(room)
    changed = False
    for player_id, count in live.items():
        player = room.players.get(player_id)
        held = player.links.get(process, 0) if player is not None else count
        if player is None or count <= 0 or held == count:
            continue
        player.links[process] = count
        player.connections = max(0, player.connections - held) + count
        room.grace_ends.pop(player.id, None)
        changes.player(room, player.id)
        changed = True
    return changed


def is_present(player: Player, now: float) -> bool:
    """Connected, or dropped so recently that a refresh is the likely cause."""
    return player.connections > 0 or now - player.last_seen < PRESENCE_GRACE_SECONDS


def presence_deadline(room: Room, now: float) -> float | None:
    """When the next dropped player's grace ends, so views can show them away."""
    ends = [end for end in room.grace_ends.values() if end > now]
    return min(ends) if ends else None


def forget_ended_graces(room: Room, now: float) -> None:
    """Drop the grace periods that are over (the deadline that showed them has fired)."""
    for player_id, end in list(room.grace_ends.items()):
        if end <= now:
            del room.grace_ends[player_id]


def leave(room: Room, player_id: str, now: float) -> None:
    player = get_player(room, player_id)
    index = _index(room)
    del room.players[player.id]
    _remove_from_index(index, player)
    room.grace_ends.pop(player.id, None)
    changes.player(room, player.id)
    room.add_moment("player_left", now, player_id=player.id, text=player.name)


# Host powers. The caller has already checked the host token.


def create_team(room: Room, name: object) -> Team:
    changes.meta(room)
    require_open(room)
    clean = clean_name(name, field=TEAM_NAME, max_chars=TEAM_NAME_MAX_CHARS)
    if len(room.teams) >= MAX_TEAMS:
        raise LimitExceeded(f"at most {MAX_TEAMS} teams", code=ErrorCode.TOO_MANY_TEAMS)
    key = names.comparison_key(clean)
    if any(names.comparison_key(t.name) == key for t in room.teams):
        raise Conflict("a team with that name exists", code=ErrorCode.TEAM_NAME_TAKEN)
    team = Team(id=room.new_id("t"), name=clean)
    room.teams.append(team)
    return team


def rename_team(room: Room, team_id: object, name: object) -> Team:
    changes.meta(room)
    require_open(room)
    team = get_team(room, team_id)
    clean = clean_name(name, field=TEAM_NAME, max_chars=TEAM_NAME_MAX_CHARS)
    key = names.comparison_key(clean)
    if any(names.comparison_key(t.name) == key and t.id != team.id for t in room.teams):
        raise Conflict("a team with that name exists", code=ErrorCode.TEAM_NAME_TAKEN)
    team.name = clean
    return team


def delete_team(room: Room, team_id: object) -> None:
    """Delete a team; its players move to the smallest remaining team."""
    changes.everything(room)
    require_open(room)
    team = get_team(room, team_id)
    if len(room.teams) == 1:
        raise Conflict("a room needs at least one team", code=ErrorCode.LAST_TEAM)
    if room.phase in ("riddle", "story"):
        raise Conflict("teams cannot be deleted during a round", code=ErrorCode.ROUND_IN_PROGRESS)
    room.teams.remove(team)
    teams = _index(room).teams
    for player in room.team_players(team.id):
        player.team_id = smallest_team(room).id
        teams[team.id] -= 1
        teams[player.team_id] += 1


def move_player(room: Room, player_id: object, team_id: object) -> Player:
    require_open(room)
    player = get_player(room, player_id)
    team = get_team(room, team_id)
    teams = _index(room).teams
    teams[player.team_id] -= 1
    teams[team.id] += 1
    player.team_id = team.id
    changes.player(room, player.id)
    return player


def kick(room: Room, player_id: object, now: float) -> Player:
    require_open(room)
    player = get_player(room, player_id)
    index = _index(room)
    del room.players[player.id]
    _remove_from_index(index, player)
    room.grace_ends.pop(player.id, None)
    changes.player(room, player.id)
    room.kicked_token_hashes.append(player.token_hash)
    room.add_moment("player_kicked", now, player_id=player.id, text=player.name)
    return player


def set_member(room: Room, player_id: str, member: str) -> bool:
    """Record which circle member a player is (``game/circles.py``); False if nothing changed."""
    player = room.players.get(player_id)
    if player is None or player.member == member:
        return False
    player.member = member
    changes.player(room, player.id)
    return True


def derived_seed(room: Room, now: float, salt: object = 0) -> int:
    """A seed for a random draw: the same on a retried command, another for the next one."""
    return zlib.crc32(f"{room.code}:{room.seq}:{now!r}:{salt}".encode())


def check_seed(seed: object) -> int | None:
    """A host's seed (None: none given), refused unless a whole number from 0 to 2^63 - 1."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise BadRequest(
            "seed must be a whole number from 0 to 2^63 - 1", code=ErrorCode.INVALID_FIELD
        )
    return seed


def mix_teams(
    room: Room, history: Iterable[Iterable[str]], now: float, seed: object = None
) -> dict[str, str]:
    """The host's "mix teams" in the lobby: deal every player into the room's teams afresh.

    ``history``: rosters of past teams (a circle's last sessions, as this
    room's player ids), whose team-mates ``pairing.mix_teams`` keeps apart
    where it can. Sizes differ by at most one. Refused: after the game
    started (``game_in_progress``), a seed that is not a whole number from 0
    to 2^63 - 1 (``invalid_field``). Returns player id -> team id.
    """
    require_open(room)
    if room.phase != "lobby":
        raise Conflict("teams can be mixed only in the lobby", code=ErrorCode.GAME_IN_PROGRESS)
    seed = check_seed(seed)
    if seed is None:
        seed = derived_seed(room, now, "mix")
    if not room.players:
        return {}
    assignment = pairing.mix_teams(
        list(room.players), [t.id for t in room.teams], history=history, seed=seed
    )
    teams = _index(room).teams
    for player_id, team_id in assignment.items():
        player = room.players[player_id]
        if player.team_id != team_id:
            teams[player.team_id] -= 1
            teams[team_id] += 1
            player.team_id = team_id
            changes.player(room, player.id)
    return assignment


def set_locked(room: Room, locked: object) -> None:
    changes.meta(room)
    require_open(room)
    if not isinstance(locked, bool):
        raise BadRequest("locked must be true or false", code=ErrorCode.INVALID_FIELD)
    room.locked = locked


def close(room: Room, now: float) -> None:
    changes.everything(room)
    require_open(room)
    room.phase = "closed"
    room.riddle = None
    room.story = None
    room.add_moment("room_closed", now)
