"""Checks a request passes before any work is done for it.

The page's ``Origin`` (cross-site WebSocket hijacking), the client address
that per-address limits count (which knows about trusted proxies), the
per-address connection slots of this process, and the one limiter of failed
attempts (guessing room codes or tokens) shared by HTTP and WebSocket.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import web

from ..config import Settings
from ..errors import ErrorCode, Forbidden, LimitExceeded, RitrovoError, StoreUnavailable
from ..store.base import Counters

ATTEMPT_WINDOW_SECONDS = 60
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


class AttemptLimiter:
    """Attempts per client address and kind, in fixed windows (a minute) shared by every process.

    Two uses. Guessing (room codes, host tokens) is nothing but failures,
    while a whole office behind one address may join at once: for those only
    failures count (``check`` before, ``fail`` after a failure). Creating rooms
    counts every attempt (``take``).
    """

    def __init__(
        self,
        counters: Counters,
        clock: Callable[[], float],
        limit: int,
        window: int = ATTEMPT_WINDOW_SECONDS,
    ) -> None:
        self.counters = counters
        self.clock = clock
        self.limit = limit
        self.window = window

    async def check(self, kind: str, address: str) -> None:
        """Refuse if ``address`` failed ``kind`` ``limit`` times this window."""
        failures = await self.counters.hit(f"{kind}:{address}", self.window, self.clock(), amount=0)
        if failures >= self.limit:
            raise LimitExceeded(
                "too many attempts; wait a minute", code=ErrorCode.TOO_MANY_ATTEMPTS
            )

    async def fail(self, kind: str, address: str) -> None:
        """Count one failure (best effort: a store outage is reported elsewhere)."""
        with contextlib.suppress(RitrovoError):
            await self.counters.hit(f"{kind}:{address}", self.window, self.clock())

    async def take(self, kind: str, address: str) -> None:
        """Count this attempt; refuse it when it is over the limit."""
        count = await self.counters.hit(f"{kind}:{address}", self.window, self.clock())
        if count > self.limit:
            raise LimitExceeded(
                "too many attempts; wait a minute", code=ErrorCode.TOO_MANY_ATTEMPTS
            )
