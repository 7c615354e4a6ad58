"""permessage-deflate on Ritrovo's terms (server/edge/deflate.py, frames.py).

Shared frames go compressed to clients that offered the extension, each
compressed once with no context; compressed client messages are inflated one
at a time before aiohttp's reader, bounded, and every malformed one closes
the connection with the RFC's code while the server carries on.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

import pytest
from aiohttp import WebSocketError, WSMsgType
from aiohttp._websocket.reader import WebSocketDataQueue, WebSocketReader
from aiohttp.base_protocol import BaseProtocol
from ritrovo.client import RitrovoClient, join
from ritrovo.edge import deflate
from ritrovo.edge.frames import ClientFrames
from ritrovo.game import patches
from support.protocol_helpers import create_room
from support.raw_ws import RawSocket, deflated, frame, inflated
from support.servers import running_server
from support.servers import test_settings as fast_settings

LIMIT = 65_536  # the server's default: four times max_frame_bytes

# -- the offer -------------------------------------------------------------------


S, A, OFF = deflate.STREAMS, deflate.ALONE, deflate.OFF


@pytest.mark.parametrize(
    ("offers", "accepted"),
    [
        (["permessage-deflate"], (S, 15)),
        # Browsers: the server chooses the window of the client's messages.
        (["permessage-deflate; client_max_window_bits"], (S, 9)),
        (["permessage-deflate; client_max_window_bits=12; server_max_window_bits=15"], (S, 9)),
        (['permessage-deflate; client_max_window_bits="8"'], (S, 8)),
        (["permessage-deflate; client_no_context_takeover"], (S, 15)),
        # The client's decompressor forgets between messages: frames stand alone.
        (["permessage-deflate; server_no_context_takeover"], (A, 15)),
        (["x-webkit-deflate-frame, permessage-deflate"], (S, 15)),
        (["x-webkit-deflate-frame", "permessage-deflate"], (S, 15)),  # two header lines
        # A smaller window for the server's frames: they are compressed once for all.
        (["permessage-deflate; server_max_window_bits=10"], (OFF, 0)),
        (["permessage-deflate; server_max_window_bits=10, permessage-deflate"], (S, 15)),
        (["permessage-deflate; server_max_window_bits"], (OFF, 0)),  # needs a value
        (["permessage-deflate; client_max_window_bits=16"], (OFF, 0)),
        (["permessage-deflate; client_max_window_bits=x"], (OFF, 0)),
        (["permessage-deflate; server_no_context_takeover=1"], (OFF, 0)),
        (["permessage-deflate; client_no_context_takeover; client_no_context_takeover"], (OFF, 0)),
        (["permessage-deflate; mystery"], (OFF, 0)),
        (["permessage-deflate; client_max_window_bits=\u00b2"], (OFF, 0)),  # a digit to Python
        (["permessage-deflate; client_max_window_bits=" + "1" * 5_000], (OFF, 0)),
        (["permessage-deflate; client_max_window_bits=09"], (S, 9)),
        (["x-webkit-deflate-frame"], (OFF, 0)),
        ([], (OFF, 0)),
    ],
)
def test_an_offer_is_accepted_only_on_terms_the_server_can_keep(
    offers: list[str], accepted: tuple[int, int]
) -> None:
    agreed = deflate.negotiate(offers)
    assert (agreed.mode, agreed.client_window) == accepted


def test_an_accepted_server_window_is_said_back() -> None:
    # RFC 7692 7.1.2.1: the server echoes server_max_window_bits it accepted.
    agreed = deflate.negotiate(["permessage-deflate; server_max_window_bits=15"])
    assert agreed.response == (
        "permessage-deflate; client_no_context_takeover; server_max_window_bits=15"
    )
    assert deflate.negotiate(["permessage-deflate"]).response == deflate.RESPONSE


def test_the_answer_says_what_was_agreed() -> None:
    assert deflate.response(S, 15) == "permessage-deflate; client_no_context_takeover"
    assert deflate.response(S, 9) == (
        "permessage-deflate; client_no_context_takeover; client_max_window_bits=9"
    )
    assert deflate.response(A, 15) == (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    )


def test_a_stream_refers_to_its_earlier_frames_and_starts_readable_by_anybody() -> None:
    frames = [
        json.dumps(
            {
                "type": "patch",
                "seq": n,
                "ops": [
                    ["set", ["riddle", "progress", f"t{i}", "guesses"], n + i] for i in range(26)
                ],
            }
        ).encode()
        for n in range(5)
    ]
    stream = deflate.Stream(("ABCD", "team:t1"))
    marks = []
    squeezed = []
    for n, message in enumerate(frames):
        squeezed.append(stream.deflate(message, float(n)))
        marks.append(stream.mark)
    assert len(set(map(id, marks))) == 5 and stream.used_at == 4.0
    reader = zlib.decompressobj(-15)
    assert [reader.decompress(f + deflate.TRAILER) for f in squeezed] == frames
    assert inflated(squeezed[0]) == frames[0]  # the first stands alone
    # Later ones are smaller than alone: they refer to the ones before.
    assert sum(map(len, squeezed[1:])) < sum(len(deflate.deflate(f)) for f in frames[1:]) / 2


def test_a_deflated_frame_stands_alone() -> None:
    message = json.dumps({"type": "patch", "ops": [["set", ["x"], "y" * 50]] * 20}).encode()
    squeezed = deflate.deflate(message)
    assert isinstance(squeezed, deflate.Deflated) and len(squeezed) < len(message) / 4
    # A fresh decompressor reads it whole: it refers to no earlier message.
    assert inflated(squeezed) == message
    assert deflate.inflate(bytes(squeezed), len(message)) == message
    assert deflate.inflate(bytes(squeezed), len(message) - 1) is None


def test_a_big_frame_is_compressed_at_a_faster_level_and_still_alone() -> None:
    # The full state of a 2,000-player room for the host is ~500 KB: level 9
    # would hold the event loop for tens of milliseconds.
    assert deflate.level_for(1_000) == deflate.LEVEL
    assert deflate.level_for(16 * 1024 + 1) == 6
    assert deflate.level_for(500_000) == 1
    rows = [{"id": f"p{i}", "name": f"Player {i:04}", "points": i % 7} for i in range(6_000)]
    big = json.dumps({"type": "state", "state": {"players": rows}}).encode()
    assert len(big) > 128 * 1024
    small = json.dumps(rows[:20]).encode()
    # Compressors are shared by level and reset after every frame: each
    # frame reads on its own, whatever came before it.
    frames = [deflate.deflate(big), deflate.deflate(small), deflate.deflate(big)]
    assert [inflated(f) for f in frames] == [big, small, big]
    assert len(frames[0]) < len(big) / 4


async def test_streams_are_bounded_and_an_idle_one_is_dropped() -> None:
    # Busy is "used within idle / 5": a second here, not a window that a
    # pause of a loaded test machine between two lines could outlast.
    streams = deflate.Streams(limit=2, idle=5.0)
    first = streams.start("ROOM", "host")
    assert first is not None
    streams.deflate(first, b"x" * 300)
    second = streams.start("ROOM", "screen")
    assert second is not None
    streams.deflate(first, b"y" * 300)  # the first is now the most recently used
    other = streams.start("OTHER", "host")  # the least recently used, unused, goes
    assert other is not None and len(streams) == 2
    assert streams.get("ROOM", "host") is first and streams.get("ROOM", "screen") is None
    assert second.frames == 0
    # Full, and every stream busy: a new view gets no stream (rather than a
    # compressor made and dropped per frame), the busy ones keep theirs.
    streams.deflate(other, b"z" * 300)
    assert streams.start("THIRD", "host") is None and len(streams) == 2
    streams.forget("OTHER")
    assert len(streams) == 1
    # The time of its last use, not the loop's time read now: a pause of a loaded
    # machine past the idle time would drop it.
    now = first.used_at
    assert 0 < now <= asyncio.get_running_loop().time()
    streams.drop_idle(now)  # used just now: kept
    assert streams.get("ROOM", "host") is first
    streams.drop_idle(now + 5.01)  # unused for longer than the idle time: dropped
    assert streams.get("ROOM", "host") is None and len(streams) == 0


# -- client messages, inflated before aiohttp's reader ---------------------------


def reader(window: int = 15) -> tuple[ClientFrames, WebSocketDataQueue]:
    loop = asyncio.get_running_loop()
    queue = WebSocketDataQueue(BaseProtocol(loop), 2**16, loop=loop)
    check = ClientFrames(
        WebSocketReader(queue, LIMIT + 1, False, True), queue, inflate_limit=LIMIT, window=window
    )
    return check, queue


async def failure(queue: WebSocketDataQueue) -> int:
    with pytest.raises(WebSocketError) as raised:
        while True:
            await queue.read()
    return raised.value.code


async def test_a_compressed_message_reaches_the_reader_inflated_however_it_is_cut() -> None:
    text = '{"type":"line","text":"' + "C'era una volta un gatto. " * 30 + '"}'
    message = frame(deflated(text.encode()), rsv1=True)
    for piece in (len(message), 1, 3, 7):
        check, queue = reader()
        stream = frame(b"before") + message + frame(b"after")
        for i in range(0, len(stream), piece):
            assert check.feed_data(stream[i : i + piece]) == (False, b"")
        got = [await queue.read() for _ in range(3)]
        assert [m.data for m in got] == ["before", text, "after"]


async def test_a_fragmented_compressed_message_is_whole_and_a_ping_between_goes_first() -> None:
    text = "ciao, " * 200
    body = deflated(text.encode())
    third = len(body) // 3
    check, queue = reader()
    stream = (
        frame(body[:third], fin=False, rsv1=True)
        + frame(b"are you there", opcode=0x9)
        + frame(body[third : 2 * third], fin=False, opcode=0x0)
        + frame(body[2 * third :], opcode=0x0)
    )
    for i in range(0, len(stream), 5):
        check.feed_data(stream[i : i + 5])
    ping = await queue.read()
    assert (ping.type, ping.data) == (WSMsgType.PING, b"are you there")
    message = await queue.read()
    assert (message.type, message.data) == (WSMsgType.TEXT, text)


async def test_an_empty_compressed_message_is_an_empty_message() -> None:
    check, queue = reader()
    check.feed_data(frame(b"", rsv1=True) + frame(deflated(b""), rsv1=True))
    assert [(await queue.read()).data for _ in range(2)] == ["", ""]


@pytest.mark.parametrize(
    ("stream", "code"),
    [
        # 10 MB of spaces in 10 KB: inflated no further than the limit, then closed.
        (frame(deflated(b" " * 10_000_000), rsv1=True), 1009),
        # Exactly the limit inflated is the reader's to answer, one byte more is too big.
        (frame(deflated(b"x" * (LIMIT + 1)), rsv1=True), 1009),
        (frame(b"\xff\xff not deflate", rsv1=True), 1007),
        # RSV1 on a continuation frame with no compressed message begun.
        (frame(b"ab", opcode=0x0, rsv1=True), 1002),
        # RSV1 belongs on a message's first frame only.
        (frame(b"ab", fin=False, rsv1=True) + frame(b"cd", opcode=0x0, rsv1=True), 1002),
        # A new message before the compressed one ended.
        (frame(b"ab", fin=False, rsv1=True) + frame(b"cd"), 1002),
        (frame(deflated(b"hi"), rsv1=True, masked=False), 1002),
        (bytes([0xC1 | 0x20, 0x80]) + b"\0\0\0\0", 1002),  # RSV2 with RSV1
        # Compressed frames whose total, before inflating, is over the limit.
        (frame(b"\0" * 40_000, fin=False, rsv1=True) + frame(b"\0" * 40_000, opcode=0x0), 1009),
    ],
    # Named: the frames are masked at random, and test ids must be the same
    # in every process that collects them (pytest-xdist).
    ids=[
        "bomb",
        "limit-plus-one",
        "not-deflate",
        "rsv1-on-continuation",
        "rsv1-on-second-frame",
        "new-message-midway",
        "unmasked",
        "rsv2",
        "fragments-over-limit",
    ],
)
async def test_a_bad_compressed_message_fails_the_connection(stream: bytes, code: int) -> None:
    check, queue = reader()
    ok = frame(b"fine")
    eof, _ = check.feed_data(ok + stream + frame(b"never read"))
    assert eof
    first = await queue.read()
    assert first.data == "fine"  # what came before the bad frame went on
    assert await failure(queue) == code
    assert check.feed_data(frame(b"later")) == (True, b"")


async def test_a_small_window_agreed_is_the_window_inflated_with() -> None:
    text = " ".join(f"word{i}" for i in range(2000)).encode()
    check, queue = reader(window=9)
    check.feed_data(frame(deflated(text, window=9), rsv1=True))
    assert (await queue.read()).data == text.decode()
    # A client that compresses with a bigger window than it agreed to refers
    # further back than the server keeps: a broken message, and the end.
    check.feed_data(
        frame(deflated(b"abcdefgh" * 10 + bytes(range(256)) * 4 + b"abcdefgh" * 10), rsv1=True)
    )
    assert await failure(queue) == 1007


async def test_one_read_of_many_small_bombs_inflates_no_further_than_its_budget() -> None:
    # ~100 bytes each, 60,000 inflated: a read of them may inflate to two
    # messages' limits, then the connection ends (1008) before a third.
    bomb = frame(deflated(b" " * 60_000), rsv1=True)
    check, queue = reader()
    eof, _ = check.feed_data(bomb * 2_000)
    assert eof
    assert [len((await queue.read()).data) for _ in range(2)] == [60_000, 60_000]
    assert await failure(queue) == 1008


async def test_empty_fragments_of_a_compressed_message_are_counted() -> None:
    check, queue = reader()
    stream = frame(b"", fin=False, rsv1=True) + frame(b"", fin=False, opcode=0x0) * 100_000
    eof, _ = check.feed_data(stream)
    assert eof
    assert await failure(queue) == 1009


async def test_a_compressed_message_of_exactly_the_limit_goes_on() -> None:
    check, queue = reader()
    body = b"x" * LIMIT
    check.feed_data(frame(deflated(body), rsv1=True))
    assert len((await queue.read()).data) == LIMIT


async def test_without_the_extension_a_compressed_frame_is_a_protocol_error() -> None:
    loop = asyncio.get_running_loop()
    queue = WebSocketDataQueue(BaseProtocol(loop), 2**16, loop=loop)
    check = ClientFrames(WebSocketReader(queue, LIMIT + 1, False, True), queue)
    check.feed_data(frame(deflated(b"hi"), rsv1=True))
    assert await failure(queue) == 1002


async def test_a_framed_payload_reads_back_whole_at_every_header_length() -> None:
    # deflate.framed builds a server frame once for the connections that share
    # it (edge/hub.py): aiohttp's own reader, as a client uses, must read it
    # back at the three header lengths, compressed or not.
    loop = asyncio.get_running_loop()
    for size in (8, 125, 126, 65_535, 65_536, 200_000):  # the edges of each header form
        text = ('{"t":"' + "x" * (size - 8) + '"}').encode()
        assert len(text) == size
        for payload in (text, deflate.deflate(text)):
            queue = WebSocketDataQueue(BaseProtocol(loop), 2**22, loop=loop)
            read = WebSocketReader(queue, 2**22, True, True)
            wire = deflate.framed(payload)
            read.feed_data(wire[:3])  # cut inside the header
            read.feed_data(wire[3:])
            message = await queue.read()
            assert message.type == WSMsgType.TEXT
            assert message.data == text.decode()


# -- on a real server --------------------------------------------------------------


async def test_shared_frames_go_compressed_and_compressed_messages_are_read() -> None:
    async with running_server(fast_settings()) as srv, asyncio.timeout(10):
        room = await create_room(srv.base_url)
        offer = "permessage-deflate; client_max_window_bits"
        raw = await RawSocket.open(srv.base_url, extensions=offer)
        answer = deflate.response(deflate.STREAMS, deflate.CLIENT_WINDOW_BITS)
        assert b"Sec-WebSocket-Extensions: " + answer.encode() + b"\r\n" in raw.head
        hello = {"type": "join", "v": 2, "id": 1, "room": room["code"], "name": "Ada"}
        await raw.send(frame(deflated(json.dumps(hello).encode()), rsv1=True), piece=4)
        kinds = {}
        while "you" not in kinds:
            message = json.loads(await raw.next_message())
            kinds[message["type"]] = raw.rsv1
        # The state (shared by every player of a view) came compressed; the
        # welcome, a small frame of this connection's own, did not.
        assert kinds == {"welcome": False, "state": True, "you": False}
        await raw.send(frame(deflated(b'{"type":"ping","id":2}'), rsv1=True))
        pong = json.loads(await raw.next_message())
        assert (pong["type"], pong["id"]) == ("pong", 2)
        await raw.send(frame(b"\x00not deflate", rsv1=True))
        assert await raw.close_code() == 1007
        raw.close()
        bea = await join(srv.ws_url, room["code"], "Bea")
        assert (await bea.request("ping"))["type"] == "pong"  # the server carries on
        await bea.close()


@pytest.mark.parametrize(
    ("watching", "offer", "joining", "streamed"),
    [
        (deflate.STREAM_FROM, "permessage-deflate", "t2", True),
        # Newcomers of the same team, each a group of one with a view of its
        # own at the next flush, do not take the stream from the rest.
        (deflate.STREAM_FROM, "permessage-deflate", "t1", True),
        # A client that asked the server not to keep context between frames.
        (deflate.STREAM_FROM, "permessage-deflate; server_no_context_takeover", "t2", False),
        # Too few connections share the view for a compressor of its own.
        (3, "permessage-deflate", "t2", False),
    ],
)
async def test_a_view_shared_by_many_is_one_stream_to_those_that_got_all_of_it(
    watching: int, offer: str, joining: str, streamed: bool
) -> None:
    # Players of one team watch others join another: each patch of their view goes
    # to all of them, read by a decompressor that has read the ones before (a
    # browser's). Streamed: some frames can be read only that way; else every
    # frame can be read on its own. Either way every view is the same.
    async with running_server(fast_settings()) as srv, asyncio.timeout(20):
        room = await create_room(srv.base_url)
        code = room["code"]
        watchers = []
        for w in range(watching):
            raw = await RawSocket.open(srv.base_url, extensions=offer)
            hello = {"type": "join", "v": 2, "id": 1, "room": code, "name": f"W{w}", "team": "t1"}
            await raw.send(frame(json.dumps(hello).encode()))
            watchers.append(raw)
        views: list[Any] = [None] * len(watchers)
        others = []
        for n in range(6):
            others.append(await join(srv.ws_url, code, f"Player {n:02}", team=joining))
            # Each watcher's view (state, then patches) catches up with the join.
            for i, raw in enumerate(watchers):
                while views[i] is None or views[i]["players_count"] < watching + n + 1:
                    message = json.loads(await raw.next_message())
                    if message["type"] == "state":
                        views[i] = message["state"]
                    elif message["type"] == "patch":
                        views[i] = patches.apply(views[i], message["ops"])
        assert all(view == views[0] for view in views)
        for raw in watchers:
            assert raw.alone and all(raw.alone) is not streamed
            raw.close()
        for client in others:
            await client.close()


async def test_a_small_patch_with_no_stream_goes_as_it_is_and_a_big_one_compressed() -> None:
    # One player alone in a view: no stream. The state on joining is
    # compressed; a patch of a few hundred bytes (a newcomer) is not worth a
    # compression of its own, while a long one (a riddle round starts) is.
    async with running_server(fast_settings()) as srv, asyncio.timeout(10):
        room = await create_room(srv.base_url)
        raw = await RawSocket.open(srv.base_url, extensions="permessage-deflate")
        hello = {"type": "join", "v": 2, "id": 1, "room": room["code"], "name": "Ada", "team": "t1"}
        await raw.send(frame(json.dumps(hello).encode()))
        seen: list[tuple[str, int, bool]] = []

        async def until_patch() -> dict[str, Any]:
            while True:
                data = await raw.next_message()
                message: dict[str, Any] = json.loads(data)
                seen.append((message["type"], len(data), raw.rsv1))
                if message["type"] == "patch":
                    return message

        bea = await join(srv.ws_url, room["code"], "Bea", team="t2")
        small = await until_patch()
        assert [(kind, rsv1) for kind, _, rsv1 in seen[:2]] == [("welcome", False), ("state", True)]
        # Big enough to be compressed before (WORTH_FROM), small enough not to be now.
        assert deflate.WORTH_FROM <= seen[-1][1] < deflate.PATCH_ALONE_FROM
        assert seen[-1][2] is False
        assert small["ops"]
        host = await RitrovoClient.connect(srv.ws_url)
        await host.hello("host", room=room["code"], token=room["host_token"])
        await host.request("choose_pack", pack="office-riddles")
        await host.request("next")  # the first riddle: its text, hints and options
        while '"riddle"' not in json.dumps(await until_patch()):
            pass
        assert seen[-1][1] >= deflate.PATCH_ALONE_FROM and seen[-1][2] is True
        for client in (bea, host):
            await client.close()
        raw.close()


async def test_a_client_that_offers_nothing_or_too_little_gets_plain_frames() -> None:
    for settings, offer in (
        (fast_settings(), ""),
        (fast_settings(), "permessage-deflate; server_max_window_bits=9"),
        (fast_settings(ws_deflate=False), "permessage-deflate"),
    ):
        async with running_server(settings) as srv, asyncio.timeout(20):
            room = await create_room(srv.base_url)
            raw = await RawSocket.open(srv.base_url, extensions=offer)
            assert b"sec-websocket-extensions" not in raw.head.lower()
            hello = {"type": "join", "v": 2, "id": 1, "room": room["code"], "name": "Ada"}
            await raw.send(frame(json.dumps(hello).encode()))
            while json.loads(await raw.next_message())["type"] != "state":
                assert not raw.rsv1
            assert not raw.rsv1
            raw.close()


async def test_the_project_client_negotiates_it_and_plays_as_before() -> None:
    async with running_server(fast_settings()) as srv, asyncio.timeout(10):
        room = await create_room(srv.base_url)
        ada = await RitrovoClient.connect(srv.ws_url)
        assert ada.ws.response is not None
        answer = deflate.response(deflate.STREAMS, deflate.CLIENT_WINDOW_BITS)
        assert ada.ws.response.headers["Sec-WebSocket-Extensions"] == answer
        await ada.hello("join", room=room["code"], name="Ada")
        assert ada.state is not None and ada.state["state"]["code"] == room["code"]
        await ada.close()


def test_the_level_is_worth_its_cost_on_a_typical_patch() -> None:
    # Not a timing: that the compressed frame is a real saving on the kind of
    # frame a big room sends (a patch of counters and rows).
    ops = [["set", ["riddle", "progress", f"t{i}", "guesses"], 60 + i] for i in range(26)]
    patch = json.dumps({"type": "patch", "v": 2, "seq": 9, "base": 8, "ops": ops}).encode()
    assert len(deflate.deflate(patch)) * 4 < len(patch)
    assert zlib.decompressobj(-15).decompress(deflate.deflate(patch) + deflate.TRAILER) == patch
