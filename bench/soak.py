"""Soak: minutes of mixed abuse, then do server RSS and Redis memory come back? (issue 12)

One ``ritrovo serve`` (``bench/lib/soak_serve.py``: the same server, able to
report its live Python objects) on a private ``redis-server``, both on
127.0.0.1, run with the **default limits** (not the bench's ``LOAD_ENV``):
the rate limits and per-address caps are part of what is soaked, and they
refuse much of the abuse, as they should.

1. Warm-up and baseline: a room with a host and four players plays two
   riddles of the bench pack (``bench/packs/s1-recorded.yaml``); once the
   server is idle, its RSS (``VmRSS``) and Redis's ``used_memory`` (and
   ``used_memory_rss``) are the baseline. The warm-up room stays connected
   to the end (its players ping, as bystanders, during the abuse).
2. ``--duration`` seconds (120) of abuse from a bounded set of asyncio tasks,
   each kind from its own loopback address (127.0.0.2 ... 127.0.0.10), so
   that one kind's per-address refusals (attempts, uploads, rooms) do not
   stop the others from reaching the paths they probe:

   churn     open / rejoin, screen or nothing / close, in a room of 8 players
   codes     join, rejoin, host with 16,000-character, garbage and unknown
             room codes; long codes over HTTP (room info, qr.svg)
   flood     a screen sends 300 pings at once, past the rate limit, until closed
   probe     results.json/.csv, stories.md, qr.svg, pack uploads on random
             codes, and the warm-up room with wrong host tokens
   upload    distinct valid packs (small), and hostile bodies of 0.5 MiB
             (nested ``[``, ``[0,0,...``, random bytes) and 1.1 MiB, to rooms
             the uploader creates, from two addresses
   garbage   binary, non-JSON, unmasked, oversized, fragmented, reserved,
             invalid UTF-8 and wrong-version frames on raw WebSockets
   sink      30 players (rejoining when dropped) whose sockets have a 4 KiB
             receive buffer and who never read after their ``welcome``, in a
             room whose host pauses and resumes 4 times a second; they send a
             ``resync`` (a full state) 5 times a second
   idle      40 TCP sockets that never send a byte; 10 WebSockets that never
             say who they are
   slow      6 request heads trickled a byte every 0.5 s; 4 bodies left half sent

   What each got (statuses, error and close codes, how long the server held
   it) is counted and printed.
3. The abuse stops, every abuse client is closed (the rooms the sinks and the
   churn used are closed by their host), the server goes idle: measured
   ("after"); ``--idle`` seconds (60) later, measured again ("after idle").
   The verdict: both within 10% of the baseline after idle. Then, as a
   diagnostic only, the server runs a full garbage collection and glibc's
   ``malloc_trim(0)`` and its RSS is read once more: what a collection or the
   allocator's free lists still held.

    .venv/bin/python bench/soak.py                          # 120 s + 60 s idle (~4 min)
    .venv/bin/python bench/soak.py --duration 20 --idle 10  # a quick look
    .venv/bin/python bench/soak.py --server-env MALLOC_ARENA_MAX=2 --save soak-arena2
    RITROVO_SOAK_PATCH=close_cycle .venv/bin/python bench/soak.py --save soak-exp-close-cycle
    .venv/bin/python bench/soak.py --server-env RITROVO_SOAK_PINS=1   # what keeps the arenas

(``RITROVO_SOAK_PATCH``, ``RITROVO_SOAK_REFERRERS``, ``RITROVO_SOAK_PINS`` and
``RITROVO_SOAK_TRACEMALLOC``: bench/lib/soak_serve.py. Every dump also has
pymalloc's arenas, glibc's malloc figures, the resident memory by mapping and
the full collections' count and times.)

Results: ``bench/results/soak.json`` (``--save``); the server's log in
``bench/results/logs/soak.log``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import json
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.common import (
    BENCH,
    PY,
    REPO,
    SERVER_CORE,
    BenchRedis,
    Proc,
    _die_with_parent,
    _log_file,
    create_room,
    free_port,
    machine_info,
    pct,
    pin_self,
    raise_file_limit,
    run_from_revision,
    save,
    stop_on_sigterm,
    table,
    taskset,
    upload_pack,
    wait_idle,
)

LIMIT = 1.10  # after idle, within 10% of the baseline
PACK_TEXT = (BENCH / "packs" / "s1-recorded.yaml").read_text()
NEAR = ["laser printer", "inkjet", "photocopier", "copier", "scanner", "toner"]
ANSWER = "printer"
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LONG_CODE = 16_000

# Each kind of abuse comes from its own loopback address (see the docstring).
ADDRESSES = {
    "churn": "127.0.0.2",
    "codes": "127.0.0.3",
    "flood": "127.0.0.4",
    "probe": "127.0.0.5",
    "upload": "127.0.0.6",
    "upload-2": "127.0.0.7",
    "garbage": "127.0.0.8",
    "sink": "127.0.0.9",
    "idle": "127.0.0.10",
    "slow": "127.0.0.11",
}
# Redis keys that belong to a room (its state, its change log of at most 1,000
# entries, its owner): kept by design as long as the room lives (room_ttl, 24 h
# after its last change, closed or not; unused_room_ttl for a room nobody used).
ROOM_KEYS = ("room", "log", "owner")
# Only what the run needs; every limit keeps its default.
SOAK_ENV = {"RITROVO_LOG_LEVEL": "WARNING"}


# -- the server under test -----------------------------------------------------


class SoakServer(Proc):
    """``ritrovo serve`` through bench/lib/soak_serve.py, on the server core, default limits."""

    def __init__(self, redis_url: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.redis_url = redis_url
        self.dump_path = Path(tempfile.mkdtemp(prefix="ritrovo-soak-")) / "dump.json"
        self.env = {**SOAK_ENV, **env, "RITROVO_SOAK_DUMP": str(self.dump_path)}

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> SoakServer:
        args = [
            *taskset(SERVER_CORE), PY, str(BENCH / "lib" / "soak_serve.py"), "serve",
            "--host", "127.0.0.1", "--port", str(self.port), "--redis-url", self.redis_url,
        ]  # fmt: skip
        self.log_path = _log_file("soak")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                args,
                cwd=REPO,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - a prctl() only
            )
        self._wait_healthy(self.base_url + "/healthz", 30)
        return self

    def python_objects(self, action: str = "dump") -> dict[str, Any]:
        """What the interpreter holds (soak_serve.py's dump); first a full collection
        (``collect``) or glibc's ``malloc_trim(0)`` (``trim``) if asked."""
        signum = {"dump": signal.SIGUSR1, "collect": signal.SIGUSR2, "trim": signal.SIGWINCH}
        before = self.dump_path.stat().st_mtime_ns if self.dump_path.exists() else 0
        self.proc.send_signal(signum[action])  # type: ignore[union-attr]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # bounded wait for the dump
            if self.dump_path.exists() and self.dump_path.stat().st_mtime_ns != before:
                with contextlib.suppress(ValueError):
                    return dict(json.loads(self.dump_path.read_text()))
            time.sleep(0.02)
        return {}

    def children_rss_kib(self) -> int:
        """RSS of the server's children (the pack workers), summed."""
        total = 0
        with contextlib.suppress(OSError):
            for tid in os.listdir(f"/proc/{self.pid}/task"):
                children = Path(f"/proc/{self.pid}/task/{tid}/children").read_text().split()
                for child in children:
                    with contextlib.suppress(OSError):
                        for line in Path(f"/proc/{child}/status").read_text().splitlines():
                            if line.startswith("VmRSS:"):
                                total += int(line.split()[1])
        return total

    def open_fds(self) -> int:
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return -1


def metrics(base_url: str) -> dict[str, float]:
    """The server's /metrics as {'name{labels}': value} (no comments, no histograms' buckets)."""
    out: dict[str, float] = {}
    with urllib.request.urlopen(base_url + "/metrics", timeout=5) as r:
        text = r.read().decode()
    for line in text.splitlines():
        if not line or line.startswith("#") or "_bucket{" in line:
            continue
        name, _, value = line.rpartition(" ")
        with contextlib.suppress(ValueError):
            out[name] = float(value)
    return out


def redis_figures(client: Any) -> dict[str, Any]:
    info = client.info("memory")
    clients = client.info("clients")
    keys: dict[str, list[int]] = {}
    for key in client.scan_iter(count=1000):
        kind = key.decode().split(":")[1] if b":" in key else key.decode()
        entry = keys.setdefault(kind, [0, 0])
        entry[0] += 1
        entry[1] += int(client.memory_usage(key, samples=0) or 0)
    in_rooms = sum(v[1] for k, v in keys.items() if k in ROOM_KEYS)
    return {
        "used_memory": int(info["used_memory"]),
        "used_memory_outside_rooms": int(info["used_memory"]) - in_rooms,
        "used_memory_rss": int(info["used_memory_rss"]),
        "used_memory_dataset": int(info["used_memory_dataset"]),
        "mem_clients_normal": int(info.get("mem_clients_normal", 0)),
        "connected_clients": int(clients["connected_clients"]),
        "keys": {k: {"count": v[0], "bytes": v[1]} for k, v in sorted(keys.items())},
    }


def measure(server: SoakServer, redis_client: Any, label: str) -> dict[str, Any]:
    status = {
        key: server.status_kib(key) for key in ("VmRSS", "RssAnon", "RssFile", "VmHWM", "Threads")
    }
    m = metrics(server.base_url)
    figures = {
        "label": label,
        "time": time.time(),
        "server_rss_kib": status["VmRSS"],
        "server_rss_anon_kib": status["RssAnon"],
        "server_rss_file_kib": status["RssFile"],
        "server_hwm_kib": status["VmHWM"],
        "server_threads": status["Threads"],
        "server_fds": server.open_fds(),
        "pack_workers_rss_kib": server.children_rss_kib(),
        "connections": sum(v for k, v in m.items() if k.startswith("ritrovo_connections{")),
        "rooms": m.get("ritrovo_rooms", float("nan")),
        "python": server.python_objects(),
        "redis": redis_figures(redis_client),
        "metrics": {
            k: v
            for k, v in m.items()
            if k.startswith(("ritrovo_connections_dropped", "ritrovo_errors"))
        },
    }
    return figures


# -- raw sockets and WebSocket frames ---------------------------------------------


class Closed(Exception):
    """The server closed the socket (or reset it)."""


class RawSocket:
    """A non-blocking TCP socket from a chosen loopback address, read only when asked."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.opened = time.monotonic()

    @classmethod
    async def open(cls, port: int, local: str, rcvbuf: int | None = None) -> RawSocket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            if rcvbuf:  # before connect, so the window offered is small from the start
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.bind((local, 0))
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        except BaseException:
            sock.close()
            raise
        return cls(sock)

    async def send(self, data: bytes) -> None:
        try:
            await asyncio.get_running_loop().sock_sendall(self.sock, data)
        except OSError as err:
            raise Closed(type(err).__name__) from err

    async def fill(self) -> None:
        try:
            chunk = await asyncio.get_running_loop().sock_recv(self.sock, 65536)
        except OSError as err:
            raise Closed(type(err).__name__) from err
        if not chunk:
            raise Closed("eof")
        self.buffer += chunk

    async def read_exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            await self.fill()
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    async def read_until(self, marker: bytes, limit: int = 65536) -> bytes:
        while (i := self.buffer.find(marker)) < 0:
            if len(self.buffer) > limit:
                raise Closed("head too long")
            await self.fill()
        data = bytes(self.buffer[: i + len(marker)])
        del self.buffer[: i + len(marker)]
        return data

    def age(self) -> float:
        return time.monotonic() - self.opened

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def ws_frame(
    opcode: int, payload: bytes, *, mask: bool = True, fin: bool = True, rsv: int = 0
) -> bytes:
    head = bytearray([(0x80 if fin else 0) | rsv | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head.append(bit | n)
    elif n < 65536:
        head.append(bit | 126)
        head += struct.pack(">H", n)
    else:
        head.append(bit | 127)
        head += struct.pack(">Q", n)
    if not mask:
        return bytes(head) + payload
    key = os.urandom(4)
    masked = (
        int.from_bytes(payload, "big") ^ int.from_bytes((key * (n // 4 + 1))[:n], "big")
    ).to_bytes(n, "big")
    return bytes(head) + key + masked


def text(message: dict[str, Any]) -> bytes:
    return ws_frame(0x1, json.dumps(message).encode())


class RawWebSocket(RawSocket):
    @classmethod
    async def connect(cls, port: int, local: str, rcvbuf: int | None = None) -> RawWebSocket:
        raw = await RawSocket.open(port, local, rcvbuf)
        ws = cls(raw.sock)
        key = base64.b64encode(os.urandom(16)).decode()
        await ws.send(
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        try:
            head = await asyncio.wait_for(ws.read_until(b"\r\n\r\n"), 10)
        except BaseException:
            ws.close()
            raise
        status = int(head.split()[1])
        if status != 101:
            ws.close()
            raise Closed(f"http {status}")
        return ws

    async def read_frame(self) -> tuple[int, bytes]:
        b0, b1 = await self.read_exactly(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", await self.read_exactly(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", await self.read_exactly(8))[0]
        return b0 & 0x0F, await self.read_exactly(n)

    async def answers(self, timeout: float, frames: int = 8) -> str:
        """What the server answered: the error codes it sent, then its close code, if any."""
        seen: list[str] = []
        try:
            for _ in range(frames):
                opcode, payload = await asyncio.wait_for(self.read_frame(), timeout)
                if opcode == 0x8:
                    code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 1005
                    seen.append(f"close {code}")
                    break
                if opcode == 0x1:
                    with contextlib.suppress(ValueError):
                        message = json.loads(payload)
                        seen.append(str(message.get("code") or message.get("type")))
        except TimeoutError:
            pass
        except Closed:
            seen.append("dropped")
        return ", ".join(dict.fromkeys(seen)) or "no answer"

    async def goodbye(self) -> None:
        with contextlib.suppress(Closed, OSError):
            await asyncio.wait_for(self.send(ws_frame(0x8, struct.pack(">H", 1000))), 1)
        self.close()


# -- the run ---------------------------------------------------------------------


S = TypeVar("S", bound=RawSocket)


@dataclass
class Soak:
    port: int
    base_url: str
    ws_url: str
    stop: asyncio.Event
    legit_code: str
    sink_code: str
    churn_code: str
    churn_tokens: list[str]
    tally: dict[str, collections.Counter[str]] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter)
    )
    sockets: set[RawSocket] = field(default_factory=set)
    rng: random.Random = field(default_factory=lambda: random.Random(12))

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        self.tally[kind][outcome] += n

    @property
    def stopping(self) -> bool:
        return self.stop.is_set()

    async def pause(self, seconds: float) -> None:
        """Pace a loop (not a synchronisation): returns early when the abuse stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)

    def track(self, sock: S) -> S:
        self.sockets.add(sock)
        return sock

    def forget(self, sock: RawSocket) -> None:
        sock.close()
        self.sockets.discard(sock)


def outcome_of(exc: BaseException) -> str:
    import websockets
    from ritrovo.client import ProtocolError

    if isinstance(exc, ProtocolError):
        return exc.code
    if isinstance(exc, websockets.InvalidStatus):
        return f"http {exc.response.status_code}"
    if isinstance(exc, websockets.ConnectionClosed):
        return f"close {exc.rcvd.code if exc.rcvd else 1006}"
    if isinstance(exc, ConnectionError) and "connection closed" in str(exc):
        found = re.search(r"\((\d+|None)", str(exc))
        return f"close {found.group(1) if found else '?'}"
    if isinstance(exc, Closed):
        return f"closed ({exc})"
    return type(exc).__name__


def held(seconds: float) -> str:
    """A duration for the tallies: whole seconds up to 15, then rounded to 5."""
    return f"{round(seconds)} s" if seconds < 15 else f"~{5 * round(seconds / 5)} s"


async def ws_client(ctx: Soak, kind: str, **options: Any) -> Any:
    from ritrovo.client import RitrovoClient

    return await RitrovoClient.connect(ctx.ws_url, local_addr=(ADDRESSES[kind], 0), **options)


def http_session(address: str) -> Any:
    import aiohttp

    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(address, 0), limit=4),
        timeout=aiohttp.ClientTimeout(total=60),
    )


async def error_code(response: Any) -> str:
    with contextlib.suppress(Exception):
        body = await response.json(content_type=None)
        return str(body.get("error", {}).get("code", ""))
    return ""


# churn: open, say who you are (or not), close ------------------------------------


async def churn(ctx: Soak, n: int) -> None:
    i = n
    while not ctx.stopping:
        i += 1
        variant = ("rejoin", "screen", "no hello")[i % 3]
        try:
            client = await ws_client(ctx, "churn", keep_messages=False)
            try:
                if variant == "rejoin":
                    token = ctx.churn_tokens[i % len(ctx.churn_tokens)]
                    await client.hello("rejoin", room=ctx.churn_code, token=token)
                elif variant == "screen":
                    await client.hello("screen", room=ctx.churn_code)
                ctx.count("churn", f"{variant}: welcome" if variant != "no hello" else variant)
            finally:
                await client.close()
        except Exception as exc:  # noqa: BLE001 - counted as what it got
            ctx.count("churn", f"{variant}: {outcome_of(exc)}")
        await ctx.pause(0.01)


# codes: long, garbage and unknown room codes ---------------------------------------


def bad_code(rng: random.Random) -> tuple[str, str]:
    choice = rng.randrange(8)
    if choice == 0:
        return "16,000 chars", "X" * LONG_CODE
    if choice == 1:
        return "16,000 chars", "".join(rng.choices(CODE_ALPHABET, k=LONG_CODE))
    if choice == 2:
        return "16,000 chars", "".join(rng.choices("ÀßЖ😀\u202e\u200d<>&\"'", k=LONG_CODE // 2))
    if choice == 3:
        return "unknown", "".join(rng.choices(CODE_ALPHABET, k=6))
    return "garbage", rng.choice(
        ["../../etc/passwd", "", " ", "ABC", "ABCDEFG", "0O1IL0", "<script>", "%00%00", "🦜" * 40]
    )


async def codes(ctx: Soak, n: int) -> None:
    rng = random.Random(100 + n)
    client = None
    async with http_session(ADDRESSES["codes"]) as http:
        while not ctx.stopping:
            if rng.random() < 0.2:  # over HTTP: a room look-up and a QR code
                length = rng.choice([2_300, 2_800, LONG_CODE])
                path = rng.choice(["", "/qr.svg"])
                url = f"{ctx.base_url}/api/rooms/{'A' * length}{path}"
                try:
                    async with http.get(url) as r:
                        ctx.count("codes", f"GET {length}-char code{path}: {r.status}")
                except Exception as exc:  # noqa: BLE001 - counted as what it got
                    ctx.count("codes", f"GET {length}-char code{path}: {outcome_of(exc)}")
                await ctx.pause(0.02)
                continue
            shape, code = bad_code(rng)
            opening = rng.choice(["join", "rejoin", "host"])
            fields: dict[str, Any] = {"room": code}
            if opening == "join":
                fields["name"] = f"Eve {rng.randrange(1000)}"
            else:
                fields["token"] = base64.urlsafe_b64encode(os.urandom(24)).decode()
            try:
                if client is None or client.closed.done():
                    client = await ws_client(ctx, "codes", keep_messages=False)
                await client.hello(opening, timeout=10, **fields)
                ctx.count("codes", f"{opening} ({shape}): welcome")
            except Exception as exc:  # noqa: BLE001 - counted as what it got
                ctx.count("codes", f"{opening} ({shape}): {outcome_of(exc)}")
            await ctx.pause(0.02)
    if client is not None:
        await client.close()


# flood: past the rate limit until closed --------------------------------------------


def frame_counter(frames: collections.Counter[str]) -> Callable[[str, Any, bytes, float], None]:
    def on_frame(kind: str, message: Any, raw: bytes, at: float) -> None:
        if kind == "error" and message is not None:
            frames[f"error {message.get('code')}"] += 1
        elif kind in ("pong", "error"):
            frames[kind] += 1

    return on_frame


async def flood(ctx: Soak, n: int) -> None:
    while not ctx.stopping:
        frames: collections.Counter[str] = collections.Counter()
        on_frame = frame_counter(frames)
        try:
            client = await ws_client(ctx, "flood", keep_messages=False, on_frame=on_frame)
        except Exception as exc:  # noqa: BLE001 - counted as what it got
            ctx.count("flood", f"connect: {outcome_of(exc)}")
            await ctx.pause(0.5)
            continue
        try:
            await client.hello("screen", room=ctx.churn_code)
            for _ in range(300):
                await client.send("ping")
            try:
                code, _ = await asyncio.wait_for(asyncio.shield(client.closed), 5)
                ctx.count("flood", f"300 pings sent: closed {code}")
            except TimeoutError:
                ctx.count("flood", "300 pings sent: still open after 5 s")
        except Exception as exc:  # noqa: BLE001 - counted as what it got
            ctx.count("flood", f"300 pings: {outcome_of(exc)}")
        finally:
            with contextlib.suppress(Exception):
                await client.close()
        for key, value in frames.items():
            ctx.count("flood", f"frames: {key}", value)
        await ctx.pause(0.05)


# probe: host-only routes on random codes and wrong tokens ------------------------------


async def probe(ctx: Soak, n: int) -> None:
    rng = random.Random(200 + n)
    async with http_session(ADDRESSES["probe"]) as http:
        while not ctx.stopping:
            path = rng.choice(["results.json", "results.csv", "stories.md", "qr.svg", "pack"])
            which = rng.choice(["random code", "real room, wrong token", "garbage code"])
            if which == "random code":
                code = "".join(rng.choices(CODE_ALPHABET, k=6))
            elif which == "garbage code":
                code = rng.choice(["..%2F..%2Fetc", "ZZZZZZZ", "%3Cscript%3E", "abc"])
            else:
                code = ctx.legit_code
            token = base64.urlsafe_b64encode(os.urandom(24)).decode()
            headers = {"Authorization": f"Bearer {token}"}
            url = f"{ctx.base_url}/api/rooms/{code}/{path}"
            try:
                if path == "pack":
                    request = http.post(
                        url + "?filename=p.yaml", data=PACK_TEXT.encode(), headers=headers
                    )
                else:
                    request = http.get(url, headers=headers)
                async with request as r:
                    suffix = f" {await error_code(r)}" if r.status >= 400 else ""
                    ctx.count("probe", f"{path}, {which}: {r.status}{suffix}")
            except Exception as exc:  # noqa: BLE001 - counted as what it got
                ctx.count("probe", f"{path}, {which}: {outcome_of(exc)}")
            await ctx.pause(0.02)


# upload: distinct valid packs and hostile bodies -------------------------------------


def upload_bodies(rng: random.Random, i: int) -> tuple[str, str, bytes]:
    """(kind, filename, body) of the i-th upload."""
    half = 512 * 1024
    choice = i % 6
    if choice == 0:
        riddle = " ".join(rng.choices(["office", "printer", "coffee", "meeting", "mute"], k=12))
        body = (
            f"id: soak-{i}-{rng.randrange(10**9)}\ntitle: Soak {i}\nlanguage: en\n"
            f"rounds:\n  - kind: riddles\n    title: Soak\n    riddles:\n"
            f'      - text: "{riddle} ({i})?"\n        answers: ["printer"]\n'
        )
        return "valid pack (small)", "soak.yaml", body.encode()
    if choice == 1:
        return "0.5 MiB of [ (JSON)", "soak.json", b"[" * half
    if choice == 2:
        return "0.5 MiB of [ (YAML)", "soak.yaml", b"[" * half
    if choice == 3:
        return "0.5 MiB [0,0,...] (YAML)", "soak.yaml", b"[" + b"0," * (half // 2 - 1) + b"0]"
    if choice == 4:
        return "0.5 MiB random bytes", "soak.yaml", os.urandom(half)
    return "1.1 MiB body", "soak.yaml", os.urandom(1_100_000)


async def upload(ctx: Soak, n: int) -> None:
    kind = "upload" if n == 0 else "upload-2"
    rng = random.Random(300 + n)
    rooms: list[tuple[str, str]] = []
    i = 0
    async with http_session(ADDRESSES[kind]) as http:
        while not ctx.stopping:
            if not rooms or (i % 10 == 0 and len(rooms) < 20):
                try:
                    async with http.post(ctx.base_url + "/api/rooms", json={"name": "x"}) as r:
                        if r.status == 201:
                            room = await r.json()
                            rooms.append((room["code"], room["host_token"]))
                            ctx.count("upload", "create room: 201")
                        else:
                            ctx.count("upload", f"create room: {r.status} {await error_code(r)}")
                except Exception as exc:  # noqa: BLE001 - counted as what it got
                    ctx.count("upload", f"create room: {outcome_of(exc)}")
                if not rooms:
                    await ctx.pause(1.0)
                    continue
            what, filename, body = upload_bodies(rng, i)
            code, token = rooms[i % len(rooms)]
            i += 1
            try:
                async with http.post(
                    f"{ctx.base_url}/api/rooms/{code}/pack?filename={filename}",
                    data=body,
                    headers={"X-Host-Token": token},
                ) as r:
                    ctx.count("upload", f"{what}: {r.status} {await error_code(r)}".rstrip())
            except Exception as exc:  # noqa: BLE001 - counted as what it got
                ctx.count("upload", f"{what}: {outcome_of(exc)}")
            await ctx.pause(0.1)


# garbage: frames no client should send ------------------------------------------------


def garbage_frames(rng: random.Random) -> tuple[str, list[bytes]]:
    join = {"type": "join", "v": 2, "room": "ABCDEF", "name": "Mallory"}
    variants: list[tuple[str, list[bytes]]] = [
        ("binary frame", [ws_frame(0x2, os.urandom(rng.randrange(1, 2000)))]),
        ("not JSON", [ws_frame(0x1, b"{{{ not json " + os.urandom(8).hex().encode())]),
        ("JSON array", [ws_frame(0x1, b"[1,2,3]")]),
        ("v: true", [text({**join, "v": True})]),
        ("unknown type", [text({"type": "fly", "v": 2})]),
        ("no type", [text({"v": 2, "room": "ABCDEF"})]),
        ("room is a number", [text({**join, "room": 123456})]),
        ("20 KiB frame", [ws_frame(0x1, b'{"type":"ping","v":2,"x":"' + b"a" * 20_000 + b'"}')]),
        ("70 KiB frame", [ws_frame(0x1, b"a" * 70_000)]),
        ("unmasked frame", [ws_frame(0x1, json.dumps(join).encode(), mask=False)]),
        ("invalid UTF-8", [ws_frame(0x1, b'{"type":"\xff\xfe"}')]),
        ("continuation first", [ws_frame(0x0, b"orphan")]),
        ("reserved opcode", [ws_frame(0x3, b"x")]),
        ("RSV1 without deflate", [ws_frame(0x1, b"{}", rsv=0x40)]),
        ("200-byte ping", [ws_frame(0x9, b"p" * 200)]),
        (
            "fragmented join",
            [
                ws_frame(0x1, json.dumps(join).encode()[:20], fin=False),
                ws_frame(0x0, json.dumps(join).encode()[20:]),
            ],
        ),
        ("fragments forever", [ws_frame(0x1, b"a" * 8000, fin=False)] * 12),
    ]
    return rng.choice(variants)


async def garbage(ctx: Soak, n: int) -> None:
    rng = random.Random(400 + n)
    while not ctx.stopping:
        what, frames = garbage_frames(rng)
        try:
            ws = ctx.track(await RawWebSocket.connect(ctx.port, ADDRESSES["garbage"]))
        except Exception as exc:  # noqa: BLE001 - counted as what it got
            ctx.count("garbage", f"connect: {outcome_of(exc)}")
            await ctx.pause(0.5)
            continue
        try:
            for frame in frames:
                await ws.send(frame)
            ctx.count("garbage", f"{what}: {await ws.answers(timeout=1.0)}")
            await ws.goodbye()
        except Exception as exc:  # noqa: BLE001 - counted as what it got
            ctx.count("garbage", f"{what}: {outcome_of(exc)}")
        finally:
            ctx.forget(ws)
        await ctx.pause(0.01)


# sink: players who never read -----------------------------------------------------------


async def sink_slot(ctx: Soak, slot: int) -> None:
    token: str | None = None
    while not ctx.stopping:
        try:
            ws = ctx.track(await RawWebSocket.connect(ctx.port, ADDRESSES["sink"], rcvbuf=4096))
        except Exception as exc:  # noqa: BLE001 - counted as what it got
            ctx.count("sink", f"connect: {outcome_of(exc)}")
            await ctx.pause(1.0)
            continue
        opening = "join" if token is None else "rejoin"
        try:
            if token is None:
                await ws.send(text({"type": "join", "v": 2, "room": ctx.sink_code,
                                    "name": f"Sink {slot:02d}"}))  # fmt: skip
            else:
                await ws.send(text({"type": "rejoin", "v": 2, "room": ctx.sink_code,
                                    "token": token}))  # fmt: skip
            welcome: dict[str, Any] | None = None
            while welcome is None:  # read up to the welcome (or the refusal), then never again
                opcode, payload = await asyncio.wait_for(ws.read_frame(), 10)
                if opcode == 0x8:
                    raise Closed("closed before welcome")
                if opcode == 0x1:
                    message = json.loads(payload)
                    if message.get("type") == "welcome":
                        welcome = message
                    elif message.get("type") == "error":
                        raise Closed(str(message.get("code")))
            token = welcome.get("token", token)
            ctx.count("sink", f"{opening}: welcome")
            resync = 0
            while not ctx.stopping:
                resync += 1
                await ws.send(text({"type": "resync", "v": 2, "id": resync}))
                await ctx.pause(0.2)
            ctx.count("sink", "open at the end")
        except Closed as exc:
            if "before welcome" in str(exc) or exc.args[0] not in (
                "eof",
                "ConnectionResetError",
                "BrokenPipeError",
            ):
                ctx.count("sink", f"{opening}: {exc}")
            else:
                ctx.count("sink", f"dropped by the server after {held(ws.age())}")
        except Exception as exc:  # noqa: BLE001 - counted as what it got
            ctx.count("sink", f"{opening}: {outcome_of(exc)}")
        finally:
            ctx.forget(ws)
        await ctx.pause(0.2)


async def sink(ctx: Soak, n: int) -> None:
    await asyncio.gather(*(sink_slot(ctx, slot) for slot in range(30)))


# idle: sockets that say nothing ------------------------------------------------------------


async def idle_tcp(ctx: Soak) -> None:
    while not ctx.stopping:
        try:
            sock = ctx.track(await RawSocket.open(ctx.port, ADDRESSES["idle"]))
        except Exception as exc:  # noqa: BLE001 - counted as what it got
            ctx.count("idle", f"TCP connect: {outcome_of(exc)}")
            await ctx.pause(1.0)
            continue
        try:
            reader = asyncio.ensure_future(sock.fill())
            stopped = asyncio.ensure_future(ctx.stop.wait())
            await asyncio.wait([reader, stopped], return_when=asyncio.FIRST_COMPLETED)
            if reader.done():
                error = reader.exception()
                ctx.count(
                    "idle",
                    f"silent TCP: closed by the server after {held(sock.age())}"
                    if isinstance(error, Closed)
                    else f"silent TCP: {sock.buffer[:40]!r}",
                )
            else:
                ctx.count("idle", "silent TCP: open at the end")
            for task in (reader, stopped):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        finally:
            ctx.forget(sock)


async def idle_ws(ctx: Soak) -> None:
    while not ctx.stopping:
        try:
            ws = ctx.track(await RawWebSocket.connect(ctx.port, ADDRESSES["idle"]))
        except Exception as exc:  # noqa: BLE001 - counted as what it got
            ctx.count("idle", f"WebSocket connect: {outcome_of(exc)}")
            await ctx.pause(1.0)
            continue
        try:
            # Until the server closes it, or the stop event ends the wait.
            answer = asyncio.ensure_future(ws.answers(timeout=3600.0))
            stopped = asyncio.ensure_future(ctx.stop.wait())
            await asyncio.wait([answer, stopped], return_when=asyncio.FIRST_COMPLETED)
            if answer.done():
                ctx.count("idle", f"WebSocket, no hello: {answer.result()} after {held(ws.age())}")
            else:
                ctx.count("idle", "WebSocket, no hello: open at the end")
            for task in (answer, stopped):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        finally:
            ctx.forget(ws)


async def idle(ctx: Soak, n: int) -> None:
    await asyncio.gather(*(idle_tcp(ctx) for _ in range(40)), *(idle_ws(ctx) for _ in range(10)))


# slow: heads trickled, bodies never finished -----------------------------------------------


async def slow_head(ctx: Soak) -> None:
    head = (
        f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{ctx.port}\r\nX-Slow: " + "z" * 10_000
    ).encode()
    while not ctx.stopping:
        try:
            sock = ctx.track(await RawSocket.open(ctx.port, ADDRESSES["slow"]))
        except Exception as exc:  # noqa: BLE001 - counted as what it got
            ctx.count("slow", f"connect: {outcome_of(exc)}")
            await ctx.pause(1.0)
            continue
        reader = asyncio.ensure_future(sock.fill())
        try:
            for i in range(len(head)):
                if reader.done() or ctx.stopping:
                    break
                await sock.send(head[i : i + 1])
                await ctx.pause(0.5)
            if reader.done() and isinstance(reader.exception(), Closed):
                ctx.count(
                    "slow", f"trickled head: closed without an answer after {held(sock.age())}"
                )
            elif reader.done():
                status = bytes(sock.buffer[:12]).decode(errors="replace")
                ctx.count("slow", f"trickled head: answered {status!r} after {held(sock.age())}")
            else:
                ctx.count("slow", "trickled head: open at the end")
        except Closed:
            ctx.count("slow", f"trickled head: closed without an answer after {held(sock.age())}")
        finally:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
            ctx.forget(sock)


async def half_body(ctx: Soak) -> None:
    head = (
        f"POST /api/rooms HTTP/1.1\r\nHost: 127.0.0.1:{ctx.port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
        '{"name": "half a bod'
    ).encode()
    while not ctx.stopping:
        try:
            sock = ctx.track(await RawSocket.open(ctx.port, ADDRESSES["slow"]))
        except Exception as exc:  # noqa: BLE001 - counted as what it got
            ctx.count("slow", f"connect: {outcome_of(exc)}")
            await ctx.pause(1.0)
            continue
        try:
            await sock.send(head)
            reader = asyncio.ensure_future(sock.read_until(b"\r\n"))
            stopped = asyncio.ensure_future(ctx.stop.wait())
            await asyncio.wait([reader, stopped], return_when=asyncio.FIRST_COMPLETED)
            if reader.done() and reader.exception() is None:
                status = reader.result().decode(errors="replace").split(" ")[1]
                ctx.count("slow", f"half a body: answered {status} after {held(sock.age())}")
            elif reader.done():
                ctx.count("slow", f"half a body: closed without an answer after {held(sock.age())}")
            else:
                ctx.count("slow", "half a body: open at the end")
            for task in (reader, stopped):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        except Closed:
            ctx.count("slow", f"half a body: closed after {held(sock.age())}")
        finally:
            ctx.forget(sock)


async def slow(ctx: Soak, n: int) -> None:
    await asyncio.gather(*(slow_head(ctx) for _ in range(6)), *(half_body(ctx) for _ in range(4)))


# the warm-up room and its bystanders ---------------------------------------------------------


@dataclass
class Room:
    code: str
    token: str
    host: Any
    players: list[Any]


async def open_room(base_url: str, ws_url: str, name: str, players: list[str]) -> Room:
    from ritrovo.client import RitrovoClient, join

    info = await create_room(base_url, name)
    await upload_pack(base_url, info["code"], info["host_token"], PACK_TEXT)  # and chooses it
    host = await RitrovoClient.connect(ws_url)
    await host.hello("host", room=info["code"], token=info["host_token"])
    joined = [await join(ws_url, info["code"], p) for p in players]
    return Room(info["code"], info["host_token"], host, joined)


async def play_riddle(room: Room, index: int) -> None:
    await room.host.request("next", timeout=10)
    await room.host.wait_state(
        lambda s: s.get("riddle") is not None and s["riddle"]["index"] == index, timeout=10
    )
    for i, player in enumerate(room.players):
        await player.request("guess", text=NEAR[(i + index) % len(NEAR)], timeout=10)
    await room.players[0].request("guess", text=ANSWER, timeout=10)


async def bystanders(room: Room, stop: asyncio.Event, rtts: list[float]) -> None:
    async def pinger(client: Any) -> None:
        while not stop.is_set():
            started = time.monotonic()
            with contextlib.suppress(Exception):
                await client.request("ping", timeout=10)
                rtts.append((time.monotonic() - started) * 1000)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)

    await asyncio.gather(*(pinger(c) for c in [room.host, *room.players]))


# -- main ----------------------------------------------------------------------------------------

KINDS: dict[str, tuple[Callable[[Soak, int], Coroutine[Any, Any, None]], int]] = {
    "churn": (churn, 4),
    "codes": (codes, 2),
    "flood": (flood, 2),
    "probe": (probe, 2),
    "upload": (upload, 2),
    "garbage": (garbage, 2),
    "sink": (sink, 1),
    "idle": (idle, 1),
    "slow": (slow, 1),
}


async def abuse(server: SoakServer, legit: Room, args: argparse.Namespace) -> dict[str, Any]:
    from ritrovo.client import RitrovoClient, join

    # The rooms the abuse uses: the sinks' (its host pauses and resumes, so it
    # broadcasts) and the churn's (8 players whose tokens the churn rejoins with).
    sink_room = await open_room(server.base_url, server.ws_url, "Soak sinks", [])
    await sink_room.host.request("next", timeout=10)
    churn_info = await create_room(server.base_url, "Soak churn")
    churners = [
        await join(
            server.ws_url, churn_info["code"], f"Churn {i}", local_addr=(ADDRESSES["churn"], 0)
        )
        for i in range(8)
    ]
    tokens = [str(c.welcome["token"]) for c in churners if c.welcome is not None]
    for client in churners:
        await client.close()
    stop = asyncio.Event()
    ctx = Soak(
        port=server.port,
        base_url=server.base_url,
        ws_url=server.ws_url,
        stop=stop,
        legit_code=legit.code,
        sink_code=sink_room.code,
        churn_code=churn_info["code"],
        churn_tokens=tokens,
    )

    async def broadcaster() -> None:
        paused = False
        while not stop.is_set():
            with contextlib.suppress(Exception):
                await sink_room.host.request("resume" if paused else "pause", timeout=10)
                paused = not paused
                ctx.count("sink", "host pause/resume (broadcast)")
            await ctx.pause(0.25)

    rtts: list[float] = []
    cpu0, t0 = server.cpu_seconds(), time.monotonic()
    tasks = [
        asyncio.create_task(fn(ctx, n), name=f"{kind}-{n}")
        for kind, (fn, count) in KINDS.items()
        if kind in args.kinds
        for n in range(count)
    ]
    tasks.append(asyncio.create_task(broadcaster()))
    tasks.append(asyncio.create_task(bystanders(legit, stop, rtts)))
    peak_rss = 0
    mid: dict[str, Any] = {}
    while time.monotonic() - t0 < args.duration:  # the abuse runs; watch the server's RSS
        peak_rss = max(peak_rss, server.rss_kib())
        if args.dump_at is not None and not mid and time.monotonic() - t0 >= args.dump_at:
            # Diagnostic: what the server holds in the middle of the abuse.
            rss = server.rss_kib()
            python = await asyncio.to_thread(server.python_objects)
            mid = {"at": args.dump_at, "server_rss_kib": rss, "python": python}
        crashed = [t for t in tasks if t.done() and t.exception() is not None]
        for task in crashed:
            print(f"  abuse task {task.get_name()} failed: {task.exception()!r}", flush=True)
            tasks.remove(task)
        await asyncio.sleep(1.0)
    stop.set()
    elapsed = time.monotonic() - t0
    cpu = server.cpu_seconds() - cpu0
    _, pending = await asyncio.wait(tasks, timeout=15)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for sock in list(ctx.sockets):
        ctx.forget(sock)
    # The hosts close the rooms they ran for the abuse, as after a game.
    await sink_room.host.request("close", timeout=10)
    await sink_room.host.close()
    churn_host = await RitrovoClient.connect(server.ws_url)
    await churn_host.hello("host", room=churn_info["code"], token=churn_info["host_token"])
    await churn_host.request("close", timeout=10)
    await churn_host.close()
    return {
        "seconds": elapsed,
        "server_cpu_share": cpu / elapsed,
        "peak_rss_kib": peak_rss,
        "tally": {kind: dict(sorted(c.items())) for kind, c in sorted(ctx.tally.items())},
        "bystander_ping_ms": {
            "n": len(rtts),
            "p50": pct(rtts, 50),
            "p99": pct(rtts, 99),
            "max": max(rtts, default=float("nan")),
        },
        "addresses": {k: v for k, v in ADDRESSES.items() if k.split("-")[0] in args.kinds},
        "mid_abuse": mid,
    }


def mib(kib: float) -> float:
    return kib / 1024


def print_report(result: dict[str, Any]) -> None:
    base, after, idle_ = (result["measurements"][k] for k in ("baseline", "after", "after_idle"))
    print()
    print("What the abuse got (counts):")
    for kind, outcomes in result["abuse"]["tally"].items():
        print(f"  {kind}:")
        for outcome, n in sorted(outcomes.items(), key=lambda kv: -kv[1]):
            print(f"    {n:>7}  {outcome}")
    by = result["abuse"]["bystander_ping_ms"]
    print(
        f"  bystanders (the warm-up room's 5 clients, a ping every 0.5 s): {by['n']} pings, "
        f"p50 {by['p50']:.1f} ms, p99 {by['p99']:.1f} ms, max {by['max']:.1f} ms"
    )
    print(
        f"  server CPU during the abuse: {100 * result['abuse']['server_cpu_share']:.0f}% of a core;"
        f" peak RSS {mib(result['abuse']['peak_rss_kib']):.1f} MiB"
    )
    print()

    def row(label: str, get: Callable[[dict[str, Any]], float], digits: int = 1) -> list[Any]:
        b, a, i = get(base), get(after), get(idle_)
        fmt = f"{{:.{digits}f}}"
        return [label, fmt.format(b), fmt.format(a), fmt.format(i), f"{i / b:.3f}" if b else "-"]

    rows = [
        row("server RSS (MiB)", lambda m: mib(m["server_rss_kib"])),
        row("Redis used_memory (MiB)", lambda m: m["redis"]["used_memory"] / 2**20, 3),
        row("Redis used_memory_rss (MiB)", lambda m: m["redis"]["used_memory_rss"] / 2**20),
        row(
            "  Redis used_memory outside rooms (MiB)",
            lambda m: m["redis"]["used_memory_outside_rooms"] / 2**20,
            3,
        ),
        row("  server RssAnon (MiB)", lambda m: mib(m["server_rss_anon_kib"])),
        row("  Python allocated blocks", lambda m: m["python"].get("allocated_blocks", 0), 0),
        row("  Python gc-tracked objects", lambda m: m["python"].get("gc_objects", 0), 0),
        row("  full collections so far", lambda m: m["python"]["gc_collections"][2], 0),
        row(
            "  pymalloc arenas (1 MiB each)",
            lambda m: m["python"].get("pymalloc", {}).get("arenas_allocated_current", 0),
            0,
        ),
        row(
            "  pymalloc bytes in blocks (MiB)",
            lambda m: m["python"].get("pymalloc", {}).get("bytes_in_allocated_blocks", 0) / 2**20,
        ),
        row(
            "  brk heap resident (MiB)",
            lambda m: m["python"].get("smaps", {}).get("heap_rss_kib", 0) / 1024,
        ),
        row(
            "  glibc malloc in use (MiB)",
            lambda m: m["python"].get("glibc", {}).get("in_use_bytes", 0) / 2**20,
        ),
        row("  QR codes cached", lambda m: m["python"].get("qr_cache_entries", -1), 0),
        row("  packs cached", lambda m: m["python"].get("pack_cache_entries", -1), 0),
        row("  Redis pool connections", lambda m: m["python"].get("redis_pool_connections", -1), 0),
        row("  server open files", lambda m: m["server_fds"], 0),
        row("  WebSocket connections", lambda m: m["connections"], 0),
        row("  Redis dataset (KiB)", lambda m: m["redis"]["used_memory_dataset"] / 1024),
        row("  Redis clients' memory (KiB)", lambda m: m["redis"]["mem_clients_normal"] / 1024),
        row("  Redis clients", lambda m: m["redis"]["connected_clients"], 0),
        row("  Redis keys", lambda m: sum(k["count"] for k in m["redis"]["keys"].values()), 0),
        row("  pack workers' RSS (MiB)", lambda m: mib(m["pack_workers_rss_kib"])),
    ]
    print(table(["", "baseline", "after", "after idle", "idle / baseline"], rows))
    print()
    print("Redis keys (count, bytes by MEMORY USAGE): baseline -> after idle")
    kinds = sorted(set(base["redis"]["keys"]) | set(idle_["redis"]["keys"]))
    for kind in kinds:
        b = base["redis"]["keys"].get(kind, {"count": 0, "bytes": 0})
        i = idle_["redis"]["keys"].get(kind, {"count": 0, "bytes": 0})
        print(
            f"  {kind:<16} {b['count']:>4} keys {b['bytes']:>8} B -> {i['count']:>4} keys {i['bytes']:>8} B"
        )
    diag = result["diagnostic"]
    gc_, trim = diag["after_gc_collect"], diag["after_malloc_trim"]
    base_rss = base["server_rss_kib"]
    print()
    print("Diagnostics, after the verdict's figure (the server is asked through soak_serve.py):")
    print(
        f"  gc.collect(): found {gc_['python'].get('collected')} unreachable objects; RSS "
        f"{mib(gc_['server_rss_kib']):.1f} MiB ({gc_['server_rss_kib'] / base_rss:.3f} of the "
        f"baseline), {gc_['python'].get('allocated_blocks')} allocated blocks, "
        f"{gc_['python'].get('gc_objects')} objects"
    )
    print(
        f"  then malloc_trim(0): RSS {mib(trim['server_rss_kib']):.1f} MiB "
        f"({trim['server_rss_kib'] / base_rss:.3f} of the baseline)"
    )
    print()
    for line in result["verdict"]["lines"]:
        print(line)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of abuse (120)")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds idle after it (60)")
    parser.add_argument(
        "--kinds",
        default=",".join(KINDS),
        help=f"kinds of abuse, comma-separated (default all: {','.join(KINDS)})",
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment of the server (e.g. PYTHONMALLOC=malloc, MALLOC_ARENA_MAX=2)",
    )
    parser.add_argument(
        "--ritrovo-rev",
        help="test the server and client of this git revision (e.g. HEAD), not the working tree",
    )
    parser.add_argument(
        "--dump-at",
        type=float,
        help="a diagnostic: this many seconds into the abuse, save what the server holds"
        " (abuse.mid_abuse; the dump stops the server for a moment)",
    )
    parser.add_argument("--save", default="soak", help="results file in bench/results/ (soak)")
    args = parser.parse_args()
    args.kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = set(args.kinds) - set(KINDS)
    if unknown:
        parser.error(f"unknown kinds: {sorted(unknown)}")
    under_test = run_from_revision(args.ritrovo_rev)
    pin_self()
    stop_on_sigterm()
    limit = raise_file_limit()
    info = {**machine_info(), "open_files_limit": limit, "under_test": under_test}
    server_env = dict(item.split("=", 1) for item in args.server_env)
    import redis

    for address in ADDRESSES.values():  # every loopback address must be usable as a source
        with socket.socket() as s:
            s.bind((address, 0))

    print(f"soak: {under_test}; {args.duration:.0f} s of abuse, {args.idle:.0f} s idle", flush=True)
    bench_redis = BenchRedis().start()
    server = SoakServer(bench_redis.url, server_env)
    redis_client = redis.Redis.from_url(bench_redis.url)
    legit: Room | None = None
    try:
        server.start()
        print("  warm-up: a host and 4 players play two riddles", flush=True)
        legit = await open_room(
            server.base_url, server.ws_url, "Soak warm-up", ["Ada", "Ben", "Cleo", "Dev"]
        )
        for index in range(2):
            await play_riddle(legit, index)
            with contextlib.suppress(Exception):
                await legit.host.request("reveal", timeout=10)
        await wait_idle(server, timeout=60)
        baseline = measure(server, redis_client, "baseline")
        print(
            f"  baseline: RSS {mib(baseline['server_rss_kib']):.1f} MiB, Redis used_memory "
            f"{baseline['redis']['used_memory'] / 2**20:.3f} MiB",
            flush=True,
        )
        print(f"  abuse: {', '.join(args.kinds)} for {args.duration:.0f} s", flush=True)
        abuse_result = await abuse(server, legit, args)
        await wait_idle(server, timeout=60)
        after = measure(server, redis_client, "after")
        print(
            f"  after: RSS {mib(after['server_rss_kib']):.1f} MiB, Redis used_memory "
            f"{after['redis']['used_memory'] / 2**20:.3f} MiB; idle {args.idle:.0f} s",
            flush=True,
        )
        await asyncio.sleep(args.idle)  # the idle minute is what is measured
        after_idle = measure(server, redis_client, "after idle")
        # Diagnostics, after the verdict's figure: what a full collection frees,
        # then what glibc gives back.
        collected = server.python_objects("collect")
        rss_collected = server.rss_kib()
        trimmed = server.python_objects("trim")
        diagnostic = {
            "after_gc_collect": {"server_rss_kib": rss_collected, "python": collected},
            "after_malloc_trim": {"server_rss_kib": server.rss_kib(), "python": trimmed},
        }
    finally:
        if legit is not None:
            for client in [legit.host, *legit.players]:
                with contextlib.suppress(Exception):
                    await client.close()
        server.stop()
        redis_client.close()
        bench_redis.stop()

    rss_ratio = after_idle["server_rss_kib"] / baseline["server_rss_kib"]
    redis_ratio = after_idle["redis"]["used_memory"] / baseline["redis"]["used_memory"]
    outside_ratio = (
        after_idle["redis"]["used_memory_outside_rooms"]
        / baseline["redis"]["used_memory_outside_rooms"]
    )
    ok = rss_ratio <= LIMIT and redis_ratio <= LIMIT
    lines = [
        (
            f"  [{'PASS' if rss_ratio <= LIMIT else 'MISS'}] server RSS after {args.idle:.0f} s"
            f" idle: {rss_ratio:.3f} of the baseline (<= {LIMIT:.2f})"
        ),
        (
            f"  [{'PASS' if redis_ratio <= LIMIT else 'MISS'}] Redis used_memory after"
            f" {args.idle:.0f} s idle: {redis_ratio:.3f} of the baseline (<= {LIMIT:.2f})"
        ),
        (
            f"  (not the verdict) Redis used_memory outside the rooms' keys: {outside_ratio:.3f}"
            " of the baseline; the rooms' keys live as long as their rooms"
        ),
    ]
    result = {
        "machine": info,
        "args": {**vars(args), "command": " ".join([".venv/bin/python", *sys.argv])},
        "server_env": {**SOAK_ENV, **server_env},
        "measurements": {"baseline": baseline, "after": after, "after_idle": after_idle},
        "abuse": abuse_result,
        "diagnostic": diagnostic,
        "verdict": {
            "pass": ok,
            "server_rss_ratio": rss_ratio,
            "redis_used_memory_ratio": redis_ratio,
            "redis_outside_rooms_ratio": outside_ratio,
            "lines": lines,
        },
    }
    path = save(args.save, result)
    print_report(result)
    print(f"\nsaved {path.relative_to(REPO)}")


if __name__ == "__main__":
    asyncio.run(main())
