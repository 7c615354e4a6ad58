"""One timer for every WebSocket of the process: ping the quiet, drop the silent, time out the nameless.

aiohttp's heartbeat (``WebSocketResponse(heartbeat=...)``) keeps timers of
its own for each connection: a ``TimerHandle`` waiting for the next ping
(with its bound method and a copy of the context), and at every ping a task
and a second timer for the pong. Its first ping also adds attributes to the
response, which turns the response's ``__dict__`` from a shared-key table of
~300 bytes into a table of its own of ~1,600. Each connection also had a
timer for its opening message (``hello_timeout``), which stays in the event
loop's heap once cancelled, until it would have fired. Together, about
1.5 KiB per idle connection, and the heartbeats were most of an idle
server's CPU.

``KeepAlive`` does the same for all connections with one periodic tick. The
connections are spread over ``SLICES`` buckets; every tick visits one bucket,
so each connection is visited every ``HEARTBEAT / 2`` seconds (15 s), a tenth
of them at a time:

- a connection from which nothing came since its last visit is pinged (so an
  idle connection is pinged every ``HEARTBEAT`` seconds, 30 s, as documented
  in docs/protocol.md);
- one from which still nothing came at the next visit, 15 s after the ping,
  is dropped as aiohttp drops it (close code 1006, the handler's loop ends):
  a dead peer is found 30 to 45 s after the last byte it sent;
- a connection that has not said who it is ``hello_timeout`` seconds after
  it opened is closed with 4010, within one tick (1.5 s) of the deadline.

Every ping is a write to a socket, and its pong a read: with 20,000 idle
players a ping every 20 s cost 6.4% of a core, every 30 s 5.0% (S3
``--idle-seconds``; the usual proxies' idle timeouts are 60 s and more).

Anything received counts as a sign of life (aiohttp's rule too): the
response notes it in a slot, without a timer or a callback scheduled.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from typing import Any

from aiohttp import WSMsgType
from aiohttp.web_request import BaseRequest
from multidict import CIMultiDict

from ..protocol import CloseCode
from . import eager
from .connection import Connection
from .frames import StrictWebSocketResponse

log = logging.getLogger(__name__)

HEARTBEAT = 30.0  # seconds between pings of an idle connection (docs/protocol.md)
SLICES = 10  # buckets: each tick visits one, so a tick every HEARTBEAT / 2 / SLICES s
_NO_MESSAGES: Any = ()  # an upgraded connection's queue of HTTP requests: always empty


class KeptAliveResponse(StrictWebSocketResponse):
    """A WebSocket whose heartbeat is the process's ``KeepAlive``, not timers of its own.

    ``heartbeat`` is given to aiohttp only so that it tells this response of
    every chunk received (``_on_data_received``); the timers it would start
    are never started (``_reset_heartbeat`` does nothing). The two fields are
    slots: new keys in the response's ``__dict__`` would make it grow.
    """

    __slots__ = ("heard", "quiet")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(heartbeat=HEARTBEAT, **kwargs)
        self.heard = True  # something came since the last visit
        self.quiet = 0  # visits in a row that found nothing heard

    def _post_start(self, request: BaseRequest, protocol: str | None, writer: Any) -> None:
        super()._post_start(request, protocol, writer)
        # The connection carries WebSocket frames only from now on: its HTTP
        # parser (~1 KiB with llhttp's state) is never used again. aiohttp
        # 3.14 reads it after an upgrade only where ``_upgraded`` is false or
        # the parser is checked for None (and drops it itself at the end).
        request.protocol._parser = None
        # Its queue of parsed requests is never used again either, but an
        # empty deque keeps a block of 64 slots (760 bytes): a shared empty
        # tuple reads the same to aiohttp, which after an accepted upgrade
        # only tests it for emptiness (an append would raise, not leak).
        request.protocol._messages = _NO_MESSAGES
        # The handshake's response headers were written by the time this is
        # called (``prepare``), and nothing reads them afterwards (Ritrovo
        # keeps no access log): ~700 bytes per connection.
        self._headers.clear()
        # So were the request's headers (the Origin and the address were
        # checked before the upgrade, the handshake read the rest): ~1 KiB
        # of names and values for a browser's upgrade. aiohttp keeps the
        # request for the connection's lifetime and hands out its headers
        # only as a read-only proxy of the dict the parser made.
        for held in gc.get_referents(request.headers):
            if type(held) is CIMultiDict:
                held.clear()

    def _reset_heartbeat(self) -> None:
        """No per-connection timers (aiohttp calls this at the upgrade)."""

    def _on_data_received(self) -> None:
        self.heard = True


class KeepAlive:
    """The periodic tick that pings, drops and times out this process's WebSockets."""

    def __init__(self, hello_timeout: float, heartbeat: float = HEARTBEAT) -> None:
        self.hello_timeout = hello_timeout
        self.heartbeat = heartbeat
        self.tick = heartbeat / 2 / SLICES
        self._buckets: list[set[Connection]] = [set() for _ in range(SLICES)]
        self._next = 0
        # Connections that have not said who they are yet: their deadlines.
        self._hellos: dict[Connection, float] = {}
        # Their deadlines while an opening message is being handled: an
        # opening may wait for an attempt place (5 s) or a Redis connection,
        # and a client that spoke in time is not closed meanwhile.
        self._opening: dict[Connection, float] = {}
        self._pings: set[asyncio.Task[None]] = set()  # pings waiting for a full socket buffer
        self._task: asyncio.Task[None] | None = None

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def watch(self, conn: Connection) -> None:
        """Keep ``conn`` alive from now on, and close it if it does not say who it is in time."""
        if self._task is None:  # started by the first connection, stopped with the app
            self._task = asyncio.get_running_loop().create_task(self._run(), name="keepalive")
        self._buckets[conn.id % SLICES].add(conn)
        self._hellos[conn] = asyncio.get_running_loop().time() + self.hello_timeout

    def said_hello(self, conn: Connection) -> None:
        self._hellos.pop(conn, None)
        self._opening.pop(conn, None)

    def opening(self, conn: Connection) -> None:
        """An opening message of ``conn`` is being handled: its deadline waits."""
        deadline = self._hellos.pop(conn, None)
        if deadline is not None:
            self._opening[conn] = deadline

    def opened(self, conn: Connection, ok: bool) -> None:
        """The opening ended; one that failed keeps its deadline (and a second to try again)."""
        deadline = self._opening.pop(conn, None)
        if deadline is not None and not ok:
            self._hellos[conn] = max(deadline, asyncio.get_running_loop().time() + 1.0)

    def forget(self, conn: Connection) -> None:
        self._buckets[conn.id % SLICES].discard(conn)
        self._hellos.pop(conn, None)
        self._opening.pop(conn, None)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick)
            try:
                self.sweep()
            except Exception:
                log.exception("keep-alive sweep failed")

    def sweep(self) -> None:
        """One tick: time out late openings, then visit the next bucket."""
        now = asyncio.get_running_loop().time()
        # Not in deadline order (an opening that failed comes back), but only
        # the connections that have not said who they are yet.
        late = [conn for conn, deadline in self._hellos.items() if deadline <= now]
        for conn in late:
            del self._hellos[conn]
            if conn.role is None:
                conn.close_soon(CloseCode.HELLO_TIMEOUT, "say who you are first")
        bucket = self._buckets[self._next]
        self._next = (self._next + 1) % SLICES
        dead = []
        for conn in bucket:
            ws = conn.ws
            if not isinstance(ws, KeptAliveResponse) or ws.closed:
                continue
            if ws.heard:
                ws.heard, ws.quiet = False, 0
                continue
            ws.quiet += 1
            if ws.quiet == 1:
                self._ping(ws)
            else:
                dead.append(ws)
        for ws in dead:
            _no_pong(ws, self.heartbeat / 2)

    def _ping(self, ws: KeptAliveResponse) -> None:
        """Write a ping now; if the socket's buffer is full, finish the write in a task."""
        writer = ws._writer
        if writer is None:
            return
        coro = writer.send_frame(b"", WSMsgType.PING)
        try:
            awaited = coro.send(None)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - as aiohttp's heartbeat: the connection fails
            ws._handle_ping_pong_exception(exc)
            return
        # Written, and waiting for the buffer to drain: finish it in a task (rare).
        task = asyncio.get_running_loop().create_task(_finish(ws, eager.Suspended(coro, awaited)))
        self._pings.add(task)
        task.add_done_callback(self._pings.discard)


async def _finish(ws: KeptAliveResponse, ping: eager.Suspended) -> None:
    """Finish a ping's write suspended on drain (its first step already ran)."""
    try:
        await ping
    except Exception as exc:  # noqa: BLE001 - as aiohttp's heartbeat: the connection fails
        ws._handle_ping_pong_exception(exc)


def _no_pong(ws: KeptAliveResponse, waited: float) -> None:
    """What aiohttp does when a ping goes unanswered: close code 1006, the reader gets an error."""
    request = ws._req
    if request is None or request.transport is None:
        return  # the connection is gone already
    ws._handle_ping_pong_exception(TimeoutError(f"No PONG received after {waited} seconds"))
