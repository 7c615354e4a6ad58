"""Soak launcher (bench only): ``ritrovo serve`` that reports its live Python objects on a signal.

``bench/soak.py`` starts the server through this file so that, besides the
RSS it reads from /proc, it can ask what the interpreter holds: nothing is
patched, the server is started exactly like ``python -m ritrovo serve`` (the
app ``create_app`` builds is only kept a reference to). On ``SIGUSR1`` the
process writes ``$RITROVO_SOAK_DUMP`` (JSON, written to a temporary name and
renamed): allocated blocks (``sys.getallocatedblocks()``, pymalloc's blocks:
small objects and buffers), objects the cyclic collector tracks
(``gc.get_objects()``: the frozen start-up objects excluded) and the most
common of their types, the collector's counts, the event loop's tasks, the
asyncio transports, and how full the bounded caches and the Redis pool are.
On ``SIGUSR2`` it first runs a full collection (and says what it found), on
``SIGWINCH`` glibc's ``malloc_trim(0)``, then writes the same: diagnostics
only, sent after the last figure ``soak.py`` judges. With
``RITROVO_SOAK_REFERRERS=Type1,Type2`` each dump also names what refers to
three objects of each of those types. Each dump has glibc's figures
(``mallinfo2``: in use, free), pymalloc's (arenas, bytes in blocks; from
``sys._debugmallocstats``) and the resident KiB by kind of mapping
(``/proc/self/smaps``: the brk heap, anonymous maps). With
``RITROVO_SOAK_TRACEMALLOC=N`` (frames kept per allocation; it slows the
server), ``tracemalloc`` runs from the start and each dump lists the
allocation sites whose live bytes grew most since the first dump. With
``RITROVO_SOAK_PINS=1``, each dump after the first counts the small objects
alive that were not at the first and the 1 MiB address ranges where only such
objects live (what keeps pymalloc's arenas: ``_pins``).

Experiments (``RITROVO_SOAK_PATCH``, comma-separated; off by default):

close_cycle    Python 3.11's ``_SelectorSocketTransport`` keeps a bound method of
               itself (``_read_ready_cb``) after it closed, so every closed
               connection is cyclic garbage that only a full collection frees
               (CPython gh-100348, fixed in 3.12): clear it on close, as 3.12 does.

Nothing here is used by the product.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import gc
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

_APP: list[Any] = []  # the server's aiohttp application (frozen: not in gc.get_objects())


def _caches() -> dict[str, Any]:
    """The bounded caches and pools that grow with use: how full they are now."""
    out: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        from ritrovo.edge import http

        out["qr_cache_entries"] = http._qr_svg.cache_info().currsize
    if not _APP:
        return out
    from ritrovo.app import SERVICE, STORE

    with contextlib.suppress(Exception):
        service = _APP[0][SERVICE]
        out["pack_cache_entries"] = len(service._packs)
        out["pack_cache_bytes"] = service._packs_bytes
    with contextlib.suppress(Exception):
        pool = _APP[0][STORE].redis.connection_pool
        out["redis_pool_connections"] = len(pool._available_connections) + len(
            pool._in_use_connections
        )
    return out


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
            "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def _glibc() -> dict[str, int]:
    """glibc malloc's own figures (mallinfo2): what it has from the system, in use, free."""
    try:
        fn = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return {}
    fn.restype = _Mallinfo2
    info = fn()
    return {
        "heap_bytes": info.arena,  # sbrk'd and thread arenas' bytes
        "mmapped_bytes": info.hblkhd,  # chunks mmapped on their own (>= the mmap threshold)
        "in_use_bytes": info.uordblks,
        "free_bytes": info.fordblks,
        "free_chunks": info.ordblks,
        "top_pad_bytes": info.keepcost,
    }


def _pymalloc() -> dict[str, int]:
    """pymalloc's arenas and blocks (sys._debugmallocstats, which writes to C's stderr)."""
    out: dict[str, int] = {}
    with tempfile.TemporaryFile("w+") as f:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(f.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        for line in f:
            if line.startswith("# ") and "=" in line:
                name, _, value = line[2:].partition("=")
                key = "_".join(name.split())
                if key.startswith(("arenas", "bytes_in")):
                    out[key] = int(value.strip().replace(",", ""))
    return out


def _smaps() -> dict[str, int]:
    """Resident KiB of the process by kind of mapping: the brk heap, anonymous maps by size."""
    out: collections.Counter[str] = collections.Counter()
    kind = ""
    with contextlib.suppress(OSError), open("/proc/self/smaps") as f:
        for line in f:
            first = line.split(maxsplit=6)
            if "-" in first[0] and len(first) >= 5 and not first[0].endswith(":"):
                name = first[5].strip() if len(first) > 5 else ""
                if name == "[heap]":
                    kind = "heap"
                elif name.startswith("["):
                    kind = name.strip("[]")
                elif name:
                    kind = "file"
                else:  # pymalloc's arenas, glibc's mmapped chunks and thread arenas, stacks
                    kind = "anon"
                out[kind + "_maps"] += 1
            elif first[0] == "Rss:":
                out[kind + "_rss_kib"] += int(first[1])
    return dict(out)


_FULL_GC: list[float] = []  # seconds each full collection took (gc.callbacks)
_GC_STARTED: list[float] = [0.0]


def _time_full_collections(phase: str, info: dict[str, int]) -> None:
    if info.get("generation") != 2:
        return
    if phase == "start":
        _GC_STARTED[0] = time.perf_counter()
    else:
        _FULL_GC.append(time.perf_counter() - _GC_STARTED[0])


def _full_collections() -> dict[str, float]:
    """How many full collections ran so far and what they took (ms): the server's own
    cadence (server/garbage.py), which sets how much closed-connection garbage piles up."""
    times = sorted(_FULL_GC)
    if not times:
        return {"count": 0}
    return {
        "count": len(times),
        "median_ms": round(1000 * times[len(times) // 2], 1),
        "max_ms": round(1000 * times[-1], 1),
        "total_ms": round(1000 * sum(times), 1),
    }


_TRACE_BASE: list[Any] = []  # tracemalloc's snapshot at the first dump (the baseline)


def _traced() -> dict[str, Any]:
    """With RITROVO_SOAK_TRACEMALLOC: live bytes by line now, and what grew since the first dump."""
    import tracemalloc

    if not tracemalloc.is_tracing():
        return {}
    snap = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    if not _TRACE_BASE:
        _TRACE_BASE.append(snap)
    grown = snap.compare_to(_TRACE_BASE[0], "traceback")
    return {
        "traced_bytes": sum(s.size for s in snap.statistics("filename")),
        "grown": [
            {
                "kib": round(s.size_diff / 1024, 1),
                "count": s.count_diff,
                "where": [f"{f.filename.rsplit('/', 3)[-1]}:{f.lineno}" for f in s.traceback][-6:],
            }
            for s in grown[:25]
        ],
    }


_PIN_BASE: list[Any] = []  # the sorted ids of the small objects alive at the first dump


def _pins(objects: list[Any]) -> dict[str, Any]:
    """With RITROVO_SOAK_PINS: the small objects (pymalloc's) alive now that were not at
    the first dump, and the 1 MiB address ranges where only such objects live.

    pymalloc gives an arena (1 MiB) back only when every block in it is free:
    one object made during the abuse and still alive keeps its arena. The
    objects are those the collector tracks and what they refer to (strings,
    numbers, bytes), so not every block; the ranges approximate arenas (mmaps
    of 1 MiB, not aligned). Kept compact (an array of ids) so as not to grow
    what it measures.
    """
    import array
    import bisect

    seen: set[int] = set()
    small: list[Any] = []
    for o in objects:
        for x in (o, *gc.get_referents(o)):
            if id(x) not in seen:
                seen.add(id(x))
                if sys.getsizeof(x) <= 512:
                    small.append(x)
    del seen
    if not _PIN_BASE:
        _PIN_BASE.append(array.array("Q", sorted(id(x) for x in small)))
        return {"small_objects": len(small)}
    base = _PIN_BASE[0]

    def is_base(x: Any) -> bool:
        i = bisect.bisect_left(base, id(x))
        return i < len(base) and base[i] == id(x)

    new = [x for x in small if not is_base(x)]
    old_ranges = {id(x) >> 20 for x in small if is_base(x)}
    new_by_range: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for x in new:
        new_by_range[id(x) >> 20][type(x).__name__] += 1
    only_new = {r: c for r, c in new_by_range.items() if r not in old_ranges}
    pinning: collections.Counter[str] = collections.Counter()
    for c in only_new.values():
        pinning.update(c)
    # What refers to the objects in those ranges (the first referrer found).
    targets = {id(x): x for x in new if id(x) >> 20 in only_new}
    owner: dict[int, str] = {}
    for o in objects:
        for x in gc.get_referents(o):
            if id(x) in targets and id(x) not in owner:
                owner[id(x)] = _describe(o)
    owners = collections.Counter(
        f"{type(x).__name__} <- {owner.get(i, '?')}" for i, x in targets.items()
    )
    del targets
    out = {
        "small_objects": len(small),
        "new_small_objects": len(new),
        "new_types": collections.Counter(type(x).__name__ for x in new).most_common(25),
        "ranges_with_old_objects": len(old_ranges),
        "ranges_with_only_new_objects": len(only_new),
        "objects_in_only_new_ranges": sum(pinning.values()),
        "types_in_only_new_ranges": pinning.most_common(25),
        "owners_in_only_new_ranges": owners.most_common(40),
        "sample_of_only_new_ranges": [c.most_common(6) for c in list(only_new.values())[:8]],
    }
    del new, small
    return out


def _describe(o: Any) -> str:
    name = type(o).__name__
    if name == "dict":
        return "dict(" + ",".join(sorted(str(k) for k in list(o)[:6])) + ")"
    if name in ("cell", "list", "tuple", "deque", "set"):
        return f"{name}[{len(o) if hasattr(o, '__len__') else '?'}]"
    if name == "method":
        return f"method {getattr(o, '__qualname__', '?')}"
    return name


def _referrers(objects: list[Any]) -> dict[str, list[list[str]]]:
    """For a few types: two levels of referrers of three samples (what holds them)."""
    out: dict[str, list[list[str]]] = {}
    wanted = [n for n in os.environ["RITROVO_SOAK_REFERRERS"].split(",") if n]
    for name in wanted:
        samples = [o for o in objects if type(o).__name__ == name][-3:]
        chains = []
        for sample in samples:
            level1 = [r for r in gc.get_referrers(sample) if r is not objects and r is not samples]
            chain = []
            for r in level1[:6]:
                above = [
                    _describe(x)
                    for x in gc.get_referrers(r)[:4]
                    if x is not objects and x is not level1 and type(x).__name__ != "frame"
                ]
                chain.append(f"{_describe(r)} <- {above}")
            chains.append(chain)
        out[name] = chains
    return out


def _waiting_tasks() -> list[tuple[str, int]]:
    """The event loop's tasks by coroutine and where the innermost one waits."""
    where: collections.Counter[str] = collections.Counter()
    with contextlib.suppress(RuntimeError):
        for task in asyncio.all_tasks(asyncio.get_running_loop()):
            coro: Any = task.get_coro()
            name = getattr(coro, "__qualname__", type(coro).__name__)
            inner = coro
            while getattr(inner, "cr_await", None) is not None and hasattr(
                inner.cr_await, "cr_frame"
            ):
                inner = inner.cr_await
            frame = getattr(inner, "cr_frame", None)
            at = f"{frame.f_code.co_qualname}:{frame.f_lineno}" if frame is not None else "?"
            where[f"{name} @ {at}"] += 1
    return where.most_common(12)


def _open_requests(objects: list[Any]) -> list[tuple[str, int]]:
    """The requests the server's connections are in: method, path (three segments),
    and whether the connection's transport is closing (lingering over a body)."""
    found: collections.Counter[str] = collections.Counter()
    for o in objects:
        if type(o).__name__ != "GuardedHandler":
            continue
        request = getattr(o, "_current_request", None)
        if request is None:
            continue
        with contextlib.suppress(Exception):
            path = "/".join(request.path.split("/")[:3])[:40]
            transport = o.transport
            closing = transport is None or transport.is_closing()
            found[f"{request.method} {path}{' (closing)' if closing else ''}"] += 1
    return found.most_common(12)


def _snapshot(extra: dict[str, Any]) -> dict[str, Any]:
    objects = gc.get_objects()
    types = collections.Counter(type(o).__name__ for o in objects)
    tasks = -1
    with contextlib.suppress(RuntimeError):
        tasks = len(asyncio.all_tasks(asyncio.get_running_loop()))
    transports = [o for o in objects if type(o).__name__ == "_SelectorSocketTransport"]
    snapshot = {
        "time": time.time(),
        "allocated_blocks": sys.getallocatedblocks(),
        "gc_objects": len(objects),
        "gc_counts": list(gc.get_count()),
        "gc_frozen": gc.get_freeze_count(),
        "gc_collections": [s["collections"] for s in gc.get_stats()],
        "tasks": tasks,
        "waiting_tasks": _waiting_tasks(),
        "open_requests": _open_requests(objects),
        "transports": len(transports),
        "transports_closing": sum(1 for t in transports if t.is_closing()),
        **_caches(),
        "top_types": types.most_common(20),
        "full_collections": _full_collections(),
        "glibc": _glibc(),
        "pymalloc": _pymalloc(),
        "smaps": _smaps(),
        "tracemalloc": _traced(),
        "referrers": _referrers(objects) if os.environ.get("RITROVO_SOAK_REFERRERS") else {},
        "pins": _pins(objects) if os.environ.get("RITROVO_SOAK_PINS") else {},
        **extra,
    }
    del objects, transports
    return snapshot


def _write(snapshot: dict[str, Any]) -> None:
    path = Path(os.environ["RITROVO_SOAK_DUMP"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(snapshot))
    tmp.replace(path)


def _dump(signum: int, frame: FrameType | None) -> None:
    _write(_snapshot({}))


def _collect_and_dump(signum: int, frame: FrameType | None) -> None:
    _write(_snapshot({"collected": gc.collect()}))


def _trim_and_dump(signum: int, frame: FrameType | None) -> None:
    trimmed = -1
    with contextlib.suppress(OSError, AttributeError):
        trimmed = int(ctypes.CDLL("libc.so.6").malloc_trim(0))
    _write(_snapshot({"malloc_trim": trimmed}))


def _patch() -> None:
    patches = {p for p in os.environ.get("RITROVO_SOAK_PATCH", "").split(",") if p}
    if "close_cycle" in patches:
        from asyncio import selector_events

        transport = selector_events._SelectorSocketTransport
        lost = transport._call_connection_lost

        def call_connection_lost(self: Any, exc: BaseException | None) -> None:
            try:
                lost(self, exc)
            finally:
                self._read_ready_cb = None

        transport._call_connection_lost = call_connection_lost  # type: ignore[method-assign]


def main() -> None:
    _patch()
    gc.callbacks.append(_time_full_collections)
    frames = int(os.environ.get("RITROVO_SOAK_TRACEMALLOC", "0") or 0)
    if frames:
        import tracemalloc

        tracemalloc.start(frames)
    if os.environ.get("RITROVO_SOAK_DUMP"):
        signal.signal(signal.SIGUSR1, _dump)
        signal.signal(signal.SIGUSR2, _collect_and_dump)
        signal.signal(signal.SIGWINCH, _trim_and_dump)
    from ritrovo import app
    from ritrovo.cli import main as ritrovo_main

    create_app = app.create_app

    def keep_app(*args: Any, **kwargs: Any) -> Any:
        made = create_app(*args, **kwargs)
        _APP.append(made)
        return made

    app.create_app = keep_app  # cli imports it when it runs: the same app, kept for the dumps
    sys.argv[0] = "ritrovo"
    ritrovo_main()


if __name__ == "__main__":
    main()
