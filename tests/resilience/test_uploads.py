"""Pack uploads cannot freeze or fill a server (issue 12).

Uploaded packs are parsed in worker processes within a time budget
(``ritrovo.packs.worker``); uploads are counted per room and per address.
Real processes throughout: the server under load is a ``ritrovo serve``
process on a real Redis, and every parser runs real workers.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from ritrovo.client import join
from ritrovo.config import Settings
from ritrovo.errors import ErrorCode, StoreUnavailable
from ritrovo.packs import PackError, load_pack_bytes
from ritrovo.packs.worker import PackParser, PackTooComplex
from ritrovo.store.base import RoomStore
from support.protocol_helpers import create_room
from support.resilience import small_pack
from support.servers import ServeProcess, running_server
from support.servers import test_settings as fast_settings

BROKEN = Path(__file__).resolve().parent.parent / "packs" / "broken"
MIB = 1024 * 1024
# The hostile bodies: PyYAML took ~55 s on the first, 2.6-12 s on the second.
ZEROS = b"[" + b"0," * (MIB // 2 - 2) + b"0]"
BRACKETS = b"[" * (97 * 1024)


def worker_pids(parent: int) -> set[int]:
    """The pack workers whose parent is ``parent`` (from /proc)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"ritrovo.packs.worker" in cmdline:
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def until_gone(pids: set[int], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while any(alive(pid) for pid in pids):
            await asyncio.sleep(0.05)


async def upload(
    http: aiohttp.ClientSession,
    base_url: str,
    room: dict[str, Any],
    body: bytes,
    filename: str = "p.yaml",
) -> tuple[int, dict[str, Any]]:
    async with http.post(
        f"{base_url}/api/rooms/{room['code']}/pack",
        params={"filename": filename},
        data=body,
        headers={"Authorization": f"Bearer {room['host_token']}"},
    ) as r:
        return r.status, dict(await r.json())


@pytest.mark.timeout(120)
async def test_hostile_uploads_do_not_stall_a_bystander(redis_url: str) -> None:
    server = ServeProcess(
        redis_url,
        RITROVO_PACK_PARSE_SECONDS="0.5",  # short, so the test stays fast
        RITROVO_PACK_PARSE_WORKERS="2",
    )
    await asyncio.to_thread(server.start)
    try:
        assert server.pid is not None
        hostile_room = await create_room(server.base_url, "Hostile")
        quiet_room = await create_room(server.base_url, "Quiet")
        bystander = await join(server.ws_url, quiet_room["code"], "Ada")
        async with aiohttp.ClientSession() as http:
            # One upload first: the workers start (start-up is not what is measured).
            status, _ = await upload(http, server.base_url, hostile_room, small_pack().encode())
            assert status == 201
            bodies = [ZEROS, BRACKETS] * 5
            uploads = asyncio.gather(
                *(upload(http, server.base_url, hostile_room, body) for body in bodies)
            )
            pings: list[float] = []
            while not uploads.done() or len(pings) < 20:
                started = time.perf_counter()
                await bystander.request("ping", timeout=5)
                pings.append(time.perf_counter() - started)
                await asyncio.sleep(0.06)  # paced under the message rate limit
            answers = await uploads
            # After the hostile ones, a valid pack is read as before (by a new worker).
            status, body = await upload(http, server.base_url, hostile_room, small_pack().encode())
            assert status == 201, body
            workers = worker_pids(server.pid)
        await bystander.close()
        assert max(pings) <= 0.1, sorted(pings)[-5:]
        assert [(s, b["error"]["code"]) for s, b in answers] == [(422, "pack_too_complex")] * 10
        assert len(workers) == 1  # the killed ones are gone; one is kept for the next upload
    finally:
        pid = server.pid
        workers = worker_pids(pid) if pid is not None else set()
        await asyncio.to_thread(server.stop)
    # No worker outlives its server.
    await until_gone(workers)
    assert pid is not None and not worker_pids(pid)


@pytest.mark.timeout(60)
async def test_a_valid_upload_works_and_problems_keep_file_line_and_field() -> None:
    async with running_server(fast_settings()) as srv:
        room = await create_room(srv.base_url)
        async with aiohttp.ClientSession() as http:
            status, body = await upload(http, srv.base_url, room, small_pack().encode())
            assert status == 201 and body["pack"]["title"] == "Resilience test"
            status, body = await upload(
                http, srv.base_url, room, (BROKEN / "invalid.json").read_bytes(), "invalid.json"
            )
            assert status == 422 and body["error"]["code"] == "invalid_pack"
            problems = [(p["file"], p["line"], p["field"]) for p in body["error"]["problems"]]
            assert ("invalid.json", 11, "rounds[0].riddles[1].hnts") in problems
            status, body = await upload(
                http, srv.base_url, room, (BROKEN / "hints.yaml").read_bytes(), "hints.yaml"
            )
            assert status == 422 and body["error"]["problems"][0]["line"] is not None
        workers = worker_pids(os.getpid())
        assert len(workers) == 1  # one worker served the three uploads
    await until_gone(workers)  # the app's cleanup stopped it
    assert not worker_pids(os.getpid())


@pytest.mark.timeout(60)
async def test_uploads_are_limited_per_room_and_per_address(
    make_store: Callable[..., RoomStore],
) -> None:
    settings = fast_settings(uploads_per_room=2, uploads_per_address_per_hour=3)
    async with running_server(settings, store=make_store(room_ttl=3600)) as srv:
        first, second = await create_room(srv.base_url), await create_room(srv.base_url)
        pack = small_pack().encode()
        async with aiohttp.ClientSession() as http:
            statuses = [(await upload(http, srv.base_url, first, pack))[0] for _ in range(2)]
            assert statuses == [201, 201]
            status, body = await upload(http, srv.base_url, first, pack)
            assert (status, body["error"]["code"]) == (429, "too_many_uploads")  # the room's
            assert (await upload(http, srv.base_url, second, pack))[0] == 201
            status, body = await upload(http, srv.base_url, second, pack)
            assert (status, body["error"]["code"]) == (429, "too_many_uploads")  # the address's
            assert "per hour" in body["error"]["message"]


@pytest.mark.timeout(60)
async def test_the_parser_kills_a_worker_past_the_budget_and_bounds_its_queue() -> None:
    parser = PackParser(workers=1, budget=0.5, queue=1, max_bytes=MIB)
    try:
        valid = small_pack().encode()
        # The Pack comes back from the worker (pickled) as the loader makes it.
        assert await parser.parse(valid, "p.yaml") == load_pack_bytes(valid, "p.yaml")
        [first] = parser.processes
        with pytest.raises(PackError) as invalid:
            await parser.parse(b"id: [", "bad.yaml")
        assert invalid.value.problems[0].line == 1
        assert parser.processes == [first]  # a refused pack does not cost the worker
        hostile = asyncio.ensure_future(parser.parse(BRACKETS, "deep.yaml"))
        waiting = asyncio.ensure_future(parser.parse(valid, "p.yaml"))  # the one place
        async with asyncio.timeout(5):
            while parser.waiting < 1:  # until the second waits for the worker
                await asyncio.sleep(0)
        with pytest.raises(StoreUnavailable) as busy:
            await parser.parse(valid, "p.yaml")
        assert busy.value.code == ErrorCode.BUSY and busy.value.http_status == 503
        with pytest.raises(PackTooComplex) as refused:
            await hostile
        assert refused.value.code == ErrorCode.PACK_TOO_COMPLEX
        assert refused.value.http_status == 422
        assert (await waiting).id == "resilience-test"  # read by a new worker
        assert first not in parser.processes and not alive(first)
    finally:
        await parser.close()
    assert parser.processes == [] and not worker_pids(os.getpid())


def test_the_upload_limits_are_settings() -> None:
    defaults = Settings()
    assert (defaults.pack_parse_seconds, defaults.pack_parse_workers) == (5.0, 1)
    assert (defaults.uploads_per_room, defaults.uploads_per_address_per_hour) == (10, 20)
    env = {
        "RITROVO_PACK_PARSE_SECONDS": "0.5",
        "RITROVO_PACK_PARSE_WORKERS": "2",
        "RITROVO_PACK_PARSE_QUEUE": "3",
        "RITROVO_UPLOADS_PER_ROOM": "4",
        "RITROVO_UPLOADS_PER_ADDRESS_PER_HOUR": "5",
    }
    s = Settings.from_env(env)
    assert (s.pack_parse_seconds, s.pack_parse_workers, s.pack_parse_queue) == (0.5, 2, 3)
    assert (s.uploads_per_room, s.uploads_per_address_per_hour) == (4, 5)
