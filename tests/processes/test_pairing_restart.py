"""A coffee pairing survives a crash of the server process (real ``ritrovo serve``, real Redis).

The host starts a pairing of four players; the server is SIGKILLed and
started again on the same Redis. The players come back with their resume
tokens and find their group, breakout room, prompt and timer as they were,
and the pairing still ends at its original deadline (a stored deadline,
fired by the new process).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from ritrovo.client import RitrovoClient, join
from support.protocol_helpers import create_room
from support.servers import ServeProcess, crash_and_restart

SECONDS = 15  # the shortest pairing the rules allow
TOLERANCE = 1.5


def has_group(message: dict[str, Any]) -> bool:
    return message["type"] == "you" and message.get("pairing") is not None


async def test_pairing_and_its_timer_survive_a_server_crash(redis_url: str) -> None:
    first = ServeProcess(redis_url)
    await asyncio.to_thread(first.start)
    second: ServeProcess | None = None
    clients: list[RitrovoClient] = []
    try:
        room = await create_room(first.base_url, "Coffee after a crash")
        code, host_token = room["code"], room["host_token"]
        host = await RitrovoClient.connect(first.ws_url)
        clients.append(host)
        await host.hello("host", room=code, token=host_token)
        players: dict[str, RitrovoClient] = {}
        for name in ("Ada", "Ben", "Cy", "Dee"):
            players[name] = await join(first.ws_url, code, name)
            clients.append(players[name])
        tokens = {name: (c.welcome or {})["token"] for name, c in players.items()}
        await host.wait_state(lambda s: s["players_count"] == 4)

        await host.request("start_pairing", seconds=SECONDS, seed=11)
        before = await host.wait_state(lambda s: s["pairing"] is not None)
        deadline = before["pairing"]["deadline_at"]
        assert deadline - time.time() > SECONDS - 3
        groups_before: dict[str, dict[str, Any]] = {}
        for name, client in players.items():
            message = await client.wait_for(has_group)
            groups_before[name] = message["pairing"]

        # Crash mid-pairing: no shutdown, no goodbye to the clients.
        second = await crash_and_restart(first, clients)
        assert time.time() < deadline - 2, "the restart took too long for this test to mean much"

        host = await RitrovoClient.connect(second.ws_url)
        clients.append(host)
        await host.hello("host", room=code, token=host_token)
        after = await host.wait_state(lambda s: s["pairing"] is not None)
        assert after["pairing"]["assignment"] == before["pairing"]["assignment"]
        assert after["pairing"]["deadline_at"] == deadline
        for name in players:
            client = await RitrovoClient.connect(second.ws_url)
            clients.append(client)
            await client.hello("rejoin", room=code, token=tokens[name])
            players[name] = client
            message = await client.wait_for(has_group)
            assert message["pairing"] == groups_before[name]

        # The pairing still ends at its original deadline, on the new process.
        await host.wait_state(
            lambda s: s["pairing"] is None,
            timeout=max(1.0, deadline - time.time()) + TOLERANCE + 3,
        )
        seen_at = time.time()
        assert deadline - 0.2 <= seen_at <= deadline + TOLERANCE, seen_at - deadline
        for client in players.values():
            await client.wait_for(lambda m: m["type"] == "you" and m["pairing"] is None)
        # Its groups are the session's history: the next rotation repeats none of them.
        ack = await host.request("start_pairing", seconds=SECONDS)
        assert ack["result"]["rotation"] == 2
    finally:
        for client in clients:
            if not client.closed.done():
                await client.close()
        for process in (second, first):
            if process is not None:
                await asyncio.to_thread(process.stop)


pytestmark = pytest.mark.timeout(60)
