"""Circles that remember: a persistent group whose sessions (rooms) remember who met whom.

A circle ("Marketing, Milan office") is made by a facilitator, who keeps its
token. Rooms opened in it recognise returning members by a device token their
browser keeps (only its hash is stored), and each room is one session of the
circle: the circle keeps, per session, the coffee pairing groups and the team
rosters, as member ids, for its last ``keep`` sessions. Pairing in a room of a
circle then avoids the pairs of those sessions (``pair_history``, handed to
``pairing.pair`` as ``history``), and mixing teams avoids their team-mates
(``team_history``, for ``pairing.mix_teams``).

Plain data and pure functions, handed ``now``: the store keeps a circle as
parts (``meta``, ``m:<member>``, ``s:<room code>``, see ``server/circles.py``)
written by compare-and-set (an arrival in one step of its own: ``new_member``,
``returning``), and nothing here reads a clock or a store. Each
function that changes a circle returns the names of the parts it changed.

A session also keeps each member's name as it was in that room (``names``)
and, once its room has ended (finished or closed), the room's keepsake as the
circle keeps it (``keepsake.for_circle``: people as member ids, players who
are not members left out, at most ``KEEPSAKE_MAX_BYTES``), a part of its own
(``k:<room code>``) that lives and goes with its session. Its "new
colleagues" counts leave out the colleagues met in the circle's earlier
sessions (``known_before``).

What a member may see of themselves (``about``) and what the facilitator
exports (``export``) are built here; ``forget`` takes a member out of every
session and every kept keepsake, so nothing of them is left.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ErrorCode, LimitExceeded
from .rooms import NAME, NAME_MAX_CHARS, TextField, clean_name, clean_text

CIRCLE_NAME = TextField(
    "name", ErrorCode.EMPTY_NAME, ErrorCode.NAME_TOO_LONG, ErrorCode.INVALID_NAME
)
CIRCLE_NAME_MAX_CHARS = 80
DEFAULT_KEEP_SESSIONS = 10
DEFAULT_MAX_MEMBERS = 500
# A returning member under the name they had costs no write unless they were
# last seen this long ago (``last_seen`` is exact to within it).
SEEN_EVERY = 24 * 3600.0
# A full circle makes room for a new member by forgetting members in none of
# its kept sessions, not seen for this long.
DEFAULT_IDLE_DAYS = 30

# Shapes checked before any work (ids the server makes; tokens browsers make).
CIRCLE_ID = re.compile(r"[A-Za-z0-9_-]{16}")
TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")
MEMBER_ID = re.compile(r"c[1-9][0-9]{0,8}")

META = "meta"
MEMBER = "m:"
SESSION = "s:"
KEEPSAKE = "k:"  # k:<room code> -> the session's keepsake, once its room ended
DEVICE = "d:"  # d:<device hash> -> member id: the index an arrival looks members up by


def valid_id(value: object) -> bool:
    """Whether ``value`` has the shape of a circle id (16 URL-safe characters)."""
    return isinstance(value, str) and CIRCLE_ID.fullmatch(value) is not None


def valid_member_id(value: object) -> bool:
    """Whether ``value`` has the shape of a member id (``c`` and a number, as the store numbers them)."""
    return isinstance(value, str) and MEMBER_ID.fullmatch(value) is not None


def valid_token(value: object) -> bool:
    """Whether ``value`` has the shape of a facilitator or device token (22-64 URL-safe chars)."""
    return isinstance(value, str) and TOKEN.fullmatch(value) is not None


@dataclass(slots=True)
class CircleMeta:
    name: str
    token_hash: str  # sha256 of the facilitator token
    created_at: float
    used_at: float = 0.0
    room: str = ""  # the last room opened in the circle
    next_member: int = 1


@dataclass(slots=True)
class CircleMember:
    id: str
    name: str  # as they last joined
    device_hash: str  # sha256 of the device token their browser keeps
    first_seen: float
    last_seen: float


@dataclass(slots=True)
class CircleSession:
    """One room of the circle: its coffee groups (every rotation) and its teams, as member ids."""

    room: str
    started_at: float
    seq: int = 0  # the room's seq when recorded: an older record never replaces a newer one
    groups: list[list[str]] = field(default_factory=list)
    teams: list[list[str]] = field(default_factory=list)
    # Member id -> the name they had in this room (they may have another since).
    names: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Circle:
    id: str
    meta: CircleMeta
    members: dict[str, CircleMember] = field(default_factory=dict)
    sessions: dict[str, CircleSession] = field(default_factory=dict)  # by room code
    # Room code -> the session's keepsake (``keepsake.for_circle``); None: not
    # loaded (most readers leave them in the store: ``load(..., keepsakes=False)``).
    keepsakes: dict[str, dict[str, Any]] | None = None

    def ordered_sessions(self) -> list[CircleSession]:
        """Sessions oldest first."""
        return sorted(self.sessions.values(), key=lambda s: (s.started_at, s.room))

    def member_by_device(self, device_hash: str) -> CircleMember | None:
        for member in self.members.values():
            if member.device_hash == device_hash:
                return member
        return None


def clean_circle_name(name: object) -> str:
    return clean_text(name, field=CIRCLE_NAME, max_chars=CIRCLE_NAME_MAX_CHARS)


def new_circle(circle_id: str, name: object, token_hash: str, now: float) -> Circle:
    """A circle with no member and no session (refused: a bad name)."""
    meta = CircleMeta(clean_circle_name(name), token_hash, now, used_at=now)
    return Circle(circle_id, meta, keepsakes={})


def arrive(
    circle: Circle,
    device_hash: str,
    name: object,
    now: float,
    *,
    max_members: int = DEFAULT_MAX_MEMBERS,
) -> tuple[CircleMember, list[str]]:
    """The member of ``device_hash`` (a returning one, renamed if they chose a new name), or a new one.

    Returns the member and the parts changed. Refused: a bad name, and a new
    member in a circle of ``max_members`` (``circle_full``).
    """
    clean = clean_name(name, field=NAME, max_chars=NAME_MAX_CHARS)
    member = circle.member_by_device(device_hash)
    changed = [MEMBER + member.id] if member is not None else []
    if member is None:
        if len(circle.members) >= max_members:
            raise LimitExceeded(
                "this circle has no room for more members", code=ErrorCode.CIRCLE_FULL
            )
        member = CircleMember(f"c{circle.meta.next_member}", clean, device_hash, now, now)
        circle.meta.next_member += 1
        circle.members[member.id] = member
        changed = [META, MEMBER + member.id]
    member.name = clean
    member.last_seen = now
    return member, changed


def new_member(member_id: str, device_hash: str, name: object, now: float) -> CircleMember:
    """A new member (refused: a bad name); its id is the store's to choose (``member_id``)."""
    clean = clean_name(name, field=NAME, max_chars=NAME_MAX_CHARS)
    return CircleMember(member_id, clean, device_hash, now, now)


def returning(member: CircleMember, name: object, now: float) -> bool:
    """A member back under ``name`` (refused: a bad name); whether their part must be written.

    Not when the name is the one they had and they were seen less than
    ``SEEN_EVERY`` ago: joining again costs no write.
    """
    clean = clean_name(name, field=NAME, max_chars=NAME_MAX_CHARS)
    if clean == member.name and now - member.last_seen < SEEN_EVERY:
        return False
    member.name = clean
    member.last_seen = now
    return True


def evict_idle(circle: Circle, now: float, idle: float) -> list[str]:
    """Forget the members in none of the kept sessions and not seen for ``idle`` seconds.

    What a full circle does to make room for a new member: those members left
    no trace the circle still weighs. Returns the parts changed.
    """
    kept = {m for s in circle.sessions.values() for roster in (*s.groups, *s.teams) for m in roster}
    changed: list[str] = []
    for member in list(circle.members.values()):
        if member.id not in kept and now - member.last_seen >= idle:
            changed += forget(circle, member.id)
    return changed


def record_session(
    circle: Circle,
    room: str,
    *,
    started_at: float,
    seq: int,
    groups: Iterable[Sequence[str]],
    teams: Iterable[Sequence[str]],
    names: Mapping[str, str] | None = None,
    keepsake: dict[str, Any] | None = None,
    keep: int = DEFAULT_KEEP_SESSIONS,
) -> list[str]:
    """Keep what room ``room`` is now (groups and teams as member ids) as one of the last ``keep``.

    Member ids the circle does not know (a member who asked to be forgotten
    since) are left out, as are groups left with one person. A record older
    than the one kept (``seq``) changes nothing, and so does a session with
    no group or team of two left (it is not kept). The oldest sessions past
    ``keep`` are dropped, with their keepsakes. Returns the parts changed (a
    dropped session's too).

    ``names``: member id -> their name in the room, kept for the members the
    session holds. ``keepsake``: the room's, once it ended
    (``keepsake.for_circle``), kept with the session: without the people the
    circle does not know, and each member's count of new colleagues less
    those they met in the circle's earlier sessions. A record without one
    leaves the session's keepsake as it was.
    """
    known = circle.members

    def clean(rosters: Iterable[Sequence[str]]) -> list[list[str]]:
        kept = ([m for m in dict.fromkeys(r) if m in known] for r in rosters)
        return [r for r in kept if len(r) > 1]

    old = circle.sessions.get(room)
    if old is not None and old.seq >= seq:
        return []
    kept_groups, kept_teams = clean(groups), clean(teams)
    if not kept_groups and not kept_teams:
        return []  # nobody met anybody: an empty session would push out real history
    session = CircleSession(room, started_at, seq, kept_groups, kept_teams)
    changed = [SESSION + room]
    held = {m for roster in (*kept_groups, *kept_teams) for m in roster}
    if keepsake is not None:
        kept_keepsake = strip_keepsake(keepsake, lambda m: m in known)
        met_now = _met(session.groups + session.teams)
        before = known_before(circle, room, started_at)
        for row in kept_keepsake["colleagues"]:
            member = row["member"]
            row["met"] = max(
                0, row["met"] - len(met_now.get(member, set()) & before.get(member, set()))
            )
        if circle.keepsakes is None:
            circle.keepsakes = {}  # only this one is loaded: only its part is written
        circle.keepsakes[room] = kept_keepsake
        changed.append(KEEPSAKE + room)
        held |= keepsake_members(kept_keepsake)
    elif old is not None:
        held |= set(old.names)  # the session's keepsake (perhaps not loaded) may name them
    then = {**(old.names if old is not None else {}), **(names or {})}
    session.names = {m: then[m] for m in sorted(held) if m in known and m in then}
    circle.sessions[room] = session
    for dropped in circle.ordered_sessions()[: max(0, len(circle.sessions) - keep)]:
        del circle.sessions[dropped.room]
        if circle.keepsakes is not None:
            circle.keepsakes.pop(dropped.room, None)
        changed += [SESSION + dropped.room, KEEPSAKE + dropped.room]
    return changed


def _met(rosters: Iterable[Sequence[str]], only: str | None = None) -> dict[str, set[str]]:
    """Member id -> the others they share a roster with (only ``only``'s, when given)."""
    met: dict[str, set[str]] = {}
    for roster in rosters:
        if only is not None:
            if only in roster:
                met.setdefault(only, set()).update(m for m in roster if m != only)
            continue
        for m in roster:
            met.setdefault(m, set()).update(o for o in roster if o != m)
    return met


def known_before(
    circle: Circle, room: str, started_at: float, only: str | None = None
) -> dict[str, set[str]]:
    """Member id -> the members they met (a coffee group, a team) in the sessions before ``room``'s.

    Before: the circle's sessions that started earlier (``started_at``, then
    the room code), ``room``'s own left out. ``only``: that member's alone,
    which costs their rosters' sizes instead of every roster's square.
    """
    earlier = [
        s
        for s in circle.ordered_sessions()
        if s.room != room and (s.started_at, s.room) < (started_at, room)
    ]
    return _met((r for s in earlier for r in (*s.groups, *s.teams)), only)


def known_pairs(
    circle: Circle,
    room: str,
    started_at: float,
    members: Mapping[str, str],
    player: str | None = None,
) -> set[tuple[str, str]]:
    """The pairs of ``room``'s players who met in the circle's earlier sessions: ``keepsake.build``'s ``known_before``.

    ``members``: player id -> member id, for the room's players who are
    members. ``player``: only the pairs of that player (a player's keepsake
    counts theirs alone).
    """
    players_of: dict[str, list[str]] = {}
    for player_id, member_id in members.items():
        players_of.setdefault(member_id, []).append(player_id)
    only = members.get(player) if player is not None else None
    if player is not None and only is None:
        return set()
    pairs: set[tuple[str, str]] = set()
    for member_id, others in known_before(circle, room, started_at, only).items():
        for p in players_of.get(member_id, ()):
            for other in others:
                pairs.update((p, o) for o in players_of.get(other, ()))
    return pairs


# -- kept keepsakes ----------------------------------------------------------
# The shape ``keepsake.for_circle`` makes: people are {"member": id, "name": ...}
# in podium[].players, stories[].stories[].writers, whoswho[] and colleagues[].


def keepsake_members(kept: Mapping[str, Any]) -> set[str]:
    """The member ids a kept keepsake names."""
    found = {p["member"] for row in kept["podium"] for p in row["players"]}
    found |= {
        w["member"] for rnd in kept["stories"] for st in rnd["stories"] for w in st["writers"]
    }
    found |= {f["member"] for f in kept["whoswho"]}
    found |= {c["member"] for c in kept["colleagues"]}
    return found


def strip_keepsake(kept: Mapping[str, Any], keep: Callable[[str], bool]) -> dict[str, Any]:
    """A copy of a kept keepsake without the people ``keep`` refuses.

    Their place on their team's podium line and their row of colleagues met
    go (the team's score and others' counts stay: they name nobody); their
    name leaves the writers of a story (its lines stay: a line names no
    writer, so the team's story no longer tells which are theirs); and a
    "Who's who" fact they wrote goes whole (it is about them).
    """
    out = dict(kept)
    out["podium"] = [
        {**row, "players": [p for p in row["players"] if keep(p["member"])]}
        for row in kept["podium"]
    ]
    out["stories"] = [
        {
            **rnd,
            "stories": [
                {**st, "writers": [w for w in st["writers"] if keep(w["member"])]}
                for st in rnd["stories"]
            ],
        }
        for rnd in kept["stories"]
    ]
    out["whoswho"] = [f for f in kept["whoswho"] if keep(f["member"])]
    out["colleagues"] = [dict(c) for c in kept["colleagues"] if keep(c["member"])]
    return out


def _history(circle: Circle, room: str, members: Mapping[str, str], pick: str) -> list[list[str]]:
    players_of: dict[str, list[str]] = {}
    for player_id, member_id in members.items():
        players_of.setdefault(member_id, []).append(player_id)
    history: list[list[str]] = []
    for session in circle.ordered_sessions():
        if session.room == room:
            continue  # this room's own rotations are the room's to weigh
        for roster in getattr(session, pick):
            present = [p for m in roster for p in players_of.get(m, ())]
            if len(present) > 1:
                history.append(present)
    return history


def pair_history(circle: Circle, room: str, members: Mapping[str, str]) -> list[list[str]]:
    """The coffee groups of the circle's other sessions, as the ids of ``room``'s players.

    ``members``: player id -> member id, for the players of ``room`` who are
    circle members. For ``pairing.pair``'s ``history``.
    """
    return _history(circle, room, members, "groups")


def team_history(circle: Circle, room: str, members: Mapping[str, str]) -> list[list[str]]:
    """The team rosters of the circle's other sessions, as player ids (``pairing.mix_teams``)."""
    return _history(circle, room, members, "teams")


def forget(circle: Circle, member_id: str) -> list[str]:
    """Take a member out of the circle: their record, every group and team they were in,
    their name in each session and their lines in each kept keepsake (``strip_keepsake``).

    The circle's keepsakes must be loaded (``ValueError`` otherwise: they
    would keep the member). Returns the parts changed (their own part and
    their device's index entry are among them: gone).
    """
    if circle.keepsakes is None:
        raise ValueError("load the circle's keepsakes to forget a member")
    member = circle.members.pop(member_id, None)
    if member is None:
        return []
    changed = [MEMBER + member_id, DEVICE + member.device_hash]
    for session in circle.sessions.values():
        groups = [[m for m in g if m != member_id] for g in session.groups]
        teams = [[m for m in t if m != member_id] for t in session.teams]
        if groups != session.groups or teams != session.teams or member_id in session.names:
            session.groups = [g for g in groups if len(g) > 1]
            session.teams = [t for t in teams if len(t) > 1]
            session.names.pop(member_id, None)
            changed.append(SESSION + session.room)
    for room, kept in list(circle.keepsakes.items()):
        if member_id in keepsake_members(kept):
            circle.keepsakes[room] = strip_keepsake(kept, lambda m: m != member_id)
            changed.append(KEEPSAKE + room)
    return changed


def _in_keepsake(kept: Mapping[str, Any], member_id: str) -> dict[str, Any] | None:
    """One member's lines of a kept keepsake, or None when it has none."""
    mine: dict[str, Any] = {}
    for row in kept["podium"]:
        for p in row["players"]:
            if p["member"] == member_id:
                mine["podium"] = {
                    "rank": row["rank"],
                    "team": row["team"],
                    "score": row["score"],
                    "points": p["points"],
                }
    stories = [
        {"round": rnd["round"], "team": st["team"]}
        for rnd in kept["stories"]
        for st in rnd["stories"]
        if any(w["member"] == member_id for w in st["writers"])
    ]
    if stories:
        mine["stories"] = stories
    facts = [
        {k: f[k] for k in ("round", "prompt", "answer", "line")}
        for f in kept["whoswho"]
        if f["member"] == member_id
    ]
    if facts:
        mine["whoswho"] = facts
    for row in kept["colleagues"]:
        if row["member"] == member_id:
            mine["met"] = row["met"]
    return mine or None


def about(circle: Circle, member_id: str) -> dict[str, Any]:
    """What the circle remembers about one member, as they may read it.

    Each session with the names people had in it, and, when its keepsake is
    kept (and loaded), the member's lines of it (``keepsake``).
    """
    member = circle.members[member_id]
    current = {m.id: m.name for m in circle.members.values()}
    sessions = []
    for session in circle.ordered_sessions():
        names = {**current, **session.names}
        met = sorted(
            {names[m] for g in session.groups if member_id in g for m in g if m != member_id}
        )
        mates = sorted(
            {names[m] for t in session.teams if member_id in t for m in t if m != member_id}
        )
        kept = (circle.keepsakes or {}).get(session.room)
        mine = _in_keepsake(kept, member_id) if kept is not None else None
        if met or mates or mine:
            entry: dict[str, Any] = {
                "room": session.room,
                "started_at": session.started_at,
                "name": names[member_id],
                "met": met,
                "team_mates": mates,
            }
            if mine:
                entry["keepsake"] = mine
            sessions.append(entry)
    return {
        "circle": {"id": circle.id, "name": circle.meta.name},
        "member": {
            "id": member.id,
            "name": member.name,
            "first_seen": member.first_seen,
            "last_seen": member.last_seen,
        },
        "sessions": sessions,
    }


def export(circle: Circle) -> dict[str, Any]:
    """Everything the circle keeps, for its facilitator (no token or token hash)."""
    return {
        "id": circle.id,
        "name": circle.meta.name,
        "created_at": circle.meta.created_at,
        "used_at": circle.meta.used_at,
        "members": [
            {"id": m.id, "name": m.name, "first_seen": m.first_seen, "last_seen": m.last_seen}
            for m in circle.members.values()
        ],
        "sessions": [
            {
                "room": s.room,
                "started_at": s.started_at,
                "groups": s.groups,
                "teams": s.teams,
                "names": s.names,
                "keepsake": (circle.keepsakes or {}).get(s.room),
            }
            for s in circle.ordered_sessions()
        ],
    }
