"""Values of views kept from one build to the next, so what did not change is the same object.

Views are rebuilt for every flush and then diffed against the last one a
client got (``patches.diff``), which skips a value by identity at once but
must compare, and encode to be exact, a value that is only equal. ``Kept``
hands back last time's list or row when the new one holds the same things,
so unchanged parts of a view cost a lookup. Views are never changed once
built, so sharing them is safe.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any

from .changes import Changes


class Kept:
    """Lists and rows handed out last time, by what they are for (a few per team and audience)."""

    def __init__(self) -> None:
        self._lists: dict[tuple[Any, ...], list[Any]] = {}
        self._rows: dict[tuple[Any, ...], dict[str, Any]] = {}

    def same_list(self, key: tuple[Any, ...], items: list[Any]) -> list[Any]:
        """``items``, or the list kept under ``key`` if it holds the very same items.

        A list rebuilt from kept rows is equal to the last one but a new
        object; handing back the old one lets the patch diff skip it by
        identity instead of encoding both to compare (2,000 entries per
        roster, per flush, in a big room).
        """
        old = self._lists.get(key)
        if old is not None and len(old) == len(items) and all(map(operator.is_, old, items)):
            return old
        self._lists[key] = items
        return items

    def same_row(self, key: tuple[Any, ...], row: dict[str, Any]) -> dict[str, Any]:
        """``row``, or the dict kept under ``key`` if it says the same, key for key.

        Values must be the same objects or equal with the same type (``1``,
        ``1.0`` and ``True`` are equal in Python, not in JSON); nested
        containers compare with ``==``, so rows should hold kept lists and
        rows, or scalars.
        """
        old = self._rows.get(key)
        if old is not None and len(old) == len(row) and list(old) == list(row):
            for name, value in row.items():
                was = old[name]
                if was is not value and (type(was) is not type(value) or was != value):
                    break
            else:
                return old
        self._rows[key] = row
        return row

    def forget_kept(self) -> None:
        self._lists.clear()
        self._rows.clear()


class Heard:
    """When parts of a room last changed, by seq, as the commits' records told (``Changes``).

    Fed with every committed change of the room in order (``heard``), it
    answers whether a value built at one seq can still stand at a later one
    because nothing it shows has changed since (``story_since``): the flush
    then hands back the kept value without building it again. A change not
    heard (a gap in the seqs, a whole-room change, a room newer than the
    last change heard) counts as a change of everything at its seq.
    """

    __slots__ = ("everything", "others", "players", "seq", "stories")

    def __init__(self) -> None:
        self.seq = -1  # the last seq heard, in order
        self.everything = -1  # the last seq at which anything may have changed
        self.players = -1  # the last seq at which a player changed (a name, presence...)
        # The last seq at which a part other than a team's story or lines changed.
        self.others = -1
        self.stories: dict[str, int] = {}  # team id -> the last seq its story or a line changed

    def heard(self, seq: int, changes: Changes | None) -> None:
        """The change committed as ``seq`` (None: not known, as if everything changed)."""
        if seq <= self.seq:
            return  # heard already (a process's own change, then its echo)
        if changes is None or changes.is_whole or seq != self.seq + 1:
            self.everything = seq
        else:
            if changes.players:
                self.players = seq
            if _beyond_stories(changes):
                self.others = seq
            for team_id in changes.stories:
                self.stories[team_id] = seq
            for team_id, _ in changes.lines:
                self.stories[team_id] = seq
        self.seq = seq

    def caught_up(self, seq: int) -> None:
        """Views are built at ``seq``: changes up to it that were not heard changed everything."""
        if seq > self.seq:
            self.everything = self.seq = seq

    def players_since(self, built: int) -> bool:
        """Whether any player changed (or anything may have) after ``built``."""
        return max(self.everything, self.players) > built

    def beyond_stories_since(self, built: int) -> bool:
        """Whether anything but teams' stories and lines (and ``meta``, in every change) changed after ``built``."""
        return max(self.everything, self.others) > built

    def story_since(self, team_id: str, built: int) -> bool:
        """Whether a team's story (its part, its lines) or any player changed after ``built``."""
        return max(self.everything, self.players, self.stories.get(team_id, -1)) > built


# The parts a change may record besides teams' stories and lines: every field
# of ``Changes`` but these, so a part added to it later counts by default
# (once ``parts.changes_of`` reads it from a notice's part names).
_STORY_FIELDS = {"stories", "lines", "whole", "recorded", "moments_from"}
_OTHER_PARTS = tuple(f.name for f in dataclasses.fields(Changes) if f.name not in _STORY_FIELDS)


def _beyond_stories(changes: Changes) -> bool:
    """Whether a change recorded a part but teams' stories and lines (``meta`` is in every change)."""
    return any(getattr(changes, name) for name in _OTHER_PARTS)
