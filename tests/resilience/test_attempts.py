"""Failed attempts per address: the check and the count are one atomic step.

Each attempt to enter a room takes one of the window's places before any
work; a failure keeps it, a success gives it back. Parallel guesses cannot
all pass the check before the first is counted, and an office behind one
address joining at once is admitted in turn.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.edge.guards import AttemptLimiter
from ritrovo.errors import ErrorCode, LimitExceeded, StoreUnavailable
from ritrovo.store.base import RoomStore
from ritrovo.store.memory import MemoryStore
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

LIMIT = 30  # the default join_attempts_per_minute
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def unknown_codes(count: int) -> list[str]:
    """Codes of the right shape (so each is looked up in the store) that are no room."""
    return ["".join(chars) for chars in itertools.islice(itertools.product("ZYX", repeat=6), count)]


async def attempt_held_open(
    limiter: AttemptLimiter, release: asyncio.Event, fail: bool, entered: list[int]
) -> str:
    """One attempt that stays in flight until ``release``: its outcome as a word."""
    try:
        async with limiter.attempt("join", "10.0.0.1") as attempt:
            entered.append(1)
            await release.wait()
            attempt.failed = fail
    except LimitExceeded:
        return "refused"
    return "failed" if fail else "done"


async def test_more_parallel_successes_than_places_are_all_admitted_in_turn() -> None:
    limiter = AttemptLimiter(MemoryStore(), FakeClock(), limit=3, wait=5.0)
    release = asyncio.Event()
    entered: list[int] = []
    tasks = [
        asyncio.create_task(attempt_held_open(limiter, release, False, entered)) for _ in range(8)
    ]
    async with asyncio.timeout(5):
        while len(entered) < 3:
            await asyncio.sleep(0)
        for _ in range(20):  # let the others find every place held, and wait
            await asyncio.sleep(0)
        assert len(entered) == 3  # never more in flight than the limit
        release.set()  # each success gives its place back to one waiting attempt
        assert await asyncio.gather(*tasks) == ["done"] * 8


async def test_more_parallel_failures_than_places_fail_only_the_limit() -> None:
    limiter = AttemptLimiter(MemoryStore(), FakeClock(), limit=3, wait=5.0)
    release = asyncio.Event()
    entered: list[int] = []
    tasks = [
        asyncio.create_task(attempt_held_open(limiter, release, True, entered)) for _ in range(20)
    ]
    async with asyncio.timeout(5):
        while len(entered) < 3:
            await asyncio.sleep(0)
        release.set()
        outcomes = Counter(await asyncio.gather(*tasks))
    assert outcomes == {"failed": 3, "refused": 17}
    with pytest.raises(LimitExceeded):  # and so until the next window
        async with limiter.attempt("join", "10.0.0.1"):
            pass


async def test_a_store_outage_refuses_the_attempt_as_unavailable() -> None:
    class Down(MemoryStore):
        async def reserve(self, *args: Any, **kwargs: Any) -> tuple[bool, int]:
            raise StoreUnavailable("down", code=ErrorCode.STORE_UNAVAILABLE)

    limiter = AttemptLimiter(Down(), FakeClock(), limit=3)
    with pytest.raises(StoreUnavailable):
        async with limiter.attempt("join", "10.0.0.1"):
            pass


async def outcome(url: str, hello: dict[str, Any]) -> str:
    """The opening's answer: "welcome", or the error code."""
    client = await RitrovoClient.connect(url)
    try:
        await client.hello(**hello)
    except ProtocolError as err:
        return err.code
    finally:
        await client.close()
    return "welcome"


async def test_parallel_wrong_codes_fail_at_most_the_limit(
    make_store: Callable[..., RoomStore],
) -> None:
    """200 openings at once from one address with wrong codes, on both stores."""
    settings = fast_settings(join_attempts_per_minute=LIMIT, max_connections_per_address=1000)
    async with running_server(settings, store=make_store(), clock=FakeClock()) as srv:
        hellos = [{"kind": "join", "room": code, "name": "Eve"} for code in unknown_codes(200)]
        async with asyncio.timeout(40):
            answers = Counter(await asyncio.gather(*(outcome(srv.ws_url, h) for h in hellos)))
    assert answers == {"room_not_found": LIMIT, "too_many_attempts": 200 - LIMIT}


async def test_an_office_behind_one_address_joins_at_once(
    make_store: Callable[..., RoomStore],
) -> None:
    """50 colleagues join in parallel from one address: all admitted, with a limit of 30."""
    settings = fast_settings(join_attempts_per_minute=LIMIT)
    async with running_server(settings, store=make_store(), clock=FakeClock()) as srv:
        room = await create_room(srv.base_url)
        hellos = [
            {"kind": "join", "room": room["code"], "name": f"Colleague {i}"} for i in range(50)
        ]
        async with asyncio.timeout(40):
            answers = await asyncio.gather(*(outcome(srv.ws_url, h) for h in hellos))
        assert answers == ["welcome"] * 50
        # Their successes left every place free: a typo still gets its honest answer.
        assert await outcome(srv.ws_url, {"kind": "join", "room": "ZZZZZ2", "name": "X"}) == (
            "room_not_found"
        )


async def test_wrong_resume_tokens_are_counted() -> None:
    settings = fast_settings(join_attempts_per_minute=3)
    async with running_server(settings, clock=FakeClock()) as srv:
        room = await create_room(srv.base_url)
        ada = await join(srv.ws_url, room["code"], "Ada")
        token = ada.welcome["token"] if ada.welcome else ""
        await ada.close()
        wrong = {"kind": "rejoin", "room": room["code"], "token": "not-a-token"}
        async with asyncio.timeout(20):
            assert [await outcome(srv.ws_url, wrong) for _ in range(3)] == ["unknown_token"] * 3
            # Now even the right token is refused until the next minute.
            right = {**wrong, "token": token}
            assert await outcome(srv.ws_url, right) == "too_many_attempts"
