"""create_app(): wiring of settings, store, service, hub, routes and background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from . import protocol
from .config import Settings
from .http import HttpApi, errors_and_headers, page
from .packs import PackLibrary
from .service import Clock, GameService
from .store.base import RoomStore
from .store.memory import MemoryStore
from .ws import RoomHub, run_timers, websocket_handler

log = logging.getLogger(__name__)

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", GameService)
HUB = web.AppKey("hub", RoomHub)
STORE = web.AppKey("store", RoomStore)


def make_store(settings: Settings) -> RoomStore:
    if settings.redis_url:
        from .store.redis import RedisStore

        log.info("store: Redis at %s (durable, shared by every process)", settings.redis_url)
        return RedisStore(settings.redis_url, room_ttl=settings.room_ttl)
    log.warning("store: in-memory (embedded default): rooms are lost when this process stops")
    return MemoryStore(room_ttl=settings.room_ttl)


def create_app(settings: Settings | None = None, *, store: RoomStore | None = None, clock: Clock | None = None) -> web.Application:
    settings = settings or Settings.from_env()
    store = store or make_store(settings)
    library = PackLibrary(settings.packs_dir)
    service = GameService(
        store,
        library,
        max_rooms=settings.max_rooms,
        max_players_per_room=settings.max_players_per_room,
        **({"clock": clock} if clock else {}),
    )
    hub = RoomHub(service, settings)
    app = web.Application(middlewares=[errors_and_headers], client_max_size=settings.max_pack_bytes + 1024)
    app[SETTINGS] = settings
    app[SERVICE] = service
    app[HUB] = hub
    app[STORE] = store

    api = HttpApi(service, store, settings.public_url, settings.join_attempts_per_minute, settings.max_pack_bytes)
    web_dir = settings.web_dir
    app.router.add_get("/ws", websocket_handler)
    app.router.add_post("/api/rooms", api.create_room)
    app.router.add_get("/api/rooms/{code}", api.room_info)
    app.router.add_post("/api/rooms/{code}/pack", api.upload_pack)
    app.router.add_get("/api/rooms/{code}/results.{format:csv|json}", api.results)
    app.router.add_get("/api/rooms/{code}/stories.md", api.stories_markdown)
    app.router.add_get("/api/rooms/{code}/qr.svg", api.qr)
    app.router.add_get("/api/packs", api.packs)
    app.router.add_get("/healthz", api.healthz)
    app.router.add_get("/", page(web_dir / "index.html"))
    app.router.add_get("/r/{code}", page(web_dir / "player.html"))
    app.router.add_get("/screen/{code}", page(web_dir / "screen.html"))
    app.router.add_get("/host/{code}", page(web_dir / "host.html"))
    if web_dir.exists():
        app.router.add_static("/static/", web_dir, append_version=False)
    app.cleanup_ctx.append(_background)
    app.on_shutdown.append(_close_connections)
    return app


async def _background(app: web.Application) -> AsyncIterator[None]:
    service, hub, store = app[SERVICE], app[HUB], app[STORE]
    await store.listen(hub.on_notice)
    timers = asyncio.create_task(run_timers(service, app[SETTINGS]), name="timers")
    try:
        yield
    finally:
        timers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timers
        await store.close()


async def _close_connections(app: web.Application) -> None:
    # 1012 "service restart": clients reconnect (to this server when it is back,
    # or to another process) and resync from a fresh snapshot.
    await app[HUB].close_all(protocol.CLOSE_SERVICE_RESTART, "server restarting")
