"""A small asyncio client for the Ritrovo protocol, built on ``websockets``.

Used by the tests, the rehearsal bots and the load scenarios, and a worked
example of docs/protocol.md. It keeps the latest ``state`` and ``you``
messages and lets callers wait for a message or a state that satisfies a
condition, with a timeout (never a sleep).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

import orjson
import websockets
from websockets.asyncio.client import ClientConnection

Message = dict[str, Any]


class ProtocolError(Exception):
    """The server answered a request with an ``error`` message."""

    def __init__(self, message: Message) -> None:
        super().__init__(f"{message.get('code')}: {message.get('message')}")
        self.code: str = message.get("code", "")
        self.body = message


class RitrovoClient:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.state: Message | None = None  # the latest full state
        self.you: Message | None = None
        self.welcome: Message | None = None
        self.messages: list[Message] = []  # everything received, in order
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())
        self.closed: asyncio.Future[tuple[int | None, str]] = asyncio.get_running_loop().create_future()

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> RitrovoClient:
        ws = await websockets.connect(url, max_size=2**24, open_timeout=10, **kwargs)
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                message = orjson.loads(frame)
                kind = message.get("type")
                if kind == "state":
                    if self.state is None or message["seq"] >= self.state["seq"]:
                        self.state = message
                elif kind == "you":
                    self.you = message
                elif kind == "welcome":
                    self.welcome = message
                self.messages.append(message)
                async with self._changed:
                    self._changed.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result((self.ws.close_code, self.ws.close_reason or ""))
            async with self._changed:
                self._changed.notify_all()

    async def send(self, kind: str, **fields: Any) -> int:
        request_id = next(self._ids)
        await self.ws.send(orjson.dumps({"type": kind, "v": 1, "id": request_id, **fields}).decode())
        return request_id

    async def send_raw(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def wait_for(self, predicate: Callable[[Message], bool], timeout: float = 5.0, *, start: int = 0) -> Message:
        """The first message from index ``start`` on that satisfies ``predicate``."""
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

    async def wait_state(self, predicate: Callable[[Message], bool], timeout: float = 5.0) -> Message:
        """Wait until the latest state satisfies ``predicate``; returns its ``state`` body."""

        async def scan() -> Message:
            async with self._changed:
                while True:
                    if self.state is not None and predicate(self.state["state"]):
                        return self.state["state"]
                    if self.closed.done():
                        raise ConnectionError(f"connection closed: {self.closed.result()}")
                    await self._changed.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def request(self, kind: str, timeout: float = 5.0, **fields: Any) -> Message:
        """Send a message and wait for its ``ack`` (returned) or ``error`` (raised)."""
        start = len(self.messages)
        request_id = await self.send(kind, **fields)
        reply = await self.wait_for(
            lambda m: m.get("id") == request_id and m.get("type") in ("ack", "error", "pong", "welcome"),
            timeout,
            start=start,
        )
        if reply["type"] == "error":
            raise ProtocolError(reply)
        return reply

    async def hello(self, kind: str, timeout: float = 5.0, **fields: Any) -> Message:
        """Send an opening message (join, rejoin, host, screen); wait for welcome and first state."""
        start = len(self.messages)
        request_id = await self.send(kind, **fields)
        reply = await self.wait_for(
            lambda m: m.get("type") == "welcome" or (m.get("type") == "error" and m.get("id") == request_id),
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


async def join(url: str, room: str, name: str, team: str | None = None) -> RitrovoClient:
    client = await RitrovoClient.connect(url)
    await client.hello("join", room=room, name=name, **({"team": team} if team else {}))
    return client
