"""The periodic full collection frees cycles, and waits for a quiet moment to do it."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Callable, Iterator

import pytest
from ritrovo import garbage


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def no_automatic_collection() -> Iterator[None]:
    gc.disable()  # so that only the collector under test can free the cycle
    try:
        yield
    finally:
        gc.enable()


async def freed_after(
    last_command_at: Callable[[], float], interval: float, *, closes: int = 1
) -> float | None:
    """Seconds until a garbage cycle made now is freed by the collector (None: not in 10 intervals).

    ``closes`` connections close once the collector runs (their cycles are
    what it is for).
    """
    freed = asyncio.Event()
    node = Node()
    weakref.finalize(node, freed.set)
    del node
    running = garbage.collector(interval, last_command_at)(None)
    await running.__anext__()
    await asyncio.sleep(0)  # one turn: the collector's task starts and notes the count
    for _ in range(closes):
        garbage.connection_closed()
    started = time.monotonic()
    try:
        await asyncio.wait_for(freed.wait(), 10 * interval)
    except TimeoutError:
        return None
    finally:
        with pytest.raises(StopAsyncIteration):
            await running.__anext__()
    return time.monotonic() - started


async def test_a_quiet_process_collects_every_interval(no_automatic_collection: None) -> None:
    took = await freed_after(lambda: 0.0, 0.2)
    assert took is not None and took < 1.0


async def test_an_idle_process_with_nothing_closed_does_not_scan(
    no_automatic_collection: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full scan of 20,000 idle players took 1.2 s; with no connection
    # closed there are no old cycles for it to find.
    monkeypatch.setattr(garbage, "CHECK_EVERY", 0.05)
    assert await freed_after(lambda: 0.0, 0.1, closes=0) is None


async def test_a_busy_process_waits_but_not_forever(no_automatic_collection: None) -> None:
    # A command "just now" at every look: the collection waits five intervals.
    took = await freed_after(time.monotonic, 0.2)
    assert took is not None and 0.9 <= took < 2.0


async def test_many_closed_connections_bring_the_collection_forward(
    no_automatic_collection: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(garbage, "MIN_GAP", 0.2)
    monkeypatch.setattr(garbage, "CHECK_EVERY", 0.1)
    # An interval of a minute: only the closes can bring a collection within seconds.
    freed = asyncio.Event()
    node = Node()
    weakref.finalize(node, freed.set)
    del node
    running = garbage.collector(60.0, lambda: 0.0)(None)
    await running.__anext__()
    try:
        await asyncio.sleep(0)  # one turn: the collector's task starts and notes the count
        for _ in range(garbage.CLOSED_BATCH):
            garbage.connection_closed()
        await asyncio.wait_for(freed.wait(), 5)
    finally:
        with pytest.raises(StopAsyncIteration):
            await running.__anext__()


async def collected_while_busy(closes: int, within: float) -> bool:
    """Is a garbage cycle freed within ``within`` seconds, with a command at every
    look and ``closes`` connections closed (an interval of a minute)?"""
    freed = asyncio.Event()
    node = Node()
    weakref.finalize(node, freed.set)
    del node
    running = garbage.collector(60.0, time.monotonic)(None)
    await running.__anext__()
    try:
        await asyncio.sleep(0)  # one turn: the collector's task starts and notes the count
        for _ in range(closes):
            garbage.connection_closed()
        try:
            await asyncio.wait_for(freed.wait(), within)
        except TimeoutError:
            return False
        return True
    finally:
        with pytest.raises(StopAsyncIteration):
            await running.__anext__()


async def test_a_pile_of_closed_connections_is_collected_even_when_busy(
    no_automatic_collection: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Connection churn: a command at every look, and a pile of closed
    # connections. The pile (its memory) does not wait five intervals.
    monkeypatch.setattr(garbage, "PILE_GAP", 0.1)
    monkeypatch.setattr(garbage, "CHECK_EVERY", 0.05)
    assert await collected_while_busy(garbage.CLOSED_BATCH, within=5)


async def test_a_busy_process_with_fewer_closes_still_waits(
    no_automatic_collection: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Below the pile, a busy process keeps its collection for a quiet moment
    # (S2's p99): not within ten looks.
    monkeypatch.setattr(garbage, "MIN_GAP", 0.05)
    monkeypatch.setattr(garbage, "PILE_GAP", 0.05)
    monkeypatch.setattr(garbage, "CHECK_EVERY", 0.05)
    assert not await collected_while_busy(garbage.CLOSED_BATCH - 1, within=0.5)


def test_the_gap_follows_what_a_collection_costs() -> None:
    assert garbage.gap(60.0, float("inf")) == 60.0  # none yet: the interval
    assert garbage.gap(60.0, 0.005) == garbage.MIN_GAP  # a small heap: 5 ms
    assert garbage.gap(60.0, 0.3) == 30.0  # 1% of the time between two
    assert garbage.gap(60.0, 1.2) == 60.0  # 20,000 idle players: the interval
    assert garbage.pile_gap(0.0) == garbage.PILE_GAP
    assert garbage.pile_gap(0.2) == 4.0  # 5% of the loop
    assert garbage.pile_gap(1.2) == pytest.approx(24.0)  # a pile of closes in a crowd of 20,000


async def test_after_a_cheap_collection_a_quiet_process_collects_sooner(
    no_automatic_collection: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An interval of a minute; the first collection (many closes) is cheap,
    # so what closes after it is collected MIN_GAP later, not a minute. (A
    # full collection of the test process's heap takes tens of milliseconds:
    # COST_SHARE is raised so that it counts as cheap.)
    monkeypatch.setattr(garbage, "MIN_GAP", 0.2)
    monkeypatch.setattr(garbage, "COST_SHARE", 0.5)
    monkeypatch.setattr(garbage, "CHECK_EVERY", 0.05)
    running = garbage.collector(60.0, lambda: 0.0)(None)
    await running.__anext__()
    try:
        await asyncio.sleep(0)  # one turn: the collector's task starts and notes the count
        for round_ in range(2):
            freed = asyncio.Event()
            node = Node()
            weakref.finalize(node, freed.set)
            del node
            for _ in range(garbage.CLOSED_BATCH if round_ == 0 else 1):
                garbage.connection_closed()
            await asyncio.wait_for(freed.wait(), 5)
    finally:
        with pytest.raises(StopAsyncIteration):
            await running.__anext__()
