"""Kept rows and lists: the same object back only when nothing a client would see differs."""

from __future__ import annotations

from ritrovo.game.kept import Kept


def test_a_row_that_says_the_same_is_the_row_kept() -> None:
    kept = Kept()
    lines = [{"text": "one"}]
    first = kept.same_row(("t",), {"name": "Aurora", "score": 3, "lines": lines})
    again = kept.same_row(("t",), {"name": "Aurora", "score": 3, "lines": lines})
    assert again is first


def test_a_row_that_differs_in_json_is_new_even_when_python_calls_it_equal() -> None:
    kept = Kept()
    first = kept.same_row(("t",), {"done": False, "score": 1})
    for row in (
        {"done": 0, "score": 1},  # False == 0 in Python, not in JSON
        {"done": False, "score": 1.0},  # 1 == 1.0
        {"score": 1, "done": False},  # another key order
        {"done": False, "score": 2},
        {"done": False},
    ):
        assert kept.same_row(("t",), row) is row
        kept.same_row(("t",), first)  # back to the first for the next try
    assert kept.same_row(("u",), {"done": False, "score": 1}) is not first  # another key


def test_a_list_of_the_same_items_is_the_list_kept() -> None:
    kept = Kept()
    a, b = {"x": 1}, {"y": 2}
    first = kept.same_list(("l",), [a, b])
    assert kept.same_list(("l",), [a, b]) is first
    assert kept.same_list(("l",), [a, {"y": 2}]) is not first  # equal, not the same item
    kept.forget_kept()
    assert kept.same_list(("l",), [a, b]) is not first
