"""Redis goes away mid-game and comes back: the servers say so, refuse commands
cleanly, and the game goes on afterwards with nothing lost."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
from ritrovo.app import HEALTH
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.store.redis import RedisStore
from support.protocol_helpers import create_room
from support.redis_server import RedisServer
from support.resilience import ANSWER, assert_seqs_increase, small_pack, team_scores, upload_pack
from support.servers import running_server
from support.servers import test_settings as fast_settings


async def health(base_url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(base_url + "/healthz") as r:
        return r.status, await r.json()


def notice(code: str) -> Any:
    return lambda m: m["type"] == "notice" and m["code"] == code


async def test_a_redis_outage_pauses_the_game_and_loses_nothing(
    fresh_redis_server: RedisServer,
) -> None:
    url = fresh_redis_server.url
    settings = fast_settings(store_check_interval=0.1)
    async with (
        running_server(settings, store=RedisStore(url)) as a,
        running_server(settings, store=RedisStore(url)) as b,
    ):
        room = await create_room(a.base_url, "Outage")
        code, host_token = room["code"], room["host_token"]
        await upload_pack(a.base_url, code, host_token, small_pack(riddle_seconds=300))
        host = await RitrovoClient.connect(a.ws_url)
        await host.hello("host", room=code, token=host_token)
        t1, t2 = (t["id"] for t in host.state["state"]["teams"])  # type: ignore[index]
        ada = await join(a.ws_url, code, "Ada", team=t1)
        ben = await join(b.ws_url, code, "Ben", team=t2)
        clients = [host, ada, ben]
        await host.request("next")
        await ben.wait_state(lambda s: s["phase"] == "riddle")
        ada_points = (await ada.request("guess", text=ANSWER))["result"]["points"]
        await ben.wait_state(lambda s: team_scores(s)[t1] == ada_points)

        fresh_redis_server.kill()  # SIGKILL: a crash, not a clean stop
        for client in clients:
            paused = await client.wait_for(notice("store_unavailable"))
            assert "paused" in paused["message"]
        for server in (a, b):
            status, body = await health(server.base_url)
            assert status == 503 and body["error"]["code"] == "store_unavailable"
        with pytest.raises(ProtocolError) as err:
            await ben.request("guess", text=ANSWER)
        assert err.value.code == "store_unavailable"
        with pytest.raises(ProtocolError) as err:
            await host.request("pause")
        assert err.value.code == "store_unavailable"
        latecomer = await RitrovoClient.connect(b.ws_url)
        with pytest.raises(ProtocolError) as err:
            await latecomer.hello("join", room=code, name="Zoe")
        assert err.value.code == "store_unavailable"
        await latecomer.close()

        await fresh_redis_server.start_async()  # same port and directory: the AOF is replayed
        for client in clients:
            await client.wait_for(notice("store_available"), timeout=10)
        for server in (a, b):
            assert (await health(server.base_url))[0] == 200

        # The game goes on, across both processes (pub/sub is back too).
        ben_points = (await ben.request("guess", text=ANSWER))["result"]["points"]
        for client in clients:
            state = await client.wait_state(lambda s: s["riddle"]["stage"] == "revealed")
            assert team_scores(state) == {t1: ada_points, t2: ben_points}
        assert [m["kind"] for m in host.state["state"]["moments"]].count("team_solved") == 2  # type: ignore[index]
        for client in clients:
            assert_seqs_increase(client)
            await client.close()


async def test_a_server_started_while_redis_is_down_waits_for_it(
    fresh_redis_server: RedisServer,
) -> None:
    fresh_redis_server.stop()
    settings = fast_settings(store_check_interval=0.1)
    async with running_server(settings, store=RedisStore(fresh_redis_server.url)) as srv:
        status, body = await health(srv.base_url)
        assert status == 503 and body["error"]["code"] == "store_unavailable"
        async with (
            aiohttp.ClientSession() as http,
            http.post(srv.base_url + "/api/rooms", json={"name": "too soon"}) as r,
        ):
            assert r.status == 503
            assert (await r.json())["error"]["code"] == "store_unavailable"
        await fresh_redis_server.start_async()
        assert (await health(srv.base_url))[0] == 200
        room = await create_room(srv.base_url, "Late start")
        ada = await join(srv.ws_url, room["code"], "Ada")
        assert ada.state is not None
        await ada.close()


async def test_a_stalled_event_loop_is_not_a_store_outage(redis_url: str) -> None:
    # While a health check's PING is on its way, something else holds the event
    # loop longer than the check's timeout (a slow parse, a GC pause); Redis
    # answered at once. That must not pause every game on the process.
    async with running_server(fast_settings(), store=RedisStore(redis_url)) as srv:
        health = srv.app[HEALTH]
        real_ping = health.ping
        stalls = [1.2]  # one stall, then the loop runs freely again

        async def ping_while_the_loop_stalls() -> None:
            if stalls:
                asyncio.get_running_loop().call_soon(time.sleep, stalls.pop())
            await real_ping()

        health.ping = ping_while_the_loop_stalls
        await health.check(1.0)  # what the watcher runs every interval
        assert not stalls  # the stall did happen
        assert health.available
