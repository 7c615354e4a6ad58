"""Values of views kept from one build to the next, so what did not change is the same object.

Views are rebuilt for every flush and then diffed against the last one a
client got (``patches.diff``), which skips a value by identity at once but
must compare, and encode to be exact, a value that is only equal. ``Kept``
hands back last time's list or row when the new one holds the same things,
so unchanged parts of a view cost a lookup. Views are never changed once
built, so sharing them is safe.
"""

from __future__ import annotations

import operator
from typing import Any


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
