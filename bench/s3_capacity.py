"""S3 capacity: how many idle connections one server process holds, what each costs.

Idle players (rooms of ``--room-size``, nothing happening) are connected until
``--target`` or the first failures (the server's file limit: this script raises
the soft ``ulimit -n`` to the hard limit, which the server inherits). Figures:

* connections held (WebSocket open and the player's ``join`` answered);
* memory per connection: server RSS growth / connections, after settling;
* connections accepted per second (upgrade + join + first state), with
  ``--concurrency`` handshakes in flight per load process.

    .venv/bin/python bench/s3_capacity.py                 # 2,000 connections (quick)
    .venv/bin/python bench/s3_capacity.py --target 19900  # the issue's bound (~20,000)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.common import (
    BenchRedis,
    ReferenceServer,
    RitrovoServer,
    Worker,
    check,
    create_room,
    hear_all,
    machine_info,
    pin_self,
    raise_file_limit,
    ratio,
    save,
    stop_on_sigterm,
    table,
    tell_all,
    wait_idle,
)


async def run_once(
    target: str, args: argparse.Namespace, redis: BenchRedis | None = None
) -> dict[str, Any]:
    reference = target.startswith("ref-")
    server: Any
    if reference:
        server = ReferenceServer(target[4:], name=f"s3-{target}").start()
    else:
        server = RitrovoServer(redis.url if redis else None, name=f"s3-{target}").start()
    workers: list[Worker] = []
    try:
        n_rooms = math.ceil(args.target / args.room_size)
        if reference:
            codes = [f"R{r:05d}" for r in range(n_rooms)]
        else:
            codes = [
                (await create_room(server.base_url, f"S3 {r}"))["code"] for r in range(n_rooms)
            ]
        targets = [
            [codes[i // args.room_size], f"Idle {i % args.room_size + 1:02d}"]
            for i in range(args.target)
        ]
        # Interleave rooms across workers so every worker joins every room a bit.
        parts = max(1, math.ceil(args.target / args.per_worker))
        groups = [targets[w::parts] for w in range(parts)]
        for w, group in enumerate(groups):
            job = {
                "kind": "s3",
                "url": server.ws_url,
                "targets": group,
                "role": args.role,
                "concurrency": args.concurrency,
                "compression": args.compression,
            }
            workers.append(await Worker.spawn(w, job))
        await wait_idle(server)
        rss0, cpu0 = server.rss_kib(), server.cpu_seconds()
        await tell_all(workers, {"cmd": "go"})
        connected = await hear_all(workers, "connected", timeout=1800)
        n = sum(c["n"] for c in connected)
        started = min(c["started"] for c in connected)
        last = max(c["last"] for c in connected)
        cpu_connect = server.cpu_seconds() - cpu0
        await wait_idle(server, timeout=300)
        rss1 = server.rss_kib()
        # The server's own work while nothing happens: pings of the quiet
        # (every 20 s: a window longer than that sees each connection's).
        idle_cpu = float("nan")
        if args.idle_seconds > 0:
            cpu_a = server.cpu_seconds()
            await asyncio.sleep(args.idle_seconds)
            idle_cpu = 100 * (server.cpu_seconds() - cpu_a) / args.idle_seconds
        await tell_all(workers, {"cmd": "release"})
        released = await hear_all(workers, "released", timeout=120)
        return {
            "target": target,
            "asked": args.target,
            "connections": n,
            "still_open": sum(r["alive"] for r in released),
            "failures": sum(c["failures"] for c in connected),
            "failure_samples": [s for c in connected for s in c["failure_samples"]][:5],
            "kib_per_conn": (rss1 - rss0) / n if n else float("nan"),
            "rss_mib": rss1 / 1024,
            "hwm_mib": server.hwm_kib() / 1024,
            "accept_per_s": n / (last - started) if last > started else float("nan"),
            "connect_seconds": last - started,
            "server_cpu_ms_per_conn": 1000 * cpu_connect / n if n else float("nan"),
            "idle_cpu_pct": idle_cpu,
        }
    finally:
        for w in workers:
            await w.stop()
        server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--target",
        type=int,
        default=2000,
        help="connections to open (default 2000; the issue: ~20,000)",
    )
    parser.add_argument("--room-size", type=int, default=20, help="players per room (default 20)")
    parser.add_argument("--role", choices=("player", "screen"), default="player")
    parser.add_argument("--per-worker", type=int, default=5000, help="connections per load process")
    parser.add_argument(
        "--concurrency", type=int, default=50, help="handshakes in flight per load process"
    )
    parser.add_argument("--store", choices=("memory", "redis"), default="memory")
    parser.add_argument("--compression", choices=("deflate", "none"), default="deflate")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=0.0,
        help="then measure the server's CPU while every connection idles this long (issue 11: 30)",
    )
    parser.add_argument(
        "--save", default="s3-latest", help="results file in bench/results/ (the README uses s3)"
    )
    args = parser.parse_args()
    pin_self()
    stop_on_sigterm()
    limit = raise_file_limit()
    info = {**machine_info(), "open_files_limit": limit}
    if args.target > limit - 50:
        print(
            f"note: the open-files limit is {limit}; the server needs a few files of its own, "
            f"so at most ~{limit - 30} connections can succeed"
        )
    rows: list[dict[str, Any]] = []
    if not args.no_reference:
        print("S3: reference server (coalesce)...", flush=True)
        rows.append(await run_once("ref-coalesce", args))
    print(f"S3: ritrovo ({args.store} store)...", flush=True)
    redis = BenchRedis().start() if args.store == "redis" else None
    try:
        result = await run_once(args.store, args, redis)
    finally:
        if redis:
            redis.stop()
    if rows:
        ref = rows[0]
        for key in ("kib_per_conn", "accept_per_s"):
            result[key + "_ratio"] = ratio(result[key], ref[key])
    rows.append(result)
    save(args.save, {"machine": info, "args": vars(args), "rows": rows})
    print()
    print(
        f"S3 capacity: {args.target} idle {args.role}s in rooms of {args.room_size}, open-files limit {limit}; "
        f"{info['date']}, {info['cores']} cores, {info['memory_gib']} GiB"
    )
    headers = [
        "server",
        "connections",
        "failures",
        "KiB/conn",
        "RSS MiB",
        "accepted/s",
        "server CPU ms/conn",
        "idle CPU %",
        "vs ref: KiB",
        "accept/s",
    ]
    print(table(headers, [
        [r["target"], r["connections"], r["failures"], r["kib_per_conn"], r["rss_mib"], r["accept_per_s"],
         r["server_cpu_ms_per_conn"], r["idle_cpu_pct"], r.get("kib_per_conn_ratio", ""),
         r.get("accept_per_s_ratio", "")]
        for r in rows
    ]))  # fmt: skip
    for r in rows:
        if r["failure_samples"]:
            print(f"  {r['target']} failures: {r['failure_samples'][:2]}")
    print("targets:")
    held = result["connections"]
    print(
        f"  [{'PASS' if held >= 19000 else 'MISS'}] idle connections held: {held:,} >= 19,000"
        + ("" if held >= 19000 else f"  (short by {19000 - held:,})")
    )
    print(check("memory per connection", result["kib_per_conn"], 16, " KiB"))
    if args.idle_seconds > 0:
        print(check("idle CPU", result["idle_cpu_pct"], 5, "% of a core"))


if __name__ == "__main__":
    asyncio.run(main())
