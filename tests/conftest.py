"""Shared fixtures.

Redis (a real redis-server started by the tests, never the system one):
  redis_server        session  RedisServer on 127.0.0.1:<free port>, stopped at the end
  redis_url           function "redis://127.0.0.1:PORT/N": a logical db (1-15, round
                               robin) on redis_server, FLUSHDB'd before the test
  fresh_redis_server  function its own RedisServer, for kill()/start() outage tests

Stores (every test that asks for one runs once per kind):
  store_kind          function "memory" or "redis" (the parameter)
  make_store          function factory: make_store(room_ttl=None) -> a new store of that
                               kind (Redis: on redis_url); every store made is closed
                               after the test, even one an app already closed
  store               function make_store(room_ttl=100), for the store contract tests

Browser (system Chromium through Playwright, async):
  browser             function a launched headless Browser, closed afterwards
  artifacts_dir       session  <repo>/artifacts/ (created), for screenshots
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
if str(TESTS_DIR) not in sys.path:  # make `import support` work in every import mode
    sys.path.insert(0, str(TESTS_DIR))

from ritrovo.store.base import RoomStore
from ritrovo.store.memory import MemoryStore
from ritrovo.store.redis import RedisStore
from support.browser import launch_chromium
from support.redis_server import RedisServer

if TYPE_CHECKING:
    from playwright.async_api import Browser

# db 0 is left alone so a test that wants the plain server URL can use it.
_DB_INDEXES = itertools.cycle(range(1, 16))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    if not redis_server.is_running:  # some test stopped or killed the shared server
        redis_server.start()
    db = next(_DB_INDEXES)
    redis_server.flushdb(db)  # allowed: we started this server
    return redis_server.url_for(db)


@pytest.fixture
def fresh_redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(params=["memory", "redis"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_store(
    store_kind: str, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., RoomStore]]:
    made: list[RoomStore] = []

    def factory(room_ttl: float | None = None) -> RoomStore:
        store: RoomStore
        if store_kind == "memory":
            store = MemoryStore(room_ttl=room_ttl)
        else:  # asked for here, so the memory runs never start Redis
            store = RedisStore(request.getfixturevalue("redis_url"), room_ttl=room_ttl)
        made.append(store)
        return store

    yield factory
    for store in made:  # closing twice is harmless; a leaked Redis connection is not
        await store.close()


@pytest.fixture
def store(make_store: Callable[..., RoomStore]) -> RoomStore:
    return make_store(room_ttl=100)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = REPO_ROOT / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await launch_chromium(playwright)
        try:
            yield instance
        finally:
            await instance.close()
