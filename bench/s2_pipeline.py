"""A story line through the server's own pipeline, without sockets: a diagnostic for S2.

``--rooms`` rooms of 8 players in two teams and a host, in one process: the
real ``GameService`` on the memory store and the real ``RoomHub``, with
``Connection``s whose WebSocket writer (aiohttp's own) writes to a transport
that only counts bytes. Each line is what the server does for it besides
the network: the ``line`` command (``commands.line``: the rule, the commit,
its notice), the writer's ``ack``, and the room's flush (views, diffs, the
frames written to 9 connections), with the flush interval at 0 so every
line is flushed at once. Rooms are written in turn, as in S2, which keeps
a room's memory about as cold as a server's between two of its lines.

It prints CPU microseconds per line (which drift with this machine's speed,
by a third over minutes) or, with ``--instructions``, the instructions per
line as counted by valgrind (a run without lines subtracted from a run
with them): the same on every run to 0.3%, so two revisions can be compared
by one run each (``PYTHONPATH`` to an extracted ``git archive`` of the other
revision's ``server/`` named ``ritrovo``). Neither is an issue target: S2
measures against the reference, over sockets.

Instructions do not tell a line's cost in the server, though: between two
lines the server sleeps and its caches go to other work, and a line then
costs mostly the memory it touches (bench/README.md, "a line's cost is the
memory it touches"). ``--evict-mb 48`` writes over 48 MiB between two
lines, so the CPU per line is a cold line's; ``--misses`` counts a cold
line's cache misses as valgrind simulates them (this machine's 32 KiB L1s
and 512 KiB L2, 4 MiB written over between two lines).

    .venv/bin/python bench/s2_pipeline.py                  # CPU us per line, 3 runs
    .venv/bin/python bench/s2_pipeline.py --evict-mb 48    # the same, each line from cold caches
    .venv/bin/python bench/s2_pipeline.py --instructions   # needs valgrind, ~40 s
    .venv/bin/python bench/s2_pipeline.py --misses --rooms 100 --rounds 2   # valgrind, ~2 min
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiohttp import WSMsgType
from aiohttp._websocket.writer import WebSocketWriter
from ritrovo import protocol
from ritrovo.config import Settings
from ritrovo.edge import commands, deflate
from ritrovo.edge.connection import Connection
from ritrovo.edge.hub import RoomHub
from ritrovo.game import rooms, stories
from ritrovo.game.pack import Pack
from ritrovo.metrics import Metrics
from ritrovo.protocol import MessageType
from ritrovo.service import GameService
from ritrovo.store import parts
from ritrovo.store.memory import MemoryStore
from s2_line_cost import PACK, ROUND, T0


class _Counted:
    """A transport that takes every write and counts its bytes."""

    written = 0

    def write(self, data: bytes) -> None:
        _Counted.written += len(data)

    def is_closing(self) -> bool:
        return False


class _Unpaused:
    _paused = False


class _Socket:
    """What a ``Connection`` uses of aiohttp's WebSocket: its writer, ``closed``, ``send_frame``."""

    closed = False

    def __init__(self) -> None:
        self._writer = WebSocketWriter(_Unpaused(), _Counted())  # type: ignore[arg-type]

    async def send_frame(self, data: bytes, opcode: WSMsgType, compress: int | None = None) -> None:
        await self._writer.send_frame(data, opcode, compress)


class _Library:
    def get(self, pack_id: str) -> Pack:
        return PACK


async def _setup(count: int) -> tuple[GameService, RoomHub, list[str], list[float]]:
    settings = Settings(flush_interval=0.0)
    store = MemoryStore(room_ttl=86400)
    clock = [T0]
    service = GameService(store, _Library(), clock=lambda: clock[0])  # type: ignore[arg-type]
    metrics = Metrics()
    hub = RoomHub(service, settings, metrics)
    await store.listen(hub.on_notice)
    codes = []
    for i in range(count):
        code = f"R{i:05d}"
        room = rooms.new_room(code, "Offsite", "hosthash", T0 - 100, team_names=("A", "B"))
        for n in range(8):
            team = room.teams[n % 2].id
            player = rooms.join(room, name=f"P{n}", team_id=team, token_hash=f"t{n}", now=T0 - 99)
            rooms.connect(room, player, T0 - 99)
        room.pack_id, room.phase, room.round_index = PACK.id, "story", 0
        stories.start_round(room, ROUND, 0, T0)
        await store.create(code, parts.split(room), T0)
        codes.append(code)
        for role, player_id in [("host", None), *(("player", p) for p in room.players)]:
            conn = Connection(_Socket(), "127.0.0.1", settings, metrics)  # type: ignore[arg-type]
            conn.role, conn.code, conn.player_id = role, code, player_id  # type: ignore[assignment]
            conn.deflate = deflate.STREAMS
            hub.add(conn)
        hub.schedule(code)
    await _settle(hub)
    return service, hub, codes, clock


async def _settle(hub: RoomHub) -> None:
    """Until no flush is scheduled or running (each turn of the loop lets one go on)."""
    while hub._scheduled or hub._tasks:
        await asyncio.sleep(0)


async def _line(service: GameService, hub: RoomHub, code: str, k: int, clock: list[float]) -> None:
    room, _ = await service.current(code)
    assert room.story is not None
    writer = room.story.stories[room.teams[k % 2].id].turn_player
    assert writer is not None
    conn = next(c for c in hub.rooms[code] if c.player_id == writer)
    clock[0] += 0.01
    frame = f'{{"type": "line", "id": {k}, "text": "Line {k}: the stapler moved again."}}'
    msg = protocol.parse(frame, {"line": protocol.Line})
    await commands.PLAYER_COMMANDS[protocol.Line](commands.Caller(service, code, writer), msg)
    conn.send_message(MessageType.ACK, id=msg.id, of=msg.type)
    await _settle(hub)


def _evict(buffer: bytearray) -> None:
    """Write over ``buffer`` (bigger than the caches): what the next line touches comes from memory."""
    step = 64
    for i in range(0, len(buffer), step * 64):
        buffer[i : i + step * 64 : step] = b"x" * 64


async def _run(
    rooms_count: int,
    rounds: int,
    gap: float,
    evict: bytearray | None = None,
    idle_evictions: int = 0,
) -> tuple[float, int, int]:
    """CPU seconds, lines and bytes written for ``rounds`` lines in each room, after a warm-up round."""
    service, hub, codes, clock = await _setup(rooms_count)
    k = 0
    for code in codes:  # warm-up: every room's first line
        await _line(service, hub, code, k, clock)
        k += 1
    _Counted.written = 0
    cpu = 0.0
    lines = 0
    for _ in range(rounds):
        for code in codes:
            started = time.thread_time()
            await _line(service, hub, code, k, clock)
            cpu += time.thread_time() - started
            k += 1
            lines += 1
            if gap:
                await asyncio.sleep(gap)  # the process idles: its caches go cold
            if evict is not None:
                _evict(evict)
    if evict is not None and not rounds:
        for _ in range(idle_evictions):  # as many as a run with lines makes, for the difference
            _evict(evict)
    return cpu, lines, _Counted.written


def _instructions(args: argparse.Namespace) -> None:
    """Instructions per line: valgrind's count with ``--rounds`` lines per room, less with none."""

    def count(rounds: int) -> int:
        command = [
            "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
            sys.executable, __file__, "--rooms", str(args.rooms), "--rounds", str(rounds),
            "--runs", "1",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
        found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
        assert found, done.stderr[-2000:]
        return int(found.group(1).replace(",", ""))

    with_lines, without = count(args.rounds), count(0)
    per_line = (with_lines - without) / (args.rooms * args.rounds)
    print(f"{args.rooms} rooms x {args.rounds} lines: {per_line / 1e6:.3f} M instructions per line")


def _misses(args: argparse.Namespace) -> None:
    """Cache misses per line from cold caches, as cachegrind simulates them.

    Between two lines the run writes over 4 MiB (as a server's idle
    moments let other work take the caches): each line then misses on
    whatever it touches. Caches as this machine's: 32 KiB L1 for data and
    for instructions, a 512 KiB L2, 8-way (the simulated last level). The run
    without lines makes as many evictions, so the difference is the lines'.
    """
    lines = args.rooms * args.rounds

    def count(rounds: int) -> dict[str, int]:
        command = [
            "valgrind", "--tool=cachegrind", "--cache-sim=yes", "--cachegrind-out-file=/dev/null",
            "--I1=32768,8,64", "--D1=32768,8,64", "--LL=524288,8,64",
            sys.executable, __file__, "--rooms", str(args.rooms), "--rounds", str(rounds),
            "--runs", "1", "--evict-mb", "4", "--idle-evictions", str(lines),
        ]  # fmt: skip
        # One hash seed: the same dicts laid out the same way in both runs.
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=1200, check=True, env=env
        )
        found = {}
        for name in ("I refs", "I1  misses", "D1  misses", "LL misses", "LLi misses", "LLd misses"):
            hit = re.search(name.replace(" ", r"\s+") + r":\s+([\d,]+)", done.stderr)
            assert hit, done.stderr[-2000:]
            found[name] = int(hit.group(1).replace(",", ""))
        return found

    with_lines, without = count(args.rounds), count(0)
    figures = ", ".join(
        f"{name.replace('  ', ' ')} {(with_lines[name] - without[name]) / lines:,.0f}"
        for name in with_lines
    )
    print(f"{args.rooms} rooms x {args.rounds} lines, cold, per line: {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="lines per room, after a warm-up")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--gap", type=float, default=0.0, help="seconds slept between two lines")
    parser.add_argument("--instructions", action="store_true", help="count them with valgrind")
    parser.add_argument(
        "--evict-mb", type=int, default=0, help="write over this many MiB between two lines"
    )
    parser.add_argument("--idle-evictions", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--misses", action="store_true", help="cold cache misses per line, simulated by valgrind"
    )
    args = parser.parse_args()
    if args.instructions:
        _instructions(args)
        return
    if args.misses:
        _misses(args)
        return
    print(f"ritrovo from {os.path.dirname(protocol.__file__)}")
    for _ in range(args.runs):
        evict = bytearray(args.evict_mb << 20) if args.evict_mb else None
        cpu, lines, written = asyncio.run(
            _run(args.rooms, args.rounds, args.gap, evict, args.idle_evictions)
        )
        if lines:
            print(
                f"{args.rooms} rooms, {lines} lines, {args.gap * 1000:.0f} ms between lines: "
                f"{1e6 * cpu / lines:.0f} us of CPU per line, {written / lines:.0f} bytes written"
            )


if __name__ == "__main__":
    main()
