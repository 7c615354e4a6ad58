"""create_app(): wiring of settings, store, service, hub, routes and background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator

from aiohttp import web

from .circles import CircleService
from .config import Settings
from .edge.guards import AddressSlots, AttemptLimiter
from .edge.health import StoreHealth
from .edge.http import HttpApi, StatusApi, guarded, page, secure_static
from .edge.hub import RoomHub
from .edge.keepalive import KeepAlive
from .edge.presence import Presence
from .edge.routing import Router
from .edge.tcp import GUARD, ConnectionGuard
from .edge.ws import WebSocketEndpoint
from .metrics import METRICS, Metrics
from .packs import PackLibrary
from .protocol import CloseCode
from .service import Clock, GameService
from .store.base import RoomStore
from .store.memory import MemoryStore
from .timers import DeadlineTimers, TimerLease

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", GameService)
HUB = web.AppKey("hub", RoomHub)
STORE = web.AppKey("store", RoomStore)
TIMERS = web.AppKey("timers", DeadlineTimers)
HEALTH = web.AppKey("health", StoreHealth)
SLOTS = web.AppKey("slots", AddressSlots)
KEEPALIVE = web.AppKey("keepalive", KeepAlive)
ROUTER = web.AppKey("router", Router)

__all__ = [
    "GUARD",
    "HEALTH",
    "HUB",
    "KEEPALIVE",
    "METRICS",
    "SERVICE",
    "SETTINGS",
    "SLOTS",
    "STORE",
    "TIMERS",
    "create_app",
    "make_store",
]


def make_store(settings: Settings, metrics: Metrics | None = None) -> RoomStore:
    if settings.redis_url:
        from .store.redis import RedisStore

        log.info("store: Redis at %s (durable, shared by every process)", settings.redis_url)
        return RedisStore(
            settings.redis_url,
            room_ttl=settings.room_ttl,
            on_roundtrip=metrics.observe_store if metrics else None,
            pool_size=settings.redis_pool_size,
            pool_wait=settings.redis_pool_wait,
        )
    log.warning("store: in-memory (embedded default): rooms are lost when this process stops")
    return MemoryStore(room_ttl=settings.room_ttl)


def instance_id() -> str:
    """Names this process in the timer lease and in /healthz (several apps may share a pid in tests)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def create_app(
    settings: Settings | None = None, *, store: RoomStore | None = None, clock: Clock | None = None
) -> web.Application:
    settings = settings or Settings.from_env()
    metrics = Metrics()
    store = store or make_store(settings, metrics)
    if getattr(store, "on_roundtrip", False) is None:  # a RedisStore handed in by a test
        store.on_roundtrip = metrics.observe_store  # type: ignore[attr-defined]
    library = PackLibrary(settings.packs_dir, max_bytes=settings.max_pack_bytes)
    instance = instance_id()
    service = GameService(
        store,
        library,
        max_rooms=settings.max_rooms,
        max_players_per_room=settings.max_players_per_room,
        unused_room_ttl=settings.unused_room_ttl,
        instance=instance,
        # Only a store shared by several processes has rooms worth routing.
        owner_lease=settings.room_owner_lease if store.durable else 0.0,
        **({"clock": clock} if clock else {}),
    )
    service.circles = CircleService(
        store,
        service.clock,
        ttl=settings.circle_ttl,
        keep=settings.circle_sessions,
        max_members=settings.circle_max_members,
        max_circles=settings.max_circles,
    )
    hub = RoomHub(service, settings, metrics)
    router = Router(service, store, instance, metrics)
    lease = TimerLease(store, instance, settings.timer_lease_ttl)
    presence = Presence(service, store, lease.holder)
    health = StoreHealth(store.ping, hub, presence, metrics)
    attempts = AttemptLimiter(store, service.clock, settings.join_attempts_per_minute)
    slots = AddressSlots(settings.max_connections_per_address)
    timers = DeadlineTimers(
        service,
        lease,
        store,
        store,
        settings.timer_poll_interval,
        metrics,
        served=hub.rooms.keys,
        revive=lambda: presence.revive(hub.live_players()),
    )
    keepalive = KeepAlive(settings.hello_timeout)
    endpoint = WebSocketEndpoint(
        settings, service, hub, health, presence, attempts, slots, metrics, router, keepalive
    )
    # No middleware: see http.guarded, applied to each HTTP route below. The
    # address cap, read deadlines and Host check are the protocol's (edge.tcp:
    # serve the app with its GuardedRunner); the keep-alive timeout is aiohttp's.
    app = web.Application(
        client_max_size=settings.max_pack_bytes + 1024,
        handler_args={"keepalive_timeout": settings.keepalive_timeout},
    )
    app[GUARD] = ConnectionGuard(settings, metrics)
    app[SETTINGS] = settings
    app[SERVICE] = service
    app[HUB] = hub
    app[STORE] = store
    app[TIMERS] = timers
    app[METRICS] = metrics
    app[HEALTH] = health
    app[SLOTS] = slots
    app[KEEPALIVE] = keepalive
    app[ROUTER] = router

    # Creating rooms is counted per address per hour: with a room limit per
    # server, a few addresses must not be able to take every place.
    creations = AttemptLimiter(store, service.clock, settings.rooms_per_address_per_hour, 3600)
    api = HttpApi(service, attempts, settings, creations)
    app.on_cleanup.append(api.close)  # the pack workers
    status = StatusApi(store, health, hub, slots, lease, metrics)
    web_dir = settings.web_dir
    app.router.add_get("/ws", endpoint.handle)
    app.router.add_post("/api/rooms", guarded(api.create_room))
    app.router.add_get("/api/rooms/{code}", guarded(api.room_info))
    app.router.add_post("/api/rooms/{code}/pack", guarded(api.upload_pack))
    app.router.add_get("/api/rooms/{code}/results.{format:csv|json}", guarded(api.results))
    app.router.add_get("/api/rooms/{code}/stories.md", guarded(api.stories_markdown))
    app.router.add_get("/api/rooms/{code}/keepsake.{format:json|md}", guarded(api.keepsake))
    app.router.add_get("/api/rooms/{code}/qr.svg", guarded(api.qr))
    app.router.add_post("/api/circles", guarded(api.create_circle))
    app.router.add_get("/api/circles/{circle_id}/export", guarded(api.circle_export))
    app.router.add_delete("/api/circles/{circle_id}", guarded(api.delete_circle))
    app.router.add_get("/api/circles/{circle_id}/me", guarded(api.circle_me))
    app.router.add_delete("/api/circles/{circle_id}/me", guarded(api.forget_me))
    app.router.add_delete(
        "/api/circles/{circle_id}/members/{member_id}", guarded(api.remove_member)
    )
    app.router.add_get("/c/{circle_id}", guarded(api.circle_page))
    app.router.add_get("/api/packs", guarded(api.packs))
    app.router.add_get("/api/packs/{pack_id}/source", guarded(api.library_source))
    app.router.add_post("/api/packs/source", guarded(api.file_source))
    app.router.add_post("/api/packs/validate", guarded(api.validate_pack))
    app.router.add_post("/api/packs/try", guarded(api.try_answer))
    app.router.add_get("/api/rooms/{code}/pack", guarded(api.room_source))
    app.router.add_get("/healthz", guarded(status.healthz))
    app.router.add_get("/metrics", guarded(status.metrics_page))
    app.router.add_get("/", guarded(page(web_dir / "index.html")))
    app.router.add_get("/r/{code}", guarded(page(web_dir / "player.html")))
    app.router.add_get("/screen/{code}", guarded(page(web_dir / "screen.html")))
    app.router.add_get("/host/{code}", guarded(page(web_dir / "host.html")))
    app.router.add_get("/keepsake/{code}", guarded(page(web_dir / "keepsake.html")))
    app.router.add_get("/editor", guarded(page(web_dir / "editor.html")))
    app.router.add_get("/circles", guarded(page(web_dir / "circles.html")))
    if web_dir.exists():
        app.router.add_static("/static/", web_dir, append_version=False)
        app.on_response_prepare.append(secure_static)
    app.cleanup_ctx.append(_background)
    app.on_shutdown.append(_shutdown)
    return app


async def _background(app: web.Application) -> AsyncIterator[None]:
    hub, store, settings = app[HUB], app[STORE], app[SETTINGS]
    await app[ROUTER].start()  # before listen: the store subscribes to both at once
    await store.listen(hub.on_notice)
    app[TIMERS].start()
    watcher = asyncio.create_task(
        app[HEALTH].watch(settings.store_check_interval), name="store-watch"
    )
    try:
        yield
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await app[TIMERS].stop()
        await app[ROUTER].close()
        await app[KEEPALIVE].stop()
        circles = app[SERVICE].circles
        if circles is not None:  # sessions still being recorded, before the store goes
            await circles.close()
        await store.close()


async def _shutdown(app: web.Application) -> None:
    # The listening sockets are already closed (aiohttp stops its sites first).
    # Hand the timer lease over first, so another process fires deadlines at
    # once instead of when the lease would have expired.
    app[SLOTS].closing = True
    await app[TIMERS].stop()
    # 1012 "service restart": clients reconnect (through the load balancer, to
    # any other process) and resync from a fresh snapshot.
    grace = max(0.5, app[SETTINGS].shutdown_timeout / 2)
    await app[HUB].close_all(CloseCode.SERVICE_RESTART, "server restarting", timeout=grace)
