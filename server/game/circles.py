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

What a member may see of themselves (``about``) and what the facilitator
exports (``export``) are built here; ``forget`` takes a member out of every
session, so nothing of them is left.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
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

META = "meta"
MEMBER = "m:"
SESSION = "s:"
DEVICE = "d:"  # d:<device hash> -> member id: the index an arrival looks members up by


def valid_id(value: object) -> bool:
    """Whether ``value`` has the shape of a circle id (16 URL-safe characters)."""
    return isinstance(value, str) and CIRCLE_ID.fullmatch(value) is not None


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


@dataclass(slots=True)
class Circle:
    id: str
    meta: CircleMeta
    members: dict[str, CircleMember] = field(default_factory=dict)
    sessions: dict[str, CircleSession] = field(default_factory=dict)  # by room code

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
    return Circle(circle_id, CircleMeta(clean_circle_name(name), token_hash, now, used_at=now))


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
    keep: int = DEFAULT_KEEP_SESSIONS,
) -> list[str]:
    """Keep what room ``room`` is now (groups and teams as member ids) as one of the last ``keep``.

    Member ids the circle does not know (a member who asked to be forgotten
    since) are left out, as are groups left with one person. A record older
    than the one kept (``seq``) changes nothing, and so does a session with
    no group or team of two left (it is not kept). The oldest sessions past
    ``keep`` are dropped. Returns the parts changed (a dropped session's too).
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
    circle.sessions[room] = CircleSession(room, started_at, seq, kept_groups, kept_teams)
    changed = [SESSION + room]
    for dropped in circle.ordered_sessions()[: max(0, len(circle.sessions) - keep)]:
        del circle.sessions[dropped.room]
        changed.append(SESSION + dropped.room)
    return changed


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
    """Take a member out of the circle: their record and every group and team they were in.

    Returns the parts changed (their own part and their device's index entry
    are among them: gone).
    """
    member = circle.members.pop(member_id, None)
    if member is None:
        return []
    changed = [MEMBER + member_id, DEVICE + member.device_hash]
    for session in circle.sessions.values():
        groups = [[m for m in g if m != member_id] for g in session.groups]
        teams = [[m for m in t if m != member_id] for t in session.teams]
        if groups != session.groups or teams != session.teams:
            session.groups = [g for g in groups if len(g) > 1]
            session.teams = [t for t in teams if len(t) > 1]
            changed.append(SESSION + session.room)
    return changed


def about(circle: Circle, member_id: str) -> dict[str, Any]:
    """What the circle remembers about one member, as they may read it."""
    member = circle.members[member_id]
    names = {m.id: m.name for m in circle.members.values()}
    sessions = []
    for session in circle.ordered_sessions():
        met = sorted(
            {names[m] for g in session.groups if member_id in g for m in g if m != member_id}
        )
        mates = sorted(
            {names[m] for t in session.teams if member_id in t for m in t if m != member_id}
        )
        if met or mates:
            sessions.append(
                {
                    "room": session.room,
                    "started_at": session.started_at,
                    "met": met,
                    "team_mates": mates,
                }
            )
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
            }
            for s in circle.ordered_sessions()
        ],
    }
