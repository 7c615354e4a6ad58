"""S4 Redis cost: Redis commands and round trips per guess and per story line.

Against a private redis-server, Ritrovo with the Redis store plays:

* guesses one at a time (each waits for its verdict: no concurrency),
* the same number of guesses sent all at once (concurrent commits on one room),
* story lines one at a time.

For each phase it reads Redis's own ``INFO commandstats`` before and after
(every command, including those run inside the commit script), and watches
``MONITOR`` to tell the server's round trips (commands sent by a client; a
MULTI..EXEC block is one) from the commands run inside Lua scripts and from
the background (timer polling and lease, health checks), which are reported
per second rather than charged to the guesses.

    .venv/bin/python bench/s4_redis_cost.py
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import re
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.common import (
    BenchRedis,
    RitrovoServer,
    create_room,
    machine_info,
    pin_self,
    save,
    stats_delta,
    stop_on_sigterm,
    table,
    upload_pack,
    wait_idle,
)
from ritrovo.client import RitrovoClient

RIDDLE_PACK = """
id: bench-s4-riddle
title: "Bench S4: riddle"
language: en
rounds:
  - kind: riddles
    title: Cost
    riddles:
      - text: "I jam more often than a garage band. What am I?"
        answers: ["printer"]
        time_limit: 3600
"""

STORY_PACK = """
id: bench-s4-story
title: "Bench S4: story"
language: en
rounds:
  - kind: story
    title: Cost
    prompts:
      - opening: "It was a quiet afternoon at the office."
    turns_per_player: 10
    seconds_per_turn: 600
    visibility: full
"""

LINE = re.compile(r"^\d+\.\d+ \[(\d+) ([^\]]+)\] (.*)$")
TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"')


def script_names() -> dict[str, str]:
    """SHA1 of each Lua script of the Redis store -> its name."""
    from ritrovo.store import redis as store

    names = {}
    for attr in dir(store):
        if attr.endswith("_SCRIPT"):
            text = getattr(store, attr)
            names[hashlib.sha1(text.encode()).hexdigest()] = attr[: -len("_SCRIPT")].lower()
    return names


class Monitor:
    """MONITOR on our own redis-server, read in a thread; counts per phase."""

    # Not charged to requests: timers, the timer lease, health checks, and
    # redis-py opening pooled connections (HELLO) - reported apart.
    BACKGROUND: ClassVar[frozenset[str]] = frozenset(
        {
            "due",
            "hold_lease",
            "release_lease",
            "ping",
            "get:lease",
            "zcount",
            "hello",
            "client",
        }
    )

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(b"*1\r\n$7\r\nMONITOR\r\n")
        self.scripts = script_names()
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.stopped = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        buffer = b""
        self.sock.settimeout(0.5)
        while not self.stopped:
            try:
                chunk = self.sock.recv(1 << 16)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            *complete, buffer = buffer.split(b"\r\n")
            with self.lock:
                self.lines.extend(
                    c.decode(errors="replace")[1:] for c in complete if c.startswith(b"+")
                )

    def take(self) -> list[str]:
        time.sleep(0.3)  # let the last lines arrive
        with self.lock:
            lines, self.lines = self.lines, []
        return lines

    def classify(self, lines: list[str]) -> dict[str, Any]:
        """Round trips by request kind, background round trips, script-internal commands."""
        trips: dict[str, int] = {}
        background: dict[str, int] = {}
        inner: dict[str, int] = {}
        in_multi: set[str] = set()
        for line in lines:
            m = LINE.match(line)
            if not m:
                continue
            client, rest = m.group(2), m.group(3)
            tokens = TOKEN.findall(rest)
            if not tokens:
                continue
            name = tokens[0].lower()
            if client == "lua":
                inner[name] = inner.get(name, 0) + 1
                continue
            if name in ("multi",):
                in_multi.add(client)
                trips["multi/exec (rate counter)"] = trips.get("multi/exec (rate counter)", 0) + 1
                continue
            if client in in_multi:
                if name in ("exec", "discard"):
                    in_multi.discard(client)
                continue
            if name == "info":  # this script's own INFO commandstats
                continue
            if name in ("evalsha", "eval"):
                name = self.scripts.get(tokens[1], "script?") if name == "evalsha" else "eval"
            elif name == "get" and len(tokens) > 1 and tokens[1].endswith("lease"):
                name = "get:lease"
            bucket = background if name in self.BACKGROUND else trips
            bucket[name] = bucket.get(name, 0) + 1
        return {"trips": trips, "background": background, "inner": inner}

    def close(self) -> None:
        self.stopped = True
        with contextlib.suppress(OSError):
            self.sock.close()


async def phase(
    name: str, redis: BenchRedis, monitor: Monitor, count_of: str, run: Any
) -> dict[str, Any]:
    monitor.take()
    before = redis.commandstats()
    started = time.monotonic()
    count = await run()
    seconds = time.monotonic() - started
    lines = monitor.take()
    after = redis.commandstats()
    c = monitor.classify(lines)
    request_trips = sum(c["trips"].values())
    return {
        "phase": name,
        "count": count,
        "unit": count_of,
        "seconds": seconds,
        "round_trips": c["trips"],
        "round_trips_per_item": request_trips / count if count else float("nan"),
        "inner_commands": c["inner"],
        "inner_per_item": sum(c["inner"].values()) / count if count else float("nan"),
        "background": c["background"],
        "background_per_s": sum(c["background"].values()) / seconds if seconds else float("nan"),
        "commandstats": stats_delta(before, after),
        "commandstats_per_item": sum(stats_delta(before, after).values()) / count
        if count
        else float("nan"),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teams", type=int, default=26)
    parser.add_argument("--per-team", type=int, default=2)
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument(
        "--save", default="s4-latest", help="results file in bench/results/ (the README uses s4)"
    )
    parser.add_argument(
        "--patch", default="", help="experiment: candidate fixes (bench/lib/patched_serve.py)"
    )
    args = parser.parse_args()
    pin_self()
    stop_on_sigterm()
    info = machine_info()
    redis = BenchRedis().start()
    server = RitrovoServer(redis.url, name="s4-redis", patches=args.patch).start()
    monitor = Monitor(redis.server.port)
    clients: list[RitrovoClient] = []
    rows: list[dict[str, Any]] = []
    try:
        room = await create_room(server.base_url, "S4 riddle")
        code = room["code"]
        await upload_pack(server.base_url, code, room["host_token"], RIDDLE_PACK)
        host = await RitrovoClient.connect(server.ws_url, keep_messages=False)
        clients.append(host)
        await host.hello("host", room=code, token=room["host_token"])
        for i in range(args.teams - 2):
            await host.request("create_team", name=f"Team {i + 3}")
        await host.wait_state(lambda s: len(s["teams"]) == args.teams)
        team_ids = [t["id"] for t in host.state["state"]["teams"]]  # type: ignore[index]
        players = []
        for t, tid in enumerate(team_ids):
            for k in range(args.per_team):
                c = await RitrovoClient.connect(server.ws_url, keep_messages=False)
                await c.hello("join", room=code, name=f"P{t}-{k}", team=tid)
                players.append(c)
        clients.extend(players)
        await host.request("next")
        await host.wait_state(lambda s: s.get("riddle") is not None)
        await wait_idle(server)

        async def paced() -> int:
            for c in players:  # one at a time, each waits for its verdict
                await c.request("guess", text="stapler")
            return len(players)

        async def burst() -> int:
            futures = [await c.request_future("guess", text="keyboard") for c in players]
            await asyncio.gather(*futures)
            return len(players)

        rows.append(await phase("guess, one at a time", redis, monitor, "guess", paced))
        await asyncio.sleep(1.0)
        rows.append(await phase(f"guess, {len(players)} at once", redis, monitor, "guess", burst))
        await asyncio.sleep(1.0)
        rows.append(
            await phase(
                "idle 3 s (background only)", redis, monitor, "second", lambda: asyncio.sleep(3, 3)
            )
        )

        story = await create_room(server.base_url, "S4 story")
        await upload_pack(server.base_url, story["code"], story["host_token"], STORY_PACK)
        writers = []
        for k in range(8):
            c = await RitrovoClient.connect(server.ws_url, keep_messages=False)
            await c.hello("join", room=story["code"], name=f"W{k}")
            writers.append(c)
        clients.extend(writers)
        story_host = await RitrovoClient.connect(server.ws_url, keep_messages=False)
        clients.append(story_host)
        await story_host.hello("host", room=story["code"], token=story["host_token"])
        await story_host.request("next")
        await story_host.wait_state(lambda s: s.get("story") is not None)
        await wait_idle(server)

        async def lines() -> int:
            written = 0
            for i in range(args.lines):
                deadline = time.monotonic() + 3
                writer = None
                while (
                    writer is None and time.monotonic() < deadline
                ):  # bounded: the next writer's "you"
                    writer = next(
                        (c for c in writers if (c.you or {}).get("your_turn") and c not in recent),
                        None,
                    )
                    if writer is None:
                        await asyncio.sleep(0.02)
                if writer is None:
                    break
                await writer.request("line", text=f"Line {i}: the stapler hummed a little louder.")
                recent.add(writer)
                written += 1
                await asyncio.sleep(
                    0.15
                )  # the turn passes; the new writer hears it at the next flush
                recent.clear()
            return written

        recent: set[RitrovoClient] = set()
        rows.append(await phase("story line, one at a time", redis, monitor, "line", lines))
    finally:
        monitor.close()
        for c in clients:
            with contextlib.suppress(Exception):
                c.ws.transport.abort()
        server.stop()
        redis.stop()
    save(args.save, {"machine": info, "args": vars(args), "rows": rows})
    print()
    print(
        f"S4 Redis cost ({info['date']}, {info['cores']} cores); round trips = commands the server sent "
        "(MULTI..EXEC = 1), background = timers, lease and health checks"
    )
    print(table(
        ["phase", "n", "round trips / item", "by request", "commands in scripts / item", "INFO commandstats / item", "background / s"],
        [[r["phase"], r["count"], r["round_trips_per_item"], ", ".join(f"{k} {v}" for k, v in r["round_trips"].items()) or "-",
          r["inner_per_item"], r["commandstats_per_item"], r["background_per_s"]] for r in rows],
    ))  # fmt: skip
    for r in rows:
        print(f"  {r['phase']}: commandstats delta {r['commandstats']}")
    guess = rows[0]
    print("target:")
    ok = guess["round_trips_per_item"] <= 1.0
    print(
        f"  [{'PASS' if ok else 'MISS'}] Redis round trips per guess (no concurrency): "
        f"{guess['round_trips_per_item']:.2f} <= 1"
    )
    burst_row = rows[1]
    ok = burst_row["round_trips_per_item"] <= 1.0
    print(
        f"  [{'PASS' if ok else 'MISS'}] Redis round trips per guess ({burst_row['count']} at once): "
        f"{burst_row['round_trips_per_item']:.2f} <= 1"
    )


if __name__ == "__main__":
    asyncio.run(main())
