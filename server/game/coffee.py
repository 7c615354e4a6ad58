"""Coffee pairing in a room: the host's commands, the timer, and what each role sees.

``pairing.py`` draws the groups (pure, seeded, knows nothing of rooms); this
module applies it to a room. The host starts a rotation of the present
players (``start``), may draw it again with another seed (``shuffle``) and
ends it (``end``), or its timer does (``tick``, at ``next_deadline``: the
pairing's end is a stored deadline like a riddle's). A rotation that ends
joins ``room.pairings.past``, which the next one weighs so that no pair
repeats while a fresh pair is possible. Players say, while no round runs,
whether they are a newcomer or experienced (``set_mentoring_role``); the
host's ``mentoring`` option then prefers one of each in a pair.

A pairing runs only while no round does (lobby, between rounds, after the
game): the meeting tool's breakout rooms and a riddle do not mix. Starting a
round ends it. A player who leaves the room (or is removed) mid-rotation
leaves their group (``player_left``): a partner left alone joins another
group at once rather than wait for the next rotation. Like every rule, each command refuses before it changes
anything, and is deterministic: a seed the host does not give is derived
from the room and ``now``, so a retried command draws the same groups.

Views: a player's group is private (``player_view``, in their ``you``
frame, stamped by ``player_stamp``); everyone sees the summary
(``summary_view``: the timer, the prompt, how many groups); the host also
gets the whole assignment and the text to copy into the meeting tool's
breakout rooms (``assignment_view``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from ..errors import BadRequest, Conflict, ErrorCode, LimitExceeded
from . import changes, rooms
from .models import Room
from .pack import Pack
from .pairing import (
    MentorRole,
    Pairing,
    breakout_text,
    choose_prompt,
    regroup,
    session_groups,
    start_pairing,
)

# The phases a pairing may run in (no round running).
PAIRING_PHASES = ("lobby", "between_rounds", "finished")

# Conversation prompts for packs that bring none (``Pack.conversation_prompts``).
DEFAULT_PROMPTS: dict[str, tuple[str, ...]] = {
    "en": (
        "What is a place you would like to go back to, and why?",
        "What is something you learned this year that surprised you?",
        "What did you want to be when you were ten?",
        "What is a small thing that made your week better?",
        "Which skill would you love to learn if time were no object?",
        "What is the best piece of advice a colleague ever gave you?",
        "What does a perfect day off look like for you?",
        "What is a book, film or podcast you keep recommending?",
    ),
    "it": (
        "Un posto dove vorresti tornare, e perché?",
        "Qualcosa che hai imparato quest'anno e che ti ha sorpreso?",
        "Cosa volevi fare da grande quando avevi dieci anni?",
        "Una piccola cosa che ti ha migliorato la settimana?",
        "Quale abilità vorresti imparare se avessi tutto il tempo del mondo?",
        "Il consiglio migliore che ti ha mai dato un collega?",
        "Com'è per te un giorno libero perfetto?",
        "Un libro, un film o un podcast che continui a consigliare?",
    ),
}


def prompts_of(pack: Pack | None) -> tuple[str, ...]:
    """The pack's conversation prompts, or the built-in ones in its language (English otherwise)."""
    if pack is not None and pack.conversation_prompts:
        return pack.conversation_prompts
    language = pack.language if pack is not None else "en"
    return DEFAULT_PROMPTS.get(language, DEFAULT_PROMPTS["en"])


def _require_phase(room: Room) -> None:
    rooms.require_open(room)
    if room.phase not in PAIRING_PHASES:
        raise Conflict(
            "coffee pairing runs only while no round does", code=ErrorCode.ROUND_IN_PROGRESS
        )


def _require_running(room: Room) -> Pairing:
    rooms.require_open(room)
    current = room.pairings.current
    if current is None:
        raise Conflict("no coffee pairing is running", code=ErrorCode.NO_PAIRING)
    return current


def _draw(
    room: Room,
    *,
    seed: int,
    rotation: int,
    prompt_index: int,
    seconds: object,
    mentoring: bool,
    now: float,
    history: Sequence[Sequence[str]] = (),
) -> Pairing:
    present = [p for p in room.players.values() if rooms.is_present(p, now)]
    roles: dict[str, str] | None = None
    if mentoring:
        roles = {p.id: p.mentoring_role for p in present if p.mentoring_role is not None}
    return start_pairing(
        [p.id for p in present],
        history=[*session_groups(room.pairings.past), *history],
        teams={p.id: p.team_id for p in present},
        roles=roles,
        seed=seed,
        rotation=rotation,
        prompt_index=prompt_index,
        seconds=seconds,
        now=now,
    )


# Rotations a session may have: each one's groups stay in the room (the
# session's history, weighed by every later draw) for as long as it lives.
MAX_ROTATIONS = 50


def require_rotation_left(room: Room) -> None:
    """Refused (``too_many_rotations``): the session has had its ``MAX_ROTATIONS``."""
    if len(room.pairings.past) >= MAX_ROTATIONS:
        raise LimitExceeded(
            f"a session has at most {MAX_ROTATIONS} coffee pairings",
            code=ErrorCode.TOO_MANY_ROTATIONS,
        )


def start(
    room: Room,
    pack: Pack | None,
    seconds: object,
    now: float,
    *,
    mentoring: object = False,
    seed: object = None,
    history: Sequence[Sequence[str]] = (),
) -> Pairing:
    """Pair the present players for ``seconds`` (refused: ``too_few_players``, ``pairing_running``...).

    ``history``: groups met before this session (a circle's last sessions, as
    this room's player ids), weighed with the session's own rotations.
    """
    _require_phase(room)
    if room.pairings.current is not None:
        raise Conflict("a coffee pairing is already running", code=ErrorCode.PAIRING_RUNNING)
    require_rotation_left(room)
    if not isinstance(mentoring, bool):
        raise BadRequest("mentoring must be true or false", code=ErrorCode.INVALID_FIELD)
    chosen = rooms.check_seed(seed)
    if chosen is None:
        chosen = rooms.derived_seed(room, now)
    prompts = prompts_of(pack)
    used = {p.prompt_index for p in room.pairings.past}
    prompt_index = choose_prompt(len(prompts), used, chosen)
    pairing = _draw(
        room,
        seed=chosen,
        rotation=len(room.pairings.past) + 1,
        prompt_index=prompt_index,
        seconds=seconds,
        mentoring=mentoring,
        now=now,
        history=history,
    )
    changes.pairings(room)
    room.pairings.current = pairing
    room.pairings.prompt = prompts[prompt_index]
    room.pairings.mentoring = mentoring
    return pairing


def shuffle(
    room: Room, now: float, *, seed: object = None, history: Sequence[Sequence[str]] = ()
) -> Pairing:
    """Draw the running rotation again with another seed: same rules, prompt and length; the timer restarts."""
    current = _require_running(room)
    chosen = rooms.check_seed(seed)
    if chosen is None:
        chosen = rooms.derived_seed(room, now)
        if chosen == current.seed:
            chosen = rooms.derived_seed(room, now, 1)
    pairing = _draw(
        room,
        seed=chosen,
        rotation=current.rotation,
        prompt_index=current.prompt_index,
        seconds=current.seconds,
        mentoring=room.pairings.mentoring,
        now=now,
        history=history,
    )
    changes.pairings(room)
    room.pairings.current = pairing
    return pairing


def end(room: Room) -> None:
    """End the running rotation: its groups join the session's history."""
    current = _require_running(room)
    _close(room, current)


def _close(room: Room, current: Pairing) -> None:
    changes.pairings(room)
    room.pairings.past.append(current)
    room.pairings.current = None
    room.pairings.prompt = ""
    room.pairings.mentoring = False


def stop(room: Room) -> None:
    """End the running rotation if there is one (a round starts)."""
    current = room.pairings.current
    if current is not None:
        _close(room, current)


def tick(room: Room, now: float) -> bool:
    """End the running rotation when its time is up; True if it ended."""
    current = room.pairings.current
    if current is None or now < current.deadline_at:
        return False
    _close(room, current)
    return True


def player_left(room: Room, player_id: str) -> None:
    """A player left the room (or was removed) during a rotation: out of their group; a
    partner left alone joins another group (``pairing.regroup``). Call it once they are
    out of ``room.players``.

    The rotation becomes a new ``Pairing`` (same rotation, prompt and timer),
    never the same one changed: views index a pairing's groups once per
    pairing object (``group_index``, ``views.Rows``).
    """
    current = room.pairings.current
    if current is None or player_id not in group_index(current):
        return
    teams = {pid: p.team_id for pid, p in room.players.items()}
    groups = regroup(
        current.groups, player_id, history=session_groups(room.pairings.past), teams=teams
    )
    if groups is None:
        return
    changes.pairings(room)
    room.pairings.current = dataclasses.replace(current, groups=groups)


def next_deadline(room: Room) -> float | None:
    current = room.pairings.current
    return None if current is None else current.deadline_at


def set_mentoring_role(room: Room, player_id: str, role: object) -> None:
    """What a player says they are for mentoring pairs: "newcomer", "experienced" or None."""
    rooms.require_open(room)
    player = rooms.get_player(room, player_id)
    if role is not None and role not in ("newcomer", "experienced"):
        raise BadRequest(
            "role must be 'newcomer', 'experienced' or null", code=ErrorCode.INVALID_FIELD
        )
    if room.phase not in PAIRING_PHASES:
        raise Conflict(
            "the mentoring role is chosen while no round runs", code=ErrorCode.ROUND_IN_PROGRESS
        )
    mentor_role: MentorRole | None = role  # checked just above (mypy narrows it)
    changes.player(room, player.id)
    player.mentoring_role = mentor_role


# -- views -------------------------------------------------------------------

# A pairing's index of who is in which group, by the pairing object (kept
# alive beside its index, so its id stays its own). A pairing's groups never
# change once drawn (a shuffle draws a new one, a player who leaves makes a new
# one: ``player_left``), so the index stays right;
# each player's view then finds their group in O(1), not by a scan of the
# groups per player per flush.
_GROUP_INDEX: dict[int, tuple[Pairing, dict[str, int]]] = {}
_GROUP_INDEX_KEPT = 64


def group_index(pairing: Pairing) -> dict[str, int]:
    """Player id -> index of their group in ``pairing`` (built once per pairing object)."""
    found = _GROUP_INDEX.get(id(pairing))
    if found is not None and found[0] is pairing:
        return found[1]
    index = {pid: gi for gi, group in enumerate(pairing.groups) for pid in group}
    if len(_GROUP_INDEX) >= _GROUP_INDEX_KEPT:
        _GROUP_INDEX.clear()
    _GROUP_INDEX[id(pairing)] = (pairing, index)
    return index


Mate = tuple[str, str, str, str]  # id, name, team id, team name


def _own_group(room: Room, player_id: str) -> tuple[Pairing, int, list[Mate]] | None:
    """The running pairing, the player's group index and the others in it (O(group size))."""
    current = room.pairings.current
    if current is None:
        return None
    gi = group_index(current).get(player_id)
    if gi is None:
        return None
    mates: list[Mate] = []
    for pid in current.groups[gi]:
        mate = room.players.get(pid)
        if pid == player_id or mate is None:
            continue
        team = room.team(mate.team_id)
        mates.append((pid, mate.name, mate.team_id, team.name if team else ""))
    return current, gi, mates


def player_stamp(room: Room, player_id: str) -> tuple[object, ...] | None:
    """What ``player_view`` shows, as a tuple: None when the player is in no group."""
    found = _own_group(room, player_id)
    if found is None:
        return None
    current, gi, mates = found
    return (current.rotation, gi, current.started_at, current.seconds, room.pairings.prompt, *mates)


def player_view(room: Room, player_id: str) -> dict[str, Any] | None:
    """A player's own group: who they are with, the breakout room, the prompt, the timer."""
    found = _own_group(room, player_id)
    if found is None:
        return None
    current, gi, mates = found
    return {
        "rotation": current.rotation,
        "breakout": gi + 1,
        "with": [
            {"id": pid, "name": name, "team_id": team_id, "team_name": team_name}
            for pid, name, team_id, team_name in mates
        ],
        "prompt": room.pairings.prompt,
        "started_at": current.started_at,
        "seconds": current.seconds,
        "deadline_at": current.deadline_at,
    }


def summary_view(room: Room) -> dict[str, Any] | None:
    """What every view shows of the running pairing: not who is with whom, which is per player."""
    current = room.pairings.current
    if current is None:
        return None
    return {
        "rotation": current.rotation,
        "groups": sum(1 for g in current.groups if g),  # a player who left may empty one
        "players": sum(len(g) for g in current.groups),
        "prompt": room.pairings.prompt,
        "mentoring": room.pairings.mentoring,
        "started_at": current.started_at,
        "seconds": current.seconds,
        "deadline_at": current.deadline_at,
    }


def assignment_view(room: Room) -> dict[str, Any] | None:
    """The host's whole assignment: every group by breakout room, and the text to copy.

    O(players): built once per pairing by the views (``views.Rows``), not per flush.
    """
    current = room.pairings.current
    if current is None:
        return None
    names = {
        pid: (room.players[pid].name if pid in room.players else "?")
        for group in current.groups
        for pid in group
    }
    return {
        "groups": [
            {
                "breakout": number,
                "players": [{"id": pid, "name": names[pid]} for pid in group],
            }
            for number, group in enumerate(current.groups, start=1)
            if group  # emptied by a player who left: its number stays unused
        ],
        "text": {
            language: breakout_text(current.groups, names, language=language)
            for language in ("en", "it")
        },
    }
