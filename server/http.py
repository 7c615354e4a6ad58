"""The HTTP edge: JSON API, pages, downloads and the join QR code."""

from __future__ import annotations

import hmac
import io
from typing import Any

import orjson
import segno
from aiohttp import web

from .errors import BadRequest, Forbidden, LimitExceeded, NotFound, RitrovoError
from .game import flow, results, stories
from .game.models import Room
from .game.pack import Pack, StoryRound
from .packs import PackError, load_pack_bytes
from .service import GameService, hash_token, normalize_code
from .store.base import RoomStore

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


@web.middleware
async def errors_and_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except PackError as exc:
        response = json_response({"error": exc.to_dict()}, status=422)
    except RitrovoError as exc:
        response = json_response({"error": exc.to_dict()}, status=exc.http_status)
    if not response.prepared:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def base_url(request: web.Request, public_url: str | None) -> str:
    if public_url:
        return public_url.rstrip("/")
    return f"{request.scheme}://{request.host}"


def room_links(request: web.Request, public_url: str | None, code: str) -> dict[str, str]:
    base = base_url(request, public_url)
    ws_base = "wss" + base[5:] if base.startswith("https") else "ws" + base[4:]
    return {
        "join_url": f"{base}/r/{code}",
        "screen_url": f"{base}/screen/{code}",
        "host_url": f"{base}/host/{code}",
        "ws_url": f"{ws_base}/ws",
    }


def public_info(room: Room, pack: Pack | None) -> dict[str, Any]:
    return {
        "code": room.code,
        "name": room.name,
        "phase": room.phase,
        "locked": room.locked,
        "players_count": len(room.players),
        "teams": [
            {"id": t.id, "name": t.name, "players_count": len(room.team_players(t.id))}
            for t in room.teams
        ],
        "pack": None if pack is None else {"id": room.pack_id, "title": pack.title, "language": pack.language},
    }


class HttpApi:
    def __init__(self, service: GameService, store: RoomStore, public_url: str | None, join_limit: int, max_pack_bytes: int) -> None:
        self.service = service
        self.store = store
        self.public_url = public_url
        self.join_limit = join_limit
        self.max_pack_bytes = max_pack_bytes

    async def _limit(self, request: web.Request, what: str) -> None:
        count = await self.store.hit(f"{what}:{request.remote}", 60, self.service.clock())
        if count > self.join_limit:
            raise LimitExceeded("too many attempts; wait a minute", code="too_many_attempts")

    async def _json_body(self, request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if len(raw) > 64 * 1024:
            raise BadRequest("request body too large", code="body_too_large")
        try:
            body = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            raise BadRequest("the body is not valid JSON", code="invalid_json") from None
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object", code="invalid_message")
        return body

    async def _room(self, request: web.Request) -> Room:
        code = normalize_code(request.match_info["code"])
        return await self.service.load(code, fresh=True)

    async def _host_room(self, request: web.Request) -> Room:
        room = await self._room(request)
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else request.headers.get("X-Host-Token", "")
        if not token or not hmac.compare_digest(hash_token(token), room.host_token_hash):
            raise Forbidden("this needs the room's host token", code="bad_host_token")
        return room

    async def create_room(self, request: web.Request) -> web.Response:
        await self._limit(request, "create")
        body = await self._json_body(request)
        pack_id = body.get("pack")
        if pack_id is not None and not isinstance(pack_id, str):
            raise BadRequest("pack must be a pack id", code="invalid_field")
        created = await self.service.create_room(body.get("name", ""), pack_id)
        code = created.room.code
        return json_response(
            {"code": code, "host_token": created.host_token, **room_links(request, self.public_url, code)},
            status=201,
        )

    async def room_info(self, request: web.Request) -> web.Response:
        await self._limit(request, "lookup")
        room = await self._room(request)
        pack = await self.service.get_pack(room.pack_id)
        return json_response({**public_info(room, pack), **room_links(request, self.public_url, room.code)})

    async def packs(self, request: web.Request) -> web.Response:
        return json_response({"packs": self.service.library.summaries()})

    async def upload_pack(self, request: web.Request) -> web.Response:
        room = await self._host_room(request)
        filename = request.query.get("filename", "pack.yaml")
        if request.content_length is not None and request.content_length > self.max_pack_bytes:
            raise LimitExceeded("pack files are limited to 1 MiB", code="pack_too_large")
        data = await request.content.read(self.max_pack_bytes + 1)
        if len(data) > self.max_pack_bytes:
            raise LimitExceeded("pack files are limited to 1 MiB", code="pack_too_large")
        pack = load_pack_bytes(data, filename)  # PackError -> 422 with every problem
        pack_id = await self.service.save_uploaded_pack(pack)
        await self.service.execute(room.code, lambda r, p, now: flow.choose_pack(r, pack_id))
        return json_response({"pack": {"id": pack_id, **pack.summary()}}, status=201)

    async def results(self, request: web.Request) -> web.StreamResponse:
        room = await self._host_room(request)
        pack = await self.service.get_pack(room.pack_id)
        fmt = request.match_info["format"]
        name = f"ritrovo-{room.code}-results.{fmt}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if fmt == "csv":
            return web.Response(text=results.results_csv(room, pack), content_type="text/csv", headers=headers)
        return web.Response(
            body=orjson.dumps(results.results(room, pack), option=orjson.OPT_INDENT_2),
            content_type="application/json",
            headers=headers,
        )

    async def stories_markdown(self, request: web.Request) -> web.Response:
        room = await self._host_room(request)
        pack = await self.service.get_pack(room.pack_id)
        if pack is None or room.story is None:
            raise NotFound("no story round has been played yet", code="no_story")
        rnd = pack.rounds[room.story.round_index]
        assert isinstance(rnd, StoryRound)
        headers = {"Content-Disposition": f'attachment; filename="ritrovo-{room.code}-stories.md"'}
        return web.Response(text=stories.markdown_export(room, rnd), content_type="text/markdown", headers=headers)

    async def qr(self, request: web.Request) -> web.Response:
        code = normalize_code(request.match_info["code"])
        url = room_links(request, self.public_url, code)["join_url"]
        out = io.BytesIO()
        segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, dark="#111", light="#fff")
        return web.Response(body=out.getvalue(), content_type="image/svg+xml")

    async def healthz(self, request: web.Request) -> web.Response:
        try:
            await self.store.ping()
        except RitrovoError as exc:
            return json_response({"ok": False, "store": type(self.store).__name__, "error": exc.to_dict()}, 503)
        return json_response({"ok": True, "store": type(self.store).__name__, "durable": self.store.durable})


def page(path: Any) -> Any:
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return handler
