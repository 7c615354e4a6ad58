"""The cyclic garbage collector of a serving process: rarely, and when the rooms are quiet.

A busy room makes garbage fast, and Python's defaults then scan the oldest
generation (every live room, player and connection) every few seconds: in S2
those full collections took 100-150 ms each and set the p99 of line
delivery. So ``ritrovo serve`` freezes what start-up loaded and collects the
oldest generation rarely, the younger ones in small steps (``configure``).

But a closed connection left reference cycles behind (Python 3.11's socket
transport keeps a bound method of itself, CPython gh-100348; aiohttp's
WebSocket objects refer to each other): only a full collection frees them,
and with those thresholds one may not come for hours. In the issue-12 soak,
16,700 closed connections kept about 110 MiB that nothing ever freed. The
TCP edge now breaks those cycles when a connection is lost (``edge/tcp.py``),
and the service a refused command's (``service.py``); what cycles other
code makes around a connection still wait for a full collection. So a
full collection also runs every ``gc_interval`` seconds if a connection
closed since the last one (else there is nothing for it to find; every
``MIN_GAP`` seconds if the last one was cheap, see ``gap``), and sooner
once many connections have closed since the last one (at most every ``MIN_GAP``
seconds), at a moment when no command has come for a while (never in the
middle of a burst of guesses), or anyway after five intervals, or, quiet
or not, as soon as ``CLOSED_BATCH`` connections have closed and the last
collection's cost allows (churn never leaves a quiet moment, and the pile's
memory would stay with the process: ``pile_gap``); and the
memory it frees is handed back to the system (``malloc_trim``), so the
process's size follows its rooms.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

log = logging.getLogger(__name__)

QUIET_SECONDS = 2.0  # no command for this long: a good moment for a full collection
CHECK_EVERY = 1.0  # seconds between looks for such a moment
CLOSED_BATCH = 200  # connections closed since the last collection: collect before the interval
MIN_GAP = 10.0  # seconds at least between two collections for closed connections, when quiet
# A full collection may take at most this share of the time between two
# (see ``gap`` and ``pile_gap``).
COST_SHARE = 0.01
# Seconds at least between two collections for a pile of closed connections
# (CLOSED_BATCH), quiet or not, and the share of the loop they may take
# (``pile_gap``).
PILE_GAP = 1.0
PILE_COST_SHARE = 0.05

_closed = 0  # connections closed in this process (connection_closed)


def connection_closed() -> None:
    """Count a closed connection (the TCP edge calls it): its cycles wait for a full collection."""
    global _closed
    _closed += 1


def configure() -> None:
    """Freeze what is loaded so far and make full collections rare (call once, after start-up)."""
    # Everything loaded so far (modules, the app, the pack library) lives as
    # long as the process: out of the collector's sight, full collections scan
    # only what the game made.
    gc.freeze()
    # (CPython collects a generation once its count passes its threshold:
    # the young one counts objects made less objects freed, each older one
    # the collections of the one below it. The oldest also waits until the
    # objects moved into it since its last collection are a quarter of it.)
    # The young generation every 2,000 objects: a young collection walks
    # what the young objects refer to, cold memory in a busy server, and at
    # 10,000 it held the event loop 12-20 ms every ~9 s, long enough to set
    # S2's p99 (7.2-10.2 ms over three 60 s runs, against 6.0-7.6 ms with ~3
    # ms collections six times as often; the same total time). The middle
    # one every 11 young ones (~22,000 objects): what a wave of joins leaves
    # behind (1,600 players' connections) is walked in steps of 5-16 ms as it
    # comes, not in one 70 ms collection in the middle of the game (after
    # 101, ~200,000 objects, it set S2's p99: 18-30 ms against 9-20 ms in
    # three alternating runs). The oldest at most every 201 middle ones,
    # ~4.4 million objects (~4.2 million before; the defaults, 700, 10, 10,
    # came round every few seconds in a busy room): more objects reach it
    # now, but its own threshold caps how often it comes.
    gc.set_threshold(2_000, 10, 200)


def _malloc_trim() -> Callable[[], None]:
    """glibc's malloc_trim(0), or nothing where there is no glibc."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is None:
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


def collector(
    interval: float, last_command_at: Callable[[], float]
) -> Callable[[Any], AsyncIterator[None]]:
    """An aiohttp cleanup context that runs a full collection about every ``interval`` seconds.

    ``last_command_at`` gives the ``time.monotonic()`` of the last command
    (see ``GameService.last_command_at``).
    """

    async def running(app: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(_collect(interval, last_command_at), name="gc")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return running


def gap(interval: float, took: float) -> float:
    """Seconds from one full collection to the next when a few connections closed.

    ``interval`` for a big heap, but no more than ``took`` (what the last
    full collection took) allows at ``COST_SHARE`` of the loop, and at least
    ``MIN_GAP``. A small heap's collection takes milliseconds: what closed
    after the last one (the last of a burst, the store's idle connections)
    waited a whole interval, and the soak found 855 closed transports still
    waiting a minute after its abuse. 20,000 idle players (1.2 s a scan)
    still wait the interval.
    """
    return min(interval, max(MIN_GAP, took / COST_SHARE))


def pile_gap(took: float) -> float:
    """Seconds from one full collection to the next for ``CLOSED_BATCH`` closed
    connections, busy or not: what the last one ``took`` allows at
    ``PILE_COST_SHARE`` of the loop, at least ``PILE_GAP``.

    Under connection churn (a crowd reconnecting, the issue-12 soak's abuse)
    commands never stop, and the collection waited five intervals while the
    closed connections' cycles piled up (8,000 transports and their handlers
    at the soak's end, ~7 KiB each; the process's pymalloc arenas 28 -> 72).
    pymalloc gives an arena back only when every block in it is free, and
    once the pile was freed not one of the 44 new arenas was: the few objects
    that lived on, made meanwhile, are spread over all of them (RSS stayed
    1.9x the baseline). The peak sets what the process keeps: a pile of 200,
    collected as often as that costs 5% of the loop (for a small heap, every
    second or two), keeps it small. Not 1%: a collection's time grows with
    the pile itself, and at 1% the gap grew with it (the soak's collections
    came tens of seconds apart, 4,600 closed transports waiting). Each of
    these collections frees hundreds of connections; at 20,000 players (1.2 s
    a scan) they come at most every 24 s.
    """
    return max(PILE_GAP, took / PILE_COST_SHARE)


async def _collect(interval: float, last_command_at: Callable[[], float]) -> None:
    trim = _malloc_trim()
    last = time.monotonic()
    took = 0.0  # seconds the last full collection took (none yet: start-up's heap is frozen)
    closed_then = _closed
    while True:
        await asyncio.sleep(min(CHECK_EVERY, interval))
        now = time.monotonic()
        closed = _closed - closed_then
        many_closed = closed >= CLOSED_BATCH and now - last >= MIN_GAP
        # Only closed connections leave cycles in the old generation behind
        # (the young generations take care of the rest): with none closed,
        # a full scan finds nothing, and with 20,000 idle players it took
        # 1.2 s of the loop every minute (S3: a fifth of an idle server's CPU).
        due = (now - last >= gap(interval, took) and closed > 0) or many_closed
        quiet = now - last_command_at() >= QUIET_SECONDS
        pile = closed >= CLOSED_BATCH and now - last >= pile_gap(took)
        if not pile and (not due or not (quiet or now - last >= 5 * interval)):
            continue
        started = time.perf_counter()
        closed_then = _closed
        freed = gc.collect()
        trim()
        last = time.monotonic()
        took = time.perf_counter() - started
        log.debug("full garbage collection: %d objects freed in %.1f ms", freed, 1000 * took)
