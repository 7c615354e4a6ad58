"""Settings, from command-line flags and ``RITROVO_*`` environment variables.

Flags win over the environment, which wins over the defaults. Every setting
is listed in the README's configuration table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .game.models import DEFAULT_MAX_PLAYERS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MAX_PACK_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    redis_url: str | None = None  # None: the embedded in-memory store (not durable)
    # Connections to Redis per process, and how long a command may wait for a
    # free one when all are busy (a burst of openings) before it is refused.
    redis_pool_size: int = 64
    redis_pool_wait: float = 2.0
    public_url: str | None = (
        None  # base of join links when behind a proxy; default: the request's host
    )
    room_ttl: int = 24 * 3600  # seconds a room lives without activity
    unused_room_ttl: int = 3600  # seconds a new room lives if nothing is ever done in it
    rooms_per_address_per_hour: int = 10  # rooms one client address may create per hour
    # Circles (game/circles.py): seconds a circle lives without use (180 days),
    # sessions it remembers, members it may have.
    circle_ttl: int = 180 * 24 * 3600
    circle_sessions: int = 10
    circle_max_members: int = 500
    max_circles: int = 10000  # circles per server (per Redis when shared)
    max_frame_bytes: int = 16 * 1024
    max_rooms: int = 1000
    max_players_per_room: int = DEFAULT_MAX_PLAYERS
    messages_per_second: float = 20.0  # per connection, sustained
    message_burst: int = 40  # per connection, short bursts
    abuse_strikes: int = 50  # rate-limited messages within 10 s before the connection is closed
    join_attempts_per_minute: int = 30  # per client address: room codes cannot be brute-forced
    send_queue_frames: int = 256  # per connection; a client that falls this far behind is dropped
    # Compress the room's updates (permessage-deflate, each compressed once for
    # every connection that gets it) for clients that offer it.
    ws_deflate: bool = True
    flush_interval: float = 0.1  # seconds: a burst of changes becomes one update per interval
    timer_poll_interval: float = 0.1  # seconds between checks for due deadlines
    hello_timeout: float = 10.0  # seconds a new connection has to say who it is
    max_pack_bytes: int = DEFAULT_MAX_PACK_BYTES  # largest pack file, uploaded or in packs_dir
    # Uploaded packs are read in worker processes (packs/worker.py): seconds one
    # may take before its worker is stopped and it is refused (pack_too_complex),
    # workers per server process, and uploads that may wait for one (then busy).
    pack_parse_seconds: float = 5.0
    pack_parse_workers: int = 1
    pack_parse_queue: int = 16
    uploads_per_room: int = 10  # pack uploads to one room per 10 minutes
    uploads_per_address_per_hour: int = 20  # pack uploads from one client address per hour
    # The pack editor's checks (validate as they type, try an answer) per client
    # address per minute: each costs a worker's time, as an upload does.
    pack_checks_per_address_per_minute: int = 120
    # Live WebSocket connections per client address, in each process. Generous:
    # a whole office may share one public address behind its NAT.
    max_connections_per_address: int = 256
    # Every TCP connection per client address, in each process (plain HTTP,
    # keep-alive, sockets that never send a byte, WebSockets): over it a new
    # connection is closed at once. Above the WebSocket limit: each phone
    # holds a WebSocket and, after loading the page, keep-alive connections.
    # Not applied behind trusted proxies (all connections come from the proxy).
    max_tcp_connections_per_address: int = 1024
    header_timeout: float = 10.0  # seconds a connection has to send a complete request head
    body_timeout: float = 30.0  # seconds a request body has to arrive in full (else 408)
    keepalive_timeout: float = 75.0  # seconds an idle keep-alive HTTP connection is kept
    # Comma-separated host names the server answers to (the request's Host),
    # besides IP literals, ``localhost`` and public_url's host; ``*``: any.
    # Anything else gets 421 host_not_allowed: DNS rebinding fails.
    allowed_hosts: str | None = None
    # Comma-separated origins (``https://game.example.com``) whose pages may open
    # a WebSocket; ``*`` allows any. Default: the server's own origin (the
    # request's Host, or public_url). A missing Origin (bots, CLI) is allowed.
    allowed_origins: str | None = None
    # Proxies in front of the server that append to X-Forwarded-For (nginx:
    # 1). The client address used for per-address limits is the entry that the
    # outermost trusted proxy added; 0 uses the socket's peer address.
    trusted_proxies: int = 0
    timer_lease_ttl: float = 2.0  # seconds; a dead holder's deadlines fire at most 4/3 of this late
    # Seconds a hot room stays owned by one process after its owner's last
    # commit: the other processes send it the room's commands instead of racing
    # it (docs/architecture.md, "A hot room on several processes"). 0: no owners.
    room_owner_lease: float = 2.0
    # Seconds between full garbage collections of ``ritrovo serve``, each at a
    # moment with no command for 2 s (server/garbage.py); 0: Python's own only.
    gc_interval: float = 60.0
    # Bytes of kernel send buffer per connection (Linux doubles it); 0: the
    # system's own, which grows to megabytes for a client that never reads.
    socket_send_buffer: int = 256 * 1024
    store_check_interval: float = 1.0  # seconds between store health checks (outage notices)
    shutdown_timeout: float = 5.0  # seconds SIGTERM waits for connections to close
    packs_dir: Path = field(default=ROOT / "puzzles")
    web_dir: Path = field(default=ROOT / "web")
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``RITROVO_<NAME>`` variables, then non-None ``overrides``."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get("RITROVO_" + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


def _convert(name: str, raw: str) -> Any:
    default = getattr(Settings(), name)
    try:
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(raw)
    except ValueError:
        raise SystemExit(
            f"RITROVO_{name.upper()}: cannot read {raw!r} as {type(default).__name__}"
        ) from None
    return raw
