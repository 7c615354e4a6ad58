"""Every abuse limit, configured through Settings, and the WebSocket Origin check."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp
import pytest
import websockets
from ritrovo.app import HUB
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.config import Settings
from ritrovo.edge import http as http_edge
from ritrovo.service import normalize_code
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.resilience import small_pack
from support.servers import running_server
from support.servers import test_settings as fast_settings
from websockets.exceptions import InvalidStatus


def server(**overrides: Any) -> Any:
    return running_server(fast_settings(**overrides))


async def refused_status(url: str, **kwargs: Any) -> int:
    """The HTTP status of a refused WebSocket handshake."""
    with pytest.raises(InvalidStatus) as err:
        async with websockets.connect(url, open_timeout=5, proxy=None, **kwargs):
            pass
    return err.value.response.status_code


def test_every_limit_is_configurable_from_the_environment() -> None:
    env = {
        "RITROVO_MAX_FRAME_BYTES": "1000",
        "RITROVO_MESSAGES_PER_SECOND": "2.5",
        "RITROVO_MESSAGE_BURST": "4",
        "RITROVO_MAX_CONNECTIONS_PER_ADDRESS": "7",
        "RITROVO_MAX_ROOMS": "3",
        "RITROVO_MAX_PLAYERS_PER_ROOM": "9",
        "RITROVO_JOIN_ATTEMPTS_PER_MINUTE": "11",
        "RITROVO_MAX_PACK_BYTES": "5000",
        "RITROVO_ALLOWED_ORIGINS": "https://a.example, https://b.example",
        "RITROVO_TRUSTED_PROXIES": "1",
        "RITROVO_TIMER_LEASE_TTL": "2.5",
        "RITROVO_STORE_CHECK_INTERVAL": "0.5",
        "RITROVO_SHUTDOWN_TIMEOUT": "3",
    }
    s = Settings.from_env(env)
    assert (s.max_frame_bytes, s.messages_per_second, s.message_burst) == (1000, 2.5, 4)
    assert (s.max_connections_per_address, s.max_rooms, s.max_players_per_room) == (7, 3, 9)
    assert (s.join_attempts_per_minute, s.max_pack_bytes, s.trusted_proxies) == (11, 5000, 1)
    assert s.allowed_origins == "https://a.example, https://b.example"
    assert (s.timer_lease_ttl, s.store_check_interval, s.shutdown_timeout) == (2.5, 0.5, 3.0)


async def test_frame_size_soft_and_hard_limits() -> None:
    async with server(max_frame_bytes=1000) as srv:
        room = await create_room(srv.base_url)
        ada = await join(srv.ws_url, room["code"], "Ada")
        start = len(ada.messages)
        await ada.send_raw('{"type":"guess","id":7,"text":"' + "x" * 1500 + '"}')
        reply = await ada.wait_for(lambda m: m["type"] == "error", start=start)
        assert reply["code"] == "frame_too_large" and reply["id"] == 7
        assert (await ada.request("ping"))["type"] == "pong"  # still connected
        await ada.send_raw("x" * 5000)  # beyond 4x: aiohttp closes with 1009
        close_code, _ = await asyncio.wait_for(ada.closed, 5)
        assert close_code == 1009


async def test_messages_per_second_then_close_on_sustained_flooding(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with server(messages_per_second=1.0, message_burst=3, abuse_strikes=5) as srv:
        room = await create_room(srv.base_url)
        ada = await join(srv.ws_url, room["code"], "Ada")
        for _ in range(5):
            await ada.send("ping")
        limited = await ada.wait_for(lambda m: m.get("code") == "rate_limited")
        assert limited["type"] == "error"
        # Sent in one go: many arrive after the strike that closes the connection.
        raw = ['{"type":"ping"}'] * 50
        with contextlib.suppress(websockets.ConnectionClosed):
            for text in raw:
                await ada.send_raw(text)
        close_code, _ = await asyncio.wait_for(ada.closed, 5)
        assert close_code == 1008
    flooding = [r for r in caplog.records if r.getMessage() == "closing a flooding connection"]
    assert len(flooding) == 1


async def test_connections_per_address_refused_before_the_upgrade() -> None:
    async with server(max_connections_per_address=3) as srv:
        open_ = [await RitrovoClient.connect(srv.ws_url) for _ in range(3)]
        assert await refused_status(srv.ws_url) == 429
        async with (
            aiohttp.ClientSession() as http,
            http.get(srv.ws_url.replace("ws://", "http://"), headers={"Upgrade": "websocket"}) as r,
        ):
            assert r.status == 429
            assert (await r.json())["error"]["code"] == "too_many_connections"
        await open_[0].close()
        hub = srv.app[HUB]
        async with asyncio.timeout(5):
            while len(hub.connected) > 2:
                await asyncio.sleep(0.01)  # the server notices the close asynchronously
        again = await RitrovoClient.connect(srv.ws_url)
        for client in [*open_[1:], again]:
            await client.close()


async def test_connections_behind_a_trusted_proxy_count_per_forwarded_address() -> None:
    async with server(max_connections_per_address=1, trusted_proxies=1) as srv:
        # The proxy appends the real peer; whatever the client wrote before it is ignored.
        first = await RitrovoClient.connect(
            srv.ws_url, additional_headers={"X-Forwarded-For": "10.0.0.1"}
        )
        second = await RitrovoClient.connect(
            srv.ws_url, additional_headers={"X-Forwarded-For": "10.0.0.1, 10.0.0.2"}
        )
        assert (
            await refused_status(
                srv.ws_url, additional_headers={"X-Forwarded-For": "10.0.0.9, 10.0.0.2"}
            )
            == 429
        )
        await first.close()
        await second.close()


async def test_rooms_per_server() -> None:
    async with server(max_rooms=2) as srv:
        await create_room(srv.base_url)
        await create_room(srv.base_url)
        async with (
            aiohttp.ClientSession() as http,
            http.post(srv.base_url + "/api/rooms", json={"name": "third"}) as r,
        ):
            assert r.status == 429
            assert (await r.json())["error"]["code"] == "too_many_rooms"


async def test_rooms_per_address_per_hour() -> None:
    async with server(rooms_per_address_per_hour=2) as srv:
        await create_room(srv.base_url)
        await create_room(srv.base_url)
        async with (
            aiohttp.ClientSession() as http,
            http.post(srv.base_url + "/api/rooms", json={"name": "third"}) as r,
        ):
            assert r.status == 429
            assert (await r.json())["error"]["code"] == "too_many_attempts"


async def test_a_room_nobody_used_leaves_its_place_after_the_unused_ttl() -> None:
    clock = FakeClock()
    settings = fast_settings(max_rooms=1, unused_room_ttl=60, room_ttl=3600)
    async with running_server(settings, clock=clock) as srv:
        await create_room(srv.base_url)  # made, then left: nobody joins
        async with aiohttp.ClientSession() as http:
            async with http.post(srv.base_url + "/api/rooms", json={"name": "b"}) as r:
                assert r.status == 429  # the server is full ...
            clock.advance(61)
            async with http.post(srv.base_url + "/api/rooms", json={"name": "b"}) as r:
                assert r.status == 201  # ... until the unused room has had its minute
                used = (await r.json())["code"]
            player = await join(srv.ws_url, used, "Ada")  # used: it gets the full room TTL
            clock.advance(61)
            async with http.post(srv.base_url + "/api/rooms", json={"name": "c"}) as r:
                assert r.status == 429
            await player.close()


async def test_a_room_whose_host_opened_the_console_keeps_its_place() -> None:
    clock = FakeClock()
    settings = fast_settings(max_rooms=2, unused_room_ttl=60, room_ttl=3600)
    async with running_server(settings, clock=clock) as srv:
        room = await create_room(srv.base_url)
        host = await RitrovoClient.connect(srv.ws_url)
        await host.hello("host", room=room["code"], token=room["host_token"])
        clock.advance(120)  # nobody joined, nothing chosen: the console alone counts
        await create_room(srv.base_url)
        async with (
            aiohttp.ClientSession() as http,
            http.post(srv.base_url + "/api/rooms", json={"name": "third"}) as r,
        ):
            assert r.status == 429  # the first room still holds its place
        await host.close()


async def test_players_per_room() -> None:
    async with server(max_players_per_room=2) as srv:
        room = await create_room(srv.base_url)
        players = [await join(srv.ws_url, room["code"], name) for name in ("Ada", "Ben")]
        late = await RitrovoClient.connect(srv.ws_url)
        with pytest.raises(ProtocolError) as err:
            await late.hello("join", room=room["code"], name="Cy")
        assert err.value.code == "room_full"
        for client in [*players, late]:
            await client.close()


async def test_failed_join_attempts_per_address_stop_code_guessing() -> None:
    async with server(join_attempts_per_minute=4) as srv:
        room = await create_room(srv.base_url)
        # Successful joins do not count: a whole office may share one address.
        players = [await join(srv.ws_url, room["code"], f"P{i}") for i in range(5)]
        guesser = await RitrovoClient.connect(srv.ws_url)
        codes = []
        # A wrong resume token is a guess too (test_attempts.py has more).
        with pytest.raises(ProtocolError) as err:
            await guesser.hello("rejoin", room=room["code"], token="stale")
        codes.append(err.value.code)
        for guess in ("ZZZZZ2", "ZZZZZ3"):
            with pytest.raises(ProtocolError) as err:
                await guesser.hello("join", room=guess, name="Eve")
            codes.append(err.value.code)
        with pytest.raises(ProtocolError) as err:
            await guesser.hello("host", room=room["code"], token="forged")
        codes.append(err.value.code)
        assert codes == ["unknown_token", "room_not_found", "room_not_found", "bad_host_token"]
        # Now even the right code is refused, over WebSocket and over HTTP.
        with pytest.raises(ProtocolError) as err:
            await guesser.hello("join", room=room["code"], name="Eve")
        assert err.value.code == "too_many_attempts"
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{srv.base_url}/api/rooms/{room['code']}") as r,
        ):
            assert r.status == 429
        for client in [*players, guesser]:
            await client.close()


async def test_a_code_that_cannot_be_a_room_costs_nothing_and_leaves_nothing() -> None:
    assert normalize_code("abc-d ef".replace("abc", "2bc")) == "2BCDEF"
    assert normalize_code("0OI1LZ") == ""  # not in the alphabet
    assert normalize_code("ABCDE") == normalize_code("X" * 16_000) == ""
    async with server(join_attempts_per_minute=3) as srv:
        guesser = await RitrovoClient.connect(srv.ws_url)
        codes = []
        for _ in range(3):
            with pytest.raises(ProtocolError) as err:
                await guesser.hello("rejoin", room="Q" * 16_000, token="t")
            codes.append(err.value.code)
        # Answered as an unknown room, and counted as a guess like one.
        assert codes == ["room_not_found"] * 3
        with pytest.raises(ProtocolError) as err:
            await guesser.hello("join", room="ZZZZZ2", name="Eve")
        assert err.value.code == "too_many_attempts"
        hub = srv.app[HUB]
        assert not hub.rooms and not hub._watching  # nothing kept for the failed attempts
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{srv.base_url}/api/rooms/{'Q' * 2_800}/qr.svg") as r,
        ):
            assert r.status == 404 and (await r.json())["error"]["code"] == "room_not_found"
        await guesser.close()


async def test_host_only_routes_give_one_answer_and_count_it() -> None:
    async with server(join_attempts_per_minute=4) as srv:
        room = await create_room(srv.base_url)
        answers = []
        async with aiohttp.ClientSession() as http:
            probes = [
                ("GET", f"/api/rooms/{room['code']}/results.json", {}),  # no token
                ("GET", "/api/rooms/ZZZZZ2/results.csv", {"X-Host-Token": "x"}),  # no room
                ("GET", f"/api/rooms/{room['code']}/stories.md", {"X-Host-Token": "forged"}),
                ("POST", "/api/rooms/ZZZZZ3/pack", {"Authorization": "Bearer x"}),
            ]
            for method, path, headers in probes:
                async with http.request(method, srv.base_url + path, headers=headers) as r:
                    answers.append((r.status, (await r.json())["error"]["code"]))
            # An existing room and an unknown one cannot be told apart ...
            assert answers == [(403, "bad_host_token")] * 4
            # ... and every probe counted: now even the right token is refused.
            token = {"X-Host-Token": room["host_token"]}
            url = f"{srv.base_url}/api/rooms/{room['code']}/results.json"
            async with http.get(url, headers=token) as r:
                assert r.status == 429
                assert (await r.json())["error"]["code"] == "too_many_attempts"


async def test_the_join_qr_code_is_drawn_once() -> None:
    async with server() as srv:
        room = await create_room(srv.base_url)
        url = f"{srv.base_url}/api/rooms/{room['code'].lower()}/qr.svg"
        http_edge._qr_svg.cache_clear()
        async with aiohttp.ClientSession() as http:
            bodies = []
            for _ in range(2):
                async with http.get(url) as r:
                    assert r.status == 200 and r.content_type == "image/svg+xml"
                    bodies.append(await r.read())
        assert bodies[0] == bodies[1] and b"<svg" in bodies[0]
        assert http_edge._qr_svg.cache_info().hits >= 1  # the second was not drawn again


async def test_pack_upload_size() -> None:
    async with server(max_pack_bytes=2000) as srv:
        room = await create_room(srv.base_url)
        url = f"{srv.base_url}/api/rooms/{room['code']}/pack?filename=p.yaml"
        auth = {"Authorization": f"Bearer {room['host_token']}"}
        body = (small_pack() + "#" + "x" * 3000 + "\n").encode()

        async def chunks() -> Any:  # no Content-Length: the limit is enforced while reading
            for i in range(0, len(body), 500):
                yield body[i : i + 500]

        async with aiohttp.ClientSession() as http:
            for data in (body, chunks()):
                async with http.post(url, data=data, headers=auth) as r:
                    assert r.status == 413
                    assert (await r.json())["error"]["code"] == "pack_too_large"
            async with http.post(url, data=small_pack().encode(), headers=auth) as r:
                assert r.status == 201


async def test_host_token_is_checked_in_constant_time() -> None:
    # Not a timing test (those are flaky): the comparison itself is hmac.compare_digest.
    import inspect

    from ritrovo.edge import http, session

    assert "hmac.compare_digest" in inspect.getsource(session.Session._open)
    assert "hmac.compare_digest" in inspect.getsource(http.HttpApi._host_room)


@pytest.mark.parametrize(
    ("settings", "origin", "allowed"),
    [
        ({}, None, True),  # bots and scripts send no Origin
        ({}, "SELF", True),  # the server's own pages
        ({}, "http://evil.example", False),
        ({}, "null", False),  # sandboxed frames, local files
        ({"public_url": "https://game.example.com"}, "https://game.example.com", True),
        ({"public_url": "https://game.example.com"}, "https://other.example.com", False),
        (
            {"allowed_origins": "https://a.example, https://b.example:8443"},
            "https://b.example:8443",
            True,
        ),
        ({"allowed_origins": "https://a.example"}, "SELF", False),  # the list replaces the default
        ({"allowed_origins": "*"}, "http://evil.example", True),
    ],
)
async def test_websocket_origin_allow_list(
    settings: dict[str, str], origin: str | None, allowed: bool
) -> None:
    async with server(**settings) as srv:
        if origin == "SELF":
            origin = srv.base_url
        headers = {} if origin is None else {"Origin": origin}
        if allowed:
            client = await RitrovoClient.connect(srv.ws_url, additional_headers=headers)
            room = await create_room(srv.base_url)
            await client.hello("screen", room=room["code"])
            await client.close()
        else:
            assert await refused_status(srv.ws_url, additional_headers=headers) == 403


async def test_a_foreign_origin_gets_a_clear_http_403() -> None:
    async with server() as srv, aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await http.ws_connect(srv.ws_url, origin="https://evil.example")
        assert err.value.status == 403
        async with http.get(
            srv.ws_url.replace("ws://", "http://"),
            headers={
                "Origin": "https://evil.example",
                "Upgrade": "websocket",
                "Connection": "Upgrade",
            },
        ) as r:
            assert r.status == 403
            assert (await r.json())["error"]["code"] == "origin_not_allowed"


async def test_pack_upload_arriving_slowly_is_read_whole() -> None:
    """A phone on a slow network sends the body in pieces: all of it must be read."""
    async with server() as srv:
        room = await create_room(srv.base_url)
        url = f"{srv.base_url}/api/rooms/{room['code']}/pack?filename=p.yaml"
        auth = {"Authorization": f"Bearer {room['host_token']}"}
        body = (small_pack() + "#" + "x" * 50_000 + "\n").encode()
        first_half_sent = asyncio.Event()

        async def pieces() -> Any:
            yield body[: len(body) // 2]
            first_half_sent.set()
            # Let the server see the first half alone before the rest arrives.
            await asyncio.sleep(0.2)
            yield body[len(body) // 2 :]

        async with (
            aiohttp.ClientSession() as http,
            http.post(url, data=pieces(), headers=auth) as r,
        ):
            assert r.status == 201, await r.text()
        assert first_half_sent.is_set()
