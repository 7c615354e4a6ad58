"""Ritrovo servers for tests: in this event loop on port 0, or as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self

from aiohttp import web
from ritrovo.app import SERVICE, create_app
from ritrovo.config import Settings
from ritrovo.edge.tcp import GuardedRunner
from ritrovo.store.base import RoomStore

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningServer:
    app: web.Application
    base_url: str
    ws_url: str

    async def circles_recorded(self) -> None:
        """Wait until the sessions being recorded in their circles (in the background,
        after the commands' answers) are."""
        circles = self.app[SERVICE].circles
        if circles is not None:
            await circles.settled()


def test_settings(**overrides: Any) -> Settings:
    """Fast timers and generous limits unless a test says otherwise."""
    base = Settings(
        flush_interval=0.02,
        timer_poll_interval=0.02,
        join_attempts_per_minute=1000,
        rooms_per_address_per_hour=1000,
        uploads_per_room=1000,
        uploads_per_address_per_hour=1000,
    )
    return replace(base, **overrides)


@asynccontextmanager
async def running_server(
    settings: Settings | None = None, *, store: RoomStore | None = None, clock: Any = None
) -> AsyncIterator[RunningServer]:
    # Built in a worker thread: a test runs several apps in this one event loop,
    # and building one parses the pack library, which on a loaded machine blocks
    # the loop long enough for a running app's store health check to time out
    # (a false outage). A real process builds its app before it serves anything.
    app = await asyncio.to_thread(create_app, settings or test_settings(), store=store, clock=clock)
    # As `ritrovo serve` runs it: with the address cap, read deadlines and Host check.
    runner = GuardedRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield RunningServer(app, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws")
    finally:
        await runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """``ritrovo serve`` as a real child process (for restart and multi-process tests)."""

    def __init__(self, redis_url: str | None, port: int | None = None, **env: str) -> None:
        self.port = port or free_port()
        self.redis_url = redis_url
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.mkdtemp(prefix="ritrovo-serve-")) / "serve.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def launch(self) -> ServeProcess:
        """Start the process without waiting for it (see ``wait_healthy``)."""
        env = {
            **os.environ,
            "RITROVO_FLUSH_INTERVAL": "0.02",
            "RITROVO_ROOMS_PER_ADDRESS_PER_HOUR": "1000",
            "RITROVO_UPLOADS_PER_ROOM": "1000",
            "RITROVO_UPLOADS_PER_ADDRESS_PER_HOUR": "1000",
            "RITROVO_TIMER_POLL_INTERVAL": "0.05",
            "RITROVO_STORE_CHECK_INTERVAL": "0.2",
            **self.env,
        }
        args = [
            sys.executable,
            "-m",
            "ritrovo",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        if self.redis_url:
            args += ["--redis-url", self.redis_url]
        # A file, not a pipe: a full pipe would block the server.  The child has
        # its own copy of the descriptor, so ours can be closed at once.
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
        return self

    def wait_healthy(self, timeout: float = 15.0) -> ServeProcess:
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # start-up wait, bounded
            if self.proc.poll() is not None:
                raise RuntimeError(f"ritrovo serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("ritrovo serve did not become healthy")

    def start(self, timeout: float = 15.0) -> ServeProcess:
        return self.launch().wait_healthy(timeout)

    def health(self) -> tuple[int, dict[str, Any]]:
        """(status, body) of GET /healthz; (0, {}) when the process does not answer."""
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")
        except OSError:
            return 0, {}

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self) -> None:
        """Send SIGTERM and return at once (a graceful shutdown starts)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout: float) -> int:
        """The exit status, waiting at most ``timeout`` seconds (raises TimeoutExpired)."""
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_lines(self) -> list[str]:
        return self.log_path.read_text(errors="replace").splitlines()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def crash_and_restart(first: ServeProcess, clients: list[Any]) -> ServeProcess:
    """Kill ``first`` (no shutdown, no goodbye to its clients), see ``clients`` lose it, and
    start a new process on the same port and store: the restart tests' crash."""
    await asyncio.to_thread(first.kill)
    for client in clients:
        await asyncio.wait_for(client.closed, 5)
    clients.clear()
    second = ServeProcess(first.redis_url, port=first.port)
    await asyncio.to_thread(second.start)
    return second
