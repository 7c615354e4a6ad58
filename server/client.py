"""A small asyncio client for the Ritrovo protocol, built on ``websockets``.

Used by the tests, the rehearsal bots (``ritrovo bots``) and the load scenarios
in ``bench/``, and a worked example of docs/protocol.md. It keeps the latest
``state`` and ``you`` messages and lets callers wait for a message or a state
that satisfies a condition, with a timeout (never a sleep).

Two modes:

* the default keeps every message in ``messages`` (tests read the history);
* ``keep_messages=False`` keeps only the latest ``state``/``you``/``welcome``
  (long-running bots), and ``parse_states=False`` does not even decode
  ``state`` and ``patch`` frames: only their ``seq`` (and a patch's ``base``)
  is read from the frame's head and the raw frame is handed to ``on_frame``
  (load generators with thousands of connections on one core).

Patches: after the first full ``state`` the server sends ``patch`` frames
(docs/protocol.md). The client applies each to its state, so ``state``,
``wait_state`` and the history see full states as before: an applied patch
is recorded in ``messages`` (and handed to ``on_frame`` and waiters) as the
``state`` message it produced, with the patch's ``base`` seq as an extra
field. A patch that does not apply to what the client holds (its ``base`` is
not the current seq) is recorded as it came, and the client sends ``resync``
and ignores patches until the full ``state`` that answers it.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import Callable
from typing import Any

import orjson
import websockets
from websockets.asyncio.client import ClientConnection

from .game.patches import PatchError, apply
from .protocol import PROTOCOL_VERSION

Message = dict[str, Any]
# (kind, parsed message or None for an unparsed state, raw frame, arrival time.monotonic()).
# ``kind`` is "state" for every new state, whether it came whole or as a patch
# (``raw`` is the frame as it came); "patch" only for a patch that was not applied.
FrameHook = Callable[[str, "Message | None", bytes, float], None]

# The server encodes ``{"type":"state","v":2,"seq":N,...}`` and
# ``{"type":"patch","v":2,"seq":N,"base":M,...}``: the head of the frame
# tells its kind, seq and base without decoding the whole (large) frame.
_HEAD = re.compile(rb'^\{"type":"([a-z_]+)"(?:,"v":\d+)?(?:,"seq":(\d+))?(?:,"base":(\d+))?')


class ProtocolError(Exception):
    """The server answered a request with an ``error`` message."""

    def __init__(self, message: Message) -> None:
        super().__init__(f"{message.get('code')}: {message.get('message')}")
        self.code: str = message.get("code", "")
        self.body = message


class RitrovoClient:
    def __init__(
        self,
        ws: ClientConnection,
        *,
        keep_messages: bool = True,
        parse_states: bool = True,
        on_frame: FrameHook | None = None,
    ) -> None:
        self.ws = ws
        self.state: Message | None = None  # the latest full state (parsed mode)
        self.state_seq = -1  # seq of the latest state, whole or patched (both modes)
        self.you: Message | None = None
        self.welcome: Message | None = None
        self.messages: list[Message] = []  # everything received, in order (keep_messages)
        self.received = 0  # frames received so far
        self.bytes_received = 0
        self.patches_applied = 0
        self.resyncs_sent = 0
        self._resyncing = False  # resync sent: ignore patches until the full state
        self.keep_messages = keep_messages
        self.parse_states = parse_states
        self.on_frame = on_frame
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        # Lean mode: one-shot waiters (predicate, future) checked on each message.
        self._waiters: list[tuple[Callable[[Message], bool], asyncio.Future[Message]]] = []
        self._reader = asyncio.create_task(self._read())
        self.closed: asyncio.Future[tuple[int | None, str]] = (
            asyncio.get_running_loop().create_future()
        )

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> RitrovoClient:
        options = {
            k: kwargs.pop(k) for k in ("keep_messages", "parse_states", "on_frame") if k in kwargs
        }
        kwargs.setdefault("proxy", None)  # loopback and LAN servers: never through an HTTP proxy
        kwargs.setdefault("open_timeout", 10)
        ws = await websockets.connect(url, max_size=2**24, **kwargs)
        return cls(ws, **options)

    async def _read(self) -> None:
        try:
            while True:
                frame = await self.ws.recv(decode=False)
                arrived = time.monotonic()
                raw = frame if isinstance(frame, bytes) else frame.encode()
                self.received += 1
                self.bytes_received += len(raw)
                message: Message | None
                if not self.parse_states and raw.startswith(
                    (b'{"type":"state"', b'{"type":"patch"')
                ):
                    kind = await self._skim(raw)
                    message = None
                else:
                    message = orjson.loads(raw)
                    kind = message.get("type", "")
                    if kind == "state":
                        if self.state is None or message["seq"] >= self.state["seq"]:
                            self.state = message
                            self.state_seq = message["seq"]
                            self._resyncing = False
                    elif kind == "patch":
                        patched = await self._patch(message)
                        if patched is not None:
                            message, kind = patched, "state"
                    elif kind == "you":
                        self.you = message
                    elif kind == "welcome":
                        self.welcome = message
                    if self.keep_messages:
                        self.messages.append(message)
                    if self._waiters:
                        self._resolve(message)
                if self.on_frame is not None:
                    self.on_frame(kind, message, raw, arrived)
                async with self._changed:
                    self._changed.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result((self.ws.close_code, self.ws.close_reason or ""))
            for _, future in self._waiters:
                if not future.done():
                    future.set_exception(
                        ConnectionError(f"connection closed: {self.closed.result()}")
                    )
            self._waiters.clear()
            async with self._changed:
                self._changed.notify_all()

    async def _skim(self, raw: bytes) -> str:
        """Lean mode: follow the seq from the frame's head; "state" if it moved on."""
        head = _HEAD.match(raw)
        if head is None or head.group(2) is None:
            return "state"
        seq = int(head.group(2))
        if head.group(1) == b"state":
            self.state_seq = max(self.state_seq, seq)
            self._resyncing = False
            return "state"
        base = head.group(3)
        if self._resyncing or base is None or int(base) != self.state_seq:
            await self._resync()
            return "patch"
        self.state_seq = seq
        return "state"

    async def _patch(self, message: Message) -> Message | None:
        """Apply a patch to the current state: the new state message, or None after a gap."""
        current = self.state
        if not self._resyncing and current is not None and message.get("base") == current["seq"]:
            try:
                body = apply(current["state"], message["ops"])
            except (PatchError, KeyError, TypeError):
                pass
            else:
                seq = message["seq"]
                self.state = {
                    "type": "state",
                    "v": message.get("v"),
                    "seq": seq,
                    "state": body,
                    "base": message["base"],
                }
                self.state_seq = seq
                self.patches_applied += 1
                return self.state
        await self._resync()
        return None

    async def _resync(self) -> None:
        """Ask for a full state (once until it comes)."""
        if self._resyncing:
            return
        self._resyncing = True
        self.resyncs_sent += 1
        await self.ws.send(
            orjson.dumps({"type": "resync", "v": PROTOCOL_VERSION, "id": next(self._ids)}).decode()
        )

    def _resolve(self, message: Message) -> None:
        keep = []
        for predicate, future in self._waiters:
            if future.done():
                continue
            if predicate(message):
                future.set_result(message)
            else:
                keep.append((predicate, future))
        self._waiters = keep

    def _expect(self, predicate: Callable[[Message], bool]) -> asyncio.Future[Message]:
        """A future for the next message that satisfies ``predicate`` (registered before sending)."""
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        if self.closed.done():
            future.set_exception(ConnectionError(f"connection closed: {self.closed.result()}"))
        else:
            self._waiters.append((predicate, future))
        return future

    async def send(self, kind: str, **fields: Any) -> int:
        request_id = next(self._ids)
        await self.ws.send(
            orjson.dumps({"type": kind, "v": PROTOCOL_VERSION, "id": request_id, **fields}).decode()
        )
        return request_id

    async def send_raw(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def wait_for(
        self, predicate: Callable[[Message], bool], timeout: float = 5.0, *, start: int = 0
    ) -> Message:
        """The first message from index ``start`` on that satisfies ``predicate``.

        Without ``keep_messages`` there is no history: only messages that arrive
        from now on are considered.
        """
        if not self.keep_messages:
            return await asyncio.wait_for(self._expect(predicate), timeout)
        index = start

        async def scan() -> Message:
            nonlocal index
            async with self._changed:
                while True:
                    while index < len(self.messages):
                        message = self.messages[index]
                        index += 1
                        if predicate(message):
                            return message
                    if self.closed.done():
                        raise ConnectionError(f"connection closed: {self.closed.result()}")
                    await self._changed.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def wait_state(
        self, predicate: Callable[[Message], bool], timeout: float = 5.0
    ) -> Message:
        """Wait until the latest state satisfies ``predicate``; returns its ``state`` body."""

        async def scan() -> Message:
            async with self._changed:
                while True:
                    if self.state is not None and predicate(self.state["state"]):
                        body: Message = self.state["state"]
                        return body
                    if self.closed.done():
                        raise ConnectionError(f"connection closed: {self.closed.result()}")
                    await self._changed.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def wait_change(self, timeout: float) -> bool:
        """Wait until any new frame arrives (True) or ``timeout`` passes (False)."""
        seen = self.received

        async def changed() -> None:
            async with self._changed:
                while self.received == seen and not self.closed.done():
                    await self._changed.wait()

        try:
            await asyncio.wait_for(changed(), max(0.0, timeout))
        except TimeoutError:
            return False
        return True

    async def request(self, kind: str, timeout: float = 5.0, **fields: Any) -> Message:
        """Send a message and wait for its ``ack`` (returned) or ``error`` (raised)."""
        if not self.keep_messages:
            future = await self.request_future(kind, **fields)
            reply = await asyncio.wait_for(future, timeout)
        else:
            start = len(self.messages)
            request_id = await self.send(kind, **fields)
            reply = await self.wait_for(
                lambda m: (
                    m.get("id") == request_id
                    and m.get("type") in ("ack", "error", "pong", "welcome")
                ),
                timeout,
                start=start,
            )
        if reply["type"] == "error":
            raise ProtocolError(reply)
        return reply

    async def request_future(self, kind: str, **fields: Any) -> asyncio.Future[Message]:
        """Send a message; the returned future resolves to its ``ack``, ``pong`` or ``error``.

        Errors are returned, not raised: load generators count them.
        """
        request_id = next(self._ids)
        future = self._expect(
            lambda m: m.get("id") == request_id and m.get("type") in ("ack", "error", "pong")
        )
        await self.ws.send(
            orjson.dumps({"type": kind, "v": PROTOCOL_VERSION, "id": request_id, **fields}).decode()
        )
        return future

    async def hello(self, kind: str, timeout: float = 5.0, **fields: Any) -> Message:
        """Send an opening message (join, rejoin, host, screen); wait for welcome and first state."""
        if not self.keep_messages:
            request_id = next(self._ids)
            reply_future = self._expect(
                lambda m: (
                    m.get("type") == "welcome"
                    or (m.get("type") == "error" and m.get("id") == request_id)
                )
            )
            first_state = self.state_seq
            await self.ws.send(
                orjson.dumps(
                    {"type": kind, "v": PROTOCOL_VERSION, "id": request_id, **fields}
                ).decode()
            )
            reply = await asyncio.wait_for(reply_future, timeout)
            if reply["type"] == "error":
                raise ProtocolError(reply)

            async def state_arrived() -> None:
                async with self._changed:
                    while self.state_seq == first_state:
                        if self.closed.done():
                            raise ConnectionError(f"connection closed: {self.closed.result()}")
                        await self._changed.wait()

            await asyncio.wait_for(state_arrived(), timeout)
            return reply
        start = len(self.messages)
        request_id = await self.send(kind, **fields)
        reply = await self.wait_for(
            lambda m: (
                m.get("type") == "welcome"
                or (m.get("type") == "error" and m.get("id") == request_id)
            ),
            timeout,
            start=start,
        )
        if reply["type"] == "error":
            raise ProtocolError(reply)
        await self.wait_for(lambda m: m.get("type") == "state", timeout, start=start)
        return reply

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


def ws_url_of(url: str) -> str:
    """``http://host:port`` (a server's base URL) to its WebSocket endpoint; ws URLs pass through."""
    url = url.rstrip("/")
    if url.startswith(("ws://", "wss://")):
        return url if url.endswith("/ws") else url + "/ws"
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :] + "/ws"
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :] + "/ws"
    return "ws://" + url + "/ws"


async def join(
    url: str, room: str, name: str, team: str | None = None, **options: Any
) -> RitrovoClient:
    client = await RitrovoClient.connect(url, **options)
    fields: dict[str, Any] = {"room": room, "name": name}
    if team:
        fields["team"] = team
    await client.hello("join", **fields)
    return client
