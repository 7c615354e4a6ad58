"""The WebSocket endpoint: the upgrade, and the loop over one connection's frames."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSMessage, WSMsgType, web

from .. import protocol
from ..config import Settings
from ..errors import BadRequest, ErrorCode, LimitExceeded, RitrovoError
from ..metrics import Metrics
from ..protocol import CloseCode, MessageType
from ..service import GameService
from .connection import Connection
from .guards import AddressSlots, AttemptLimiter, check_origin, client_address
from .health import StoreHealth
from .http import error_response
from .hub import RoomHub
from .keepalive import KeepAlive, KeptAliveResponse
from .presence import Presence
from .routing import Router
from .session import Session

log = logging.getLogger(__name__)


class WebSocketEndpoint:
    """``GET /ws``: everything one process needs to serve WebSocket clients."""

    def __init__(
        self,
        settings: Settings,
        service: GameService,
        hub: RoomHub,
        health: StoreHealth,
        presence: Presence,
        attempts: AttemptLimiter,
        slots: AddressSlots,
        metrics: Metrics,
        router: Router | None = None,
        keepalive: KeepAlive | None = None,
    ) -> None:
        self.settings = settings
        self.router = router
        # Pings, dead peers and the opening deadline, for every connection at once.
        self.keepalive = KeepAlive(settings.hello_timeout) if keepalive is None else keepalive
        self.service = service
        self.hub = hub
        self.health = health
        self.presence = presence
        self.attempts = attempts
        self.slots = slots
        self.metrics = metrics

    async def handle(self, request: web.Request) -> web.StreamResponse:
        settings = self.settings
        # Both checks answer with a plain HTTP error before the upgrade (403, 429),
        # which browsers and libraries report clearly. This route has no
        # http.guarded around it: its frame would live as long as the connection.
        try:
            check_origin(request, settings)
            address = client_address(request, settings.trusted_proxies)
            self.slots.admit(address)
        except RitrovoError as exc:
            return error_response(request, exc)
        # The soft limit answers an over-size frame with an error and keeps the
        # connection; aiohttp's hard limit closes one over 4x with 1009 (aiohttp
        # refuses a message of max_msg_size bytes itself, hence the + 1).
        # Per-message deflate on Ritrovo's terms (deflate.py): frames many
        # connections share are compressed once, and no connection keeps a
        # compressor or decompressor of its own.
        # Unmasked client frames close the connection with 1002 (frames.py).
        # Pinged every 30 s by the process's KeepAlive (keepalive.py).
        ws = KeptAliveResponse(
            max_msg_size=settings.max_frame_bytes * 4 + 1, timeout=2.0, deflate=settings.ws_deflate
        )
        conn = Connection(ws, address, settings, self.metrics)
        # Counted before the first await, so a burst of upgrades cannot overshoot.
        self.slots.opened(address)
        self.hub.opened(conn)
        keepalive = self.keepalive
        try:
            await ws.prepare(request)
            conn.deflate = ws.deflated
            log.info("connection opened", extra=conn.log_extra)
            session = Session(
                conn,
                self.service,
                self.hub,
                self.health,
                self.presence,
                self.attempts,
                self.router,
            )
            keepalive.watch(conn)
            nameless = True
            async for frame in ws:
                await self._receive(session, frame)
                # Not kept while waiting for the next one (for an idle
                # connection: for its lifetime).
                del frame
                if nameless and conn.role is not None:
                    keepalive.said_hello(conn)
                    nameless = False
        finally:
            keepalive.forget(conn)
            self.slots.closed(address)
            self.hub.closed(conn)
            if conn.role == "player" and conn.code and conn.player_id:
                await self.presence.disconnect(conn.code, conn.player_id)
            if conn.sender is not None:
                conn.sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await conn.sender
            log.info("connection closed (%s)", ws.close_code, extra=conn.log_extra)
        return ws

    async def _receive(self, session: Session, frame: WSMessage) -> None:
        conn = session.conn
        settings = self.settings
        request_id: str | int | None = None
        if frame.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return  # close, error: aiohttp ends the loop and answers the peer itself
        kind = "invalid"
        try:
            if frame.type == WSMsgType.BINARY:
                kind = "binary"
                raise BadRequest(
                    "binary frames are not supported; send JSON text",
                    code=ErrorCode.BINARY_NOT_SUPPORTED,
                )
            if not conn.take_token():
                kind = "rate_limited"
                # Once: frames already sent keep arriving until the close is
                # done, and each logged the same line again (25 for one
                # connection in the soak).
                if conn.strike() >= settings.abuse_strikes and not conn.closing:
                    log.warning("closing a flooding connection", extra=conn.log_extra)
                    conn.close_soon(CloseCode.ABUSE, "too many messages")
                raise LimitExceeded("slow down: too many messages", code=ErrorCode.RATE_LIMITED)
            data: str = frame.data
            if len(data.encode()) > settings.max_frame_bytes:
                raise BadRequest(
                    f"message larger than {settings.max_frame_bytes} bytes",
                    code=ErrorCode.FRAME_TOO_LARGE,
                )
            msg = protocol.parse(data, session.allowed())
            kind = msg.type
            request_id = msg.id
            if conn.role is None:  # an opening, in time: its deadline waits while it is handled
                self.keepalive.opening(conn)
                try:
                    await session.handle(msg)
                finally:
                    self.keepalive.opened(conn, conn.role is not None)
            else:
                await session.handle(msg)
        except RitrovoError as exc:
            if (
                request_id is None
                and frame.type == WSMsgType.TEXT
                and len(frame.data) <= 4 * settings.max_frame_bytes
            ):
                request_id = protocol.request_id_of(frame.data)
            conn.send_error(exc, request_id)
        except Exception:
            log.exception("unexpected error", extra=conn.log_extra)
            self.metrics.error(ErrorCode.INTERNAL_ERROR)
            conn.send(
                protocol.error(
                    ErrorCode.INTERNAL_ERROR, "something went wrong on the server", request_id
                ),
                MessageType.ERROR,
            )
        finally:
            self.metrics.message_in(kind)
