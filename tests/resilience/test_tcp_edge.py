"""The TCP edge (ritrovo.edge.tcp), with real sockets on 127.0.0.1.

Connections per client address (idle sockets included), the deadlines of a
request head and body, the keep-alive timeout, and the Host allow-list that
stops DNS rebinding. Another client address is 127.0.0.2 (Linux routes all
of 127/8 to the loopback interface). Every wait for the server to close a
socket is bounded: ``closed_by_server`` reads until end of file.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from ritrovo.config import Settings
from ritrovo.edge.tcp import GUARD, GuardedHandler, HostRules
from ritrovo.protocol import PROTOCOL_VERSION
from support.protocol_helpers import create_room
from support.servers import RunningServer, running_server
from support.servers import test_settings as fast_settings

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def server(**overrides: Any) -> Any:
    return running_server(fast_settings(**overrides))


def port_of(srv: RunningServer) -> int:
    return int(srv.base_url.rsplit(":", 1)[1])


@asynccontextmanager
async def raw(srv: RunningServer, source: str = "127.0.0.1") -> AsyncIterator[Stream]:
    """A plain TCP connection to the server from ``source``."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port_of(srv), local_addr=(source, 0)
    )
    try:
        yield reader, writer
    finally:
        writer.close()


async def closed_by_server(reader: asyncio.StreamReader, within: float) -> bytes:
    """Everything the server sends until it closes the connection (at most ``within`` s)."""
    data = b""
    try:
        async with asyncio.timeout(within):
            while chunk := await reader.read(65536):
                data += chunk
    except ConnectionResetError:
        pass
    return data


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
    """One HTTP response with a Content-Length: (status, JSON body or {})."""
    async with asyncio.timeout(5):
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        length = 0
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = await reader.readexactly(length)
    return int(head.split(" ", 2)[1]), json.loads(body) if body.startswith(b"{") else {}


def request(path: str, host: str, *, method: str = "GET", extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


async def healthz(srv: RunningServer, host: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Host": host} if host else {}
    async with (
        aiohttp.ClientSession() as http,
        http.get(srv.base_url + "/healthz", headers=headers) as r,
    ):
        return r.status, await r.json()


def test_the_edge_settings_come_from_the_environment() -> None:
    s = Settings.from_env(
        {
            "RITROVO_MAX_TCP_CONNECTIONS_PER_ADDRESS": "9",
            "RITROVO_HEADER_TIMEOUT": "2.5",
            "RITROVO_BODY_TIMEOUT": "7",
            "RITROVO_KEEPALIVE_TIMEOUT": "12",
            "RITROVO_ALLOWED_HOSTS": "game.example, lan.box",
        }
    )
    assert (s.max_tcp_connections_per_address, s.header_timeout, s.body_timeout) == (9, 2.5, 7.0)
    assert (s.keepalive_timeout, s.allowed_hosts) == (12.0, "game.example, lan.box")
    # Above the WebSocket limit: a phone holds a WebSocket and keep-alive connections.
    assert Settings().max_tcp_connections_per_address > Settings().max_connections_per_address


async def test_idle_sockets_over_the_address_cap_are_closed_at_once_and_healthz_answers() -> None:
    # Idle sockets are not closed by the header timeout during this test.
    async with server(max_tcp_connections_per_address=5, header_timeout=60) as srv:
        guard = srv.app[GUARD]
        idle = [
            await asyncio.open_connection("127.0.0.1", port_of(srv), local_addr=("127.0.0.2", 0))
            for _ in range(5)
        ]
        over = [
            await asyncio.open_connection("127.0.0.1", port_of(srv), local_addr=("127.0.0.2", 0))
            for _ in range(3)
        ]
        for reader, _ in over:
            # Closed at once, without a byte sent either way.
            assert await closed_by_server(reader, within=2) == b""
        # The server accepts in order: the five before them were counted and stay open.
        assert guard.open["127.0.0.2"] == 5
        assert not any(reader.at_eof() for reader, _ in idle)
        # Another address is served meanwhile (127.0.0.1, the load balancer's check).
        status, body = await healthz(srv)
        assert (status, body["ok"]) == (200, True)
        for _, writer in idle + over:
            writer.close()
        async with asyncio.timeout(5):
            while "127.0.0.2" in guard.open:  # the server notices the closes asynchronously
                await asyncio.sleep(0.01)
        # Places freed: the address is served again.
        async with raw(srv, "127.0.0.2") as (reader, writer):
            writer.write(request("/healthz", "127.0.0.1"))
            assert (await read_response(reader))[0] == 200


async def test_the_cap_counts_http_and_websocket_connections_alike() -> None:
    async with (
        server(max_tcp_connections_per_address=2, header_timeout=60) as srv,
        aiohttp.ClientSession() as http,
        http.ws_connect(srv.ws_url) as ws,
    ):
        async with raw(srv) as (reader, writer):  # plain HTTP, keep-alive
            writer.write(request("/healthz", "127.0.0.1"))
            assert (await read_response(reader))[0] == 200
            async with raw(srv) as (third, _):
                assert await closed_by_server(third, within=2) == b""
        assert not ws.closed


async def test_behind_trusted_proxies_the_tcp_cap_is_off() -> None:
    # Every connection comes from the proxy's address: the proxy limits clients
    # (nginx: limit_conn); the WebSocket slots count forwarded addresses.
    async with server(max_tcp_connections_per_address=2, trusted_proxies=1) as srv:
        async with raw(srv) as _a, raw(srv) as _b, raw(srv) as _c:
            assert (await healthz(srv))[0] == 200
        assert not srv.app[GUARD].open


async def test_a_socket_that_sends_nothing_is_closed_after_the_header_timeout() -> None:
    async with server(header_timeout=0.3) as srv, raw(srv) as (reader, _):
        start = time.monotonic()
        assert await closed_by_server(reader, within=5) == b""
        assert time.monotonic() - start >= 0.25


async def test_a_trickled_head_is_closed_after_the_header_timeout() -> None:
    async with server(header_timeout=0.5) as srv, raw(srv) as (reader, writer):
        start = time.monotonic()

        async def trickle() -> None:
            # One byte every 50 ms: the head would take a few seconds to complete.
            for byte in request("/healthz", "127.0.0.1"):
                writer.write(bytes([byte]))
                await asyncio.sleep(0.05)  # the attack's pace, not a synchronisation

        sender = asyncio.create_task(trickle())
        try:
            assert await closed_by_server(reader, within=5) == b""
        finally:
            sender.cancel()
        assert 0.45 <= time.monotonic() - start < 3


async def test_keep_alive_idle_then_a_partial_head_are_closed_in_time() -> None:
    # After an answer, the first byte of the next request starts the head's deadline.
    async with (
        server(header_timeout=0.3, keepalive_timeout=30) as srv,
        raw(srv) as (reader, writer),
    ):
        writer.write(request("/healthz", "127.0.0.1"))
        assert (await read_response(reader))[0] == 200
        writer.write(b"GET /healthz HT")
        start = time.monotonic()
        assert await closed_by_server(reader, within=5) == b""
        assert 0.25 <= time.monotonic() - start < 3
    # An idle keep-alive connection is closed after keepalive_timeout.
    async with (
        server(header_timeout=30, keepalive_timeout=0.4) as srv,
        raw(srv) as (reader, writer),
    ):
        writer.write(request("/healthz", "127.0.0.1"))
        assert (await read_response(reader))[0] == 200
        start = time.monotonic()
        assert await closed_by_server(reader, within=5) == b""
        assert 0.3 <= time.monotonic() - start < 3


async def test_a_half_body_is_answered_408_then_closed() -> None:
    async with server(body_timeout=0.4) as srv:
        room = await create_room(srv.base_url)
        posts = [
            ("/api/rooms", ""),  # a JSON POST
            (f"/api/rooms/{room['code']}/pack", f"X-Host-Token: {room['host_token']}\r\n"),
        ]
        for path, extra in posts:
            async with raw(srv) as (reader, writer):
                head = "Content-Type: application/json\r\nContent-Length: 1000\r\n" + extra
                writer.write(request(path, "127.0.0.1", method="POST", extra=head))
                writer.write(b'{"name": "half')  # ... and the rest never comes
                start = time.monotonic()
                status, body = await read_response(reader)
                assert status == 408, body
                assert body["error"]["code"] == "request_timeout"
                assert 0.35 <= time.monotonic() - start < 3
                assert await closed_by_server(reader, within=2) == b""
        # A whole body in time is served as before.
        assert (await create_room(srv.base_url))["code"]


@pytest.mark.parametrize(
    ("settings", "host", "allowed"),
    [
        ({}, None, True),  # HTTP/1.0 tools, some health checks: not a browser
        ({}, "127.0.0.1:8080", True),
        ({}, "192.168.1.20", True),  # a LAN address, --host 0.0.0.0
        ({}, "[::1]:8080", True),
        ({}, "[fe80::1]", True),
        ({}, "localhost:8080", True),
        ({}, "LOCALHOST.", True),
        ({}, "evil.example", False),  # DNS rebinding: a name that resolves to this server
        ({}, "evil.example:8080", False),
        ({}, "127.0.0.1.evil.example", False),
        ({}, "evil.example@127.0.0.1", False),
        ({}, "::1", False),  # not a Host (IPv6 needs brackets)
        ({}, "127.0.0.1:8080/x", False),
        ({"public_url": "https://Game.Example.com/"}, "game.example.com", True),
        ({"public_url": "https://game.example.com"}, "other.example.com", False),
        ({"allowed_hosts": "lan.box, game.example:8443"}, "game.example", True),
        ({"allowed_hosts": "lan.box, game.example:8443"}, "lan.box:8080", True),
        ({"allowed_hosts": "https://lan.box"}, "lan.box", True),
        ({"allowed_hosts": "lan.box"}, "box", False),
        ({"allowed_hosts": "*"}, "anything.example", True),
    ],
)
def test_host_rules(settings: dict[str, str], host: str | None, allowed: bool) -> None:
    assert HostRules(Settings(**settings)).allows(host) is allowed  # type: ignore[arg-type]


async def test_a_rebinding_host_is_refused_421_and_ip_and_localhost_are_served() -> None:
    async with server() as srv:
        port = port_of(srv)
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "localhost"):
            assert (await healthz(srv, host))[0] == 200, host
        for path in ("/healthz", "/api/packs", "/", "/static/nope.js", "/no/such/route"):
            async with raw(srv) as (reader, writer):
                writer.write(request(path, f"evil.example:{port}"))
                status, body = await read_response(reader)
                assert (status, body["error"]["code"]) == (421, "host_not_allowed"), path
                # Refused, then closed: nothing more is read on that connection.
                assert await closed_by_server(reader, within=2) == b""
    async with server(allowed_hosts="evil.example") as srv:
        assert (await healthz(srv, "evil.example"))[0] == 200  # listed by the operator


async def test_the_websocket_upgrade_with_a_rebinding_host_is_refused() -> None:
    async with server() as srv, aiohttp.ClientSession() as http:
        port = port_of(srv)
        # A page on the rebound name: its Origin matches its Host, so only the Host check stops it.
        rebound = f"evil.example:{port}"
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await http.ws_connect(srv.ws_url, headers={"Host": rebound}, origin=f"http://{rebound}")
        assert err.value.status == 421
        async with http.get(
            srv.base_url + "/ws",
            headers={
                "Host": rebound,
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                "Sec-WebSocket-Version": "13",
            },
        ) as r:
            assert r.status == 421
            assert (await r.json())["error"]["code"] == "host_not_allowed"
        # The same page served under localhost opens its WebSocket.
        local = f"localhost:{port}"
        async with http.ws_connect(
            srv.ws_url, headers={"Host": local}, origin=f"http://{local}"
        ) as ws:
            await ws.send_json({"type": "ping", "v": PROTOCOL_VERSION, "id": 1})
            reply = await ws.receive_json(timeout=5)  # the session answers (ping needs a hello)
            assert (reply["id"], reply.get("code")) == (1, "not_allowed"), reply


async def test_a_malformed_request_is_answered_400_and_logged_as_one_debug_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # aiohttp logged each at ERROR with a traceback: a client could fill the
    # log, and each traceback read its source files into linecache for good.
    async with server() as srv, raw(srv) as (reader, writer):
        caplog.set_level(logging.DEBUG)
        writer.write(request("/api/rooms/" + "A" * 16_000, "127.0.0.1"))
        answer = await closed_by_server(reader, within=5)
    assert answer.split(b" ", 2)[1] == b"400"
    records = [r for r in caplog.records if r.name.startswith(("aiohttp", "ritrovo.edge"))]
    assert not [r for r in records if r.levelno >= logging.WARNING or r.exc_info]
    refused = [r for r in records if r.name == "ritrovo.edge.tcp"]
    assert len(refused) == 1 and "LineTooLong" in refused[0].getMessage()


async def test_closed_connections_are_freed_without_the_cyclic_collector() -> None:
    # Cycles wait for a full collection: under churn thousands of closed
    # connections piled up between two (the issue-12 soak).
    async with server() as srv:
        guard = srv.app[GUARD]
        port = port_of(srv)
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds is kept in gc.garbage
        try:
            async with aiohttp.ClientSession() as http:
                async with http.get(srv.base_url + "/healthz") as response:
                    assert response.status == 200
                ws = await http.ws_connect(srv.ws_url)
                await ws.send_str(json.dumps({"type": "ping", "v": PROTOCOL_VERSION}))
                assert "type" in await ws.receive_json(timeout=5)  # its answer
                await ws.close()
            async with asyncio.timeout(5):  # until the server has seen both go
                while guard.open:
                    await asyncio.sleep(0.01)
            gc.collect()
            left = [
                type(o).__name__
                for o in gc.garbage
                if isinstance(o, (GuardedHandler, web.WebSocketResponse))
                or (
                    isinstance(o, asyncio.Transport)
                    and (o.get_extra_info("sockname") or ("", 0))[1] == port
                )
            ]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    assert left == []


def _connection_loops() -> int:
    """aiohttp's per-connection loops (``RequestHandler.start``) running in this process."""
    return sum(
        1
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "") == "RequestHandler.start"
    )


async def test_a_refused_body_is_not_read_on_after_its_connection_is_gone() -> None:
    # aiohttp lingers up to 10 s reading the rest of a body the handler did
    # not read, and went on after the client had gone: under abuse, hundreds
    # of such loops were the process's peak.
    async with server() as srv:
        before = _connection_loops()
        async with raw(srv) as (reader, writer):
            head = request("/no-such-route", "127.0.0.1", method="POST")[:-2]
            writer.write(head + b"Content-Length: 1000\r\n\r\n" + b"x" * 10)
            assert (await read_response(reader))[0] == 404  # answered before the body
            async with asyncio.timeout(5):
                while _connection_loops() == before:  # its loop lingers over the body
                    await asyncio.sleep(0.01)
        started = time.monotonic()
        async with asyncio.timeout(5):
            while _connection_loops() > before:
                await asyncio.sleep(0.01)
        assert time.monotonic() - started < 2  # not aiohttp's 10 s
