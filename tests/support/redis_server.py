"""A throw-away ``redis-server`` process for tests.

``RedisServer`` runs the real ``redis-server`` binary on a free loopback port in
a temporary directory, with AOF persistence (``appendonly yes``,
``appendfsync always``) and no RDB snapshots, so a test can ``kill()`` it
(SIGKILL, a crash) and ``start()`` it again on the same port and directory and
find every acknowledged write still there.

Safety: it only ever talks to a server it started itself.  It refuses port
6379, binds 127.0.0.1 only, and before sending anything it waits for its own
process to log that it is listening (a port can have only one listener), then
checks that the server answering reports the pid of the process it spawned.

    with RedisServer() as server:
        client = redis.asyncio.Redis.from_url(server.url)
        ...
        server.kill()
        server.start()          # same port, same dir: AOF data kept

Starting is blocking (it polls for readiness, ~10 s deadline).  In an async
test where other tasks must keep running meanwhile, use
``await server.start_async()`` (the same thing in a worker thread).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

__all__ = [
    "RedisReplyError",
    "RedisServer",
    "RedisServerError",
    "RedisServerNotInstalled",
    "find_redis_server",
]

HOST = "127.0.0.1"
DEFAULT_REDIS_PORT = 6379  # never used: that is a system/someone else's Redis
_READY_MARKER = "Ready to accept connections"
_BIND_FAILURE_MARKERS = ("Address already in use", "Could not create server TCP listening socket")
_INSTALL_HINT = (
    "redis-server is not installed. Run `make test` (it runs `scripts/setup.sh --test`, "
    "which installs redis-server and chromium), or `apt-get install redis-server`."
)


class RedisServerError(RuntimeError):
    """The test redis-server could not be started or stopped."""


class RedisServerNotInstalled(RedisServerError):
    """No ``redis-server`` binary on this machine."""


class RedisReplyError(RedisServerError):
    """The server answered a command with a RESP error (``-ERR ...``)."""


class _BindFailed(RedisServerError):
    pass


def find_redis_server() -> str:
    """Path of the ``redis-server`` binary (``$RITROVO_REDIS_SERVER`` overrides)."""
    override = os.environ.get("RITROVO_REDIS_SERVER")
    if override:
        if os.access(override, os.X_OK):
            return override
        raise RedisServerNotInstalled(
            f"RITROVO_REDIS_SERVER={override!r} is not an executable file. {_INSTALL_HINT}"
        )
    found = shutil.which("redis-server")
    if found:
        return found
    for candidate in (
        "/usr/bin/redis-server",
        "/usr/sbin/redis-server",
        "/usr/local/bin/redis-server",
    ):
        if os.access(candidate, os.X_OK):
            return candidate
    raise RedisServerNotInstalled(_INSTALL_HINT)


def _free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (bound to 0, then closed)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port: int = sock.getsockname()[1]
        if port != DEFAULT_REDIS_PORT:
            return port


# --- a minimal RESP client (no dependency, used only on our own server) -------


def _encode(args: tuple[object, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_reply(stream: BinaryIO) -> object:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("connection closed by redis-server")
    kind, body = line[:1], line[1:-2]
    if kind == b"+":
        return body.decode()
    if kind == b"-":
        raise RedisReplyError(body.decode())
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        if size < 0:
            return None
        data = stream.read(size + 2)
        if len(data) != size + 2:
            raise ConnectionError("connection closed by redis-server")
        return data[:-2].decode()
    if kind == b"*":
        count = int(body)
        return None if count < 0 else [_read_reply(stream) for _ in range(count)]
    raise RedisServerError(f"unexpected reply from redis-server: {line!r}")


def _kill_quietly(proc: subprocess.Popen[bytes]) -> None:
    """Finalizer: never leave a redis-server behind when the test process exits."""
    if proc.poll() is None:
        try:
            proc.kill()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass


class RedisServer:
    """A ``redis-server`` child process on ``127.0.0.1:<free port>``.

    ``port``: fixed port to use (default: a free one, chosen at the first
    ``start()`` and kept for every later ``start()``).  ``directory``: where the
    config, log and AOF live (default: a new temporary directory, removed by
    ``close()``).
    """

    host = HOST

    def __init__(
        self,
        *,
        port: int | None = None,
        directory: str | os.PathLike[str] | None = None,
        startup_timeout: float = 10.0,
        stop_timeout: float = 10.0,
        bind_retries: int = 5,
        binary: str | None = None,
    ) -> None:
        if port == DEFAULT_REDIS_PORT:
            raise ValueError("refusing port 6379: tests never touch a Redis they did not start")
        self._port: int | None = port
        self._fixed_port = port is not None
        self._dir: Path | None = Path(directory) if directory is not None else None
        self._owns_dir = directory is None
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._bind_retries = max(1, bind_retries)
        self._binary = binary
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[..., RedisServer] | None = None

    # --- addresses --------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RedisServerError("RedisServer has not been started yet: no port chosen")
        return self._port

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return self.url_for(0)

    def url_for(self, db: int) -> str:
        """URL of logical database ``db`` (0-15) on this server."""
        if not 0 <= db <= 15:
            raise ValueError(f"db index out of range: {db}")
        return f"redis://{HOST}:{self.port}/{db}"

    @property
    def directory(self) -> Path:
        if self._dir is None:
            raise RedisServerError("RedisServer has not been started yet: no directory")
        return self._dir

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # --- lifecycle ----------------------------------------------------------

    def start(self) -> RedisServer:
        """Start (or restart after stop/kill) and wait until it answers PING."""
        if self.is_running:
            return self
        self._reap()
        binary = self._binary or find_redis_server()
        if not os.access(binary, os.X_OK):
            raise RedisServerNotInstalled(f"{binary} is not an executable file. {_INSTALL_HINT}")
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="ritrovo-redis-"))
        self._dir.mkdir(parents=True, exist_ok=True)

        attempts = 1 if self._port is not None else self._bind_retries
        last_error: RedisServerError | None = None
        for _ in range(attempts):
            port = self._port if self._port is not None else _free_port()
            try:
                self._launch(binary, port)
            except _BindFailed as exc:
                last_error = exc
                continue
            self._port = port
            return self
        why = "it was taken" if self._port is not None else f"{attempts} free ports were taken"
        raise RedisServerError(f"redis-server could not bind ({why}):\n{last_error}")

    async def start_async(self) -> RedisServer:
        """``start()`` in a worker thread, so the event loop keeps running."""
        return await asyncio.to_thread(self.start)

    def stop(self) -> None:
        """Graceful shutdown: SIGTERM, wait, SIGKILL if it does not exit.

        The directory (and its AOF) is kept, so ``start()`` brings the data back.
        """
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=self._stop_timeout)
        self._reap()

    def kill(self) -> None:
        """Crash it: SIGKILL with no shutdown (for outage tests)."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=self._stop_timeout)
        self._reap()

    def restart(self) -> RedisServer:
        """``stop()`` then ``start()`` on the same port and directory."""
        self.stop()
        return self.start()

    def close(self) -> None:
        """``stop()`` and delete the temporary directory if this object made it."""
        self.stop()
        if self._owns_dir and self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.is_running else "stopped"
        return f"<RedisServer {HOST}:{self._port} {state} dir={self._dir}>"

    # --- talking to it ------------------------------------------------------

    def command(self, *args: object, db: int = 0, timeout: float = 5.0) -> object:
        """Run one command on our own server (``SELECT db`` first if db != 0)."""
        if not self.is_running:
            raise RedisServerError("redis-server is not running")
        commands: list[tuple[object, ...]] = []
        if db:
            commands.append(("SELECT", db))
        commands.append(args)
        replies = self._roundtrip(self.port, commands, timeout)
        return replies[-1]

    def ping(self) -> bool:
        try:
            return self.command("PING", timeout=1.0) == "PONG"
        except (OSError, RedisServerError):
            return False

    def flushdb(self, db: int) -> None:
        self.command("FLUSHDB", db=db)

    # --- internals ----------------------------------------------------------

    @staticmethod
    def _roundtrip(port: int, commands: list[tuple[object, ...]], timeout: float) -> list[object]:
        with socket.create_connection((HOST, port), timeout=timeout) as sock:
            sock.sendall(b"".join(_encode(c) for c in commands))
            with sock.makefile("rb") as stream:
                return [_read_reply(stream) for _ in commands]

    def _write_config(self, port: int) -> Path:
        directory = self.directory.resolve()
        conf = directory / "redis.conf"
        conf.write_text(
            "\n".join(
                [
                    f"bind {HOST}",
                    f"port {port}",
                    "protected-mode yes",
                    "daemonize no",
                    "supervised no",
                    f'dir "{directory}"',
                    f'logfile "{directory / "redis.log"}"',
                    "loglevel notice",
                    "databases 16",
                    "appendonly yes",
                    "appendfsync always",
                    'save ""',
                    "",
                ]
            )
        )
        return conf

    def _launch(self, binary: str, port: int) -> None:
        conf = self._write_config(port)
        log = self.log_path
        log_offset = log.stat().st_size if log.exists() else 0
        out_path = self.directory / "redis.stdout"
        out_offset = out_path.stat().st_size if out_path.exists() else 0
        with open(out_path, "ab") as out:
            proc = subprocess.Popen(
                [binary, str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
                start_new_session=True,  # a Ctrl-C at the terminal is ours to handle
            )
        self._proc = proc
        self._finalizer = weakref.finalize(self, _kill_quietly, proc)

        def output() -> str:
            text = _read_from(log, log_offset) + _read_from(out_path, out_offset)
            return text.strip() or "(no output)"

        deadline = time.monotonic() + self._startup_timeout
        try:
            # 1. Our own process says it is listening: the port is ours.
            while _READY_MARKER not in _read_from(log, log_offset):
                if proc.poll() is not None:
                    text = output()
                    if any(marker in text for marker in _BIND_FAILURE_MARKERS):
                        raise _BindFailed(f"port {port}: {text}")
                    raise RedisServerError(
                        f"redis-server exited with status {proc.returncode} on port {port}:\n{text}"
                    )
                if time.monotonic() > deadline:
                    raise RedisServerError(
                        f"redis-server did not start within {self._startup_timeout:.0f}s "
                        f"on port {port}:\n{output()}"
                    )
                time.sleep(0.02)
            # 2. It answers PING (not -LOADING) and it is the process we spawned.
            while True:
                if proc.poll() is not None:
                    raise RedisServerError(
                        f"redis-server exited with status {proc.returncode}:\n{output()}"
                    )
                try:
                    if self._roundtrip(port, [("PING",)], 1.0) == ["PONG"]:
                        break
                except (OSError, RedisReplyError):
                    pass
                if time.monotonic() > deadline:
                    raise RedisServerError(
                        f"redis-server on port {port} did not answer PING within "
                        f"{self._startup_timeout:.0f}s:\n{output()}"
                    )
                time.sleep(0.02)
            info = self._roundtrip(port, [("INFO", "server")], 5.0)[0]
            match = re.search(r"^process_id:(\d+)", str(info), re.MULTILINE)
            if match is None or int(match.group(1)) != proc.pid:
                raise RedisServerError(
                    f"port {port} is answered by a Redis that is not ours (pid "
                    f"{match.group(1) if match else '?'}, ours {proc.pid})"
                )
        except BaseException:
            self.kill()
            raise

    def _reap(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if self._proc is not None:
            _kill_quietly(self._proc)
            self._proc = None


def _read_from(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except FileNotFoundError:
        return ""
