"""One WebSocket connection: its bounded send queue and its message allowance."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Coroutine
from typing import Any

from aiohttp import WSMsgType, web

from .. import protocol
from ..config import Settings
from ..errors import RitrovoError
from ..game.models import Role
from ..metrics import Metrics
from ..protocol import CloseCode
from . import deflate
from .deflate import Deflated

log = logging.getLogger(__name__)
_connection_ids = itertools.count(1)
STRIKE_WINDOW = 10.0  # seconds over which rate-limited messages add up to abuse


class Connection:
    """One WebSocket and its bounded send queue.

    The queue and the task that drains it exist only while frames are waiting:
    an idle connection holds neither. A queue and a task parked on it cost
    ~4 KiB per connection, and the parked task kept the last frame it sent.
    """

    __slots__ = (
        "_burst",
        "_limit",
        "_rate",
        "_refilled",
        "_strikes_since",
        "_tokens",
        "_waiting",
        "address",
        "closing",
        "code",
        "deflate",
        "id",
        "last_private",
        "last_seq_sent",
        "last_view",
        "leaving",
        "metrics",
        "player_id",
        "private_stamp",
        "role",
        "sender",
        "stream_mark",
        "strikes",
        "ws",
    )

    def __init__(
        self, ws: web.WebSocketResponse, address: str, settings: Settings, metrics: Metrics
    ) -> None:
        self.ws = ws
        self.id = next(_connection_ids)
        self.address = address
        self.metrics = metrics
        self.role: Role | None = None
        self.code: str | None = None
        self.player_id: str | None = None
        # permessage-deflate as negotiated (deflate.OFF, ALONE or STREAMS), and
        # the mark of the last stream frame sent (deflate.Stream.mark).
        self.deflate = deflate.OFF
        self.stream_mark: object | None = None
        self.last_seq_sent = -1
        # The room view this connection was last sent (shared with the other
        # connections of its view key, never changed): the base of its next
        # patch. None: its next update is a full state.
        self.last_view: dict[str, Any] | None = None
        self.last_private: bytes | None = None
        # What the last ``you`` frame was built from (``views.private_stamp``).
        self.private_stamp: tuple[object, ...] | None = None
        # Frames (and at most one close) waiting to go out, oldest first, and
        # the task sending them: both None when nothing waits. The item being
        # written is out of the queue, as with asyncio.Queue.get(); the queue
        # holds send_queue_frames + 1 items (room for a final close).
        self._waiting: deque[bytes | tuple[int, str]] | None = None
        self.sender: asyncio.Task[None] | None = None
        self._limit = settings.send_queue_frames + 1
        self.closing = False
        # The player asked to leave on this connection: once they are gone
        # from the room, it gets the command's ack and close, not ``removed``.
        self.leaving = False
        self._rate = settings.messages_per_second
        self._burst = float(settings.message_burst)
        self._tokens = self._burst
        self._refilled = time.monotonic()
        self.strikes = 0  # rate-limited messages in the current strike window
        self._strikes_since = time.monotonic()

    def strike(self) -> int:
        """Count a rate-limited message; return the count for this window.

        Only sustained flooding closes a connection: the count starts over
        every STRIKE_WINDOW seconds.
        """
        now = time.monotonic()
        if now - self._strikes_since > STRIKE_WINDOW:
            self.strikes, self._strikes_since = 0, now
        self.strikes += 1
        return self.strikes

    @property
    def log_extra(self) -> dict[str, Any]:
        return {"conn": self.id, "room": self.code}

    def send(self, data: bytes, kind: str) -> None:
        """Queue an encoded frame without waiting; a client too slow to drain its queue is dropped."""
        if self.deliver(data):
            self.metrics.message_out(kind)

    def deliver(self, data: bytes) -> bool:
        """``send`` without counting the frame (the caller counts many at once): False if dropped."""
        if self.closing:
            return False
        if not self._enqueue(data):
            log.info("connection too slow; dropping it", extra=self.log_extra)
            self.close_soon(CloseCode.TOO_SLOW, "too slow: reconnect to resync")
            return False
        return True

    def deliver_framed(self, wire: bytes, payloads: list[bytes]) -> bool:
        """``deliver`` each of ``payloads``, given as ``wire``: their frames, built and joined.

        A flush writes a connection's frames (its patch and its ``you``) with
        one socket write, from frames built once for every connection that
        gets the same payload: per frame, the coroutine and the checks of
        aiohttp's ``send_frame`` were a third of a flush's writing (S2). It
        is that method's work all the same: the write, then the writer's
        count towards its limit and, over it, the drain. When frames already
        wait, the payloads queue behind them.
        """
        if self.closing:
            return False
        if self._waiting is None:
            self._write_framed(wire)
            return True
        return all(self.deliver(payload) for payload in payloads)

    def _write_framed(self, wire: bytes) -> bool:
        """Write frames built by ``deflate.framed`` to the socket now; False if it took nothing.

        A WebSocket that is closing or closed takes nothing: the frames are
        dropped, as aiohttp's ``send_frame`` drops them (its close is on the
        way, and the client resyncs when it reconnects).
        """
        ws = self.ws
        writer = ws._writer
        if ws.closed or writer is None or writer._closing or writer.transport.is_closing():
            return False
        writer.transport.write(wire)
        writer._output_size += len(wire)
        if writer._output_size > writer._limit:
            writer._output_size = 0
            if writer.protocol._paused:
                # Over the high-water mark: what comes next waits for the drain.
                waiting = self._waiting = deque()
                self.sender = asyncio.get_running_loop().create_task(
                    self._send_waiting(waiting, writer.protocol._drain_helper())
                )
        return True

    def send_message(self, kind: str, **fields: Any) -> None:
        self.send(protocol.encode(kind, **fields), kind)

    def send_error(self, exc: RitrovoError, request_id: str | int | None = None) -> None:
        self.metrics.error(exc.code)
        self.send(protocol.error(exc.code, exc.message, request_id), "error")

    def close_soon(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        asyncio.get_running_loop().create_task(self.ws.close(code=code, message=reason.encode()))

    def close_after_sending(self, code: int, reason: str) -> None:
        """Close once every frame queued so far has gone out (a final state, an ack)."""
        if self.closing:
            return
        self.closing = True
        if not self._enqueue((code, reason)):
            asyncio.get_running_loop().create_task(
                self.ws.close(code=code, message=reason.encode())
            )

    def _enqueue(self, item: bytes | tuple[int, str]) -> bool:
        """Send ``item`` now if nothing waits and the socket takes it, else queue it; False if full."""
        waiting = self._waiting
        if waiting is None:
            if isinstance(item, bytes):
                # An ack, an error, a pong: framed here and written at once,
                # without the coroutine of aiohttp's ``send_frame`` (which
                # cost twice the write). A socket that is closing or closed
                # takes nothing: the frame is dropped, as aiohttp drops it.
                self._write_framed(deflate.framed(item))
                return True
            waiting = self._waiting = deque([item])
            self.sender = asyncio.get_running_loop().create_task(self._send_waiting(waiting))
            return True
        if len(waiting) >= self._limit:
            return False
        waiting.append(item)
        return True

    async def _send_waiting(
        self,
        waiting: deque[bytes | tuple[int, str]],
        pending: Awaitable[None] | None = None,
    ) -> None:
        # Runs while frames wait. It stops when the queue is empty, with no
        # await between that check and forgetting the queue, so the next
        # send() starts a new sender. After a close it keeps the queue: later
        # frames pile up (never sent) until the handler's clean-up.
        if pending is not None:
            try:
                await pending
            except ConnectionResetError:
                return
        while waiting:
            item = waiting.popleft()
            if self.ws.closed:
                return
            if isinstance(item, tuple):
                await self.ws.close(code=item[0], message=item[1].encode())
                return
            try:
                await _send_frame(self.ws, item)
            except ConnectionResetError:  # the peer is gone; the handler's loop ends too
                return
        self._waiting = None
        self.sender = None

    def take_token(self) -> bool:
        """Token bucket: ``message_burst`` at once, ``messages_per_second`` sustained."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def _send_frame(ws: web.WebSocketResponse, data: bytes) -> Coroutine[Any, Any, None]:
    """The coroutine that sends ``data`` as a text message, compressed if it is ``Deflated``."""
    if type(data) is Deflated:
        return deflate.send(ws, data)
    return ws.send_frame(data, WSMsgType.TEXT)
