"""Coroutines run at once, in the caller, up to their first wait.

A task per small piece of work (a flush, a socket write, a ping) costs a
task object, its scheduling and a turn of the event loop before it even
starts; most of these pieces never wait at all. ``start`` runs one to its
first suspension right away and only then hands what is left to a task
(``Suspended`` resumes it there). Python 3.12's eager tasks do the same;
Ritrovo runs on 3.11.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any


class Suspended:
    """A coroutine started by hand and suspended on ``awaited``: awaiting this finishes it.

    The task that awaits it waits for ``awaited`` first (as the coroutine
    itself would have under a task), then resumes the coroutine to its end.
    A cancellation is passed on to the coroutine.
    """

    __slots__ = ("awaited", "coro")

    def __init__(self, coro: Coroutine[Any, Any, Any], awaited: Any) -> None:
        self.coro = coro
        self.awaited = awaited

    def __await__(self) -> Generator[Any, Any, Any]:
        awaited = self.awaited
        while True:
            try:
                sent = yield awaited
            except BaseException as exc:  # noqa: BLE001 - passed on to the coroutine
                try:
                    awaited = self.coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                awaited = self.coro.send(sent)
            except StopIteration as stop:
                return stop.value


async def _finish(suspended: Suspended) -> Any:
    return await suspended


def start(coro: Coroutine[Any, Any, Any], *, name: str | None = None) -> asyncio.Task[Any] | None:
    """Run ``coro`` now up to its first wait; None if it finished, else the task finishing it.

    An exception it raises before waiting is raised here, to the caller.
    """
    try:
        awaited = coro.send(None)
    except StopIteration:
        return None
    task = asyncio.get_running_loop().create_task(_finish(Suspended(coro, awaited)), name=name)
    # A task cancelled before its first step never passes the cancellation
    # on: the coroutine, suspended here, is closed then (its ``finally``
    # blocks run now, not whenever it is collected). Closing a coroutine
    # that finished does nothing.
    task.add_done_callback(lambda _: coro.close())
    return task
