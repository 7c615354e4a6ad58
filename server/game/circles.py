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
are not members left out, their story lines masked, at most
``keepsake.CIRCLE_MAX_BYTES``), a part of its own (``k:<room code>``) that
lives and goes with its session. Its "new colleagues" counts leave out the
colleagues met in the circle's earlier sessions (``known_before``).

What a member may see of themselves (``about``: their lines too) and what
the facilitator exports (``export``, kept keepsakes with the session's
names, ``expand_keepsake``) are built here; ``forget`` takes a member out of
every session and every kept keepsake (their story lines masked), so
nothing of them is left.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ErrorCode
from .keepsake import CIRCLE_KEEPSAKE_VERSION, KnownBefore
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
    # Rooms whose keepsake was stored in an older shape (``load_keepsake``):
    # a write that loaded the keepsakes rewrites them (``rewrite_stale``).
    stale_keepsakes: set[str] = field(default_factory=set)

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
            changed += forget(circle, member.id)  # with the stale keepsakes (``rewrite_stale``)
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
        kept_keepsake = strip_keepsake(upgrade_keepsake(keepsake), lambda m: m in known)
        rows = kept_keepsake["colleagues"]
        before = known_before(circle, room, started_at, only=[row[0] for row in rows])
        if before.masks:
            today = _masks(session.groups + session.teams, before.bits)
            for row in rows:
                row[1] = max(
                    0, row[1] - (today.get(row[0], 0) & before.masks.get(row[0], 0)).bit_count()
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


def _masks(rosters: Iterable[Sequence[str]], bits: Mapping[str, int]) -> dict[str, int]:
    """Member id -> the mask (``bits``) of everyone in a roster with them, themselves included.

    Only the members ``bits`` holds; O(the rosters' sizes).
    """
    masks: dict[str, int] = {}
    for roster in rosters:
        mask = 0
        for m in roster:
            bit = bits.get(m)
            if bit is not None:
                mask |= 1 << bit
        if mask:
            for m in roster:
                if m in bits:
                    masks[m] = masks.get(m, 0) | mask
    return masks


def known_before(
    circle: Circle, room: str, started_at: float, only: Iterable[str] | None = None
) -> KnownBefore:
    """Who met whom (a coffee group, a team) in the circle's sessions before ``room``'s, by member id.

    Before: the circle's sessions that started earlier (``started_at``, then
    the room code), ``room``'s own left out. ``only``: these members alone
    (a room's); else everyone in those sessions. Bit masks: O(the earlier
    rosters' sizes), where sets of whom each met cost their squares.
    """
    earlier = [
        s
        for s in circle.ordered_sessions()
        if s.room != room and (s.started_at, s.room) < (started_at, room)
    ]
    rosters = [r for s in earlier for r in (*s.groups, *s.teams)]
    people = (
        dict.fromkeys(only) if only is not None else dict.fromkeys(m for r in rosters for m in r)
    )
    bits = {m: n for n, m in enumerate(people)}
    masks = _masks(rosters, bits)
    for m, mask in list(masks.items()):
        masks[m] = mask & ~(1 << bits[m])
    return KnownBefore(bits, {m: mask for m, mask in masks.items() if mask})


def for_players(known: KnownBefore, members: Mapping[str, str]) -> KnownBefore:
    """``known`` (by member id) as a room's players: ``members`` is player id -> member id."""
    bits: dict[str, int] = {}
    masks: dict[str, int] = {}
    for player_id, member_id in members.items():
        bit = known.bits.get(member_id)
        if bit is not None:
            bits[player_id] = bit
            mask = known.masks.get(member_id, 0)
            if mask:
                masks[player_id] = mask
    return KnownBefore(bits, masks)


# -- kept keepsakes ----------------------------------------------------------
# The shape ``keepsake.for_circle`` makes ("v": 2): people are member ids, in
# podium[].players ([member, points]), stories[].stories[].writers, the lines
# a story shows ({"text", "member"}; {"hidden": true} for a line hidden, a
# guest's or a forgotten member's), whoswho[].member and colleagues
# ([member, count]). Their names are the session's (``CircleSession.names``).


def upgrade_keepsake(kept: Mapping[str, Any]) -> dict[str, Any]:
    """A kept keepsake in the current shape (one stored in the first shape is converted).

    The first shape named people as ``{"member", "name"}`` and kept lines
    without their writer: those lines are masked, since nobody could be
    forgotten from them.
    """
    if kept.get("v") == CIRCLE_KEEPSAKE_VERSION:
        return dict(kept)
    return {
        **kept,
        "v": CIRCLE_KEEPSAKE_VERSION,
        "podium": [
            {**row, "players": [[p["member"], p["points"]] for p in row["players"]]}
            for row in kept["podium"]
        ],
        "stories": [
            {
                **rnd,
                "stories": [
                    {
                        **st,
                        "writers": [w["member"] for w in st["writers"]],
                        "lines": [{"hidden": True} for _ in st["lines"]],
                    }
                    for st in rnd["stories"]
                ],
            }
            for rnd in kept["stories"]
        ],
        "whoswho": [{k: v for k, v in f.items() if k != "author"} for f in kept["whoswho"]],
        "colleagues": [[c["member"], c["met"]] for c in kept["colleagues"]],
    }


def load_keepsake(circle: Circle, room: str, stored: Mapping[str, Any]) -> None:
    """Put room ``room``'s keepsake as stored into the circle, in the current shape
    (``upgrade_keepsake``); one in an older shape is marked stale (``rewrite_stale``)."""
    if circle.keepsakes is None:
        circle.keepsakes = {}
    circle.keepsakes[room] = upgrade_keepsake(stored)
    if stored.get("v") != CIRCLE_KEEPSAKE_VERSION:
        circle.stale_keepsakes.add(room)


def rewrite_stale(circle: Circle) -> list[str]:
    """The keepsake parts stored in an older shape, to write again in the current one.

    A write that loaded the keepsakes (forgetting, evicting) adds them to its
    own: what the older shape kept of a line (its text, with no writer to
    forget it by) is then gone from the store too, not only from what is read.
    """
    stale = sorted(r for r in circle.stale_keepsakes if r in (circle.keepsakes or {}))
    circle.stale_keepsakes.clear()
    return [KEEPSAKE + r for r in stale]


def keepsake_members(kept: Mapping[str, Any]) -> set[str]:
    """The member ids a kept keepsake names."""
    found = {p[0] for row in kept["podium"] for p in row["players"]}
    for rnd in kept["stories"]:
        for st in rnd["stories"]:
            found.update(st["writers"])
            found.update(ln["member"] for ln in st["lines"] if "member" in ln)
    found |= {f["member"] for f in kept["whoswho"]}
    found |= {c[0] for c in kept["colleagues"]}
    return found


def strip_keepsake(kept: Mapping[str, Any], keep: Callable[[str], bool]) -> dict[str, Any]:
    """A copy of a kept keepsake without the people ``keep`` refuses.

    Their place on their team's podium line and their row of colleagues met
    go (the team's score and others' counts stay: they name nobody); they
    leave a story's writers and their lines are masked as hidden ones (the
    story keeps its length and the others' lines); and a "Who's who" fact
    they wrote goes whole (it is about them).
    """
    out = dict(kept)
    out["podium"] = [
        {**row, "players": [list(p) for p in row["players"] if keep(p[0])]}
        for row in kept["podium"]
    ]
    out["stories"] = [
        {
            **rnd,
            "stories": [
                {
                    **st,
                    "writers": [w for w in st["writers"] if keep(w)],
                    "lines": [
                        dict(ln) if "member" not in ln or keep(ln["member"]) else {"hidden": True}
                        for ln in st["lines"]
                    ],
                }
                for st in rnd["stories"]
            ],
        }
        for rnd in kept["stories"]
    ]
    out["whoswho"] = [dict(f) for f in kept["whoswho"] if keep(f["member"])]
    out["colleagues"] = [list(c) for c in kept["colleagues"] if keep(c[0])]
    return out


def expand_keepsake(kept: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """A kept keepsake as people read it: each person ``{"member", "name"}`` (``names``:
    member id -> name), as ``keepsake.build``'s host body shows them.

    Podium players ``{"member", "name", "points"}``, writers ``{"member",
    "name"}``, a fact's ``author``, colleagues ``{"member", "name", "team", "met"}``.
    """

    def person(m: str) -> dict[str, str]:
        return {"member": m, "name": names.get(m, "")}

    team_of = {p[0]: row["team"] for row in kept["podium"] for p in row["players"]}
    out = {k: v for k, v in kept.items() if k != "v"}
    out["podium"] = [
        {**row, "players": [{**person(p[0]), "points": p[1]} for p in row["players"]]}
        for row in kept["podium"]
    ]
    out["stories"] = [
        {
            **rnd,
            "stories": [
                {**st, "writers": [person(w) for w in st["writers"]]} for st in rnd["stories"]
            ],
        }
        for rnd in kept["stories"]
    ]
    out["whoswho"] = [{**f, "author": names.get(f["member"], "")} for f in kept["whoswho"]]
    out["colleagues"] = [
        {**person(c[0]), "team": team_of.get(c[0], ""), "met": c[1]} for c in kept["colleagues"]
    ]
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
    their name in each session and their part of each kept keepsake
    (``strip_keepsake``: their story lines masked, their facts, rows and places gone).

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
    return changed + rewrite_stale(circle)


def _in_keepsake(kept: Mapping[str, Any], member_id: str) -> dict[str, Any] | None:
    """One member's lines of a kept keepsake (their story lines too), or None when it has none."""
    mine: dict[str, Any] = {}
    for row in kept["podium"]:
        for p in row["players"]:
            if p[0] == member_id:
                mine["podium"] = {
                    "rank": row["rank"],
                    "team": row["team"],
                    "score": row["score"],
                    "points": p[1],
                }
    stories = []
    for rnd in kept["stories"]:
        for st in rnd["stories"]:
            lines = [ln["text"] for ln in st["lines"] if ln.get("member") == member_id]
            if lines or member_id in st["writers"]:
                stories.append({"round": rnd["round"], "team": st["team"], "lines": lines})
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
        if row[0] == member_id:
            mine["met"] = row[1]
    return mine or None


def about(circle: Circle, member_id: str) -> dict[str, Any]:
    """What the circle remembers about one member, as they may read it.

    Each session with the names people had in it, and, when its keepsake is
    kept (and loaded), the member's part of it (``keepsake``: their place on
    the podium, the stories they wrote with their lines, their facts, their count).
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
                "keepsake": _expanded(circle, s),
            }
            for s in circle.ordered_sessions()
        ],
    }


def _expanded(circle: Circle, session: CircleSession) -> dict[str, Any] | None:
    kept = (circle.keepsakes or {}).get(session.room)
    if kept is None:
        return None
    current = {m.id: m.name for m in circle.members.values()}
    return expand_keepsake(kept, {**current, **session.names})
