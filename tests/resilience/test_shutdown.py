"""SIGTERM: a process hands its timer lease over, tells its clients to reconnect
(1012) and exits in bounded time; the clients resume on another process."""

from __future__ import annotations

import asyncio
import json
import time

from ritrovo import protocol
from ritrovo.client import RitrovoClient, join
from support.protocol_helpers import create_room
from support.servers import ServeProcess

LEASE_TTL = 6.0  # long: a takeover faster than this proves the lease was handed over


async def wait_health(proc: ServeProcess, key: str, value: object, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while (await asyncio.to_thread(proc.health))[1].get(key) != value:
            await asyncio.sleep(0.1)  # bounded polling of process health


async def test_sigterm_drains_clients_to_another_process(redis_url: str) -> None:
    env = {"RITROVO_TIMER_LEASE_TTL": str(LEASE_TTL), "RITROVO_SHUTDOWN_TIMEOUT": "4"}
    leaving = ServeProcess(redis_url, None, **env)
    staying = ServeProcess(redis_url, None, **env)
    clients: list[RitrovoClient] = []
    try:
        await asyncio.to_thread(leaving.start, 40)
        await wait_health(leaving, "timer_lease", True, 10)  # the first process takes the lease
        await asyncio.to_thread(staying.start, 40)

        room = await create_room(leaving.base_url, "Rolling restart")
        code = room["code"]
        host = await RitrovoClient.connect(leaving.ws_url)
        clients.append(host)
        await host.hello("host", room=code, token=room["host_token"])
        await host.request("create_team", name="Gatti")
        ada = await join(leaving.ws_url, code, "Ada")
        clients.append(ada)
        token = ada.welcome["token"]  # type: ignore[index]

        leaving.terminate()
        signalled = time.monotonic()
        for client in (host, ada):
            notice = await client.wait_for(lambda m: m["type"] == "notice", timeout=10)
            assert notice["code"] == "service_restart"
            close_code, _ = await asyncio.wait_for(client.closed, 10)
            assert close_code == protocol.CloseCode.SERVICE_RESTART
        assert await asyncio.to_thread(leaving.wait_exit, 10) == 0
        assert time.monotonic() - signalled < 4 + 3  # shutdown_timeout plus start-up slack

        # The lease was handed over, not left to expire.
        await wait_health(staying, "timer_lease", True, LEASE_TTL / 3 + 2)

        again = await RitrovoClient.connect(staying.ws_url)
        clients.append(again)
        welcome = await again.hello("rejoin", room=code, token=token)
        assert welcome["player"]["name"] == "Ada"
        state = await again.wait_state(lambda s: any(t["name"] == "Gatti" for t in s["teams"]))
        assert state["players_count"] == 1

        # Logs are JSON lines that name the room and the connection.
        records = [json.loads(line) for line in leaving.log_lines() if line.startswith("{")]
        assert any(r.get("room") == code and isinstance(r.get("conn"), int) for r in records)
        assert all({"time", "level", "message"} <= set(r) for r in records)
    finally:
        for client in clients:
            if not client.closed.done():
                await client.close()
        leaving.stop()
        staying.stop()
