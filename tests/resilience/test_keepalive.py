"""The process-wide keep-alive: pings, dead peers and the opening deadline, without timers per connection."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
from aiohttp import web
from ritrovo.app import HUB, KEEPALIVE
from ritrovo.client import RitrovoClient, join
from ritrovo.edge.connection import Connection
from ritrovo.edge.keepalive import SLICES, KeepAlive, KeptAliveResponse
from ritrovo.protocol import CloseCode
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings


def _fast(app: Any, heartbeat: float) -> None:
    """Make the app's keep-alive tick fast (HEARTBEAT is 30 s in production)."""
    keepalive = app[KEEPALIVE]
    keepalive.heartbeat = heartbeat
    keepalive.tick = heartbeat / 2 / SLICES


async def test_a_peer_that_stops_answering_pings_is_dropped_and_one_that_answers_stays() -> None:
    async with running_server(fast_settings()) as srv:
        _fast(srv.app, 0.4)
        async with aiohttp.ClientSession() as http:
            # autoping=False: this client sees the pings and answers only the first two.
            silent = await http.ws_connect(srv.ws_url, autoping=False)
            polite = await RitrovoClient.connect(srv.ws_url)  # websockets answers every ping
            for _ in range(2):
                msg = await asyncio.wait_for(silent.receive(), 2)
                assert msg.type == aiohttp.WSMsgType.PING
                await silent.pong(msg.data)
            started = time.monotonic()
            msg = await asyncio.wait_for(silent.receive(), 2)
            assert msg.type == aiohttp.WSMsgType.PING  # the third, left unanswered
            while msg.type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                msg = await asyncio.wait_for(silent.receive(), 2)
            # Dropped half a heartbeat (0.2 s) after the unanswered ping; ticks are
            # late on a loaded machine, hence the margin.
            assert time.monotonic() - started < 1.5
            await asyncio.sleep(1.0)  # several heartbeats: pinged, answered, kept
            assert polite.ws.close_code is None
            assert len(srv.app[HUB].connected) == 1
            await polite.close()


async def test_an_idle_player_is_kept_and_no_timer_is_left_per_connection() -> None:
    async with running_server(fast_settings()) as srv:
        _fast(srv.app, 0.4)
        code = (await create_room(srv.base_url))["code"]
        clients = [
            await join(srv.ws_url, code, f"Idle {i}", keep_messages=False) for i in range(10)
        ]
        try:
            await asyncio.sleep(1.2)  # three heartbeats: every client pinged and answering
            for client in clients:
                assert (await client.request("ping"))["type"] == "pong"
            # No timer of their own (aiohttp's heartbeat kept one or two per
            # connection, the opening deadline one).
            loop: Any = asyncio.get_running_loop()
            for handle in loop._scheduled:
                owner = getattr(handle._callback, "__self__", None)
                assert not isinstance(owner, web.WebSocketResponse)
                assert not any(isinstance(arg, Connection) for arg in handle._args or ())
            for conn in srv.app[HUB].connected:
                ws = conn.ws
                assert isinstance(ws, KeptAliveResponse)
                assert ws._heartbeat_cb is None and ws._pong_response_cb is None
                assert ws._req is not None and ws._req.protocol._parser is None  # HTTP is over
                # Neither the handshake's response headers nor the request's are kept.
                assert not ws.headers and not ws._req.headers
        finally:
            for client in clients:
                await client.close()


async def test_a_connection_that_never_says_who_it_is_is_closed_at_the_deadline() -> None:
    async with running_server(fast_settings(hello_timeout=0.3)) as srv:
        _fast(srv.app, 0.4)
        client = await RitrovoClient.connect(srv.ws_url)
        started = time.monotonic()
        await asyncio.wait_for(client.ws.wait_closed(), 3)
        assert client.ws.close_code == CloseCode.HELLO_TIMEOUT
        # At the deadline, within a tick of the keep-alive (with a margin for a loaded machine).
        assert 0.25 < time.monotonic() - started < 1.5
        named = await RitrovoClient.connect(srv.ws_url)
        await named.hello("screen", room=(await create_room(srv.base_url))["code"])
        await asyncio.sleep(0.5)
        assert (await named.request("ping"))["type"] == "pong"  # said who it is in time: kept
        await named.close()


class _Nameless:
    """What KeepAlive sees of a connection that has not said who it is."""

    def __init__(self) -> None:
        self.id = SLICES - 1  # in the last bucket: the ticks below never visit it to ping
        self.role: str | None = None
        self.closed_with: int | None = None

    def close_soon(self, code: int, reason: str) -> None:
        self.closed_with = code


async def test_an_opening_still_being_handled_is_not_taken_for_silence() -> None:
    # An opening may wait seconds (an attempt place, a Redis connection): a
    # client that spoke before its deadline is not closed with 4010 meanwhile.
    keepalive = KeepAlive(hello_timeout=0.0)  # every deadline has already passed
    conn: Any = _Nameless()
    keepalive.watch(conn)
    try:
        keepalive.opening(conn)
        keepalive.sweep()
        assert conn.closed_with is None
        keepalive.opened(conn, ok=False)  # refused: a second to try again
        keepalive.sweep()
        assert conn.closed_with is None
        keepalive.opening(conn)
        conn.role = "player"
        keepalive.opened(conn, ok=True)
        keepalive.sweep()
        assert conn.closed_with is None
        other: Any = _Nameless()
        keepalive.watch(other)  # said nothing at all: closed at the deadline
        keepalive.sweep()
        assert other.closed_with == CloseCode.HELLO_TIMEOUT
    finally:
        await keepalive.stop()
