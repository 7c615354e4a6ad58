"""Checks a request passes before any work is done for it.

The page's ``Origin`` (cross-site WebSocket hijacking), the client address
that per-address limits count (which knows about trusted proxies), the
per-address connection slots of this process, and the one limiter of failed
attempts (guessing room codes or tokens) shared by HTTP and WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from ..config import Settings
from ..errors import ErrorCode, Forbidden, LimitExceeded, RitrovoError, StoreUnavailable
from ..store.base import Counters

ATTEMPT_WINDOW_SECONDS = 60
# How long an attempt may wait for a place held by attempts still in flight
# (an office joining at once), looking again after POLL_FIRST, doubling up to POLL_MAX.
ATTEMPT_WAIT_SECONDS = 5.0
POLL_FIRST = 0.05
POLL_MAX = 0.5
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def client_address(request: web.Request, trusted_proxies: int) -> str:
    """The address per-address limits count: the peer, or what trusted proxies report.

    Each proxy appends the address it was connected from to X-Forwarded-For,
    so with N trusted proxies the N-th entry from the right was written by the
    outermost one; entries left of it come from the client and prove nothing.
    """
    if trusted_proxies > 0:
        hops = [
            hop.strip()
            for header in request.headers.getall("X-Forwarded-For", [])
            for hop in header.split(",")
            if hop.strip()
        ]
        if hops:
            return hops[-min(trusted_proxies, len(hops))]
    return request.remote or "unknown"


def _origin_tuple(url: str, default_scheme: str | None = None) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or URL; None if it has no host."""
    parts = urlsplit(url if "//" in url else f"{default_scheme or 'http'}://{url}")
    scheme = parts.scheme.lower()
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not host or scheme not in DEFAULT_PORTS:
        return None
    return scheme, host.lower(), port if port is not None else DEFAULT_PORTS[scheme]


def origin_allowed(origin: str, host: str, settings: Settings) -> bool:
    """Whether a page from ``origin`` may open a WebSocket on this server.

    With ``allowed_origins`` set, exactly those origins (``*``: any). Otherwise
    the server's own origin: the Origin's host and port equal the request's
    Host (the scheme is not compared, since TLS often ends at a proxy), or
    ``public_url``'s origin.
    """
    if settings.allowed_origins:
        entries = [e.strip() for e in settings.allowed_origins.split(",") if e.strip()]
        if "*" in entries:
            return True
        wanted = _origin_tuple(origin)
        return wanted is not None and any(_origin_tuple(e) == wanted for e in entries)
    page = _origin_tuple(origin)
    if page is None:
        return False  # "null" (sandboxed frames, files) or garbage
    if settings.public_url and _origin_tuple(settings.public_url) == page:
        return True
    served = _origin_tuple(host, default_scheme=page[0])
    return served is not None and served[1:] == page[1:]


def check_origin(request: web.Request, settings: Settings) -> None:
    """Refuse (403) a WebSocket opened by a page of a foreign site.

    Browsers always send Origin on a WebSocket handshake and a page cannot
    forge it; clients that send none (bots, scripts) are not browsers, so no
    cookie or ambient authority of a victim can ride on them.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return
    if not origin_allowed(origin, request.host, settings):
        raise Forbidden(
            "this page may not open a game connection (origin not allowed)",
            code=ErrorCode.ORIGIN_NOT_ALLOWED,
        )


class AddressSlots:
    """Live WebSocket connections per client address, in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()
        self.closing = False  # shutting down: no new connections

    def admit(self, address: str) -> None:
        """Check that one more connection from ``address`` may open (before the upgrade)."""
        if self.closing:
            raise StoreUnavailable(
                "the server is restarting; connect again", code=ErrorCode.SERVER_RESTARTING
            )
        if self._open[address] >= self.limit:
            raise LimitExceeded(
                f"too many connections from your address (at most {self.limit})",
                code=ErrorCode.TOO_MANY_CONNECTIONS,
            )

    def opened(self, address: str) -> None:
        self._open[address] += 1

    def closed(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]


@dataclass(slots=True)
class Attempt:
    """A place taken by one attempt (``AttemptLimiter.attempt``); set ``failed`` to keep it."""

    name: str
    taken_at: float
    failed: bool = False


class _Waiters:
    """This process's attempts waiting for a place of one name, woken as places come back."""

    __slots__ = ("full_window", "futures")

    def __init__(self) -> None:
        self.futures: deque[asyncio.Future[None]] = deque()
        self.full_window: int | None = None  # the window whose failures reached the limit

    def wake(self, everyone: bool) -> None:
        while self.futures:
            future = self.futures.popleft()
            if not future.done():
                future.set_result(None)
                if not everyone:
                    return


class AttemptLimiter:
    """Attempts per client address and kind, in fixed windows (a minute) shared by every process.

    Two uses. Guessing (room codes, tokens) is nothing but failures, while a
    whole office behind one address may join at once: for those only failures
    count (``attempt``). Each attempt takes one of ``limit`` places of the
    window before any work, in one atomic store step; a failure keeps its
    place, a success gives it back. So at most ``limit`` attempts per window
    are in flight or failed (parallel guesses cannot all pass the check
    before the first is counted), and successes cost nothing once done. An
    attempt finding every place held while fewer than ``limit`` failed waits
    (at most ``wait`` seconds) for one to come back, so a burst of more than
    ``limit`` colleagues is admitted in turn. Creating rooms counts every
    attempt (``take``).
    """

    def __init__(
        self,
        counters: Counters,
        clock: Callable[[], float],
        limit: int,
        window: int = ATTEMPT_WINDOW_SECONDS,
        wait: float = ATTEMPT_WAIT_SECONDS,
    ) -> None:
        self.counters = counters
        self.clock = clock
        self.limit = limit
        self.window = window
        self.wait = wait
        self._waiting: dict[str, _Waiters] = {}

    @contextlib.asynccontextmanager
    async def attempt(self, kind: str, address: str) -> AsyncIterator[Attempt]:
        """Take a place for one attempt of ``address``; refuse when none is left.

        On leaving, the place is given back unless the caller set
        ``attempt.failed`` (a guess: an unknown room, a wrong token).
        """
        attempt = await self._take_place(f"{kind}:{address}")
        try:
            yield attempt
        finally:
            await self._settle(attempt)

    async def _take_place(self, name: str) -> Attempt:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        pause = POLL_FIRST
        waited: _Waiters | None = None
        while True:
            now = self.clock()
            if waited is not None and waited.full_window == self._window_of(now):
                raise _too_many()  # woken because failures filled the window
            taken, failed = await self.counters.reserve(name, self.window, now, self.limit)
            if taken:
                return Attempt(name, now)
            left = deadline - loop.time()
            if failed >= self.limit or left <= 0:
                raise _too_many()
            # Every place is held, some by attempts still in flight: wait for
            # one of this process's to end, or look again a little later (the
            # holders may be other processes).
            waited = self._waiting.setdefault(name, _Waiters())
            future = loop.create_future()
            waited.futures.append(future)
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(future, min(pause, left))
            finally:
                with contextlib.suppress(ValueError):
                    waited.futures.remove(future)
                if not waited.futures and self._waiting.get(name) is waited:
                    del self._waiting[name]
            pause = min(pause * 2, POLL_MAX)

    async def _settle(self, attempt: Attempt) -> None:
        """Keep or give back the attempt's place (best effort: the window's end frees it)."""
        try:
            failed = await self.counters.settle(
                attempt.name, self.window, attempt.taken_at, attempt.failed
            )
        except RitrovoError:
            return
        waiters = self._waiting.get(attempt.name)
        if waiters is None:
            return
        if failed >= self.limit:
            waiters.full_window = self._window_of(attempt.taken_at)
            waiters.wake(everyone=True)  # all refused, without asking the store again
        elif not attempt.failed:
            waiters.wake(everyone=False)  # one place came back: one waiter may take it

    def _window_of(self, now: float) -> int:
        return math.floor(now / self.window)

    async def take(self, kind: str, address: str) -> None:
        """Count this attempt; refuse it when it is over the limit."""
        count = await self.counters.hit(f"{kind}:{address}", self.window, self.clock())
        if count > self.limit:
            raise _too_many()


def _too_many() -> LimitExceeded:
    return LimitExceeded("too many attempts; wait a minute", code=ErrorCode.TOO_MANY_ATTEMPTS)
