"""The HTTP edge: JSON API, pages, downloads, the join QR code, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import segno
from aiohttp import web
from aiohttp.typedefs import Handler

from ..circles import CircleService
from ..config import Settings
from ..errors import (
    BadRequest,
    ErrorCode,
    Forbidden,
    LimitExceeded,
    NotFound,
    PayloadTooLarge,
    RitrovoError,
)
from ..game import circles as circles_rules
from ..game import exports, flow, keepsake, rooms
from ..game.circles import Circle, about, export
from ..game.models import Room
from ..game.pack import Pack
from ..game.riddles import GUESS_MAX_CHARS
from ..metrics import METRICS, Metrics
from ..packs import PackError
from ..packs.listing import listing
from ..packs.loader import MAX_JSON_NESTING, json_nesting
from ..packs.source import pack_source, trial_field, trial_pack
from ..packs.worker import PackParser
from ..service import GameService, hash_token, normalize_code
from ..store.base import RoomStore
from ..timers import TimerLease
from .guards import AddressSlots, AttemptLimiter, client_address
from .health import StoreHealth
from .hub import RoomHub

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)

log = logging.getLogger(__name__)


# Pack uploads to one room are counted over this many seconds.
UPLOAD_ROOM_WINDOW = 600
# The largest JSON body of the routes that take one (not the pack editor's
# validate, which takes a pack: max_pack_bytes).
JSON_BODY_BYTES = 64 * 1024
# The pack editor's checks of one address are counted over this many seconds.
PACK_CHECK_WINDOW = 60
# One check of an address is read at a time (in each process); this many more
# wait their turn (an editor may validate and try at once), and past them 429.
PACK_CHECKS_WAITING_PER_ADDRESS = 2


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, content_type="application/json", headers=headers
    )


# For answers that carry a secret or personal data: no cache keeps them.
NO_STORE = {"Cache-Control": "no-store"}


def guarded(handler: Handler) -> Handler:
    """An HTTP route's handler with Ritrovo's errors as JSON and the security headers.

    Applied per route, not as a middleware: a middleware's coroutine (and
    aiohttp's own one that comes with any middleware) would stay suspended
    for the whole life of every WebSocket connection, ~640 bytes each. The
    WebSocket route answers its own errors before the upgrade (``error_response``).
    """

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except (PackError, RitrovoError) as exc:
            response = error_response(request, exc)
        if not response.prepared:
            secure(request, response)
        return response

    return wrapped


def error_response(request: web.Request, exc: PackError | RitrovoError) -> web.Response:
    """The JSON answer to an error raised before anything was sent, counted, with the headers."""
    if isinstance(exc, PackError):
        _count_error(request, "invalid_pack")
        response = json_response({"error": exc.to_dict()}, status=422)
    else:
        _count_error(request, exc.code)
        response = json_response({"error": exc.to_dict()}, status=exc.http_status)
    secure(request, response)
    return response


def secure(request: web.Request, response: web.StreamResponse) -> None:
    """The security headers of every HTTP answer (before it is sent)."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith("/static/"):
        # Revalidate (cheap, with the ETag): after a deploy, phones must not
        # mix cached modules of the old client with the new ones.
        response.headers.setdefault("Cache-Control", "no-cache")


async def secure_static(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the headers of a static file (its route is aiohttp's own).

    Only the static route's file responses: the HTTP errors it raises are sent
    as aiohttp makes them. The type is tested first: ``request.path`` is
    cached in the request, which a WebSocket keeps for its whole life.
    """
    if isinstance(response, web.FileResponse) and request.path.startswith("/static/"):
        secure(request, response)


def _count_error(request: web.Request, code: str) -> None:
    metrics = request.app.get(METRICS)
    if metrics is not None:
        metrics.error(code)


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
        "circle": {"id": room.circle, "name": room.circle_name} if room.circle else None,
        "teams": [
            {"id": t.id, "name": t.name, "players_count": len(room.team_players(t.id))}
            for t in room.teams
        ],
        "pack": None
        if pack is None
        else {"id": room.pack_id, "title": pack.title, "language": pack.language},
    }


def _bearer(request: web.Request, header: str = "") -> str:
    """The token of ``Authorization: Bearer``, else of ``header`` (the older way), else ""."""
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[7:]
    return request.headers.get(header, "") if header else ""


class OneAtATime:
    """Per key (a client address), one holder at a time and at most ``waiting`` in line.

    In this process only: each process has its own pack workers, which is
    what one holder at a time shares out.
    """

    def __init__(self, waiting: int) -> None:
        self.waiting = waiting
        self._lines: dict[str, tuple[asyncio.Lock, list[int]]] = {}  # key: lock, [holder + line]

    @contextlib.asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """Wait for ``key``'s turn; ``LimitExceeded`` (429 ``rate_limited``) if its line is full."""
        lock, count = self._lines.get(key) or self._lines.setdefault(key, (asyncio.Lock(), [0]))
        if count[0] > self.waiting:
            raise LimitExceeded(
                "this address's pack checks are already being read; wait for their answers",
                code=ErrorCode.RATE_LIMITED,
            )
        count[0] += 1
        try:
            async with lock:
                yield
        finally:
            count[0] -= 1
            if count[0] == 0:
                del self._lines[key]


class HttpApi:
    def __init__(
        self,
        service: GameService,
        attempts: AttemptLimiter,
        settings: Settings,
        creations: AttemptLimiter | None = None,
        *,
        parser: PackParser | None = None,
    ) -> None:
        self.service = service
        self.attempts = attempts
        self.creations = creations or attempts
        self.settings = settings
        self.public_url = settings.public_url
        self.max_pack_bytes = settings.max_pack_bytes
        # Uploaded packs are read in worker processes, within a time budget.
        self.parser = parser or PackParser(
            workers=settings.pack_parse_workers,
            budget=settings.pack_parse_seconds,
            queue=settings.pack_parse_queue,
            max_bytes=settings.max_pack_bytes,
        )
        # Each upload costs a worker's time: counted per room (10 minutes) and
        # per client address (an hour), in every process.
        self.room_uploads = AttemptLimiter(
            service.store, service.clock, settings.uploads_per_room, UPLOAD_ROOM_WINDOW
        )
        self.address_uploads = AttemptLimiter(
            service.store, service.clock, settings.uploads_per_address_per_hour, 3600
        )
        # The editor checks as its author types: more often, and far smaller.
        self.address_checks = AttemptLimiter(
            service.store,
            service.clock,
            settings.pack_checks_per_address_per_minute,
            PACK_CHECK_WINDOW,
        )
        # And read one at a time per address: a flood of slow checks from one
        # address holds at most one of the pack workers' places.
        self.check_turns = OneAtATime(PACK_CHECKS_WAITING_PER_ADDRESS)

    async def close(self, app: web.Application) -> None:
        """``on_cleanup``: stop the pack workers."""
        await self.parser.close()

    def _address(self, request: web.Request) -> str:
        return client_address(request, self.settings.trusted_proxies)

    async def _json_body(self, request: web.Request) -> dict[str, Any]:
        """The request's body, a JSON object of at most 64 KiB and ``MAX_JSON_NESTING`` levels."""
        too_large = PayloadTooLarge(
            f"request bodies are limited to {JSON_BODY_BYTES} bytes", code=ErrorCode.BODY_TOO_LARGE
        )
        raw = await _read_body(request, JSON_BODY_BYTES, too_large)
        try:
            body = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            raise BadRequest("the body is not valid JSON", code=ErrorCode.INVALID_JSON) from None
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object", code=ErrorCode.INVALID_MESSAGE)
        # Before any work: what is read here may be written back as JSON (a
        # riddle to try), and orjson refuses to write past 254 levels.
        if json_nesting(raw) > MAX_JSON_NESTING:
            raise BadRequest(
                f"the body is nested too deeply (at most {MAX_JSON_NESTING} levels)",
                code=ErrorCode.INVALID_JSON,
            )
        return body

    async def _room(self, request: web.Request) -> Room:
        code = normalize_code(request.match_info["code"])
        if not code:
            raise NotFound("no such room", code=ErrorCode.ROOM_NOT_FOUND)
        return await self.service.load(code, fresh=True)

    async def _host_room(self, request: web.Request) -> Room:
        """The room, for its host only.

        "No such room" and "wrong token" get one answer (403 ``bad_host_token``)
        and both count as a failed attempt of the address, as over WebSocket:
        a host-only route cannot be used to find which codes exist, nor to try
        tokens.
        """
        token = _bearer(request, "X-Host-Token")
        async with self.attempts.attempt("join", self._address(request)) as attempt:
            try:
                room = await self._room(request)
            except NotFound:
                room = None
            if room is None or not (
                token and hmac.compare_digest(hash_token(token), room.host_token_hash)
            ):
                attempt.failed = True
                raise Forbidden("this needs the room's host token", code=ErrorCode.BAD_HOST_TOKEN)
        return room

    async def create_room(self, request: web.Request) -> web.Response:
        await self.creations.take("create", self._address(request))
        body = await self._json_body(request)
        pack_id = body.get("pack")
        if pack_id is not None and not isinstance(pack_id, str):
            raise BadRequest("pack must be a pack id", code=ErrorCode.INVALID_FIELD)
        circle: Circle | None = None
        if "circle" in body or "circle_token" in body:
            circle = await self._facilitated(request, body.get("circle"), body.get("circle_token"))
        created = await self.service.create_room(
            body.get("name", ""),
            pack_id,
            circle=None if circle is None else (circle.id, circle.meta.name),
        )
        code = created.room.code
        reply: dict[str, Any] = {
            "code": code,
            "host_token": created.host_token,
            **room_links(request, self.public_url, code),
        }
        if circle is not None:
            try:  # the room is made: a circle's link that lags behind is no reason to fail
                await self._circles().opened(circle.id, code)
            except RitrovoError as exc:
                log.warning("could not mark the room opened in its circle: %s", exc.code)
            reply["circle"] = {"id": circle.id, "name": circle.meta.name}
        return json_response(reply, status=201)

    # -- circles -------------------------------------------------------------------

    def _circles(self) -> CircleService:
        circles = self.service.circles
        if circles is None:  # every app has them; a bare service in a test may not
            raise NotFound("this server keeps no circles", code=ErrorCode.CIRCLE_NOT_FOUND)
        return circles

    async def _facilitated(
        self, request: web.Request, circle_id: object, token: object, *, keepsakes: bool = False
    ) -> Circle:
        """The circle, for its facilitator only (``keepsakes``: with its kept keepsakes).

        "No such circle" and "wrong token" (or one of the wrong shape, or
        none) get one answer, 403 ``bad_circle_token``, and count as a failed
        attempt of the address, as the host's routes do.
        """
        async with self.attempts.attempt("join", self._address(request)) as attempt:
            circle = None
            if isinstance(circle_id, str) and isinstance(token, str) and token:
                circle = await self._circles().facilitated(circle_id, token, keepsakes=keepsakes)
            if circle is None:
                attempt.failed = True
                raise Forbidden(
                    "this needs the circle's facilitator token", code=ErrorCode.BAD_CIRCLE_TOKEN
                )
        return circle

    async def _facilitated_request(
        self, request: web.Request, *, keepsakes: bool = False
    ) -> Circle:
        token = _bearer(request, "X-Circle-Token")
        return await self._facilitated(
            request, request.match_info["circle_id"], token, keepsakes=keepsakes
        )

    async def _member(self, request: web.Request, *, keepsakes: bool = False) -> tuple[Circle, str]:
        """The circle and the member whose device token the request carries (``X-Device-Token``).

        "No such circle" and "no such member" get one answer, 403
        ``unknown_member``, counted as a failed attempt of the address.
        """
        token = request.headers.get("X-Device-Token")
        async with self.attempts.attempt("join", self._address(request)) as attempt:
            found: tuple[Circle, str] | None = None
            if token is not None:
                found = await self._circles().member(
                    request.match_info["circle_id"], token, keepsakes=keepsakes
                )
            if found is None:
                attempt.failed = True
                raise Forbidden(
                    "this device is not a member of such a circle", code=ErrorCode.UNKNOWN_MEMBER
                )
        return found

    async def create_circle(self, request: web.Request) -> web.Response:
        """``POST /api/circles`` ``{"name"}``: a circle, its facilitator token and its link."""
        await self.creations.take("create-circle", self._address(request))
        body = await self._json_body(request)
        circle, token = await self._circles().create(body.get("name"))
        return json_response(
            {
                "id": circle.id,
                "name": circle.meta.name,
                "facilitator_token": token,
                "circle_url": f"{base_url(request, self.public_url)}/c/{circle.id}",
            },
            status=201,
            headers=NO_STORE,
        )

    async def circle_page(self, request: web.Request) -> web.StreamResponse:
        """``/c/<id>``, the circle's link: to the last room opened in it, while it is open.

        Otherwise 404: for a browser (``Accept: text/html``) a page that says
        so in its language (``web/circle.html``), for anything else (and when
        the web client is not there) the JSON error.
        """
        try:
            return await self._circle_link(request)
        except NotFound as exc:
            if "text/html" not in request.headers.get("Accept", ""):
                raise
            try:
                body = _circle_page(self.settings.web_dir / "circle.html", exc.code)
            except OSError:  # a process without the web client: the JSON error
                raise exc from None
            return web.Response(
                body=body,
                status=404,
                content_type="text/html",
                headers={"Cache-Control": "no-cache"},
            )

    async def _circle_link(self, request: web.Request) -> web.StreamResponse:
        async with self.attempts.attempt("join", self._address(request)) as attempt:
            circle = await self._circles().load(request.match_info["circle_id"])
            if circle is None:
                attempt.failed = True
                raise NotFound("no such circle", code=ErrorCode.CIRCLE_NOT_FOUND)
        code = circle.meta.room
        if code:
            try:
                room = await self.service.load(code, fresh=True)
            except NotFound:
                room = None
            if room is not None and room.phase != "closed" and room.circle == circle.id:
                raise web.HTTPSeeOther(f"/r/{code}")
        raise NotFound(
            "no room is open in this circle yet: ask its facilitator",
            code=ErrorCode.ROOM_NOT_FOUND,
        )

    async def circle_export(self, request: web.Request) -> web.Response:
        """``GET /api/circles/<id>/export``: everything the circle keeps, for its facilitator."""
        circle = await self._facilitated_request(request, keepsakes=True)
        name = f"ritrovo-circle-{circle.id}.json"
        return web.Response(
            body=orjson.dumps(export(circle), option=orjson.OPT_INDENT_2),
            content_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}"', **NO_STORE},
        )

    async def delete_circle(self, request: web.Request) -> web.Response:
        """``DELETE /api/circles/<id>``: the circle and everything it keeps, for its facilitator."""
        circle = await self._facilitated_request(request)
        await self._circles().delete(circle.id)
        return json_response({"deleted": True})

    async def circle_me(self, request: web.Request) -> web.Response:
        """``GET /api/circles/<id>/me``: what the circle remembers of the member of this device."""
        circle, member = await self._member(request, keepsakes=True)
        return json_response(about(circle, member), headers=NO_STORE)

    async def forget_me(self, request: web.Request) -> web.Response:
        """``DELETE /api/circles/<id>/me``: the circle forgets the member of this device."""
        circle, member = await self._member(request)
        await self._circles().forget(circle.id, member)
        return json_response({"forgotten": True}, headers=NO_STORE)

    async def remove_member(self, request: web.Request) -> web.Response:
        """``DELETE /api/circles/<id>/members/<member>``: the facilitator has the circle forget a member."""
        circle = await self._facilitated_request(request)
        member = request.match_info["member_id"]
        # A wrong shape names nobody: not looked up.
        if not (circles_rules.valid_member_id(member) and member in circle.members):
            raise NotFound("no such member in this circle", code=ErrorCode.MEMBER_NOT_FOUND)
        if not await self._circles().forget(circle.id, member):  # forgotten meanwhile
            raise NotFound("no such member in this circle", code=ErrorCode.MEMBER_NOT_FOUND)
        return json_response({"forgotten": True}, headers=NO_STORE)

    async def room_info(self, request: web.Request) -> web.Response:
        async with self.attempts.attempt("join", self._address(request)) as attempt:
            try:
                room = await self._room(request)
            except NotFound:
                attempt.failed = True
                raise
        pack = await self.service.get_pack(room.pack_id)
        return json_response(
            {**public_info(room, pack), **room_links(request, self.public_url, room.code)}
        )

    async def packs(self, request: web.Request) -> web.Response:
        return json_response({"packs": listing(self.service.library)})

    async def upload_pack(self, request: web.Request) -> web.Response:
        room = await self._host_room(request)
        await self._count_upload(room.code, self._address(request))
        filename = request.query.get("filename", "pack.yaml")
        data = await self._pack_body(request)
        # Parsed in a worker process: PyYAML holds the GIL, so even in a thread
        # every game on this process would stand still meanwhile. PackError ->
        # 422 invalid_pack with every problem; past the time budget, 422
        # pack_too_complex.
        pack = await self.parser.parse(data, filename)
        pack_id = await self.service.save_uploaded_pack(pack, room.code)
        await self.service.execute(room.code, lambda r, p, now: flow.choose_pack(r, pack_id))
        # The id the room knows the pack by (for choose_pack), not the file's own id.
        return json_response({"pack": {**pack.summary(), "id": pack_id}}, status=201)

    async def _pack_body(self, request: web.Request) -> bytes:
        """The request's body, a pack file: ``pack_too_large`` past ``max_pack_bytes``."""
        too_large = PayloadTooLarge(
            f"pack files are limited to {self.max_pack_bytes} bytes", code=ErrorCode.PACK_TOO_LARGE
        )
        return await _read_body(request, self.max_pack_bytes, too_large)

    # -- the pack editor ---------------------------------------------------------

    async def library_source(self, request: web.Request) -> web.Response:
        """A library pack as the editor edits it (its answers ship in the repository)."""
        pack = self.service.library.get(request.match_info["pack_id"])
        if pack is None:
            raise NotFound("no such pack in the library", code=ErrorCode.PACK_NOT_FOUND)
        return json_response({"pack": pack_source(pack)})

    async def room_source(self, request: web.Request) -> web.Response:
        """The room's pack as the editor edits it: answers and all, for its host only."""
        room = await self._host_room(request)
        # Only a pack the room may use: a room that chose another room's upload
        # (possible before uploads were tied to their room) does not get its answers.
        pack = None
        if room.pack_id is not None:
            pack = await self.service.pack_for_room(room.code, room.pack_id)
        if pack is None:
            raise NotFound("the room has no pack yet", code=ErrorCode.NO_PACK)
        return json_response({"pack": pack_source(pack)})

    async def file_source(self, request: web.Request) -> web.Response:
        """A pack file or an import, read as an upload is, returned for editing (not kept).

        Counted with the address's uploads: it costs a worker's time as one does.
        """
        await self._count_address_upload(self._address(request))
        filename = request.query.get("filename", "pack.yaml")
        data = await self._pack_body(request)
        pack = await self.parser.parse(data, filename)
        return json_response({"pack": pack_source(pack)})

    async def _count_check(self, request: web.Request) -> None:
        try:
            await self.address_checks.take("pack-check", self._address(request))
        except LimitExceeded:
            raise LimitExceeded(
                "too many pack checks from this address "
                f"({self.address_checks.limit} a minute); wait a moment",
                code=ErrorCode.RATE_LIMITED,
            ) from None

    async def validate_pack(self, request: web.Request) -> web.Response:
        """The validator's verdict on the editor's pack (a JSON object, the pack file's fields).

        200 either way: ``{"valid": true, "pack": summary}`` or ``{"valid":
        false, "problems": [{"field", "message"}]}``. Read in a worker, with
        the uploads' time budget and size limit.
        """
        await self._count_check(request)
        async with self.check_turns.turn(self._address(request)):
            data = await self._pack_body(request)
            _json_object(data)
            try:
                pack = await self.parser.parse(data, "pack.json", pack_only=True, check=True)
            except PackError as exc:
                problems = [{"field": p.field, "message": p.message} for p in exc.problems]
                return json_response({"valid": False, "problems": problems})
        return json_response({"valid": True, "pack": pack.summary()})

    async def try_answer(self, request: web.Request) -> web.Response:
        """What the game's matcher says of a guess at one riddle of the editor's.

        Body: ``{"language", "defaults", "riddle", "guess"}``. A riddle the
        validator refuses is 422 ``invalid_pack``, its problems named
        ``riddle.<field>`` (or ``language``, ``defaults.<field>``).
        """
        await self._count_check(request)
        body = await self._json_body(request)
        guess = body.get("guess")
        if not isinstance(guess, str):
            raise BadRequest("guess must be a text", code=ErrorCode.INVALID_GUESS)
        if not guess.strip():
            raise BadRequest("type a guess to try", code=ErrorCode.EMPTY_GUESS)
        if len(guess) > GUESS_MAX_CHARS:
            raise BadRequest(
                f"a guess is at most {GUESS_MAX_CHARS} characters", code=ErrorCode.GUESS_TOO_LONG
            )
        if not isinstance(body.get("riddle"), dict):
            raise BadRequest("riddle must be a riddle's fields", code=ErrorCode.INVALID_FIELD)
        data = trial_pack(body.get("language"), body.get("defaults"), body["riddle"])
        try:
            # Checked, compiled and judged in a worker: a riddle's matcher costs
            # as its answers do, and this route is open to anyone.
            async with self.check_turns.turn(self._address(request)):
                verdict = await self.parser.judge(data, guess)
        except PackError as exc:
            error = exc.to_dict()
            error["message"] = "the riddle has problems: fix them to try an answer"
            error["problems"] = [trial_field(p) for p in exc.problems]
            return json_response({"error": error}, status=422)
        return json_response(
            {"verdict": verdict.kind, "nudge": verdict.nudge, "matched": verdict.matched}
        )

    async def _count_address_upload(self, address: str) -> None:
        try:
            await self.address_uploads.take("upload", address)
        except LimitExceeded:
            raise LimitExceeded(
                "too many pack uploads (an address's uploads per hour: "
                f"{self.address_uploads.limit}); try again later",
                code=ErrorCode.TOO_MANY_UPLOADS,
            ) from None

    async def _count_upload(self, code: str, address: str) -> None:
        """Count one upload to the room and from the address; refuse it past either limit."""
        for limiter, kind, key, what in (
            (self.room_uploads, "upload-room", code, "a room's uploads per 10 minutes"),
            (self.address_uploads, "upload", address, "an address's uploads per hour"),
        ):
            try:
                await limiter.take(kind, key)
            except LimitExceeded:
                raise LimitExceeded(
                    f"too many pack uploads ({what}: {limiter.limit}); try again later",
                    code=ErrorCode.TOO_MANY_UPLOADS,
                ) from None

    async def results(self, request: web.Request) -> web.StreamResponse:
        room = await self._host_room(request)
        pack = await self.service.get_pack(room.pack_id)
        fmt = request.match_info["format"]
        name = f"ritrovo-{room.code}-results.{fmt}"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        if fmt == "csv":
            return web.Response(
                text=exports.results_csv(room, pack), content_type="text/csv", headers=headers
            )
        return web.Response(
            body=orjson.dumps(exports.results(room, pack), option=orjson.OPT_INDENT_2),
            content_type="application/json",
            headers=headers,
        )

    async def stories_markdown(self, request: web.Request) -> web.Response:
        room = await self._host_room(request)
        pack = await self.service.get_pack(room.pack_id)
        # Every story round played so far; 404 no_story when there is none.
        text = exports.markdown_keepsake(room, pack)
        headers = {"Content-Disposition": f'attachment; filename="ritrovo-{room.code}-stories.md"'}
        return web.Response(text=text, content_type="text/markdown", headers=headers)

    async def _keepsake_room(self, request: web.Request) -> tuple[Room, str | None]:
        """The room and who asks: the host (None) or a player (their id), by their token.

        ``Authorization: Bearer`` the host token or a player's resume token.
        Anything else, an unknown room included, is one answer (403
        ``unknown_token``) and a failed attempt of the address, as for the
        host-only routes.
        """
        token = _bearer(request)
        async with self.attempts.attempt("join", self._address(request)) as attempt:
            try:
                room: Room | None = await self._room(request)
            except NotFound:
                room = None
            viewer: str | None = None
            known = False
            if room is not None and token:
                hashed = hash_token(token)
                if hmac.compare_digest(hashed, room.host_token_hash):
                    known = True
                else:
                    try:
                        viewer = rooms.player_by_token(room, hashed).id
                        known = True
                    except RitrovoError:
                        pass
            if room is None or not known:
                attempt.failed = True
                raise Forbidden(
                    "this needs the room's host token or a player's resume token",
                    code=ErrorCode.UNKNOWN_TOKEN,
                )
        return room, viewer

    async def keepsake(self, request: web.Request) -> web.Response:
        """The session's keepsake, as JSON (the page's) or Markdown (a download)."""
        room, viewer = await self._keepsake_room(request)
        pack = await self.service.get_pack(room.pack_id)
        known: keepsake.Known = ()
        if room.circle and self.service.circles is not None:
            try:  # colleagues met in the circle's earlier sessions are not new
                known = await self.service.circles.known_before(room)
            except RitrovoError as exc:  # best effort, as the pairing's history
                log.warning("could not read the circle's history: %s", exc.code)
        body = keepsake.build(room, pack, player_id=viewer, known_before=known)
        if request.match_info["format"] == "json":
            return json_response(body, headers=NO_STORE)  # one person's, and it changes
        wanted = request.query.get("lang", body["room"]["language"])
        language: keepsake.Language = "it" if wanted == "it" else "en"
        name = f"ritrovo-{room.code}-keepsake.md"
        return web.Response(
            text=keepsake.markdown(body, language),
            content_type="text/markdown",
            headers={"Content-Disposition": f'attachment; filename="{name}"', **NO_STORE},
        )

    async def qr(self, request: web.Request) -> web.Response:
        code = normalize_code(request.match_info["code"])
        if not code:  # drawing a QR code of a long "code" held the event loop
            raise NotFound("no such room", code=ErrorCode.ROOM_NOT_FOUND)
        url = room_links(request, self.public_url, code)["join_url"]
        return web.Response(body=_qr_svg(url), content_type="image/svg+xml")


async def _read_body(request: web.Request, limit: int, too_large: RitrovoError) -> bytes:
    """The request's body, or ``too_large`` as soon as it is known to be over ``limit`` bytes.

    Never ``request.read()``: past the application's ``client_max_size`` it
    raises aiohttp's own 413, plain text without an error code.
    """
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    # read(n) returns what has arrived so far, not n bytes: read to the end,
    # stopping as soon as the body is over the limit.
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(data: bytes) -> None:
    """Refuse a body that is not a JSON object (the editor's pack), as ``_json_body`` does."""
    try:
        value = orjson.loads(data) if data else None
    except orjson.JSONDecodeError:
        raise BadRequest("the body is not valid JSON", code=ErrorCode.INVALID_JSON) from None
    if not isinstance(value, dict):
        raise BadRequest("the body must be a JSON object", code=ErrorCode.INVALID_MESSAGE)


@functools.lru_cache(maxsize=4)
def _circle_page(path: Path, reason: str) -> bytes:
    """The page of a circle's link that leads nowhere, saying why (``reason``: an error code,
    never anything a person typed)."""
    return path.read_bytes().replace(b'data-reason=""', f'data-reason="{reason}"'.encode())


@functools.lru_cache(maxsize=256)
def _qr_svg(url: str) -> bytes:
    """The join QR code of a room, drawn once (the shared screen and every console ask for it)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=2, dark="#111", light="#fff")
    return out.getvalue()


class StatusApi:
    """``/healthz`` for load balancers and ``/metrics`` for Prometheus."""

    def __init__(
        self,
        store: RoomStore,
        health: StoreHealth,
        hub: RoomHub,
        slots: AddressSlots,
        lease: TimerLease,
        metrics: Metrics,
    ) -> None:
        self.store = store
        self.health = health
        self.hub = hub
        self.slots = slots
        self.lease = lease
        self.metrics = metrics

    async def healthz(self, request: web.Request) -> web.Response:
        """200 while this process can serve; 503 during a store outage or a shutdown."""
        body: dict[str, Any] = {
            "ok": True,
            "store": type(self.store).__name__,
            "durable": self.store.durable,
            "instance": self.lease.holder,
            "timer_lease": self.lease.held,
            "connections": len(self.hub.connected),
        }
        try:
            await self.store.ping()
        except RitrovoError as exc:
            self.health.lost()
            return json_response({**body, "ok": False, "error": exc.to_dict()}, 503)
        # What this check learnt, the process learns too: a 200 here means commands pass.
        await self.health.back()
        if self.slots.closing:
            return json_response({**body, "ok": False, "error": {"code": "shutting_down"}}, 503)
        return json_response(body)

    async def metrics_page(self, request: web.Request) -> web.Response:
        m = self.metrics
        with contextlib.suppress(RitrovoError):
            m.rooms.set(await self.store.count_rooms(self.hub.service.clock()))
        m.rooms_connected.set(len(self.hub.rooms))
        roles: dict[str, int] = {"host": 0, "screen": 0, "player": 0, "none": 0}
        for conn in self.hub.connected:
            roles[conn.role or "none"] += 1
        for role, count in roles.items():
            m.connections.labels(role).set(count)
        m.timer_lease.set(1 if self.lease.held else 0)
        return web.Response(body=m.render(), headers={"Content-Type": m.content_type})


def page(path: Any) -> Any:
    async def handler(request: web.Request) -> web.FileResponse:
        return web.FileResponse(path, headers={"Cache-Control": "no-cache"})

    return handler
