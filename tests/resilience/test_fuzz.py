"""Protocol fuzzing against a live server: bad frames of every kind.

The server must never crash or leak a traceback, must answer each bad frame
with an ``error`` that has a code, and must leave the room exactly as it was.
The server and its clients run on an event loop in a background thread, so
hypothesis can drive a plain (synchronous) test function.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from ritrovo import protocol
from ritrovo.app import STORE
from ritrovo.client import RitrovoClient, join
from ritrovo.errors import RitrovoError
from ritrovo.service import normalize_code
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

T = TypeVar("T")
TRACE_MARKERS = ("Traceback", 'File "')
MAX_FRAME = 16 * 1024


class LiveRoom:
    """A server, a room in its lobby, a player in it and a connection that has not opened yet."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="fuzz-server", daemon=True
        )
        self.stack = AsyncExitStack()
        self.clients: dict[str, RitrovoClient] = {}
        self.code = ""

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _start(self) -> None:
        srv = await self.stack.enter_async_context(
            running_server(
                fast_settings(
                    max_frame_bytes=MAX_FRAME,
                    messages_per_second=1e6,
                    message_burst=1_000_000,
                    join_attempts_per_minute=1_000_000,
                    hello_timeout=600.0,
                )
            )
        )
        self.store = srv.app[STORE]
        room = await create_room(srv.base_url, "Fuzz")
        self.code = room["code"]
        self.clients["player"] = await join(srv.ws_url, self.code, "Ada")
        self.clients["opening"] = await RitrovoClient.connect(srv.ws_url)

    async def _stop(self) -> None:
        for client in self.clients.values():
            await client.close()
        await self.stack.aclose()

    def start(self) -> None:
        self.thread.start()
        self.run(self._start(), timeout=30)

    def stop(self) -> None:
        self.run(self._stop(), timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def room_document(self) -> tuple[int, dict[str, bytes]]:
        async def load() -> tuple[int, dict[str, bytes]]:
            stored = await self.store.load(self.code)
            assert stored is not None
            return stored.version, stored.parts

        return self.run(load())

    def exchange(self, target: str, frame: str | bytes) -> dict[str, Any]:
        """Send one frame and return the next message the server sends back."""
        client = self.clients[target]

        async def go() -> dict[str, Any]:
            start = len(client.messages)
            await client.send_raw(frame)
            return await client.wait_for(lambda m: True, timeout=5, start=start)

        return self.run(go())


@pytest.fixture(scope="module")
def live() -> Iterator[LiveRoom]:
    room = LiveRoom()
    room.start()
    try:
        yield room
    finally:
        room.stop()


# -- frames ---------------------------------------------------------------

no_surrogates = st.characters(exclude_categories=["Cs"])  # cannot be sent as UTF-8 text
odd_text = st.text(alphabet=no_surrogates, max_size=300)
surrogates = st.text(
    alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=4
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # unbounded: huge numbers too
    | st.floats()  # NaN and infinities become non-JSON tokens
    | odd_text
)


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4)


json_values = st.recursive(scalars, containers, max_leaves=12)
field_names = [
    "type",
    "id",
    "v",
    "room",
    "name",
    "team",
    "token",
    "text",
    "locked",
    "seconds",
    "player",
    "guess",
]
messages = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted(protocol.ALL_TYPES | {"ping"})) | odd_text | json_values},
    optional={name: json_values for name in field_names[1:]},
)

# Well-typed messages with odd values: these get past the schemas into the game.
ids = st.none() | st.integers() | odd_text
well_typed = st.one_of(
    st.builds(lambda t, i: {"type": "guess", "id": i, "text": t}, odd_text, ids),
    st.builds(lambda t, i: {"type": "line", "id": i, "text": t}, odd_text, ids),
    st.builds(lambda t, i: {"type": "vote", "id": i, "team": t}, odd_text, ids),
    st.builds(lambda i: {"type": "hint", "id": i}, ids),
    st.builds(
        lambda r, n, t: {"type": "join", "room": r, "name": n, "team": t},
        odd_text,
        odd_text,
        st.none() | odd_text,
    ),
    st.builds(lambda r, t: {"type": "rejoin", "room": r, "token": t}, odd_text, odd_text),
    st.builds(lambda r, t: {"type": "host", "room": r, "token": t}, odd_text, odd_text),
    st.builds(lambda r: {"type": "screen", "room": r}, odd_text),
)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=True)


frames = st.one_of(
    well_typed.map(dumps),
    messages.map(dumps),
    json_values.map(dumps),
    odd_text,  # mostly not JSON at all
    st.binary(max_size=200),  # binary frames
    st.integers(1, 3000).map(lambda n: "[" * n + "]" * n),  # deep nesting
    st.integers(1, 600).map(
        lambda n: '{"type":"guess","text":' + '{"a":' * n + "1" + "}" * n + "}"
    ),
    surrogates.map(lambda s: json.dumps({"type": "guess", "text": s})),  # \ud800 escapes
    surrogates.map(lambda s: json.dumps({"type": "join", "room": s, "name": s})),
    st.integers(MAX_FRAME // 2, 30_000).map(lambda n: '{"type":"guess","text":"' + "é" * n + '"}'),
)


def acceptable(target: str, frame: str | bytes, code: str) -> bool:
    """False for the rare generated frame that is a valid command that changes the room."""
    if isinstance(frame, bytes):
        return True
    allowed = protocol.PLAYER if target == "player" else protocol.OPENING
    try:
        msg = protocol.parse(frame, allowed)
    except RitrovoError:
        return True
    if isinstance(msg, protocol.Leave):
        return False
    room = getattr(msg, "room", None)
    return not (isinstance(room, str) and normalize_code(room) == code)


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
@given(target=st.sampled_from(["player", "opening"]), frame=frames)
def test_bad_frames_get_errors_and_change_nothing(
    live: LiveRoom, target: str, frame: str | bytes
) -> None:
    assume(acceptable(target, frame, live.code))
    before = live.room_document()
    reply = live.exchange(target, frame)
    event(f"{target}: {reply.get('code', reply['type'])}")  # shown by --hypothesis-show-statistics
    text = json.dumps(reply)
    assert not any(marker in text for marker in TRACE_MARKERS) or any(
        marker in (frame if isinstance(frame, str) else "") for marker in TRACE_MARKERS
    ), reply
    if reply["type"] == "pong":
        assert target == "player" and '"ping"' in str(frame)
    elif reply["type"] == "state":  # the answer to a well-formed resync
        assert target == "player" and '"resync"' in str(frame)
    else:
        assert reply["type"] == "error", reply
        assert isinstance(reply["code"], str) and reply["code"]
        assert reply["code"] != "internal_error", (frame, reply)
    assert live.room_document() == before
    for client in live.clients.values():
        assert not client.closed.done(), client.closed.result()


def test_invalid_utf8_text_frame_closes_only_that_connection(live: LiveRoom) -> None:
    """Not JSON's problem but the WebSocket layer's: 1007, and the server lives on."""

    async def go() -> tuple[int | None, str]:
        client = await RitrovoClient.connect(_ws_url(live))
        await client.ws.send(b"\xff\xfe{", text=True)
        return await asyncio.wait_for(client.closed, 5)

    close_code, _ = live.run(go())
    assert close_code == 1007
    assert live.exchange("player", '{"type":"ping","id":1}')["type"] == "pong"


def _ws_url(live: LiveRoom) -> str:
    host, port = live.clients["player"].ws.remote_address[:2]
    return f"ws://{host}:{port}/ws"
