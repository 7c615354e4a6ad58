"""A process that dies without a goodbye does not leave its players looking connected."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

from ritrovo.client import RitrovoClient, join
from ritrovo.game.rooms import PRESENCE_GRACE_SECONDS
from ritrovo.timers import MIN_INSTANCE_TIMEOUT
from support.protocol_helpers import create_room
from support.servers import ServeProcess

LEASE_TTL = "1"  # seconds, as RITROVO_TIMER_LEASE_TTL


def presence(state: dict[str, Any], name: str) -> bool:
    present: bool = next(
        p["present"] for t in state["teams"] for p in t["players"] if p["name"] == name
    )
    return present


async def test_players_of_a_killed_process_show_as_away(redis_url: str) -> None:
    with ServeProcess(redis_url, RITROVO_TIMER_LEASE_TTL=LEASE_TTL) as survivor:
        doomed = ServeProcess(redis_url, RITROVO_TIMER_LEASE_TTL=LEASE_TTL).start()
        try:
            room = await create_room(survivor.base_url)
            host = await RitrovoClient.connect(survivor.ws_url)
            await host.hello("host", room=room["code"], token=room["host_token"])
            ada = await join(doomed.ws_url, room["code"], "Ada")
            bob = await join(survivor.ws_url, room["code"], "Bob")
            await host.wait_state(lambda s: s["players_count"] == 2 and presence(s, "Ada"))
            doomed.kill()
            await ada.closed
            # Missed heartbeats, then the presence grace period: Ada is away, Bob is not.
            budget = MIN_INSTANCE_TIMEOUT + PRESENCE_GRACE_SECONDS + 10
            state = await host.wait_state(lambda s: not presence(s, "Ada"), timeout=budget)
            assert presence(state, "Bob")
            assert state["players_count"] == 2  # away, not removed
            for client in (host, bob):
                await client.close()
        finally:
            doomed.stop()


async def test_players_of_a_frozen_process_are_present_again_once_it_runs(redis_url: str) -> None:
    # SIGSTOP past the instance timeout: the survivor takes the frozen process
    # for dead and drops its connections. Its sockets stay open meanwhile, so
    # once it runs again (SIGCONT) its players must be present again, at once,
    # without reconnecting.
    with ServeProcess(redis_url, RITROVO_TIMER_LEASE_TTL=LEASE_TTL) as survivor:
        frozen = ServeProcess(redis_url, RITROVO_TIMER_LEASE_TTL=LEASE_TTL).start()
        try:
            room = await create_room(survivor.base_url)
            host = await RitrovoClient.connect(survivor.ws_url)
            await host.hello("host", room=room["code"], token=room["host_token"])
            # No client keepalive: the frozen server cannot answer pings.
            ada = await join(frozen.ws_url, room["code"], "Ada", ping_interval=None)
            await host.wait_state(lambda s: s["players_count"] == 1 and presence(s, "Ada"))
            assert frozen.proc is not None
            os.kill(frozen.proc.pid, signal.SIGSTOP)
            try:
                budget = MIN_INSTANCE_TIMEOUT + PRESENCE_GRACE_SECONDS + 10
                await host.wait_state(lambda s: not presence(s, "Ada"), timeout=budget)
            finally:
                os.kill(frozen.proc.pid, signal.SIGCONT)
            resumed = time.monotonic()
            await host.wait_state(lambda s: presence(s, "Ada"), timeout=5)
            assert time.monotonic() - resumed < 5
            # Ada never noticed: same connection, still in the game.
            assert (await ada.request("ping", timeout=5))["type"] == "pong"
            await asyncio.gather(host.close(), ada.close())
        finally:
            frozen.stop()
