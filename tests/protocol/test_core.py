"""The core protocol over real WebSockets, against both stores."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
import pytest
import websockets
from ritrovo import protocol
from ritrovo.app import HUB
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.edge import commands
from ritrovo.game import views
from ritrovo.protocol import CODE_ALPHABET
from ritrovo.store.base import RoomStore
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.servers import RunningServer, running_server
from support.servers import test_settings as fast_settings


async def test_http_create_and_public_info(server: RunningServer) -> None:
    room = await create_room(server.base_url, "Café del lunedì")
    code = room["code"]
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    assert not set(code) & set("0O1IL")
    assert room["join_url"].endswith(f"/r/{code}")
    assert room["screen_url"].endswith(f"/screen/{code}")
    assert room["host_url"].endswith(f"/host/{code}")
    assert room["host_token"]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.base_url}/api/rooms/{code.lower()}") as r:
            info = await r.json()
        assert r.status == 200
        assert info["name"] == "Café del lunedì" and info["phase"] == "lobby"
        assert info["players_count"] == 0 and len(info["teams"]) == 2
        assert room["host_token"] not in str(info)
        async with http.get(f"{server.base_url}/api/rooms/ZZZZZZ") as r:
            assert r.status == 404
            assert (await r.json())["error"]["code"] == "room_not_found"
        async with http.get(f"{server.base_url}/healthz") as r:
            assert r.status == 200 and (await r.json())["ok"] is True
        async with http.post(f"{server.base_url}/api/rooms", data=b"not json") as r:
            assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_json"


async def test_join_snapshot_and_fan_out(server: RunningServer) -> None:
    room = await create_room(server.base_url)
    code = room["code"]
    screen = await RitrovoClient.connect(server.ws_url)
    await screen.hello("screen", room=code)
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=code, token=room["host_token"])

    ada = await join(server.ws_url, code, "Ada")
    assert ada.welcome is not None and ada.welcome["token"]
    assert ada.welcome["player"]["name"] == "Ada"
    first_team = ada.welcome["player"]["team_id"]
    bob = await join(server.ws_url, code, "Bob")
    # Auto-assignment fills the smallest team.
    assert bob.welcome is not None and bob.welcome["player"]["team_id"] != first_team

    def has_both(state: dict[str, Any]) -> bool:
        names = {p["name"] for t in state["teams"] for p in t["players"]}
        return {"Ada", "Bob"} <= names

    for client in (screen, host, ada):
        await client.wait_state(has_both)
    # The host sees connection counts; players and the screen do not.
    assert "connections" in host.state["state"]["teams"][0]["players"][0]  # type: ignore[index]
    assert "connections" not in str(screen.state)
    for client in (screen, host, ada, bob):
        await client.close()


async def test_join_chosen_team_and_errors(server: RunningServer) -> None:
    room = await create_room(server.base_url)
    code = room["code"]
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=code, token=room["host_token"])
    team_b = host.state["state"]["teams"][1]["id"]  # type: ignore[index]
    ada = await join(server.ws_url, code, "  Ada  ", team=team_b)
    welcome = ada.welcome
    assert welcome is not None
    assert welcome["player"] == {"id": welcome["player"]["id"], "name": "Ada", "team_id": team_b}

    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": ""}, "empty_name"),
        ({"name": "   "}, "empty_name"),
        ({"name": "x" * 33}, "name_too_long"),
        ({"name": "bad\u0007bell"}, "invalid_name"),
        ({"name": "ADA"}, "name_taken"),
        ({"name": "\u0410da"}, "name_taken"),  # a Cyrillic A reads as Ada
        ({"name": "\uff21\uff44\uff41"}, "name_taken"),  # fullwidth
        ({"name": "\u2800"}, "invalid_name"),  # a braille blank shows nothing
        ({"name": "Eve", "team": "nope"}, "team_not_found"),
        ({"name": 42}, "invalid_field"),
    ]
    for fields, code_expected in cases:
        client = await RitrovoClient.connect(server.ws_url)
        with pytest.raises(ProtocolError) as err:
            await client.hello("join", room=code, **fields)
        assert err.value.code == code_expected, fields
        await client.close()
    nobody = await RitrovoClient.connect(server.ws_url)
    with pytest.raises(ProtocolError) as err:
        await nobody.hello("join", room="ZZZZZZ", name="Eve")
    assert err.value.code == "room_not_found"
    await nobody.close()
    await host.wait_state(lambda s: s["players_count"] == 1)
    await ada.close()
    await host.close()


async def test_malformed_messages_get_errors_and_keep_the_connection(server: RunningServer) -> None:
    room = await create_room(server.base_url)
    ada = await join(server.ws_url, room["code"], "Ada")
    seq = ada.state["seq"]  # type: ignore[index]

    async def expect_error(frame: str | bytes, code: str) -> dict[str, Any]:
        start = len(ada.messages)
        await ada.send_raw(frame)
        reply = await ada.wait_for(lambda m: m["type"] == "error", start=start)
        assert reply["code"] == code, frame
        return reply

    await expect_error("{not json", "invalid_json")
    await expect_error("[1,2,3]", "invalid_message")
    await expect_error('{"no":"type"}', "missing_type")
    await expect_error('{"type":"dance"}', "unknown_type")
    await expect_error('{"type":"guess","text":12}', "invalid_field")
    await expect_error('{"type":"guess"}', "invalid_field")
    await expect_error('{"type":"guess","text":"x","v":99}', "unsupported_version")
    # A request id of the wrong type refuses the whole message (docs/protocol.md).
    for bad_id in ("1.5", "true", "[4]", '{"n":4}'):
        frame = '{"type":"guess","text":"piano","id":' + bad_id + "}"
        reply = await expect_error(frame, "invalid_field")
        assert "id" not in reply and "$.id" in reply["message"], reply
    await expect_error('{"type":"kick","player":"p1"}', "not_allowed")
    await expect_error(b"\x00\x01binary", "binary_not_supported")
    await expect_error('{"type":"guess","text":"' + "x" * 20000 + '"}', "frame_too_large")
    # Still connected, and nothing changed.
    pong = await ada.request("ping")
    assert pong["type"] == "pong"
    assert ada.state["seq"] == seq  # type: ignore[index]
    await ada.close()


async def test_first_message_must_say_who(server: RunningServer) -> None:
    client = await RitrovoClient.connect(server.ws_url)
    with pytest.raises(ProtocolError) as err:
        await client.request("guess", text="hello")
    assert err.value.code == "not_allowed"
    await client.close()


async def test_resume_token_restores_player_and_presence(server: RunningServer) -> None:
    room = await create_room(server.base_url)
    code = room["code"]
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=code, token=room["host_token"])
    ada = await join(server.ws_url, code, "Ada")
    token = ada.welcome["token"]  # type: ignore[index]
    player = ada.welcome["player"]  # type: ignore[index]
    await ada.close()

    def ada_connections(state: dict[str, Any]) -> int:
        connections: int = next(
            p["connections"] for t in state["teams"] for p in t["players"] if p["name"] == "Ada"
        )
        return connections

    # Dropped, not removed: still listed, with no connection.
    await host.wait_state(lambda s: s["players_count"] == 1 and ada_connections(s) == 0)
    again = await RitrovoClient.connect(server.ws_url)
    welcome = await again.hello("rejoin", room=code, token=token)
    assert welcome["player"] == player
    assert "token" not in welcome
    await host.wait_state(lambda s: ada_connections(s) == 1)

    bad = await RitrovoClient.connect(server.ws_url)
    with pytest.raises(ProtocolError) as err:
        await bad.hello("rejoin", room=code, token="forged")
    assert err.value.code == "unknown_token"
    for c in (again, bad, host):
        await c.close()


async def test_leave_removes_the_player(server_with: Callable[..., Any]) -> None:
    # Flushes at once (no interval): the room's patch may go before the leave's ack.
    async with server_with(flush_interval=0.0) as server:
        await _leave_removes_the_player(server)


async def _leave_removes_the_player(server: RunningServer) -> None:
    room = await create_room(server.base_url)
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=room["code"], token=room["host_token"])
    ada = await join(server.ws_url, room["code"], "Ada")
    await host.wait_state(lambda s: s["players_count"] == 1)
    # The same player on a second device: told they are gone, unlike the one that left.
    other = await RitrovoClient.connect(server.ws_url)
    await other.hello("rejoin", room=room["code"], token=ada.welcome["token"])  # type: ignore[index]
    await host.wait_state(lambda s: s["teams"][0]["players"][0]["connections"] == 2)
    await ada.request("leave")  # answered by its ack, whenever the room's flush runs
    assert await asyncio.wait_for(ada.closed, 5) == (1000, "left the room")
    assert "removed" not in [m["type"] for m in ada.messages]
    assert await asyncio.wait_for(other.closed, 5) == (4001, "removed from the room")
    assert [m["type"] for m in other.messages][-1] == "removed"
    await host.wait_state(lambda s: s["players_count"] == 0)
    await host.close()


async def test_a_player_kicked_while_their_leave_waits_is_told_so(
    server_with: Callable[..., Any],
) -> None:
    """A flush leaves a leaving player's connection to its leave; when the leave is then
    refused (the host kicked the player first), the connection still gets ``removed``."""
    entered, gate = asyncio.Event(), asyncio.Event()
    leave = commands.PLAYER_COMMANDS[protocol.Leave]

    async def held_leave(caller: commands.Caller, msg: Any) -> Any:
        entered.set()
        await gate.wait()
        return await leave(caller, msg)

    commands.PLAYER_COMMANDS[protocol.Leave] = held_leave
    try:
        async with server_with(flush_interval=0.0) as server:
            room = await create_room(server.base_url)
            host = await RitrovoClient.connect(server.ws_url)
            await host.hello("host", room=room["code"], token=room["host_token"])
            ada = await join(server.ws_url, room["code"], "Ada")
            await host.wait_state(lambda s: s["players_count"] == 1)
            await ada.send("leave")
            await asyncio.wait_for(entered.wait(), 5)  # the leave is under way
            await host.request("kick", player=ada.welcome["player"]["id"])  # type: ignore[index]
            # The kick's flush sent the host this state, and left Ada alone.
            await host.wait_state(lambda s: s["players_count"] == 0)
            gate.set()  # the leave runs now: no such player any more
            assert await asyncio.wait_for(ada.closed, 5) == (4001, "removed from the room")
            assert [m["type"] for m in ada.messages][-2:] == ["error", "removed"]
            await host.close()
    finally:
        commands.PLAYER_COMMANDS[protocol.Leave] = leave


async def test_host_powers_need_the_host_token(server: RunningServer) -> None:
    room = await create_room(server.base_url)
    code = room["code"]
    fake = await RitrovoClient.connect(server.ws_url)
    with pytest.raises(ProtocolError) as err:
        await fake.hello("host", room=code, token="not-the-token")
    assert err.value.code == "bad_host_token"
    await fake.close()
    ada = await join(server.ws_url, code, "Ada")
    for kind, fields in [
        ("create_team", {"name": "Hackers"}),
        ("kick", {"player": ada.welcome["player"]["id"]}),  # type: ignore[index]
        ("lock", {"locked": True}),
        ("close", {}),
        ("next", {}),
    ]:
        with pytest.raises(ProtocolError) as err:
            await ada.request(kind, **fields)
        assert err.value.code == "not_allowed", kind
    screen = await RitrovoClient.connect(server.ws_url)
    await screen.hello("screen", room=code)
    with pytest.raises(ProtocolError) as err:
        await screen.request("lock", locked=True)
    assert err.value.code == "not_allowed"
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.base_url}/api/rooms/{code}/results.json") as r,
    ):
        assert r.status == 403
    for c in (ada, screen):
        await c.close()


async def test_host_manages_teams_players_lock_and_close(server: RunningServer) -> None:
    room = await create_room(server.base_url)
    code = room["code"]
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=code, token=room["host_token"])
    created = await host.request("create_team", name="Gatti")
    team_c = created["result"]["team"]
    await host.request("rename_team", team=team_c, name="Gatti neri")
    state = await host.wait_state(lambda s: any(t["name"] == "Gatti neri" for t in s["teams"]))
    team_a = state["teams"][0]["id"]
    with pytest.raises(ProtocolError) as err:
        await host.request("create_team", name="gatti NERI")
    assert err.value.code == "team_name_taken"

    ada = await join(server.ws_url, code, "Ada", team=team_a)
    ada_id = ada.welcome["player"]["id"]  # type: ignore[index]
    await host.request("move_player", player=ada_id, team=team_c)
    await ada.wait_for(lambda m: m["type"] == "you" and m["player"]["team_id"] == team_c)
    await host.request("delete_team", team=team_c)
    state = await host.wait_state(lambda s: len(s["teams"]) == 2)
    assert ada_id in {p["id"] for t in state["teams"] for p in t["players"]}

    await host.request("lock", locked=True)
    locked_out = await RitrovoClient.connect(server.ws_url)
    with pytest.raises(ProtocolError) as err:
        await locked_out.hello("join", room=code, name="Late")
    assert err.value.code == "room_locked"
    await locked_out.close()
    await host.request("lock", locked=False)

    # Kick: the connection closes and the token no longer works.
    token = ada.welcome["token"]  # type: ignore[index]
    await host.request("kick", player=ada_id)
    code_closed, _ = await asyncio.wait_for(ada.closed, 5)
    assert code_closed == 4001
    back = await RitrovoClient.connect(server.ws_url)
    with pytest.raises(ProtocolError) as err:
        await back.hello("rejoin", room=code, token=token)
    assert err.value.code == "kicked"
    await back.close()

    bob = await join(server.ws_url, code, "Bob")
    await host.request("close")
    code_closed, _ = await asyncio.wait_for(bob.closed, 5)
    assert code_closed == 4000
    late = await RitrovoClient.connect(server.ws_url)
    with pytest.raises(ProtocolError) as err:
        await late.hello("join", room=code, name="Zoe")
    assert err.value.code == "room_closed"
    await late.close()


async def test_full_room_admits_exactly_its_capacity(server_with: Any) -> None:
    async with server_with(max_players_per_room=3) as server:
        room = await create_room(server.base_url)

        async def try_join(i: int) -> str:
            client = await RitrovoClient.connect(server.ws_url)
            try:
                await client.hello("join", room=room["code"], name=f"P{i}")
                return "in"
            except ProtocolError as err:
                return err.code
            finally:
                await client.close()

        outcomes = await asyncio.gather(*(try_join(i) for i in range(8)))
        assert outcomes.count("in") == 3
        assert outcomes.count("room_full") == 5


async def test_rate_limit_answers_then_closes_on_sustained_abuse(server_with: Any) -> None:
    async with server_with(messages_per_second=1.0, message_burst=3, abuse_strikes=10) as server:
        room = await create_room(server.base_url)
        ada = await join(server.ws_url, room["code"], "Ada")
        for _ in range(6):
            await ada.send("ping")
        limited = await ada.wait_for(lambda m: m.get("code") == "rate_limited")
        assert limited["type"] == "error"
        for _ in range(20):
            try:
                await ada.send("ping")
            except websockets.ConnectionClosed:
                break
        code, _ = await asyncio.wait_for(ada.closed, 5)
        assert code == 1008


async def test_join_attempts_per_address_are_limited(
    make_store: Callable[[], RoomStore],
) -> None:
    clock = FakeClock()  # failures are counted per minute: this one cannot end mid-test
    settings = fast_settings(join_attempts_per_minute=5)
    async with running_server(settings, store=make_store(), clock=clock) as server:
        room = await create_room(server.base_url)

        async def attempt(code: str) -> str:
            client = await RitrovoClient.connect(server.ws_url)
            try:
                await client.hello("join", room=code, name="Eve")
                return "in"
            except ProtocolError as err:
                return err.code
            finally:
                await client.close()

        codes = [await attempt("ZZZZZ" + "23456789"[i]) for i in range(7)]
        assert codes == ["room_not_found"] * 5 + ["too_many_attempts"] * 2
        # The address is refused, not the codes it tried: the real room too, until
        # the next minute.
        assert await attempt(room["code"]) == "too_many_attempts"
        clock.advance(60)
        assert await attempt(room["code"]) == "in"


async def test_rooms_per_server_limit(server_with: Any) -> None:
    async with server_with(max_rooms=2) as server:
        await create_room(server.base_url)
        await create_room(server.base_url)
        async with (
            aiohttp.ClientSession() as http,
            http.post(server.base_url + "/api/rooms", json={"name": "third"}) as r,
        ):
            assert r.status == 429
            assert (await r.json())["error"]["code"] == "too_many_rooms"


def _stalled_player(ws_url: str, code: str) -> tuple[socket.socket, Any]:
    """A real player connection that joins and then never reads again.

    Made with a plain socket and the sans-I/O websockets protocol, since a
    client library would keep reading into its own buffers.
    """
    from websockets.client import ClientProtocol
    from websockets.uri import parse_uri

    sock = socket.socket()
    # A small receive buffer, as a phone on a bad network would have.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    uri = parse_uri(ws_url)
    sock.connect((uri.host, uri.port))
    proto = ClientProtocol(uri)
    proto.send_request(proto.connect())
    sock.sendall(b"".join(proto.data_to_send()))
    while proto.handshake_exc is None and proto.state.name == "CONNECTING":
        proto.receive_data(sock.recv(4096))
    assert proto.state.name == "OPEN"
    proto.send_text(orjson.dumps({"type": "join", "room": code, "name": "Ada"}))
    sock.sendall(b"".join(proto.data_to_send()))
    return sock, proto


def _read_frames(sock: socket.socket, proto: Any, until_seq: int) -> list[dict[str, Any]]:
    """Read the player's frames until one carries ``until_seq`` (blocking, bounded by the socket timeout)."""
    from websockets.frames import Opcode

    frames: list[dict[str, Any]] = []
    while not any(f.get("seq") == until_seq for f in frames):
        proto.receive_data(sock.recv(65536))
        frames += [
            orjson.loads(e.data)
            for e in proto.events_received()
            if getattr(e, "opcode", None) == Opcode.TEXT  # not the handshake's response
        ]
    return frames


async def _host_and_stalled_player(
    server: Any,
) -> tuple[RitrovoClient, socket.socket, Any, Any]:
    """A host whose room has big states, and a player that joined and stopped reading.

    Returns the host, the player's socket and protocol, and the server's
    connection of the player.
    """
    room = await create_room(server.base_url)
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=room["code"], token=room["host_token"])
    for i in range(20):  # big states fill the socket buffers sooner
        await host.request("create_team", name=f"{i:02d} " + "x" * 29)
    sock, proto = await asyncio.to_thread(_stalled_player, server.ws_url, room["code"])
    await host.wait_state(lambda s: s["players_count"] == 1)
    (stalled,) = [c for c in server.app[HUB].connections() if c.role == "player"]
    return host, sock, proto, stalled


async def test_a_reader_that_stalls_then_reads_gets_every_update_in_order(server_with: Any) -> None:
    # Frames are written at once while the socket takes them; once it is
    # full they wait in the connection's queue, behind the write that is
    # waiting for the socket to drain. When the reader comes back, every
    # patch must build on the one before it.
    settings = {
        "send_queue_frames": 10_000,
        "flush_interval": 0.0,
        "messages_per_second": 10_000.0,
        "message_burst": 10_000,
    }
    async with server_with(**settings) as server:
        host, sock, proto, stalled = await _host_and_stalled_player(server)
        server_sock = stalled.ws._writer.transport.get_extra_info("socket")
        server_sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        team = host.state["state"]["teams"][0]["id"]  # type: ignore[index]
        queued_at = None
        for i in range(5000):
            await host.request("rename_team", name=f"T{i} " + "x" * 25, team=team)
            if queued_at is None and stalled.sender is not None:
                queued_at = i
            if queued_at is not None and i >= queued_at + 50:
                break
        assert queued_at is not None, "the socket never filled: nothing was queued"
        final = await host.wait_state(lambda s: s["teams"][0]["name"].startswith(f"T{i} "))
        frames = await asyncio.to_thread(_read_frames, sock, proto, final["seq"])
        updates = [f for f in frames if f["type"] in ("state", "patch")]
        assert updates[0]["type"] == "state"
        for before, after in itertools.pairwise(updates):
            assert after["type"] == "patch" and after["base"] == before["seq"] < after["seq"]
        assert not stalled.closing
        await host.close()
        sock.close()


async def test_a_flush_that_fails_leaves_every_connection_a_full_state_next(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A view that cannot be built (a bug in the game's views) fails the room's flush.

    None of its frames is written, so no connection may be left taken to hold
    a view it was never sent: the next flush sends each a full ``state``, and
    no client has to notice a patch on a base it lacks and ask for a resync.
    """
    room = await create_room(server.base_url)
    code = room["code"]
    screen = await RitrovoClient.connect(server.ws_url)
    await screen.hello("screen", room=code)
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=code, token=room["host_token"])
    ada = await join(server.ws_url, code, "Ada")
    clients = (screen, host, ada)
    for client in clients:
        await client.wait_state(lambda s: s["players_count"] == 1)
    team = host.state["state"]["teams"][0]["id"]  # type: ignore[index]

    real = views.build
    builds: list[str] = []
    failed = asyncio.Event()

    def second_build_fails(*args: Any, **kwargs: Any) -> Any:
        builds.append(args[3])
        if len(builds) == 2:  # one group already has its frame: the next one fails
            failed.set()
            raise RuntimeError("a bug in a view")
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "build", second_build_fails)
    await host.request("rename_team", team=team, name="Before")
    async with asyncio.timeout(5):
        await failed.wait()
    monkeypatch.setattr(views, "build", real)
    seen = {id(c): len(c.messages) for c in clients}
    await host.request("rename_team", team=team, name="After")
    for client in clients:
        await client.wait_state(lambda s: s["teams"][0]["name"] == "After")
        # (A patch the client applied is kept as the state it made, with its "base".)
        updates = [m for m in client.messages[seen[id(client)] :] if m["type"] == "state"]
        assert updates and "base" not in updates[0], updates[:1]
        assert client.resyncs_sent == 0
    for client in clients:
        await client.close()


async def test_slow_consumer_is_disconnected(server_with: Any) -> None:
    settings = {
        "send_queue_frames": 4,
        # The server's kernel send buffer for each connection: small, so Ada's
        # backlog reaches the server's own queue after a few dozen updates,
        # not megabytes.
        "socket_send_buffer": 4096,
        "flush_interval": 0.0,
        "messages_per_second": 10_000.0,
        "message_burst": 10_000,
    }
    async with server_with(**settings) as server:
        host, sock, _, stalled = await _host_and_stalled_player(server)
        hub = server.app[HUB]
        server_sock = stalled.ws._writer.transport.get_extra_info("socket")
        assert server_sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) <= 2 * 4096

        def ada_dropped() -> bool:
            return all(c.role != "player" or c.closing for c in hub.connections())

        team = host.state["state"]["teams"][0]["id"]  # type: ignore[index]
        for i in range(2000):
            await host.request("rename_team", name=f"T{i}", team=team)
            if ada_dropped():
                break
        assert ada_dropped()
        # The host, who keeps reading, is unaffected.
        await host.wait_state(lambda s: s["teams"][0]["name"] == f"T{i}")
        await host.close()
        sock.close()
