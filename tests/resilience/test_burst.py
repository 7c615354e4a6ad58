"""A burst of joins far bigger than the Redis pool waits; it is never an outage (issue 12).

Issue 12's row: 500 WebSocket openings at once from 2 addresses (or 200 joins
from one) made redis-py's pool raise at once: thousands of ``store_unavailable``
answers, every client told "game paused" and ``/healthz`` 503. Here 200 joins
go out at once through a pool of 4 connections, with the store health check
running every 50 ms: every join is welcomed, nobody gets a store notice, and
``/healthz`` answers 200 all along.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from ritrovo.client import ProtocolError, RitrovoClient
from ritrovo.errors import ErrorCode
from ritrovo.protocol import NoticeCode
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

ROOMS = 8
PLAYERS_PER_ROOM = 25  # 200 joins
OPENING_CONCURRENCY = 50  # WebSocket handshakes in flight while the clients connect


async def test_200_joins_at_once_through_a_pool_of_4_are_all_welcomed(redis_url: str) -> None:
    settings = fast_settings(
        redis_url=redis_url,
        redis_pool_size=4,
        store_check_interval=0.05,
        join_attempts_per_minute=10_000,
        max_connections_per_address=1_000,
    )
    async with running_server(settings) as server:
        codes = [(await create_room(server.base_url, f"Burst {r}"))["code"] for r in range(ROOMS)]
        targets = [(codes[i % ROOMS], f"Player {i:03d}") for i in range(ROOMS * PLAYERS_PER_ROOM)]

        # Open every connection first (bounded), so the joins can go out at once.
        gate = asyncio.Semaphore(OPENING_CONCURRENCY)

        async def connect() -> RitrovoClient:
            async with gate:
                return await RitrovoClient.connect(server.ws_url)

        clients = list(await asyncio.gather(*(connect() for _ in targets)))
        statuses: list[int] = []
        burst_done = asyncio.Event()

        async def poll_health(http: aiohttp.ClientSession) -> None:
            while not burst_done.is_set():  # paced by the answers themselves
                async with http.get(server.base_url + "/healthz") as r:
                    statuses.append(r.status)

        async def join(client: RitrovoClient, code: str, name: str) -> dict[str, Any] | str:
            try:
                return await client.hello("join", timeout=10, room=code, name=name)
            except ProtocolError as err:
                return err.code

        try:
            async with aiohttp.ClientSession() as http:
                poller = asyncio.create_task(poll_health(http))
                try:
                    answers = await asyncio.gather(
                        *(join(c, code, name) for c, (code, name) in zip(clients, targets))
                    )
                finally:
                    burst_done.set()
                    await poller
                # One more answer after the burst: the checks that ran during it
                # are reflected (an outage needs several failed checks in a row).
                async with http.get(server.base_url + "/healthz") as r:
                    statuses.append(r.status)

            errors = [a for a in answers if isinstance(a, str)]
            assert errors == [], f"{len(errors)} joins refused: {sorted(set(errors))}"
            assert all(a["type"] == "welcome" for a in answers if not isinstance(a, str))
            assert ErrorCode.STORE_UNAVAILABLE not in errors
            notices = [
                m.get("code")
                for c in clients
                for m in c.messages
                if m.get("type") in ("notice", "error")
            ]
            assert NoticeCode.STORE_UNAVAILABLE not in notices, notices[:5]
            assert notices == [], notices[:5]
            assert len(statuses) >= 2
            assert set(statuses) == {200}, statuses
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
