"""Patches: the changes that turn one JSON value into another.

A client is sent a full view once and then only what changed in it. This
module computes those changes (``diff``) and applies them (``apply``); it is
pure (no I/O, no clock) and knows nothing of rooms: it works on JSON-like
values (dicts with string keys, lists, strings, numbers, booleans, None).

A patch is a list of operations, each a JSON array whose second item is a
*path*: the dict keys (strings) and list indexes (integers) that lead from the
root to the value the operation is about (``[]`` is the root itself)::

    ["set", path, value]    replace the value at path (path [] = the whole value), or
                            add a dict key; a list index must already exist
    ["del", path]           remove a dict key
    ["push", path, value]   append value to the list at path
    ["trim", path, length]  cut the list at path down to its first ``length`` items

Operations apply in order. ``diff`` compares values the way JSON sees them:
``true`` is not ``1``, ``1`` is not ``1.0``, and a dict whose keys changed
order is a different dict (a client that iterates over it would show another
order), so ``apply(a, diff(a, b))`` encodes to the same bytes as ``b``.
docs/protocol.md documents the same format for clients.
"""

from __future__ import annotations

from typing import Any

import orjson

Path = list[str | int]
# At most this many operations for a container, and no more than the values
# it kept as they were (or beside a list or dict it kept as the very same
# object), and they are taken without weighing them against the whole (a
# view's patch for a story line is about ten): a few paths cannot outweigh
# what was kept by much, and weighing encodes the whole container.
FEW_OPERATIONS = 16
Op = list[Any]


class PatchError(ValueError):
    """An operation does not fit the value it is applied to (wrong path, kind or index)."""


# -- diff ---------------------------------------------------------------------


def diff(old: Any, new: Any) -> list[Op]:
    """The operations that turn ``old`` into ``new`` (``[]`` when they are the same).

    Neither value is changed. The operations hold references to parts of
    ``new`` (not copies): encode them, or leave ``new`` unchanged while they
    are in use.

    Dicts are compared key by key. A list that only grew gets ``push``
    operations; otherwise the changed items are diffed index by index, with a
    ``trim`` when it shrank. A container whose operations would be larger
    than the container itself is ``set`` whole instead; a few operations
    among more values kept, or beside a list or dict kept as the same object
    (``FEW_OPERATIONS``), are taken without weighing them, so they may be a
    little larger.
    """
    ops: list[Op] = []
    if not _same(old, new):
        _diff(old, new, [], ops)
    return ops


def diff_into(old: Any, new: Any, path: Path, ops: list[Op]) -> None:
    """Append to ``ops`` what turns the value at ``path``, ``old``, into ``new`` (``diff`` below a path).

    For a caller that knows which parts of two values can differ: the rest
    is not walked.
    """
    if not _same(old, new):
        _diff(old, new, path, ops)


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON: same types, same values, same key order."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if type(a) is dict or type(a) is list:
        # Python's == is fast but lenient (True == 1, 1 == 1.0, dicts ignore
        # key order); it is only trusted to say "different". The encoding is
        # exact.
        return bool(a == b) and orjson.dumps(a) == orjson.dumps(b)
    return bool(a == b) and _same_scalar(a, b)


def _unchanged(pairs: list[tuple[Any, Any]]) -> int | None:
    """``_same`` for all the containers that ``==`` found equal, with two encodings in all.

    Returns the size of the new values encoded (a lower bound on the size of
    the container that holds them), or None if a pair differs after all.
    """
    if not pairs:
        return 0
    olds = [a for a, _ in pairs]
    news = [b for _, b in pairs]
    if [type(a) for a in olds] != [type(b) for b in news]:
        return None
    encoded = orjson.dumps(news)
    return len(encoded) if orjson.dumps(olds) == encoded else None


def _same_scalar(a: Any, b: Any) -> bool:
    """Two values ``==`` found equal, at least one not a container: equal as JSON?

    Equal scalars of one type encode the same, but for the float zeros
    (``0.0`` and ``-0.0``).
    """
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is float:
        return a != 0.0 or str(a) == str(b)
    return kind is str or kind is int or kind is bool or a is None


def _diff(old: Any, new: Any, path: Path, ops: list[Op]) -> None:
    """Append to ``ops`` what turns ``old`` into ``new``, which differ."""
    if type(old) is dict and type(new) is dict:
        sub, kept, kept_size = _diff_dict(old, new, path)
    elif type(old) is list and type(new) is list:
        sub, kept, kept_size = _diff_list(old, new, path)
    else:
        ops.append(["set", path, new])
        return
    if (
        sub is not None
        and len(sub) > min(kept, FEW_OPERATIONS)
        and len(sub) > 1
        and not (len(sub) <= FEW_OPERATIONS and _keeps_a_container(old, new))
    ):
        # Many operations, or more than the items kept as they were: they
        # could weigh more than the whole value (each carries its path).
        # Encoding the whole value to compare sizes is the expensive part:
        # skip it when what did not change is already bigger. A few
        # operations beside a list or dict kept as it is (one team's story
        # changed, the other's not) are taken as well: the whole value would
        # send that container again.
        whole: Op = ["set", path, new]
        size = len(orjson.dumps(sub))
        if size >= kept_size and size >= len(orjson.dumps(whole)):
            sub = None
    if sub is None:
        ops.append(["set", path, new])
    else:
        ops.extend(sub)


def _keeps_a_container(old: Any, new: Any) -> bool:
    """Whether ``new`` keeps one of ``old``'s non-empty lists or dicts as the very same object."""
    if type(new) is dict:
        return any(
            (type(value) is dict or type(value) is list) and value and old.get(key) is value
            for key, value in new.items()
        )
    return any(
        (type(b) is dict or type(b) is list) and b and a is b
        for a, b in zip(old, new, strict=False)
    )


def _diff_dict(
    old: dict[str, Any], new: dict[str, Any], path: Path
) -> tuple[list[Op] | None, int, int]:
    """The operations for two dicts that differ (None: set it whole), the values kept and their size."""
    kept = list(new)
    added: list[str] = []
    ops: list[Op] = []
    if len(old) != len(kept) or list(old) != kept:  # (the same keys in the same order: usual)
        kept = [k for k in old if k in new]
        added = [k for k in new if k not in old]
        if list(new) != kept + added:
            # Deleting and adding keys cannot reorder the ones kept.
            return None, 0, 0
        ops = [["del", [*path, k]] for k in old if k not in new]
    looks_same: list[tuple[Any, Any]] = []
    changed: list[str] = []
    for k in kept:
        a, b = old[k], new[k]
        if a is b:
            continue
        if a != b:
            changed.append(k)
        elif type(a) is dict or type(a) is list:
            looks_same.append((a, b))
        elif not _same_scalar(a, b):
            changed.append(k)
    kept_size = _unchanged(looks_same)
    if kept_size is None:
        changed, kept_size = [k for k in kept if not _same(old[k], new[k])], 0
    for k in changed:
        _diff(old[k], new[k], [*path, k], ops)
    for k in added:
        ops.append(["set", [*path, k], new[k]])
    return ops, len(kept) - len(changed), kept_size


def _diff_list(old: list[Any], new: list[Any], path: Path) -> tuple[list[Op] | None, int, int]:
    """The operations for two lists that differ, the items kept and their size."""
    common = min(len(old), len(new))
    looks_same: list[tuple[Any, Any]] = []
    changed: list[int] = []
    for i in range(common):
        a, b = old[i], new[i]
        if a is b:
            continue
        if a != b:
            changed.append(i)
        elif type(a) is dict or type(a) is list:
            looks_same.append((a, b))
        elif not _same_scalar(a, b):
            changed.append(i)
    kept_size = _unchanged(looks_same)
    if kept_size is None:
        changed, kept_size = [i for i in range(common) if not _same(old[i], new[i])], 0
    ops: list[Op] = []
    if len(new) < len(old):
        ops.append(["trim", path, len(new)])
    for i in changed:
        _diff(old[i], new[i], [*path, i], ops)
    for item in new[common:]:
        ops.append(["push", path, item])
    return ops, common - len(changed), kept_size


# -- apply --------------------------------------------------------------------


def apply(state: Any, ops: list[Op]) -> Any:
    """The value ``ops`` turn ``state`` into; raises ``PatchError`` if one does not fit.

    ``state`` is never changed: the containers on each changed path are
    copied (once per call), and everything else is shared between ``state``,
    the result and the values inside ``ops``. Treat all three as read-only
    afterwards, or deep-copy what you mean to change.
    """
    root: list[Any] = [state]  # a parent for the root, so path [] is not a special case
    # The containers this call copied, by id: the only ones it may change.
    # Holding them keeps their ids from being reused while it runs.
    fresh: dict[int, Any] = {id(root): root}
    for op in ops:
        if not isinstance(op, list) or len(op) < 2 or not isinstance(op[1], list):
            raise PatchError(f"not an operation: {op!r:.80}")
        kind, path = op[0], op[1]
        if kind == "set" and len(op) == 3:
            parent, key = _parent(root, fresh, path)
            if isinstance(parent, dict):
                parent[key] = op[2]
            else:
                _check_index(parent, key, path)
                parent[key] = op[2]
        elif kind == "del" and len(op) == 2:
            parent, key = _parent(root, fresh, path)
            if not isinstance(parent, dict) or key not in parent:
                raise PatchError(f"del: no key at {path!r:.80}")
            del parent[key]
        elif kind == "push" and len(op) == 3:
            target = _writable(root, fresh, path, list)
            target.append(op[2])
        elif kind == "trim" and len(op) == 3:
            target = _writable(root, fresh, path, list)
            length = op[2]
            if type(length) is not int or not 0 <= length <= len(target):
                raise PatchError(f"trim: bad length {length!r:.20} at {path!r:.80}")
            del target[length:]
        else:
            raise PatchError(f"not an operation: {op!r:.80}")
    return root[0]


def _check_index(container: list[Any], key: Any, path: Path) -> None:
    if type(key) is not int or not 0 <= key < len(container):
        raise PatchError(f"no list item at {path!r:.80}")


def _child(container: Any, key: Any, path: Path, depth: int) -> Any:
    """The item ``key`` of ``container``, on ``path`` (named up to ``depth`` if it is missing).

    The path is sliced for the message only when one is raised: slicing it at
    every step cost a third of applying a patch.
    """
    if isinstance(container, dict):
        if type(key) is str and key in container:
            return container[key]
        raise PatchError(f"no key at {path[:depth]!r:.80}")
    if isinstance(container, list):
        if type(key) is int and 0 <= key < len(container):
            return container[key]
        raise PatchError(f"no list item at {path[:depth]!r:.80}")
    raise PatchError(f"not a container on {path[:depth]!r:.80}")


def _parent(root: list[Any], fresh: dict[int, Any], path: Path) -> tuple[Any, Any]:
    """The writable container holding the last step of ``path`` (the root's holder for [])."""
    if not path:
        return root, 0
    parent = _writable(root, fresh, path[:-1])
    key = path[-1]
    if isinstance(parent, dict):
        if type(key) is not str:
            raise PatchError(f"a dict key must be a string: {path!r:.80}")
    elif not isinstance(parent, list):
        raise PatchError(f"not a container on {path!r:.80}")
    return parent, key


def _writable(root: list[Any], fresh: dict[int, Any], path: Path, kind: type = object) -> Any:
    """The container at ``path``, after copying every container on the way that is not fresh."""
    node: Any = root
    for depth, key in enumerate((0, *path)):  # (0: the root, the one item of its holder)
        child = _child(node, key, path, depth)
        if id(child) not in fresh:
            if isinstance(child, dict):
                child = dict(child)
            elif isinstance(child, list):
                child = list(child)
            else:
                raise PatchError(f"not a container at {path[:depth]!r:.80}")
            fresh[id(child)] = child
            node[key] = child
        node = child
    if not isinstance(node, kind):
        raise PatchError(f"not a list at {path!r:.80}")
    return node
