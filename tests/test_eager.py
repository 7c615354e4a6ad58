"""Coroutines run at once up to their first wait (server/edge/eager.py)."""

from __future__ import annotations

import asyncio

import pytest
from ritrovo.edge import eager


async def test_a_coroutine_that_never_waits_runs_to_its_end_at_once() -> None:
    steps: list[str] = []

    async def work() -> None:
        steps.append("ran")

    assert eager.start(work()) is None
    assert steps == ["ran"]  # before any turn of the event loop


async def test_what_waits_goes_on_in_a_task_in_the_order_of_its_steps() -> None:
    steps: list[str] = []
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def work() -> str:
        steps.append("before")
        steps.append(await gate)
        await asyncio.sleep(0)  # a bare yield, as between a flush's slices
        steps.append("after")
        return "done"

    task = eager.start(work(), name="waits")
    assert task is not None and task.get_name() == "waits"
    assert steps == ["before"]
    gate.set_result("opened")
    assert await asyncio.wait_for(task, 5) == "done"
    assert steps == ["before", "opened", "after"]


async def test_an_error_before_the_first_wait_is_the_callers_and_after_it_the_tasks() -> None:
    async def fails_at_once() -> None:
        raise ValueError("at once")

    with pytest.raises(ValueError, match="at once"):
        eager.start(fails_at_once())

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise ValueError("later")

    task = eager.start(fails_later())
    assert task is not None
    with pytest.raises(ValueError, match="later"):
        await asyncio.wait_for(task, 5)


@pytest.mark.parametrize("stepped", [True, False], ids=["where-it-waits", "before-its-first-step"])
async def test_cancelling_the_task_closes_the_coroutine(stepped: bool) -> None:
    """Cancelled where it waits, the coroutine gets the cancellation; cancelled before
    the task's first step, it is closed then, not when the coroutine is collected."""
    cleaned: list[bool] = []
    ended_by: list[type[BaseException]] = []

    async def work() -> None:
        try:
            await asyncio.Event().wait()
        except BaseException as exc:
            ended_by.append(type(exc))
            raise
        finally:
            cleaned.append(True)

    coro = work()  # held, as a reference cycle would hold it: not freed on the spot
    task = eager.start(coro)
    assert task is not None
    if stepped:
        await asyncio.sleep(0)  # one turn: the task takes its first step (checked below)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert cleaned == [True]
    # The two ways were the ones meant: the cancellation thrown in, or the close.
    assert ended_by == [asyncio.CancelledError if stepped else GeneratorExit]
