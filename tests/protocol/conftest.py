from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from ritrovo.store.base import RoomStore
from support.servers import RunningServer, running_server, test_settings

ServerFactory = Callable[..., AbstractAsyncContextManager[RunningServer]]


@pytest.fixture
async def server(make_store: Callable[[], RoomStore]) -> AsyncIterator[RunningServer]:
    async with running_server(test_settings(), store=make_store()) as running:
        yield running


@pytest.fixture
def server_with(make_store: Callable[[], RoomStore]) -> Callable[..., Any]:
    """A server with some settings changed: ``async with server_with(max_players_per_room=2)``."""

    def factory(**overrides: Any) -> AbstractAsyncContextManager[RunningServer]:
        return running_server(test_settings(**overrides), store=make_store())

    return factory
