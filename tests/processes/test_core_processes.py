"""Real `ritrovo serve` processes on one real Redis: fan-out across processes, restarts."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from ritrovo.client import RitrovoClient, join
from support.protocol_helpers import create_room
from support.redis_server import RedisServer
from support.servers import ServeProcess


@pytest.fixture
def two_servers(
    redis_server: RedisServer, redis_url: str
) -> Iterator[tuple[ServeProcess, ServeProcess]]:
    with ServeProcess(redis_url) as a, ServeProcess(redis_url) as b:
        yield a, b


def names(state: dict[str, Any]) -> set[str]:
    return {p["name"] for team in state["teams"] for p in team["players"]}


async def test_two_processes_share_a_room(two_servers: tuple[ServeProcess, ServeProcess]) -> None:
    a, b = two_servers
    room = await create_room(a.base_url, "All hands")
    ada = await join(a.ws_url, room["code"], "Ada")
    bob = await join(b.ws_url, room["code"], "Bob")
    # Each sees the other at once, whichever process they are connected to.
    await ada.wait_state(lambda s: names(s) == {"Ada", "Bob"})
    await bob.wait_state(lambda s: names(s) == {"Ada", "Bob"})
    # A host action on process B reaches a player on process A.
    host = await RitrovoClient.connect(b.ws_url)
    await host.hello("host", room=room["code"], token=room["host_token"])
    await host.request("create_team", name="Tre")
    await ada.wait_state(lambda s: any(t["name"] == "Tre" for t in s["teams"]))
    for client in (ada, bob, host):
        await client.close()


async def test_player_resumes_after_the_server_is_killed(redis_url: str) -> None:
    server = ServeProcess(redis_url).start()
    try:
        room = await create_room(server.base_url, "All hands")
        ada = await join(server.ws_url, room["code"], "Ada")
        token = ada.welcome["token"]  # type: ignore[index]
        before = ada.welcome["player"]  # type: ignore[index]
        server.kill()  # SIGKILL: no goodbye, no flush
        await ada.closed
        server.start()  # same port, same Redis
        again = await RitrovoClient.connect(server.ws_url)
        welcome = await again.hello("rejoin", room=room["code"], token=token)
        assert welcome["player"] == before
        state = await again.wait_state(lambda s: "Ada" in names(s))
        assert state["name"] == "All hands"
        await again.close()
    finally:
        server.stop()


def test_memory_store_is_the_default() -> None:
    with ServeProcess(None) as server:
        with urllib.request.urlopen(server.base_url + "/healthz", timeout=5) as response:
            health = json.load(response)
        assert health["ok"] is True and health["durable"] is False
        assert "in-memory" in server.log_path.read_text()
