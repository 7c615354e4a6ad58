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
three objects of each of those types.

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
        "transports": len(transports),
        "transports_closing": sum(1 for t in transports if t.is_closing()),
        **_caches(),
        "top_types": types.most_common(20),
        "referrers": _referrers(objects) if os.environ.get("RITROVO_SOAK_REFERRERS") else {},
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
