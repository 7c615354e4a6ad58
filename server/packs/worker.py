"""Uploaded packs are parsed in worker processes, within a time budget.

PyYAML, the importers (packs/imports.py) and the checker are pure Python and hold the GIL: parsing in a thread
still stops the event loop (1 MiB of ``[0,0,...]`` stood a whole process
still for 55 s; 97 KiB of ``[`` for up to 12 s). So the HTTP edge hands the
bytes of an upload to a ``PackParser``: at most ``workers`` processes, each a
fresh interpreter (``python -m ritrovo.packs.worker``, the effect of the
``spawn`` start method: nothing of the server's event loop, sockets or Redis
connections is inherited, as a fork would). A worker is started by the first
upload that needs one and kept for the next ones (retired after a minute
without work). It sends back the validated ``Pack``, or the ``PackError``
with every problem. One that has not answered within the budget (a setting,
``pack_parse_seconds``) is killed, and the upload refused with
``pack_too_complex``; the next upload starts a new worker. Uploads beyond the
workers wait in a bounded queue; past it they are refused with ``busy``. The
pack editor's checks (``check``: validate, try an answer) may hold at most
half of the queue, so that a flood of them never leaves a room's upload
without a place.

A worker runs at a lower CPU priority than the server, under an address-space
limit, and dies with the server (Linux ``PR_SET_PDEATHSIG``; elsewhere it
exits when its standard input closes). The library's packs (``PackLibrary``
at start-up, the ``ritrovo pack`` commands) are read synchronously, as before:
they are the operator's own files.

The wire, both ways: frames of a 4-byte big-endian length and a pickle, jobs
on the worker's standard input and answers on its standard output (moved to
a descriptor of its own at start, so a stray ``print`` cannot corrupt it).
Only this module's two sides speak it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import struct
import sys
import time
from typing import IO, Any

from ..errors import ErrorCode, RitrovoError, StoreUnavailable
from ..game.matching import RiddleMatcher, Verdict
from ..game.pack import Pack, RiddleRound
from .imports import load_upload
from .loader import PackError, load_pack_bytes

log = logging.getLogger(__name__)

FRAME = struct.Struct(">I")
STARTUP_TIMEOUT = 30.0  # seconds a new worker has to import the parser and say it is ready
IDLE_SECONDS = 60.0  # a worker without work for this long is retired
WORKER_NICENESS = 10  # added to the worker's nice value: the event loop comes first
WORKER_ADDRESS_SPACE = 1024 * 1024 * 1024  # bytes of virtual memory a worker may use
MAX_ANSWER_BYTES = 256 * 1024 * 1024  # larger than any answer to a pack within max_pack_bytes

__all__ = ["PackParser", "PackTooComplex"]


class PackTooComplex(RitrovoError):
    """The pack could not be read within the time or memory budget (HTTP 422)."""

    http_status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message, code=ErrorCode.PACK_TOO_COMPLEX)


class _Worker:
    """One worker process, and the frames to and from it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.retire: asyncio.TimerHandle | None = None  # set while idle
        self.ended = False  # killed (or being killed)

    async def send(self, message: object) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        stdin.write(FRAME.pack(len(data)) + data)
        await stdin.drain()

    async def receive(self) -> Any:
        stdout = self.process.stdout
        assert stdout is not None
        (size,) = FRAME.unpack(await stdout.readexactly(FRAME.size))
        if size > MAX_ANSWER_BYTES:
            raise ValueError(f"answer of {size} bytes from a pack worker")
        # The worker is this server's own code (it parses, it is not parsed):
        # its answer is trusted as the result of a function call would be.
        return pickle.loads(await stdout.readexactly(size))

    def kill(self) -> None:
        if self.retire is not None:
            self.retire.cancel()
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


class PackParser:
    """Parses and validates uploaded pack bytes in worker processes (see the module)."""

    def __init__(
        self, *, workers: int = 1, budget: float = 5.0, queue: int = 16, max_bytes: int
    ) -> None:
        self.workers = max(1, workers)
        self.budget = budget
        self.queue = max(0, queue)
        self.max_bytes = max_bytes
        self._slots = asyncio.Semaphore(self.workers)
        self._waiting = 0
        self._waiting_checks = 0  # of _waiting, the pack editor's checks
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._ending: set[asyncio.Task[int]] = set()  # waits for killed workers' exit
        self._closed = False

    @property
    def processes(self) -> list[int]:
        """The ids of the live worker processes (for tests and diagnostics)."""
        return [w.process.pid for w in [*self._idle, *self._busy] if w.process.returncode is None]

    @property
    def waiting(self) -> int:
        """Uploads waiting for a worker."""
        return self._waiting

    @property
    def check_places(self) -> int:
        """How many of the queue's places the pack editor's checks may hold."""
        return self.queue // 2

    async def parse(
        self, data: bytes, filename: str, *, pack_only: bool = False, check: bool = False
    ) -> Pack:
        """The validated pack; ``PackError`` with every problem, ``PackTooComplex``
        past the budget, ``busy`` (503) when too many uploads are already waiting.

        ``pack_only``: the bytes are a pack file (named by ``filename``), never
        an import whatever they look like (the pack editor's checks). ``check``:
        the pack editor's check, which waits only within ``check_places``.
        """
        value = await self._job((data, filename, self.max_bytes, pack_only, None), check)
        if not isinstance(value, Pack):
            raise TypeError("pack worker sent an unexpected answer")
        return value

    async def judge(self, data: bytes, guess: str) -> Verdict:
        """The game's matcher on ``guess`` at the one riddle of the JSON pack ``data``.

        Read, validated, compiled and judged in the worker, as ``parse`` reads
        (the pack editor's "try"): compiling a riddle's matcher is pure Python
        too, and the event loop does none of it. Raises as ``parse`` does; a
        check, it waits only within ``check_places``.
        """
        value = await self._job((data, "riddle.json", self.max_bytes, True, guess), True)
        if not isinstance(value, Verdict):
            raise TypeError("pack worker sent an unexpected answer")
        return value

    async def _job(self, job: tuple[bytes, str, int, bool, str | None], check: bool) -> object:
        """Run one job in a worker: its value, or the error it stands for."""
        if self._closed:
            raise StoreUnavailable(
                "the server is restarting; upload again", code=ErrorCode.SERVER_RESTARTING
            )
        if self._slots.locked() and (
            self._waiting >= self.queue or (check and self._waiting_checks >= self.check_places)
        ):
            raise StoreUnavailable(
                "the server is busy reading other packs; try again in a moment",
                code=ErrorCode.BUSY,
            )
        self._waiting += 1
        self._waiting_checks += check
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
            self._waiting_checks -= check
        try:
            worker = await self._take()
            self._busy.add(worker)
            try:
                answer = await self._run(worker, job)
            except BaseException:
                self._end(worker)  # timed out, died, or the upload went away mid-parse
                raise
            finally:
                self._busy.discard(worker)
            self._give_back(worker)
        finally:
            self._slots.release()
        kind, value = answer
        if kind == "ok":
            return value
        if kind == "invalid" and isinstance(value, PackError):
            raise value
        if kind == "too_complex":
            raise PackTooComplex(str(value))
        raise RuntimeError(f"pack worker failed: {value}")

    async def _run(
        self, worker: _Worker, job: tuple[bytes, str, int, bool, str | None]
    ) -> tuple[str, object]:
        filename = job[1]
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.budget):
                await worker.send(job)
                answer = await worker.receive()
        except TimeoutError:
            log.warning(
                "pack upload %r: not read within %.1f s; its worker was stopped",
                filename,
                self.budget,
            )
            raise PackTooComplex(
                f"this pack is too complex to read within {self.budget:g} seconds"
            ) from None
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as exc:
            # Killed by the system (memory), or crashed: the pack is to blame
            # as much as anything; the next upload gets a new worker.
            log.warning("pack upload %r: its worker ended (%r)", filename, exc)
            raise PackTooComplex("this pack needs too much memory or time to read") from None
        log.debug("pack upload %r read in %.3f s", filename, time.monotonic() - started)
        if not (isinstance(answer, tuple) and len(answer) == 2):
            raise RuntimeError("pack worker sent an unexpected answer")
        return answer[0], answer[1]

    async def _take(self) -> _Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.retire is not None:
                worker.retire.cancel()
                worker.retire = None
            if worker.process.returncode is None:
                return worker
            self._end(worker)
        return await self._start()

    async def _start(self) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        worker = _Worker(process)
        try:
            async with asyncio.timeout(STARTUP_TIMEOUT):
                ready = await worker.receive()
        except BaseException:
            self._end(worker)
            raise
        if ready != ("ready", process.pid):
            self._end(worker)
            raise RuntimeError(f"pack worker did not start: {ready!r}")
        return worker

    def _give_back(self, worker: _Worker) -> None:
        if self._closed:
            self._end(worker)
            return
        worker.retire = asyncio.get_running_loop().call_later(IDLE_SECONDS, self._retire, worker)
        self._idle.append(worker)

    def _retire(self, worker: _Worker) -> None:
        worker.retire = None
        if worker in self._idle:
            self._idle.remove(worker)
            self._end(worker)

    def _end(self, worker: _Worker) -> None:
        """Kill a worker and collect its exit in the background (``close`` waits for it)."""
        if worker.ended:
            return
        worker.ended = True
        worker.kill()
        task = asyncio.get_running_loop().create_task(worker.process.wait())
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    async def close(self) -> None:
        """Stop every worker (an upload being read fails) and wait until they are gone."""
        self._closed = True
        for worker in [*self._idle, *self._busy]:
            self._end(worker)
        self._idle.clear()
        if self._ending:
            await asyncio.gather(*self._ending, return_exceptions=True)


# --- the worker process ----------------------------------------------------------


def _die_with_parent() -> None:
    """Ask Linux to kill this process when the server that started it dies."""
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)


def _limit_resources() -> None:
    with contextlib.suppress(Exception):
        os.nice(WORKER_NICENESS)
    with contextlib.suppress(Exception):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_ADDRESS_SPACE, WORKER_ADDRESS_SPACE))


def _read_frame(source: IO[bytes]) -> bytes | None:
    header = source.read(FRAME.size)
    if len(header) < FRAME.size:
        return None
    (size,) = FRAME.unpack(header)
    body = source.read(size)
    return body if len(body) == size else None


def _write_frame(sink: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sink.write(FRAME.pack(len(data)) + data)
    sink.flush()


def _answer(
    data: bytes, filename: str, max_bytes: int, pack_only: bool, guess: str | None
) -> tuple[str, object]:
    try:
        if pack_only:
            pack = load_pack_bytes(data, filename, max_bytes=max_bytes)
        else:
            # A pack (YAML, JSON) or an import (GIFT, Aiken, Kahoot, Open Trivia DB, CSV).
            pack = load_upload(data, filename, max_bytes=max_bytes)
        if guess is None:
            return "ok", pack
        round_ = pack.rounds[0]
        if not isinstance(round_, RiddleRound):
            return "failed", "a guess was sent with a pack that is not one riddle"
        return "ok", RiddleMatcher.for_riddle(round_.riddles[0], pack.language).check(guess)
    except PackError as error:
        return "invalid", error
    except (MemoryError, RecursionError):
        return "too_complex", "this pack needs too much memory to read"
    except Exception:  # noqa: BLE001 - a bug: sent to the server, which logs it and answers 500
        import traceback

        return "failed", traceback.format_exc()


def main() -> None:
    """Serve jobs from standard input until it closes."""
    import signal

    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops us
    _limit_resources()
    # The answers get a descriptor of their own; fd 1 becomes stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    jobs = sys.stdin.buffer
    _write_frame(answers, ("ready", os.getpid()))
    while (frame := _read_frame(jobs)) is not None:
        data, filename, max_bytes, pack_only, guess = pickle.loads(frame)
        _write_frame(answers, _answer(data, filename, max_bytes, pack_only, guess))


if __name__ == "__main__":
    main()
