"""The TCP edge: what every connection passes before a request reaches a route.

aiohttp's server closes an idle keep-alive connection (``keepalive_timeout``),
but has no deadline for a request head or body, no limit on connections per
address, and answers whatever ``Host`` a request names. ``GuardedRunner``
serves the app with ``GuardedHandler`` (aiohttp's ``RequestHandler`` plus
these checks) as the protocol of every connection:

- at most ``max_tcp_connections_per_address`` open connections per client
  address, counted at accept, so a socket that never sends a byte counts:
  over it a new connection is closed at once, before anything is read. Not
  applied behind trusted proxies, where every connection comes from the proxy
  (the proxy limits connections per client: nginx's ``limit_conn``);
- a request head must be complete ``header_timeout`` after the connection
  opened (on a keep-alive connection: after the first byte of the next
  request), or the connection is closed;
- a request body must be complete ``body_timeout`` after its head: the
  handler reading it gets ``RequestTimeout`` (HTTP 408 ``request_timeout``)
  and the connection closes after the answer (or at once, if no handler is
  reading it any more);
- the ``Host`` must name this server (``HostRules``), else HTTP 421
  ``host_not_allowed``: a page on a DNS name rebound to this server's
  address (DNS rebinding) is refused before any route.

At the protocol, not in each route: the checks cover every route (static
files, 404s, the WebSocket upgrade), and nothing of them stays alive during a
WebSocket's life (the Host check hands aiohttp the app's own coroutine; the
timers are cancelled once the head is in).

A malformed request is logged as one line at debug (aiohttp logged each
with a traceback at ERROR).

``GuardedHandler`` reads a few of ``RequestHandler``'s own attributes
(``_request_count``, ``_messages``, ``_waiter``, ``_upgraded``,
``_request_in_progress``, ``_task_handler``, ``_data_received_cb``) as in
aiohttp 3.14, and asyncio's socket transport's ``_read_ready_cb``
(Python 3.11), and ``GuardedServer`` the
plain ``Server``'s ``_kwargs``; tests/resilience/test_tcp_edge.py exercises
each use.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, cast
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from .. import garbage
from ..config import Settings
from ..errors import ErrorCode, Misdirected, RequestTimeout
from ..metrics import Metrics
from .http import json_response, secure

log = logging.getLogger(__name__)

_AppHandler = Callable[[BaseRequest], Awaitable[StreamResponse]]

# A Host header: a bracketed IPv6 literal or a name (or IPv4), and a port.
_HOST = re.compile(r"(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+))(?::[0-9]{0,5})?")
WARN_EVERY_SECONDS = 60.0


def host_name(value: str) -> str | None:
    """The host of a ``Host`` header (or an ``allowed_hosts`` entry), lower case,
    without the port and a final dot; None if it is not a host."""
    match = _HOST.fullmatch(value.strip())
    if match is None:
        return None
    name = (match.group(1) or match.group(2)).lower()
    return name[:-1] if name.endswith(".") and len(name) > 1 else name


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostRules:
    """Which ``Host`` headers this server answers (everything else gets 421).

    DNS rebinding: a page on ``attacker.example`` has the name re-resolved to
    this server's address and then reads it as its own origin; every request
    it makes names ``attacker.example`` in ``Host``. Answered: IP literals
    (a LAN address, a load balancer's health check), ``localhost``, the host
    of ``public_url``, and the names in ``allowed_hosts`` (``*``: any). A
    request without ``Host`` (HTTP/1.0 tools, some health checks) is not
    from a browser and is answered.
    """

    def __init__(self, settings: Settings) -> None:
        entries = [e.strip() for e in (settings.allowed_hosts or "").split(",") if e.strip()]
        self.any = "*" in entries
        names = {"localhost"}
        for entry in entries:
            # A URL is accepted for a name: its host counts.
            name = host_name(urlsplit(entry).netloc if "://" in entry else entry)
            if name:
                names.add(name)
        if settings.public_url:
            public = host_name(urlsplit(settings.public_url).netloc)
            if public:
                names.add(public)
        self.names = frozenset(names)

    def allows(self, host: str | None) -> bool:
        if not host or self.any:
            return True
        name = host_name(host)
        if name is None:
            return False
        return name in self.names or _is_ip(name)


class ConnectionGuard:
    """The limits every connection of one app shares, and its per-address counts."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        # Behind trusted proxies every connection comes from a proxy's address.
        self.cap = 0 if settings.trusted_proxies > 0 else settings.max_tcp_connections_per_address
        self.header_timeout = settings.header_timeout
        self.body_timeout = settings.body_timeout
        self.send_buffer = settings.socket_send_buffer
        self.hosts = HostRules(settings)
        self.metrics = metrics
        self.open: Counter[str] = Counter()
        self._warned: dict[str, float] = {}

    def admit(self, address: str) -> bool:
        """Count one more connection from ``address``; False (nothing counted) over the cap."""
        if self.open[address] >= self.cap:
            self.dropped("address_cap", f"connections from one address over {self.cap}")
            return False
        self.open[address] += 1
        return True

    def release(self, address: str) -> None:
        left = self.open[address] - 1
        if left > 0:
            self.open[address] = left
        else:
            del self.open[address]

    def dropped(self, reason: str, detail: str) -> None:
        self.metrics.connections_dropped.labels(reason).inc()
        self._warn(reason, "closing connections: %s (%s)", reason, detail)

    def _warn(self, key: str, message: str, *args: object) -> None:
        """Log a warning at most once a minute per kind: attackers must not fill the logs."""
        now = time.monotonic()
        if now - self._warned.get(key, -WARN_EVERY_SECONDS) >= WARN_EVERY_SECONDS:
            self._warned[key] = now
            log.warning(message, *args)

    def host_checked(self, handler: _AppHandler) -> _AppHandler:
        """``handler`` behind the Host check.

        Not a coroutine of its own: it returns the app's coroutine, so a
        WebSocket's request keeps no extra frame for its lifetime (the reason
        Ritrovo has no middleware).
        """
        allows = self.hosts.allows

        def checked(request: BaseRequest) -> Awaitable[StreamResponse]:
            if allows(request.headers.get(hdrs.HOST)):
                return handler(request)
            return self._misdirected(request)

        return checked

    async def _misdirected(self, request: BaseRequest) -> StreamResponse:
        host = request.headers.get(hdrs.HOST, "")
        self._warn(
            "host",
            "refused a request for host %.100r: if this server is meant to answer it, "
            "add it to RITROVO_ALLOWED_HOSTS (or set RITROVO_PUBLIC_URL)",
            host,
        )
        self.metrics.error(ErrorCode.HOST_NOT_ALLOWED)
        exc = Misdirected(
            "this server does not answer to this host name", code=ErrorCode.HOST_NOT_ALLOWED
        )
        response = json_response({"error": exc.to_dict()}, status=exc.http_status)
        secure(cast(web.Request, request), response)
        response.force_close()
        return response


class GuardedHandler(RequestHandler):
    """aiohttp's protocol for one connection, with the address cap and the read deadlines."""

    __slots__ = ("_address", "_body", "_body_timer", "_guard", "_head_timer")

    def __init__(self, manager: web.Server, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self._address: str | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._body: StreamReader | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        guard = self._guard
        if guard.cap:
            peer = transport.get_extra_info("peername")
            address = peer[0] if isinstance(peer, tuple) and peer else None
            if isinstance(address, str):
                if not guard.admit(address):
                    # Over the cap: closed before aiohttp knows of it (no task,
                    # no timer, nothing read); connection_lost has nothing to do.
                    self._manager = None
                    cast(asyncio.Transport, transport).abort()
                    return
                self._address = address
        if guard.send_buffer > 0:
            # The kernel grows a socket's send buffer up to megabytes for a
            # client that does not read: bounded, such a client reaches the
            # connection's own queue limit (send_queue_frames) and is dropped
            # within seconds, instead of holding megabytes of kernel memory.
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, guard.send_buffer)
        super().connection_made(transport)
        if guard.header_timeout > 0:
            self._head_timer = self._loop.call_later(guard.header_timeout, self._head_expired)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        exc = kw.get("exc_info")
        if isinstance(exc, HttpProcessingError):
            # A malformed request (a 16,000-character path, a broken header)
            # is the client's error, answered 400. aiohttp logged each at
            # ERROR with a traceback: anyone could fill the log with them
            # (245 in the issue-12 soak), and formatting a traceback reads
            # its source files into linecache for the life of the process
            # (aiohttp's web_protocol.py, 920 strings made in the middle of
            # the abuse, kept pymalloc arenas the abuse had added). One line,
            # at debug, as aiohttp itself does for a non-HTTP first request.
            log.debug("refused a malformed request: %s %.100s", type(exc).__name__, exc.message)
            return
        super().log_exception(*args, **kw)

    def connection_lost(self, exc: BaseException | None) -> None:
        garbage.connection_closed()
        if self._address is not None:
            self._guard.release(self._address)
            self._address = None
        self._cancel_timers()
        transport = self.transport
        # Between requests (no handler running), aiohttp's loop for this
        # connection may be lingering: reading, for up to 10 s, the rest of
        # a body the handler answered without reading (a request refused
        # before its body), and the loss of the connection does not end that
        # read. In the issue-12 soak 1,448 such loops of gone connections,
        # ~10 KiB each, were the peak at the end of the abuse. There is
        # nothing left to read: the loop ends now (as aiohttp ends it when
        # the connection goes while it waits for the next request).
        loop_task = None if self._request_in_progress else self._task_handler
        super().connection_lost(exc)
        if loop_task is not None and not loop_task.done():
            loop_task.cancel()
        # A closed connection must not be a reference cycle: only a full
        # collection frees those, and under connection churn they piled up
        # between collections (the issue-12 soak: thousands of closed
        # connections at ~7 KiB, the peak that left the process's pymalloc
        # arenas pinned after the abuse). Two links close the cycles, and
        # neither is used once the connection is lost: a WebSocket's
        # ``_on_data_received``, which aiohttp hands this handler and never
        # takes back (handler -> response -> reader, writer, request ->
        # handler), and Python 3.11's socket transport's bound method of
        # itself (CPython gh-100348, cleared the same way in 3.12; its reader
        # was removed from the selector when it closed).
        self._data_received_cb = None
        if transport is not None and hasattr(transport, "_read_ready_cb"):
            setattr(transport, "_read_ready_cb", None)  # noqa: B010 - private to asyncio

    def data_received(self, data: bytes) -> None:
        if self._upgraded:  # a WebSocket's frames: nothing to time here
            super().data_received(data)
            return
        count = self._request_count
        super().data_received(data)
        if self._request_count != count:
            self._heads_parsed()
        elif (
            data
            and self._head_timer is None
            and self._body is None
            and self.transport is not None
            and self._guard.header_timeout > 0
        ):
            # The first bytes of the next request on a keep-alive connection.
            self._head_timer = self._loop.call_later(self._guard.header_timeout, self._head_expired)

    def _heads_parsed(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if self._upgraded or not self._messages:
            return
        # Only the last head parsed can still be waiting for its body: the
        # parser reads the next head only after the previous body ended.
        payload = self._messages[-1][1]
        if payload.is_eof() or self._guard.body_timeout <= 0:
            return
        if self._body_timer is not None:
            self._body_timer.cancel()
        self._body = payload
        self._body_timer = self._loop.call_later(self._guard.body_timeout, self._body_expired)
        payload.on_eof(self._body_arrived)

    def _body_arrived(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        self._body = None

    def _idle(self) -> bool:
        """Waiting for the next request (what aiohttp's keep-alive timer checks too)."""
        waiter = self._waiter
        return waiter is not None and not waiter.done()

    def _head_expired(self) -> None:
        self._head_timer = None
        if self.transport is not None and self._idle():
            self._guard.dropped(
                "header_timeout", f"no request head within {self._guard.header_timeout} s"
            )
            self.force_close()

    def _body_expired(self) -> None:
        self._body_timer = None
        payload, self._body = self._body, None
        if payload is None or payload.is_eof() or self.transport is None:
            return
        self._guard.dropped("body_timeout", f"no whole body within {self._guard.body_timeout} s")
        if self._request_in_progress:
            # The handler reading the body gets the error (a JSON 408 from
            # http.guarded); the end of file keeps aiohttp from waiting for the
            # rest, and close() closes the connection after the answer.
            payload.set_exception(
                RequestTimeout(
                    f"the request body did not arrive within {self._guard.body_timeout:g} s",
                    code=ErrorCode.REQUEST_TIMEOUT,
                )
            )
            payload.feed_eof()
            self.close()
        else:
            self.force_close()

    def _cancel_timers(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None
        self._body = None


class GuardedServer(web.Server):
    """aiohttp's ``Server`` (the protocol factory) making ``GuardedHandler`` s."""

    def __init__(self, plain: web.Server, guard: ConnectionGuard) -> None:
        super().__init__(
            guard.host_checked(plain.request_handler),
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            loop=asyncio.get_running_loop(),
            **plain._kwargs,
        )
        self.guard = guard

    def __call__(self) -> RequestHandler:
        return GuardedHandler(self, self.guard, loop=self._loop, **self._kwargs)


GUARD = web.AppKey("connection_guard", ConnectionGuard)


class GuardedRunner(web.AppRunner):
    """``web.AppRunner`` whose connections pass the app's ``ConnectionGuard``.

    Serve Ritrovo's app with this runner (``run`` does): a plain
    ``AppRunner`` serves it without the per-address cap, the read deadlines
    and the Host check.
    """

    async def _make_server(self) -> web.Server:
        plain = await super()._make_server()
        guard = self.app.get(GUARD)
        return plain if guard is None else GuardedServer(plain, guard)


def run(app: web.Application, *, host: str, port: int, shutdown_timeout: float) -> None:
    """``web.run_app`` with ``GuardedRunner``: serve until SIGTERM or SIGINT, then shut down.

    The signals raise ``GracefulExit`` (the runner's handlers), which ends the
    serving task; its ``finally`` runs the graceful shutdown (sites closed,
    ``on_shutdown``, connections given ``shutdown_timeout``, cleanup).
    """

    async def serve() -> None:
        runner = GuardedRunner(
            app, handle_signals=True, shutdown_timeout=shutdown_timeout, access_log=None
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            while True:
                await asyncio.sleep(3600)
        finally:
            await runner.cleanup()

    loop = asyncio.new_event_loop()
    main = loop.create_task(serve())
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        try:
            if not main.done():
                main.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    loop.run_until_complete(main)
        finally:
            rest = asyncio.all_tasks(loop)
            for task in rest:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*rest, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
