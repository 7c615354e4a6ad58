"""Experiment launcher (bench only): ``ritrovo serve`` with candidate fixes patched in memory.

The load scenarios can measure a proposed change to files other engineers own
without editing them: ``RITROVO_BENCH_PATCHES=room_lock,decoded_cache`` makes
this launcher monkeypatch the running server, then start it exactly like
``python -m ritrovo serve``. Nothing here is used by the product.

room_lock      GameService.execute holds a per-room asyncio.Lock: commands on
               one room in one process commit one after another, so they never
               conflict with each other (no CAS retries, one Redis round trip each).
decoded_cache  decode_room() returns the Room object that produced (or was last
               decoded from) the same bytes, instead of decoding the whole room
               again for every command; rules raise before they change anything,
               so a refused command leaves it intact. (Prototype: use with room_lock.)
small_views    a player's state lists the players of their own team only; other
               teams keep their scores and a players_count (the host and the
               screen still get everyone).
near_cap       a team's near answers per 10 s (riddles.NEAR_GUESS_LIMIT, 20) may
               go up to the per-riddle cap of stored guesses
               (MAX_GUESSES_PER_TEAM, 100), which still applies. Not a fix: S1
               ``--guesses recorded`` uses it so that a team of 77 (2,000
               players in 26 teams) has every near answer of a one-second burst
               recorded, as issue 11 asks; the cost of recording one is unchanged.
gc_thresholds  the server's garbage collector thresholds from $RITROVO_BENCH_GC
               (e.g. "2000,10,10") instead of the ones ``ritrovo serve`` sets.
cprofile       cProfile the server between two SIGUSR2s (S2 sends them around its window)
pyspy          sample the server with py-spy between two SIGUSR2s, into
               $RITROVO_BENCH_TRACE.<pid>.spy (collapsed stacks): true proportions,
               which cProfile's per-call cost distorts for many small calls
gc_time        count the garbage collections and their time by generation between
               two SIGUSR2s, into $RITROVO_BENCH_TRACE.<pid>.gctime
loop_time      the event loop's callbacks' CPU time by kind (a task's coroutine, a
               transport's method, a timer) between two SIGUSR2s, into
               $RITROVO_BENCH_TRACE.<pid>.loop
fn_time        the CPU time of the functions named in $RITROVO_BENCH_FNS between two
               SIGUSR2s, into $RITROVO_BENCH_TRACE.<pid>.fns
perf           ``perf record`` (CPU-clock samples: this VM counts no hardware events)
               between two SIGUSR2s, into $RITROVO_BENCH_TRACE.<pid>.perf; read
               with ``perf report -i FILE``. perf runs outside the server's core.
trace          write a timeline to $RITROVO_BENCH_TRACE.<pid>: every flush (start, CPU
               duration, connections), every batch the room runner commits (size,
               duration), and the event loop's lag sampled every 10 ms.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

PATCHES = {p.strip() for p in os.environ.get("RITROVO_BENCH_PATCHES", "").split(",") if p.strip()}
KNOWN = {
    "room_lock",
    "decoded_cache",
    "small_views",
    "near_cap",
    "trace",
    "gc_trace",
    "gc_thresholds",
    "cprofile",
    "pyspy",
    "gc_time",
    "loop_time",
    "fn_time",
    "perf",
}
# The diagnostics that measure between two SIGUSR2s (the scenario's window): each
# takes the signal for itself, and the scenarios send it when one is patched in.
WINDOWED = ("cprofile", "pyspy", "gc_time", "loop_time", "fn_time", "perf")


def apply() -> None:
    unknown = PATCHES - KNOWN
    if unknown:
        raise SystemExit(f"patched_serve: unknown patches {sorted(unknown)}")
    windowed = PATCHES & set(WINDOWED)
    if len(windowed) > 1:  # each takes SIGUSR2 for itself: only the last would run
        raise SystemExit(f"patched_serve: use one of {sorted(windowed)} at a time")
    from ritrovo import service

    if "room_lock" in PATCHES:
        original_execute = service.GameService.execute

        async def execute(self: Any, code: str, action: Any) -> Any:
            locks: dict[str, asyncio.Lock] = self.__dict__.setdefault("_bench_locks", {})
            lock = locks.get(code)
            if lock is None:
                lock = locks[code] = asyncio.Lock()
            async with lock:
                return await original_execute(self, code, action)

        service.GameService.execute = execute  # type: ignore[method-assign]

    if "decoded_cache" in PATCHES:
        memo: OrderedDict[int, tuple[bytes, Any]] = OrderedDict()
        original_decode, original_encode = service.decode_room, service.encode_room

        def remember(data: bytes, room: Any) -> None:
            memo[id(data)] = (data, room)  # holding ``data`` keeps its id unique
            memo.move_to_end(id(data))
            while len(memo) > 256:
                memo.popitem(last=False)

        def decode_room(data: bytes) -> Any:
            hit = memo.get(id(data))
            if hit is not None and hit[0] is data:
                return hit[1]
            room = original_decode(data)
            remember(data, room)
            return room

        def encode_room(room: Any) -> bytes:
            data = original_encode(room)
            remember(data, room)
            return data

        service.decode_room = decode_room  # type: ignore[assignment]
        service.encode_room = encode_room  # type: ignore[assignment]

    if "small_views" in PATCHES:
        from ritrovo.game import views

        original_build = views.build

        def build(room: Any, pack: Any, now: float, role: Any, player_id: str | None = None) -> Any:
            view = original_build(room, pack, now, role, player_id)
            if role == "player":
                player = room.players.get(player_id or "")
                own = player.team_id if player is not None else None
                for team in view["teams"]:
                    if team["id"] != own:
                        team["players_count"] = len(team["players"])
                        team["players"] = []
            return view

        views.build = build  # type: ignore[assignment]

    if "near_cap" in PATCHES:
        from ritrovo.game import riddles

        # Fail loudly if the rules changed shape: a silent no-op would make the
        # scenario measure refused guesses again.
        if not isinstance(getattr(riddles, "NEAR_GUESS_LIMIT", None), int) or not isinstance(
            getattr(riddles, "MAX_GUESSES_PER_TEAM", None), int
        ):
            raise SystemExit("patched_serve near_cap: riddles.NEAR_GUESS_LIMIT is gone")
        riddles.NEAR_GUESS_LIMIT = riddles.MAX_GUESSES_PER_TEAM  # type: ignore[misc]

    if "trace" in PATCHES:
        _trace()
    if "gc_trace" in PATCHES:
        _gc_trace()
    if "cprofile" in PATCHES:
        _cprofile()
    if "pyspy" in PATCHES:
        _pyspy()
    if "perf" in PATCHES:
        _perf()
    if "gc_time" in PATCHES:
        _gc_time()
    if "loop_time" in PATCHES:
        _loop_time()
    if "fn_time" in PATCHES:
        _fn_time()
    if "gc_thresholds" in PATCHES:
        _gc_thresholds()


def _cprofile() -> None:
    """cProfile the server between two SIGUSR2s, into $RITROVO_BENCH_TRACE.<pid>.prof.

    A deterministic profile of a measuring window (the bench sends the
    signals at its start and end), with call counts that py-spy's samples lack.
    """
    import cProfile
    import signal

    path = os.environ.get("RITROVO_BENCH_TRACE", "trace.txt")
    profiler = cProfile.Profile()
    running = [False]

    def toggle(*_: Any) -> None:
        if running[0]:
            profiler.disable()
            profiler.dump_stats(f"{path}.{os.getpid()}.prof")
        else:
            profiler.enable()
        running[0] = not running[0]

    signal.signal(signal.SIGUSR2, toggle)


def _pyspy() -> None:
    """Sample the server with py-spy between two SIGUSR2s, into $RITROVO_BENCH_TRACE.<pid>.spy."""
    import shutil
    import signal
    import subprocess

    path = os.environ.get("RITROVO_BENCH_TRACE", "trace.txt")
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    running: list[subprocess.Popen[bytes]] = []

    def toggle(*_: Any) -> None:
        if running:
            running.pop().send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            return
        args = [spy, "record", "--pid", str(os.getpid()), "--rate", "250", "--format", "raw"]
        args += ["--nonblocking", "--output", f"{path}.{os.getpid()}.spy"]
        running.append(subprocess.Popen(args, stdout=subprocess.DEVNULL))

    signal.signal(signal.SIGUSR2, toggle)


def _perf() -> None:
    """``perf record`` (the kernel's CPU-clock samples, with call graphs) between two SIGUSR2s.

    Into $RITROVO_BENCH_TRACE.<pid>.perf. Python 3.11 has no perf map, so
    the samples name C functions: the interpreter, the allocator, the
    collector, orjson, aiohttp's C parts and the kernel, by share.
    """
    import shutil
    import signal
    import subprocess

    perf = shutil.which("perf")
    if perf is None:
        raise SystemExit("patched_serve perf: no perf on PATH (linux-perf)")
    path = os.environ.get("RITROVO_BENCH_TRACE", "trace.txt")
    running: list[subprocess.Popen[bytes]] = []
    # perf on the other core: on the server's (taskset), it would take the server's CPU.
    others = sorted(set(range(os.cpu_count() or 1)) - os.sched_getaffinity(0)) or None

    def toggle(*_: Any) -> None:
        if running:
            running.pop().send_signal(signal.SIGINT)  # perf writes its file and exits
            return
        args = [perf, "record", "-e", "cpu-clock", "-F", "997", "-g", "-p", str(os.getpid())]
        args += ["-o", f"{path}.{os.getpid()}.perf"]
        if others:
            args = ["taskset", "-c", ",".join(map(str, others)), *args]
        # perf's own messages go to the server's stderr (its log), failures included.
        running.append(subprocess.Popen(args, stdout=subprocess.DEVNULL))

    signal.signal(signal.SIGUSR2, toggle)


def _gc_time() -> None:
    """Count collections and their seconds by generation between two SIGUSR2s."""
    import gc
    import json
    import signal
    import time

    path = os.environ.get("RITROVO_BENCH_TRACE", "trace.txt")
    totals: dict[int, list[float]] = {0: [0, 0.0], 1: [0, 0.0], 2: [0, 0.0]}
    started: list[float] = []
    window: list[float] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if not window:
            return
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif started:
            totals[info["generation"]][0] += 1
            totals[info["generation"]][1] += time.perf_counter() - started[0]

    def toggle(*_: Any) -> None:
        if window:
            seconds = time.perf_counter() - window.pop()
            with open(f"{path}.{os.getpid()}.gctime", "w") as out:
                json.dump({"window": seconds, "by_generation": totals}, out)
        else:
            window.append(time.perf_counter())

    gc.callbacks.append(callback)
    signal.signal(signal.SIGUSR2, toggle)


def _loop_time() -> None:
    """The CPU time of the event loop's callbacks by what they run, between two SIGUSR2s.

    Into $RITROVO_BENCH_TRACE.<pid>.loop (JSON): for each kind of callback (a
    task's coroutine, a transport's method, a timer's function) its count and
    CPU seconds (``time.thread_time``) and its longest call, and the window's CPU in all: what is
    left is the loop's own (``epoll``, scheduling). Exact where a sampling
    profiler loses samples on this machine.
    """
    import asyncio
    import json
    import signal
    import time

    path = os.environ.get("RITROVO_BENCH_TRACE", "trace.txt")
    totals: dict[str, list[float]] = {}
    window: list[tuple[float, float]] = []  # (process CPU, wall) at the start
    original = asyncio.events.Handle._run
    clock = time.thread_time

    def kind_of(handle: Any) -> str:
        callback = handle._callback
        owner = getattr(callback, "__self__", None)
        if isinstance(owner, asyncio.Task):
            coro = owner.get_coro()
            return f"task {getattr(coro, '__qualname__', type(coro).__name__)}"
        name = getattr(callback, "__qualname__", type(callback).__name__)
        return f"{type(owner).__name__}.{name}" if owner is not None else name

    def timed(original: Any, key_of: Any, third: Any) -> Any:
        """``original`` timed into ``totals[key_of(self)]``: [calls, CPU seconds, third(...)]."""

        def wrapper(self: Any) -> Any:
            if not window:
                return original(self)
            started = clock()
            try:
                return original(self)
            finally:
                took = clock() - started
                entry = totals.setdefault(key_of(self), [0, 0.0, 0.0])
                entry[0] += 1
                entry[1] += took
                entry[2] = third(self, entry[2], took)

        return wrapper

    def toggle(*_: Any) -> None:
        if window:
            cpu0, wall0 = window.pop()
            out = {
                "wall": time.perf_counter() - wall0,
                "cpu": time.process_time() - cpu0,
                "by_kind": dict(sorted(totals.items(), key=lambda kv: -kv[1][1])),
            }
            with open(f"{path}.{os.getpid()}.loop", "w") as f:
                json.dump(out, f, indent=1)
        else:
            totals.clear()
            window.append((time.process_time(), time.perf_counter()))

    # Each callback's longest run; and the loop's turns, with the timers
    # waiting at the end: the loop's own share is what its turns cost beyond
    # the callbacks they run.
    asyncio.events.Handle._run = timed(  # type: ignore[method-assign]
        original, kind_of, lambda _, longest, took: max(longest, took)
    )
    asyncio.BaseEventLoop._run_once = timed(  # type: ignore[attr-defined]
        asyncio.BaseEventLoop._run_once,  # type: ignore[attr-defined]
        lambda _: "(the loop's turns, callbacks included)",
        lambda loop, _, __: len(loop._scheduled),
    )
    signal.signal(signal.SIGUSR2, toggle)


def _fn_time() -> None:
    """CPU time of the (plain, not async) functions named in $RITROVO_BENCH_FNS.

    Comma-separated ``module:qualname`` (``ritrovo.store.parts:changed_parts``,
    ``ritrovo.edge.hub:RoomHub._frames``): their calls and CPU seconds
    (inclusive: a named function that calls another named one counts its
    time too) between two SIGUSR2s go to $RITROVO_BENCH_TRACE.<pid>.fn (JSON),
    with the window's CPU in all. In the server itself, where its memory is
    as cold as it gets between two lines of a room: a sampling profiler
    loses most samples on this machine, and ``cprofile`` weighs calls.
    """
    import importlib
    import json
    import signal
    import time

    path = os.environ.get("RITROVO_BENCH_TRACE", "trace.txt")
    totals: dict[str, list[float]] = {}
    window: list[float] = []
    clock = time.thread_time

    def wrap(name: str, fn: Any) -> Any:
        entry = totals.setdefault(name, [0, 0.0])

        def timed(*args: Any, **kwargs: Any) -> Any:
            if not window:
                return fn(*args, **kwargs)
            started = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                entry[0] += 1
                entry[1] += clock() - started

        return timed

    for spec in filter(None, os.environ.get("RITROVO_BENCH_FNS", "").split(",")):
        module_name, _, qualname = spec.strip().partition(":")
        owner: Any = importlib.import_module(module_name)
        *outer, last = qualname.split(".")
        for part in outer:
            owner = getattr(owner, part)
        setattr(owner, last, wrap(spec, getattr(owner, last)))

    def toggle(*_: Any) -> None:
        if window:
            cpu = time.process_time() - window.pop()
            with open(f"{path}.{os.getpid()}.fn", "w") as f:
                json.dump({"cpu": cpu, "by_function": totals}, f, indent=1)
            return
        for entry in totals.values():
            entry[:] = [0, 0.0]
        window.append(time.process_time())

    signal.signal(signal.SIGUSR2, toggle)


def _gc_thresholds() -> None:
    """Make the server's gc.set_threshold use $RITROVO_BENCH_GC ("700,10,10") instead."""
    import gc

    wanted = [int(n) for n in os.environ["RITROVO_BENCH_GC"].split(",")]
    original = gc.set_threshold
    gc.set_threshold = lambda *_: original(*wanted)  # type: ignore[assignment]


def _gc_trace() -> None:
    """Write every garbage collection that took over 5 ms to $RITROVO_BENCH_TRACE.<pid>.gc.

    $RITROVO_BENCH_GC_MIN_MS sets another bound (0: every collection, to add
    up what the collector costs in all).
    """
    import gc
    import time

    path = os.environ.get("RITROVO_BENCH_TRACE", "trace.txt")
    out = open(f"{path}.{os.getpid()}.gc", "a", buffering=1)  # noqa: SIM115
    started: list[float] = [0.0]
    bound = float(os.environ.get("RITROVO_BENCH_GC_MIN_MS", "5")) / 1000

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            took = time.perf_counter() - started[0]
            if took >= bound:
                out.write(
                    f"{started[0]:.4f} gc gen{info['generation']} {1000 * took:.1f} ms collected {info['collected']}\n"
                )

    gc.callbacks.append(callback)


def _trace() -> None:
    import time

    from ritrovo import service
    from ritrovo.edge import hub

    path = os.environ.get("RITROVO_BENCH_TRACE", "trace.txt")
    out = open(f"{path}.{os.getpid()}", "a", buffering=1)  # noqa: SIM115 - one file per process
    clock = time.perf_counter
    original_frames = hub.RoomHub._frames
    original_write_out = hub.RoomHub._write_out

    def frames(self: Any, room: Any, pack: Any, members: Any) -> Any:
        start = clock()
        result = original_frames(self, room, pack, members)
        out.write(
            f"{start:.4f} frames {1000 * (clock() - start):.1f} {len(members)} seq={room.seq}\n"
        )
        return result

    async def write_out(self: Any, frames: Any) -> float:
        start = clock()
        busy: float = await original_write_out(self, frames)
        out.write(
            f"{start:.4f} flush {1000 * busy:.1f} {len(frames)} wall={1000 * (clock() - start):.1f}\n"
        )
        return busy

    hub.RoomHub._frames = frames  # type: ignore[method-assign]
    hub.RoomHub._write_out = write_out  # type: ignore[method-assign]
    original_batch = service.GameService._try_batch

    async def try_batch(self: Any, code: str, batch: Any) -> Any:
        start = clock()
        try:
            return await original_batch(self, code, batch)
        finally:
            out.write(f"{start:.4f} batch {1000 * (clock() - start):.1f} {len(batch)}\n")

    service.GameService._try_batch = try_batch  # type: ignore[method-assign]

    async def lag() -> None:
        while True:
            before = clock()
            await asyncio.sleep(0.01)
            late = clock() - before - 0.01
            if late > 0.005:
                out.write(f"{before:.4f} lag {1000 * late:.1f}\n")

    original_run = asyncio.BaseEventLoop.run_forever

    def run_forever(self: Any) -> None:
        self.call_soon(lambda: self.create_task(lag()))
        original_run(self)

    asyncio.BaseEventLoop.run_forever = run_forever  # type: ignore[method-assign]


if __name__ == "__main__":
    apply()
    from ritrovo.cli import main

    main(sys.argv[1:])
