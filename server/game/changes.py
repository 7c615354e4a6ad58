"""What one command changed in a room, recorded by the rules as they change it.

A room is stored in parts (see ``store/parts.py``): its small scalar part
(``meta``: phase, teams, scores, timers...), one part per moment, and one
part per player, per team attempt at the running riddle and per guess, per
team story and per line, per story vote, plus the riddle results, the
story archive and the session's coffee pairings. A command that changes one player
and one team's attempt should cost what those two parts cost to write, not
what the whole room costs, in a room of 20 as in a room of 2,000.

So the rules say which parts they changed, through the functions below:
``player(room, id)``, ``attempt(room, team)``, ``guess(room, team, index)``,
``story(room, team)``, ``line(room, team, index)``,
``vote(room, id)``, ``results(room)``, ``archive(room)``, ``pairings(room)``,
``whoswho(room)``, ``entry(room, id)``. Big changes (a
round starts, a pack is chosen, the game finishes) call ``everything(room)``.
``meta`` is always written. Moments need no call: ``Room.add_moment`` counts
them, and ``tracking`` notes the count when the command starts, so the
moments added since are the ones to write.

The record is safe by default: a command that records nothing at all is
taken to have changed everything, so a rule that has not been taught to
record costs a whole-room write, never a lost change. A rule that records
some parts must record all of them; the store's parts test replays random
games and checks that the parts written rebuild the room exactly.

Recording is a no-op outside ``tracking``: the rules stay plain functions of
(room, pack, now, arguments), usable in tests without any of this. The record
is kept beside the room (keyed by its identity) rather than in it, so that it
is never stored or compared with the room itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .models import Room


@dataclass(slots=True)
class Changes:
    """The parts of a room one command changed (``meta`` always counts as changed)."""

    whole: bool = False
    players: set[str] = field(default_factory=set)
    attempts: set[str] = field(default_factory=set)  # team ids, at the running riddle
    guesses: set[tuple[str, int]] = field(default_factory=set)  # (team id, index) of a guess
    stories: set[str] = field(default_factory=set)  # team ids, in the running story round
    lines: set[tuple[str, int]] = field(default_factory=set)  # (team id, index) of a line
    votes: set[str] = field(default_factory=set)  # voter player ids
    results: bool = False
    archive: bool = False
    pairings: bool = False  # the session's coffee pairings
    whoswho: bool = False  # the running "Who's who" round, without its players' answers
    entries: set[str] = field(default_factory=set)  # player ids: their "Who's who" answers
    recorded: bool = False  # anything at all was recorded (else: the whole room)
    # The first moment (by ``Room.moments_added``) the command may have added:
    # moments from it on are new. ``tracking`` sets it; 0 (every moment) is
    # always right, only dearer.
    moments_from: int = 0

    @property
    def is_whole(self) -> bool:
        return self.whole or not self.recorded

    def merge(self, other: Changes) -> None:
        """Add what another command changed (commands committed together)."""
        self.moments_from = (
            min(self.moments_from, other.moments_from) if self.recorded else other.moments_from
        )
        self.whole = self.whole or other.is_whole
        self.recorded = True
        self.players |= other.players
        self.attempts |= other.attempts
        self.guesses |= other.guesses
        self.stories |= other.stories
        self.lines |= other.lines
        self.votes |= other.votes
        self.results = self.results or other.results
        self.archive = self.archive or other.archive
        self.pairings = self.pairings or other.pairings
        self.whoswho = self.whoswho or other.whoswho
        self.entries |= other.entries


_active: dict[int, Changes] = {}


@contextmanager
def tracking(room: Room) -> Iterator[Changes]:
    """Record what the rules change in ``room`` until the block ends."""
    changes = Changes(moments_from=room.moments_added)
    _active[id(room)] = changes
    try:
        yield changes
    finally:
        del _active[id(room)]


def _record(room: Room) -> Changes:
    """The record of the command running on ``room`` (a throwaway one outside ``tracking``)."""
    changes = _active.get(id(room)) or Changes()
    changes.recorded = True
    return changes


def meta(room: Room) -> None:
    """Only the room's small scalar part changed (always written anyway)."""
    _record(room)


def player(room: Room, player_id: str) -> None:
    _record(room).players.add(player_id)


def attempt(room: Room, team_id: str) -> None:
    _record(room).attempts.add(team_id)


def guess(room: Room, team_id: str, index: int) -> None:
    """One guess of a team's attempt was added or changed (its attempt is recorded too)."""
    changes = _record(room)
    changes.attempts.add(team_id)
    changes.guesses.add((team_id, index))


def story(room: Room, team_id: str) -> None:
    _record(room).stories.add(team_id)


def line(room: Room, team_id: str, index: int) -> None:
    """One line of a team's story was added or changed (hidden or shown again)."""
    _record(room).lines.add((team_id, index))


def vote(room: Room, player_id: str) -> None:
    _record(room).votes.add(player_id)


def results(room: Room) -> None:
    _record(room).results = True


def archive(room: Room) -> None:
    _record(room).archive = True


def pairings(room: Room) -> None:
    """The session's coffee pairings changed (one started, was shuffled or ended)."""
    _record(room).pairings = True


def whoswho(room: Room) -> None:
    """The running "Who's who" round changed (its stage, questions or guesses)."""
    _record(room).whoswho = True


def entry(room: Room, player_id: str) -> None:
    """One player's "Who's who" answers changed (given, replaced, hidden by the host)."""
    _record(room).entries.add(player_id)


def everything(room: Room) -> None:
    """A change that reshapes the room: store it whole."""
    _record(room).whole = True
