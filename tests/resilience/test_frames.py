"""The WebSocket boundaries and codes the documentation states, on real sockets.

Unmasked client frames close the connection with 1002 (RFC 6455 5.1); a frame
of exactly four times the frame limit (64 KiB by default) is answered, one
byte more closes with 1009; a ``v`` that is not the integer 2 is
``unsupported_version``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp._websocket.reader import WebSocketDataQueue, WebSocketReader
from aiohttp.base_protocol import BaseProtocol
from ritrovo.client import RitrovoClient, join
from ritrovo.edge.frames import ClientFrames
from support.protocol_helpers import create_room
from support.raw_ws import RawSocket, frame
from support.servers import running_server
from support.servers import test_settings as fast_settings


async def test_an_unmasked_client_frame_closes_the_connection_with_1002() -> None:
    async with running_server(fast_settings()) as srv, asyncio.timeout(10):
        raw = await RawSocket.open(srv.base_url)
        # Masked frames, even written a byte at a time, are read as usual ...
        await raw.send(frame(b"not json"), piece=1)
        opcode, payload = await raw.next_frame()
        assert opcode == 0x1 and b'"invalid_json"' in payload
        # ... and the first unmasked one ends the connection.
        await raw.send(frame(b'{"type":"ping"}', masked=False))
        assert await raw.close_code() == 1002
        raw.close()
        # The same when it arrives in the same packet as the handshake.
        raw = await RawSocket.open(srv.base_url, first=frame(b"x", masked=False))
        assert await raw.close_code() == 1002
        raw.close()
        # The server is fine.
        room = await create_room(srv.base_url)
        ada = await join(srv.ws_url, room["code"], "Ada")
        assert (await ada.request("ping"))["type"] == "pong"
        await ada.close()


async def test_pongs_alone_whole_or_in_pieces_leave_the_connection_as_it_was() -> None:
    # A whole pong alone in its read is dropped before aiohttp's reader (the
    # keep-alive counted the read); in pieces it goes the usual way.
    async with running_server(fast_settings()) as srv, asyncio.timeout(10):
        raw = await RawSocket.open(srv.base_url)
        await raw.send(frame(b"", opcode=0xA))
        await raw.send(frame(b"x" * 125, opcode=0xA))
        await raw.send(frame(b"abc", opcode=0xA), piece=2)
        await raw.send(frame(b"", opcode=0xA), piece=1)  # a byte a time: the first alone
        await raw.send(frame(b"not json"))  # the next message is read as usual
        opcode, payload = await raw.next_frame()
        assert opcode == 0x1 and json.loads(payload)["code"] == "invalid_json"
        # An unmasked pong alone is still an unmasked frame.
        await raw.send(frame(b"", opcode=0xA, masked=False))
        assert await raw.close_code() == 1002
        raw.close()


async def test_a_pong_fed_a_byte_at_a_time_reaches_the_reader_whole() -> None:
    # The reads a slow network makes: the first alone holds only the header's first byte.
    loop = asyncio.get_running_loop()
    queue = WebSocketDataQueue(BaseProtocol(loop), 2**16, loop=loop)
    check = ClientFrames(WebSocketReader(queue, 2**16, False, True), queue)
    pong, text = frame(b"", opcode=0xA), frame(b"hi")
    for i in range(len(pong)):
        assert check.feed_data(pong[i : i + 1]) == (False, b"")
    check.feed_data(text)
    assert (await queue.read()).type == WSMsgType.PONG
    message = await queue.read()
    assert (message.type, message.data) == (WSMsgType.TEXT, "hi")


async def test_a_frame_of_exactly_64_kib_is_answered_and_one_byte_more_closes() -> None:
    settings = fast_settings()
    assert settings.max_frame_bytes * 4 == 65_536  # the defaults the documentation states
    async with running_server(settings) as srv, asyncio.timeout(10):
        room = await create_room(srv.base_url)
        ada = await join(srv.ws_url, room["code"], "Ada")
        start = len(ada.messages)
        prefix = '{"type":"guess","id":7,"text":"'
        exactly = prefix + "x" * (65_536 - len(prefix) - 2) + '"}'
        assert len(exactly.encode()) == 65_536
        await ada.send_raw(exactly)
        reply = await ada.wait_for(lambda m: m["type"] == "error", start=start)
        assert reply["code"] == "frame_too_large" and reply["id"] == 7
        assert (await ada.request("ping"))["type"] == "pong"  # still connected
        await ada.send_raw(exactly[:-2] + 'x"}')  # 65,537 bytes
        close_code, _ = await ada.closed
        assert close_code == 1009


@pytest.mark.parametrize("version", [True, 2.0, "2", None, 1, 3])
async def test_a_version_that_is_not_the_integer_2_is_unsupported(version: Any) -> None:
    async with running_server(fast_settings()) as srv, asyncio.timeout(10):
        room = await create_room(srv.base_url)
        client = await RitrovoClient.connect(srv.ws_url)
        for message in (
            {"type": "screen", "room": room["code"], "id": 1, "v": version},  # opening
            {"type": "ping", "id": 2, "v": version},  # in a room
        ):
            start = len(client.messages)
            await client.send_raw(json.dumps(message))
            reply = await client.wait_for(lambda m: m["type"] == "error", start=start)
            assert reply["code"] == "unsupported_version" and reply["id"] == message["id"]
            if message["type"] == "screen":
                await client.hello("screen", room=room["code"])
        await client.close()
