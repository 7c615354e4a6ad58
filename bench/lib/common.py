"""Shared plumbing of the load scenarios: servers, Redis, load workers, figures.

Every scenario starts its own server as a child process pinned to core 0
(``taskset -c 0``; S1 ``--processes N``: N of them, ``RitrovoServers``), a private ``redis-server`` when asked (free loopback port,
temporary directory, never 6379), and load workers pinned to core 1, and stops
them all when it ends. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import datetime as _dt
import itertools
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
PY = sys.executable
SERVER_CORE = 0
LOAD_CORE = 1
CLK_TCK = os.sysconf("SC_CLK_TCK")

sys.path.insert(0, str(REPO / "tests"))  # support.redis_server: the tests' safe redis launcher


# -- the machine -------------------------------------------------------------


def taskset(core: int) -> list[str]:
    """The ``taskset -c CORE`` prefix (empty when the machine has one core or no taskset)."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(core)]


def pin_self(core: int = LOAD_CORE) -> None:
    with contextlib.suppress(OSError, AttributeError):
        if (os.cpu_count() or 1) > core:
            os.sched_setaffinity(0, {core})


def raise_file_limit() -> int:
    """Soft limit of open files up to the hard limit (children inherit it); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def machine_info() -> dict[str, Any]:
    mem_kib = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": _dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": model,
        "python": platform.python_version(),
        "load_before": os.getloadavg()[0],
    }


def _die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM if the scenario script dies (no orphans)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_on_sigterm() -> None:
    """SIGTERM behaves like Ctrl-C, so every ``finally`` stops the servers it started."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def set_nice(pids: list[int], value: int) -> None:
    """Scheduling priority of every thread of these processes (Linux nice is per thread).

    The scenarios raise their own processes' priority (root only) just for the
    few seconds they measure, so other work on a shared machine disturbs the
    figures less, and put it back right after.

    With the kernel's autogroups on (``/proc/sys/kernel/sched_autogroup_enabled``,
    the default on desktop and many VM kernels), a thread's nice only ranks it
    within its session's group, and every session's group gets an equal share
    of a core: a busy loop started from another shell takes as much CPU as the
    server at nice -20. So the group's own nice (``/proc/PID/autogroup``) is set
    too; the scenario's processes share one session (children are started
    without a new one), so this only reaches them.
    """
    global _autogroup_reset_registered
    for pid in pids:
        with contextlib.suppress(OSError):
            for tid in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(OSError):
                    os.setpriority(os.PRIO_PROCESS, int(tid), value)
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/autogroup").write_text(str(value))
    if value and not _autogroup_reset_registered:
        atexit.register(_reset_autogroup)  # even if the scenario dies while measuring
        _autogroup_reset_registered = True


_autogroup_reset_registered = False


def _reset_autogroup() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text("0")


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port != 6379:
            return port


def run_from_revision(rev: str | None) -> str:
    """Make this script and every child import ``ritrovo`` as of git revision ``rev``.

    Other engineers edit ``server/`` in the working tree while the scenarios
    run; a "before" figure must come from one committed revision, server and
    client alike. The revision's ``server/``, ``web/`` and ``puzzles/`` are
    extracted once to ``$TMPDIR/ritrovo-bench-<commit>/`` (``server/`` as
    ``ritrovo/``) and the script re-executes itself with that directory first
    on ``PYTHONPATH`` (it wins over the editable install's finder, which comes
    last on ``sys.meta_path``); servers and load workers inherit it. Returns
    what is under test: ``<commit>`` or ``working tree`` (plus ``, modified:
    <files>`` when ``server/`` has uncommitted changes).
    """
    if not rev:
        head = _git("rev-parse", "--short=12", "HEAD")
        dirty = _git("status", "--porcelain", "--", "server", strip=False).splitlines()
        changed = ", ".join(line[3:] for line in dirty if line.strip())
        return f"working tree at {head}" + (f", modified: {changed}" if changed else "")
    if os.environ.get("RITROVO_BENCH_REV") == rev:
        return os.environ["RITROVO_BENCH_COMMIT"]
    commit = _git("rev-parse", "--verify", rev + "^{commit}")
    target = Path(tempfile.gettempdir()) / f"ritrovo-bench-{commit[:12]}"
    if not (target / "ritrovo" / "__init__.py").exists():
        staging = Path(tempfile.mkdtemp(prefix="ritrovo-bench-", dir=target.parent))
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit, "server", "web", "puzzles"],
            check=True, capture_output=True,
        ).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(staging)], input=archive, check=True)
        (staging / "server").rename(staging / "ritrovo")
        if not target.exists():
            staging.rename(target)
        else:
            shutil.rmtree(staging)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(target), os.environ.get("PYTHONPATH")) if p),
        "RITROVO_BENCH_REV": rev,
        "RITROVO_BENCH_COMMIT": commit,
    }
    os.execve(PY, [PY, *sys.argv], env)
    raise AssertionError("unreachable")


def _git(*args: str, strip: bool = True) -> str:
    out = subprocess.run(
        ["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True
    ).stdout
    return out.strip() if strip else out


# -- processes ---------------------------------------------------------------


class Proc:
    """A child process whose CPU time and memory we read from /proc."""

    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """utime + stime of the process so far (all threads)."""
        return sum(self.cpu_split())

    def cpu_split(self) -> tuple[float, float]:
        """(utime, stime) of the process so far (all threads): its own code, and the kernel's
        for it (on loopback, a send runs the receiver's TCP input too)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK

    def status_kib(self, key: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def rss_kib(self) -> int:
        return self.status_kib("VmRSS")

    def hwm_kib(self) -> int:
        return self.status_kib("VmHWM")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def log_tail(self, chars: int = 3000) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""

    def _wait_healthy(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # bounded start-up wait
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited during start-up:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"server did not become healthy:\n{self.log_tail()}")


def _log_file(name: str) -> Path:
    directory = RESULTS / "logs"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{name}.log"


# Limits raised for load tests (the defaults protect a real deployment).
LOAD_ENV = {
    "RITROVO_MAX_PLAYERS_PER_ROOM": "5000",
    "RITROVO_JOIN_ATTEMPTS_PER_MINUTE": "100000000",
    "RITROVO_ROOMS_PER_ADDRESS_PER_HOUR": "100000000",
    "RITROVO_UPLOADS_PER_ROOM": "100000000",
    "RITROVO_UPLOADS_PER_ADDRESS_PER_HOUR": "100000000",
    "RITROVO_MAX_ROOMS": "100000",
    "RITROVO_MESSAGES_PER_SECOND": "1000",
    "RITROVO_MESSAGE_BURST": "1000",
    "RITROVO_HELLO_TIMEOUT": "600",
    "RITROVO_MAX_CONNECTIONS_PER_ADDRESS": "1000000",
    "RITROVO_MAX_TCP_CONNECTIONS_PER_ADDRESS": "1000000",
    "RITROVO_LOG_LEVEL": "WARNING",
}


class RitrovoServer(Proc):
    """``python -m ritrovo serve`` pinned to the server core."""

    def __init__(
        self,
        redis_url: str | None = None,
        name: str = "ritrovo",
        patches: str = "",
        core: int = SERVER_CORE,
        **env: str,
    ) -> None:
        self.port = free_port()
        self.core = core
        self.redis_url = redis_url
        self.env = {**LOAD_ENV, **env}
        self.name = name
        self.patches = patches  # experiments: see bench/lib/patched_serve.py

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> RitrovoServer:
        entry = [str(BENCH / "lib" / "patched_serve.py")] if self.patches else ["-m", "ritrovo"]
        if self.patches:
            self.env["RITROVO_BENCH_PATCHES"] = self.patches
        args = [
            *taskset(self.core),
            PY,
            *entry,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        if self.redis_url:
            args += ["--redis-url", self.redis_url]
        self.log_path = _log_file(self.name)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                args,
                cwd=REPO,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=log,
                # Only a prctl() in the child, before exec: safe while threads run.
                preexec_fn=_die_with_parent,  # noqa: PLW1509
            )
        self._wait_healthy(self.base_url + "/healthz", 30)
        return self


class RitrovoServers:
    """``count`` Ritrovo server processes sharing one Redis, all on the server core.

    Issue 11's multi-process S1: each process is a ``RitrovoServer`` as above
    (its own port and log, ``<name>-p<i>.log``); a room lives in Redis, so any
    of them serves it. ``base_url``/``ws_url``/``pid`` are process 0's (where a
    scenario creates its room and connects its host and screen); CPU seconds
    and peak RSS are the sum over the processes. One process (``count`` 1) is
    the plain ``RitrovoServer``, with the same log name as before.
    """

    def __init__(
        self,
        count: int,
        redis_url: str | None = None,
        name: str = "ritrovo",
        patches: str = "",
        spread: bool = False,
        **env: str,
    ) -> None:
        if count < 1:
            raise ValueError("at least one server process")
        if count > 1 and not redis_url:
            raise ValueError("several server processes share their rooms through Redis only")
        # ``spread``: process i on core i mod (cores), as a deployment would
        # give each process a core; on a 2-core machine the second process
        # then shares the load core (whose own share is reported).
        cores = os.cpu_count() or 1
        self.servers = [
            RitrovoServer(
                redis_url,
                f"{name}-p{i}" if count > 1 else name,
                patches,
                core=(SERVER_CORE + i) % cores if spread else SERVER_CORE,
                **env,
            )
            for i in range(count)
        ]

    def start(self) -> RitrovoServers:
        try:
            for server in self.servers:
                server.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __len__(self) -> int:
        return len(self.servers)

    @property
    def base_url(self) -> str:
        return self.servers[0].base_url

    @property
    def ws_url(self) -> str:
        return self.servers[0].ws_url

    @property
    def ws_urls(self) -> list[str]:
        return [s.ws_url for s in self.servers]

    @property
    def pid(self) -> int:
        return self.servers[0].pid

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.servers]

    def cpu_by_process(self) -> list[float]:
        return [s.cpu_seconds() for s in self.servers]

    def cpu_seconds(self) -> float:
        """utime + stime so far, summed over the processes."""
        return sum(self.cpu_by_process())

    def hwm_kib(self) -> int:
        """Peak RSS (VmHWM), summed over the processes."""
        return sum(s.hwm_kib() for s in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def store_calls(base_url: str) -> dict[str, int]:
    """Redis store calls so far by operation (commit, load, beat...), from one Ritrovo
    process's ``/metrics`` (the ``ritrovo_redis_roundtrip_seconds`` histogram's counts);
    {} when the page cannot be read."""
    calls: dict[str, int] = {}
    prefix = 'ritrovo_redis_roundtrip_seconds_count{operation="'
    try:
        with urllib.request.urlopen(base_url + "/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError:
        return calls
    for line in text.splitlines():
        if line.startswith(prefix):
            name, _, value = line[len(prefix) :].partition('"}')
            calls[name] = int(float(value))
    return calls


class ReferenceServer(Proc):
    """bench/reference_server.py pinned to the server core."""

    def __init__(self, mode: str, name: str | None = None, compress: bool = True) -> None:
        self.port = free_port()
        self.compress = compress
        self.mode = mode
        self.name = name or f"reference-{mode}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> ReferenceServer:
        args = [
            *taskset(SERVER_CORE),
            PY,
            str(BENCH / "reference_server.py"),
            "--port",
            str(self.port),
            "--mode",
            self.mode,
        ]
        if not self.compress:
            args.append("--no-compress")
        self.log_path = _log_file(self.name)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                args,
                cwd=REPO,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - a prctl() only, as above
            )
        self._wait_healthy(self.base_url + "/healthz", 30)
        return self


class BenchRedis:
    """A private redis-server (the tests' launcher: free port, temp dir, never 6379).

    Persistence as a production deployment would run it: AOF with
    ``appendfsync everysec`` (the tests use ``always``). Pinned to the server
    core: Redis is part of the server side of the measurement.
    """

    def __init__(self) -> None:
        from support.redis_server import RedisServer

        class _Server(RedisServer):
            def _write_config(self, port: int) -> Path:
                conf = super()._write_config(port)
                conf.write_text(
                    conf.read_text().replace("appendfsync always", "appendfsync everysec")
                )
                return conf

        self.server = _Server()

    def start(self) -> BenchRedis:
        self.server.start()
        with contextlib.suppress(OSError):
            if (os.cpu_count() or 1) > SERVER_CORE + 1:
                os.sched_setaffinity(self.server.pid or 0, {SERVER_CORE})
        return self

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def pid(self) -> int:
        return self.server.pid or 0

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def commandstats(self) -> dict[str, int]:
        """Calls per command, from Redis's own INFO commandstats."""
        text = str(self.server.command("INFO", "commandstats"))
        calls: dict[str, int] = {}
        for line in text.splitlines():
            if line.startswith("cmdstat_"):
                name, rest = line[len("cmdstat_") :].split(":", 1)
                fields = dict(kv.split("=", 1) for kv in rest.split(","))
                calls[name] = int(fields["calls"])
        return calls

    def stop(self) -> None:
        self.server.close()


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of process ``pid`` so far (all threads); 0.0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class LoadSampler:
    """CPU seconds of the load side, sampled every ``period`` seconds while measuring.

    The load side is the worker processes (the players) and this process (the
    coordinator, with its host and screen clients), all pinned to the load
    core, so CPU seconds per second is the share of that core they use.
    ``utilisation(a, b)`` is that share between two ``time.monotonic()``
    instants; ``peak(a, b)`` the highest over any ``window`` inside them.
    """

    def __init__(self, pids: list[int], period: float = 0.05) -> None:
        self.pids = pids
        self.period = period
        self.samples: list[tuple[float, float, float]] = []  # (time, workers, coordinator)
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        workers = sum(proc_cpu_seconds(pid) for pid in self.pids)
        self.samples.append((time.monotonic(), workers, usage.ru_utime + usage.ru_stime))

    def start(self) -> LoadSampler:
        async def run() -> None:
            while True:
                self.sample()
                await asyncio.sleep(self.period)

        self.sample()
        self._task = asyncio.get_running_loop().create_task(run())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()

    def _at(self, t: float) -> tuple[float, float]:
        """(workers, coordinator) CPU seconds at ``t``, linear between samples."""
        s = self.samples
        if t <= s[0][0]:
            return s[0][1], s[0][2]
        for (t1, w1, c1), (t2, w2, c2) in itertools.pairwise(s):
            if t1 <= t <= t2:
                k = (t - t1) / (t2 - t1) if t2 > t1 else 1.0
                return w1 + k * (w2 - w1), c1 + k * (c2 - c1)
        return s[-1][1], s[-1][2]

    def utilisation(self, a: float, b: float) -> dict[str, float]:
        """Share of one core used by the workers, the coordinator and both, from a to b."""
        if not self.samples or b <= a:
            return {"workers": math.nan, "coordinator": math.nan, "total": math.nan}
        (w1, c1), (w2, c2) = self._at(a), self._at(b)
        span = b - a
        return {
            "workers": (w2 - w1) / span,
            "coordinator": (c2 - c1) / span,
            "total": (w2 - w1 + c2 - c1) / span,
        }

    def peak(self, a: float, b: float, window: float = 1.0) -> float:
        """Highest share of the core (workers + coordinator) over any ``window`` within [a, b]."""
        best = math.nan
        t = a
        while t + window <= b + 1e-9:
            u = self.utilisation(t, t + window)["total"]
            best = u if math.isnan(best) else max(best, u)
            t += self.period
        return best if not math.isnan(best) else self.utilisation(a, b)["total"]


def stats_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        k: after.get(k, 0) - before.get(k, 0)
        for k in sorted(set(before) | set(after))
        if after.get(k, 0) != before.get(k, 0)
    }


async def wait_idle(
    proc: Proc | RitrovoServers,
    *,
    below: float = 0.05,
    window: float = 0.5,
    timeout: float = 120.0,
) -> float:
    """Wait until the process uses less than ``below`` CPU seconds per ``window`` (every
    process of a ``RitrovoServers``, each on its own); returns the wait."""
    procs: list[Any] = proc.servers if isinstance(proc, RitrovoServers) else [proc]
    start = time.monotonic()
    last = [p.cpu_seconds() for p in procs]
    while time.monotonic() - start < timeout:
        await asyncio.sleep(window)
        now = [p.cpu_seconds() for p in procs]
        if all(b - a < below * window / 0.5 for a, b in zip(last, now, strict=True)):
            break
        last = now
    return time.monotonic() - start


# -- load workers ------------------------------------------------------------


class Worker:
    """A load worker on the load core (``bench/lib/worker.py``, or ``bench/loadgen``'s
    ``ritrovo-loadgen``); JSON lines over stdin/stdout."""

    def __init__(self, proc: asyncio.subprocess.Process, index: int) -> None:
        self.proc = proc
        self.index = index

    @classmethod
    async def spawn(
        cls, index: int, job: dict[str, Any], program: list[str] | None = None
    ) -> Worker:
        """Start a worker: ``bench/lib/worker.py``, or ``program`` (the Rust worker, same protocol)."""
        program = program or [PY, str(BENCH / "lib" / "worker.py")]
        proc = await asyncio.create_subprocess_exec(
            *taskset(LOAD_CORE), *program,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=str(REPO),
            limit=2**26, preexec_fn=_die_with_parent,
        )  # fmt: skip
        worker = cls(proc, index)
        await worker.tell(job)
        return worker

    async def tell(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        await self.proc.stdin.drain()

    async def hear(self, event: str, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"worker {self.index}: no '{event}' within {timeout:.0f}s")
            line = await asyncio.wait_for(self.proc.stdout.readline(), left)
            if not line:
                raise RuntimeError(f"worker {self.index} exited (waiting for '{event}')")
            message: dict[str, Any] = json.loads(line)
            if message.get("event") == "error":
                raise RuntimeError(f"worker {self.index}: {message.get('error')}")
            if message.get("event") == event:
                return message

    async def stop(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.proc.wait(), 10)


async def hear_all(workers: list[Worker], event: str, timeout: float) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(w.hear(event, timeout) for w in workers)))


async def tell_all(workers: list[Worker], message: dict[str, Any]) -> None:
    await asyncio.gather(*(w.tell(message) for w in workers))


def split(items: list[Any], parts: int) -> list[list[Any]]:
    parts = max(1, min(parts, len(items) or 1))
    size = math.ceil(len(items) / parts)
    return [items[i : i + size] for i in range(0, len(items), size)]


# -- HTTP (room set-up on the Ritrovo server) ----------------------------------


async def create_room(
    base_url: str, name: str = "bench", pack: str | None = None
) -> dict[str, Any]:
    import aiohttp

    body: dict[str, Any] = {"name": name}
    if pack:
        body["pack"] = pack
    async with (
        aiohttp.ClientSession() as http,
        http.post(base_url + "/api/rooms", json=body) as r,
    ):
        if r.status != 201:
            raise RuntimeError(f"create room: {r.status} {await r.text()}")
        return dict(await r.json())


async def upload_pack(base_url: str, code: str, host_token: str, yaml_text: str) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/api/rooms/{code}/pack?filename=bench.yaml",
            data=yaml_text.encode(),
            headers={"X-Host-Token": host_token},
        ) as r,
    ):
        if r.status != 201:
            raise RuntimeError(f"upload pack: {r.status} {await r.text()}")


# -- figures -------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.{digits}f}"
    return str(value)


def ratio(value: float, reference: float) -> str:
    if not reference or math.isnan(value) or math.isnan(reference):
        return "-"
    return f"{value / reference:.1f}x"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.rjust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    return "\n".join([line, rule, *body])


def save(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def check(label: str, value: float, limit: float, unit: str = "", digits: int = 1) -> str:
    if math.isnan(value):
        return f"  [n/a ] {label}: not measured"
    ok = value <= limit
    times = f", {value / limit:.1f}x the target" if limit else ""
    miss = "" if ok else f"  (missed by {value - limit:.{digits}f}{unit}{times})"
    shown = f"{value:.{digits}f}"
    return f"  [{'PASS' if ok else 'MISS'}] {label}: {shown}{unit} <= {limit:g}{unit}{miss}"


class Profiler:
    """``py-spy record`` of a server process during a round (optional: pip install py-spy)."""

    def __init__(self, pid: int, name: str) -> None:
        self.pid = pid
        self.path = RESULTS / "profiles" / f"{name}.txt"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Profiler:
        spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
        if not Path(spy).exists():
            print("  (py-spy not installed: no profile)")
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [*taskset(LOAD_CORE), spy, "record", "--pid", str(self.pid), "--format", "raw", "--rate", "250",
             "--nonblocking", "--output", str(self.path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(0.5)
        return self

    def stop(self) -> str:
        if self.proc is None:
            return ""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        return summarize_profile(self.path)


def summarize_profile(path: Path, top: int = 25) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    if not path.exists():
        return ""
    selfs: dict[str, int] = {}
    incl: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].split("/")[-1] + ")"
            for f in stack.split(";")
        ]
        selfs[frames[-1]] = selfs.get(frames[-1], 0) + n
        for f in set(frames):
            incl[f] = incl.get(f, 0) + n
    if not total:
        return ""
    out = [f"{total} samples; top inclusive:"]
    for f, n in sorted(incl.items(), key=lambda kv: -kv[1])[:top]:
        out.append(f"  {100 * n / total:5.1f}%  {f}")
    out.append("top self:")
    for f, n in sorted(selfs.items(), key=lambda kv: -kv[1])[:top]:
        out.append(f"  {100 * n / total:5.1f}%  {f}")
    text = "\n".join(out)
    path.with_suffix(".summary.txt").write_text(text + "\n")
    return text
