"""Patches as plain Python: diff and apply over random JSON values."""

from __future__ import annotations

import copy
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ritrovo.game.models import KEPT_MOMENTS, MAX_MOMENTS, Room
from ritrovo.game.patches import PatchError, apply, diff
from ritrovo.game.views import Rows

# JSON as the views hold it: 64-bit integers (what orjson encodes), finite
# floats, short keys so that dicts share keys often.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
)
keys = st.sampled_from(["a", "b", "c", "d", "id", "teams", "0", ""]) | st.text(max_size=3)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=30,
)


def encoded(value: Any) -> bytes:
    return orjson.dumps(value)


def nudge(value: Any, data: st.DataObject) -> Any:
    """A copy of ``value`` with a few random changes: close values, as views change."""
    if isinstance(value, dict):
        out = {k: nudge(v, data) if data.draw(st.booleans()) else v for k, v in value.items()}
        if data.draw(st.booleans()):
            out[data.draw(keys)] = data.draw(json_values)
        if data.draw(st.booleans()) and out:
            del out[data.draw(st.sampled_from(sorted(out)))]
        return out
    if isinstance(value, list):
        out_list = [nudge(v, data) if data.draw(st.booleans()) else v for v in value]
        action = data.draw(st.sampled_from(["keep", "append", "shrink"]))
        if action == "append":
            out_list.extend(data.draw(st.lists(json_values, max_size=3)))
        elif action == "shrink" and out_list:
            del out_list[data.draw(st.integers(0, len(out_list) - 1)) :]
        return out_list
    return data.draw(json_values) if data.draw(st.booleans()) else value


@settings(max_examples=400, deadline=None)
@given(json_values, json_values)
def test_apply_of_diff_gives_the_new_value(a: Any, b: Any) -> None:
    before = copy.deepcopy(a)
    ops = diff(a, b)
    result = apply(a, ops)
    assert result == b
    assert encoded(result) == encoded(b)  # exactly: types and key order too
    assert encoded(a) == encoded(before)  # diff and apply changed nothing
    assert encoded(orjson.loads(encoded(ops))) == encoded(ops)  # ops are JSON


@settings(max_examples=400, deadline=None)
@given(json_values, st.data())
def test_apply_of_diff_between_close_values(a: Any, data: st.DataObject) -> None:
    b = nudge(a, data)
    before = copy.deepcopy(a)
    ops = diff(a, b)
    # What goes over the wire is the encoded patch.
    result = apply(a, orjson.loads(encoded(ops)))
    assert encoded(result) == encoded(b)
    assert encoded(a) == encoded(before)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_a_value_diffed_with_itself_or_a_copy_is_no_patch(a: Any) -> None:
    assert diff(a, a) == []
    assert diff(a, copy.deepcopy(a)) == []
    assert apply(a, []) is a


def test_json_equality_is_strict() -> None:
    assert diff(True, 1) == [["set", [], 1]]
    assert diff([0], [False]) == [["set", [0], False]]
    assert diff({"x": 1}, {"x": 1.0}) == [["set", ["x"], 1.0]]
    # Same keys, another order: the client would list them in the old order.
    assert diff({"a": 1, "b": 2, "c": 3}, {"b": 2, "a": 1, "c": 3}) == [
        ["set", [], {"b": 2, "a": 1, "c": 3}]
    ]


def test_the_float_zeros_differ_as_json_does() -> None:
    assert diff(0.0, -0.0) == [["set", [], -0.0]]
    assert diff({"x": 0.0, "y": 1}, {"x": -0.0, "y": 1}) == [["set", ["x"], -0.0]]
    assert diff([-0.0], [-0.0]) == []


def test_a_few_changes_among_many_kept_values_are_operations() -> None:
    # As many operations as values kept, or fewer: no whole encoded to compare.
    old = {"a": 1, "b": "two", "c": [3], "d": {"e": 4}, "f": 5.5, "g": None}
    new = {"a": 2, "b": "two", "c": [3], "d": {"e": 4}, "f": 6.5, "g": True}
    assert diff(old, new) == [["set", ["a"], 2], ["set", ["f"], 6.5], ["set", ["g"], True]]


def test_many_changes_beside_many_kept_values_are_weighed_against_the_whole() -> None:
    # Half a list changed, beside more kept keys than its operations: paths
    # repeated fifty times would weigh three times the list itself.
    kept = {f"k{i}": i for i in range(60)}
    scores = list(range(100))
    changed = [x + 1000 if i % 2 else x for i, x in enumerate(scores)]
    ops = diff({**kept, "scores": scores}, {**kept, "scores": changed})
    assert ops == [["set", ["scores"], changed]]


def test_a_few_changes_beside_a_container_kept_as_it_is_are_operations() -> None:
    # One team's story entry changed, the other's is the very same object: a
    # few operations are taken without encoding the whole to weigh them (it
    # would send the kept entry again).
    other = {"lines": ["a kept line, long enough to matter"] * 3, "writer": "p2"}
    entry = {"name": "Aurora", "order": ["p1", "p3"], "writer": "p1", "count": 1}
    old = {"t1": entry, "t2": other}
    new = {"t1": {**entry, "writer": "p3", "count": 2}, "t2": other}
    ops = diff(old, new)
    assert ops == [["set", ["t1", "writer"], "p3"], ["set", ["t1", "count"], 2]]
    assert apply(old, ops) == new
    # So even where the whole would be smaller (the kept list is tiny), by
    # no more than the few operations' paths.
    small_old = {"a": 1, "b": 2, "c": 3, "kept": [0]}
    small_new = {"a": 10, "b": 20, "c": 30, "kept": small_old["kept"]}
    ops = diff(small_old, small_new)
    assert ops == [["set", ["a"], 10], ["set", ["b"], 20], ["set", ["c"], 30]]
    # An equal copy is not kept as it is: weighed, and set whole here.
    copied = {**small_new, "kept": [0]}
    assert diff(small_old, copied) == [["set", [], copied]]


def test_the_operations_of_a_typical_change() -> None:
    old = {
        "seq": 4,
        "server_time": 10.0,
        "teams": [{"id": "t1", "score": 0}, {"id": "t2", "score": 5}],
        "guesses": ["a first guess, long enough to be worth keeping"],
        "moments": [1, 2, 3],
        "riddle": {"stage": "open", "hint": "x", "text": "What has keys but opens no lock?"},
    }
    new = {
        "seq": 5,
        "server_time": 10.5,
        "teams": [{"id": "t1", "score": 0}, {"id": "t2", "score": 7}],
        "guesses": ["a first guess, long enough to be worth keeping", "b", "c"],
        "moments": [1],
        "riddle": {"stage": "open", "text": "What has keys but opens no lock?"},
    }
    assert diff(old, new) == [
        ["set", ["seq"], 5],
        ["set", ["server_time"], 10.5],
        ["set", ["teams", 1, "score"], 7],
        ["push", ["guesses"], "b"],
        ["push", ["guesses"], "c"],
        ["trim", ["moments"], 1],
        ["del", ["riddle", "hint"]],
    ]
    assert apply(old, diff(old, new)) == new


def test_a_list_that_changed_everywhere_is_set_whole() -> None:
    old = {"order": [1, 2, 3, 4, 5, 6]}
    new = {"order": [6, 5, 4, 3, 2, 1]}
    assert diff(old, new) == [["set", ["order"], [6, 5, 4, 3, 2, 1]]]


def test_apply_copies_only_what_it_changes() -> None:
    state = {"a": {"x": [1, 2]}, "b": {"y": 1}}
    result = apply(state, [["push", ["a", "x"], 3], ["set", ["a", "z"], 0]])
    assert state == {"a": {"x": [1, 2]}, "b": {"y": 1}}
    assert result == {"a": {"x": [1, 2, 3], "z": 0}, "b": {"y": 1}}
    assert result["b"] is state["b"]  # unchanged parts are shared


@pytest.mark.parametrize(
    "ops",
    [
        [["set", ["missing", "x"], 1]],
        [["del", ["missing"]]],
        [["set", ["list", 5], 1]],
        [["set", ["list", "0"], 1]],
        [["push", ["dict"], 1]],
        [["trim", ["list"], 9]],
        [["trim", ["list"], -1]],
        [["set", ["n", "x"], 1]],
        [["del", ["list", 0]]],
        [["move", ["n"], 1]],
        [["set", "n", 1]],
        ["set"],
    ],
)
def test_an_operation_that_does_not_fit_is_refused(ops: list[Any]) -> None:
    state = {"list": [1, 2], "dict": {}, "n": 3}
    with pytest.raises(PatchError):
        apply(state, ops)
    assert state == {"list": [1, 2], "dict": {}, "n": 3}


# -- the web client's copy (web/js/patches.js) ----------------------------------

WEB_PATCHES = Path(__file__).resolve().parents[2] / "web" / "js" / "patches.js"
NODE_CHECK = """
import { applyPatch } from %s;
const cases = JSON.parse(require_stdin());
function require_stdin() { return readFileSync(0, "utf8"); }
const failures = [];
cases.forEach(([old, ops, wanted], i) => {
  const before = JSON.stringify(old);
  const got = applyPatch(old, ops);
  if (JSON.stringify(got) !== JSON.stringify(wanted)) failures.push([i, "result", got]);
  if (JSON.stringify(old) !== before) failures.push([i, "changed its input"]);
});
console.log(JSON.stringify(failures));
"""


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randrange(-5, 5)
    if kind == 3:
        return rng.choice([0.5, -1.25, 3.0, 1e21])
    if kind == 4:
        return rng.choice(["", "a", "ü", "x y", '"q"'])
    if kind == 5:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {
        rng.choice(["a", "b", "1", "10", "__proto__", "t2"]): random_json(rng, depth + 1)
        for _ in range(rng.randrange(5))
    }


def random_change(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        out = {k: random_change(v, rng) if rng.random() < 0.3 else v for k, v in value.items()}
        if rng.random() < 0.3:
            out[rng.choice(["a", "c", "2", "__proto__"])] = random_json(rng, 2)
        if out and rng.random() < 0.2:
            del out[rng.choice(sorted(out))]
        return out
    if isinstance(value, list):
        items = [random_change(v, rng) if rng.random() < 0.3 else v for v in value]
        if rng.random() < 0.3:
            items.extend(random_json(rng, 2) for _ in range(rng.randrange(1, 3)))
        elif items and rng.random() < 0.2:
            del items[rng.randrange(len(items)) :]
        return items
    return random_json(rng, 2) if rng.random() < 0.5 else value


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_web_client_applies_patches_like_the_server() -> None:
    rng = random.Random(7)
    cases = []
    for _ in range(1500):
        old = random_json(rng)
        new = random_change(old, rng) if rng.random() < 0.8 else random_json(rng)
        cases.append([old, diff(old, new), new])
    script = "import { readFileSync } from 'node:fs';\n" + NODE_CHECK % json.dumps(
        WEB_PATCHES.as_uri()
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        input=orjson.dumps(cases),
        capture_output=True,
        timeout=30,
        check=True,
    )
    assert orjson.loads(done.stdout) == []


def test_moments_reach_a_view_as_pushes_and_the_whole_list_only_when_cut() -> None:
    # A list cut by one at every moment shifts: every patch re-sent all of it.
    room = Room(code="ABCD", name="Moments", host_token_hash="h", created_at=0.0)
    rows = Rows()
    held = [rows.moment(m) for m in room.moments]
    kinds: list[str] = []
    for n in range(5 * KEPT_MOMENTS):
        room.add_moment("story_line", float(n), team_id="t1", player_id=f"p{n}")
        assert MAX_MOMENTS <= len(room.moments) <= KEPT_MOMENTS or n < MAX_MOMENTS
        view = [rows.moment(m) for m in room.moments]
        ops = diff(held, view)
        assert apply(held, ops) == view
        kinds.append("push" if [op[0] for op in ops] == ["push"] else "other")
        held = view
    assert kinds.count("other") <= 5 * KEPT_MOMENTS // (MAX_MOMENTS + 1)
    assert room.moments[-1].player_id == f"p{5 * KEPT_MOMENTS - 1}"
