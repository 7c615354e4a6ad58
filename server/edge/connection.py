"""One WebSocket connection: its bounded send queue and its message allowance."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import Any

from aiohttp import WSMsgType, web

from .. import protocol
from ..config import Settings
from ..errors import RitrovoError
from ..game.models import Role
from ..metrics import Metrics
from ..protocol import CloseCode

log = logging.getLogger(__name__)
_connection_ids = itertools.count(1)
STRIKE_WINDOW = 10.0  # seconds over which rate-limited messages add up to abuse


class Connection:
    """One WebSocket and its bounded send queue."""

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
        self.last_seq_sent = -1
        # The room view this connection was last sent (shared with the other
        # connections of its view key, never changed): the base of its next
        # patch. None: its next update is a full state.
        self.last_view: dict[str, Any] | None = None
        self.last_private: bytes | None = None
        self.queue: asyncio.Queue[bytes | tuple[int, str]] = asyncio.Queue(
            maxsize=settings.send_queue_frames + 1
        )
        self.sender: asyncio.Task[None] | None = None
        self.closing = False
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
        if self.closing:
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            log.info("connection too slow; dropping it", extra=self.log_extra)
            self.close_soon(CloseCode.TOO_SLOW, "too slow: reconnect to resync")
            return
        self.metrics.message_out(kind)

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
        try:
            self.queue.put_nowait((code, reason))
        except asyncio.QueueFull:
            asyncio.get_running_loop().create_task(
                self.ws.close(code=code, message=reason.encode())
            )

    async def run_sender(self) -> None:
        while True:
            item = await self.queue.get()
            if self.ws.closed:
                return
            if isinstance(item, tuple):
                await self.ws.close(code=item[0], message=item[1].encode())
                return
            await self.ws.send_frame(item, WSMsgType.TEXT)

    def take_token(self) -> bool:
        """Token bucket: ``message_burst`` at once, ``messages_per_second`` sustained."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
