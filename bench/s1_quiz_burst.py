"""S1 quiz burst: one room, P players in T teams, one riddle, every player guesses
within a one-second window (a share of them right).

Figures, for Ritrovo (memory and/or Redis store) and for the reference server
(both variants) in the same run:

* guess -> verdict latency p50/p99 (the ``ack`` with the result, or the error
  that refuses the guess: too many wrong guesses, already solved...);
* time from the last guess sent until every player and the screen have
  received the final state (the scoreboard after the last guess);
* server CPU seconds for the round (utime+stime from /proc, from the start of
  the burst until every client has the final state);
* server peak RSS (VmHWM).

    .venv/bin/python bench/s1_quiz_burst.py                       # P = 250, store memory (quick)
    .venv/bin/python bench/s1_quiz_burst.py --players 250,500,1000,2000 --store both
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.common import (
    BenchRedis,
    Profiler,
    ReferenceServer,
    RitrovoServer,
    Worker,
    check,
    create_room,
    hear_all,
    machine_info,
    pct,
    pin_self,
    raise_file_limit,
    ratio,
    save,
    set_nice,
    split,
    stats_delta,
    stop_on_sigterm,
    table,
    tell_all,
    upload_pack,
    wait_idle,
)
from ritrovo.client import ProtocolError, RitrovoClient

ANSWER = "printer"
WRONG = (
    "stapler",
    "keyboard",
    "coffee",
    "calendar",
    "chair",
    "desk",
    "clock",
    "window",
    "umbrella",
    "pencil",
)

RIDDLE = f"""
      - text: "I jam more often than a garage band, but I never played a note ({{n}}). What am I?"
        answers: ["{ANSWER}"]
        time_limit: 3600
        points: 100
"""


def pack(bursts: int) -> str:
    """One riddle per burst: each burst of a run is a fresh riddle in the same room."""
    riddles = "".join(RIDDLE.format(n=i + 1) for i in range(bursts))
    return f"""
id: bench-s1
title: "Bench S1: quiz burst"
language: en
rounds:
  - kind: riddles
    title: Burst
    riddles:{riddles}
"""


async def run_once(
    target: str, players: int, teams: int, args: argparse.Namespace, redis: BenchRedis | None = None
) -> dict[str, Any]:
    """One burst against one server; ``target`` is 'memory', 'redis' or a reference mode."""
    rng = random.Random(players * 7919 + teams)
    reference = target.startswith("ref-")
    server: Any
    if reference:
        server = ReferenceServer(target[4:], name=f"s1-{target}-{players}").start()
    else:
        server = RitrovoServer(
            redis.url if redis else None, name=f"s1-{target}-{players}", patches=args.patch
        ).start()
    workers: list[Worker] = []
    clients: list[RitrovoClient] = []
    try:
        code = "BENCH1"
        if reference:
            team_ids = [f"t{i + 1}" for i in range(teams)]
        else:
            room = await create_room(server.base_url, "S1 burst")
            code = room["code"]
            await upload_pack(server.base_url, code, room["host_token"], pack(args.bursts))
            host = await RitrovoClient.connect(server.ws_url, keep_messages=False)
            clients.append(host)
            await host.hello("host", room=code, token=room["host_token"])
            for i in range(teams - 2):
                await host.request("create_team", name=f"Team {i + 3}")
            await host.wait_state(lambda s: len(s["teams"]) == teams, timeout=10)
            team_ids = [t["id"] for t in host.state["state"]["teams"]]  # type: ignore[index]
        screen = await RitrovoClient.connect(server.ws_url, keep_messages=False)
        clients.append(screen)
        screen_seen: list[tuple[int, float]] = []

        def on_screen(kind: str, message: Any, raw: bytes, at: float) -> None:
            if kind == "state" and message is not None:
                screen_seen.append((message["seq"], at))

        screen.on_frame = on_screen
        await screen.hello("screen", room=code)

        roster = [[f"Player {i + 1:04d}", team_ids[i % teams]] for i in range(players)]
        offsets = [rng.random() * args.window for _ in range(players)]
        texts = [
            ANSWER if rng.random() < args.accuracy else rng.choice(WRONG) for _ in range(players)
        ]
        parts = max(1, math.ceil(players / args.per_worker))
        indexes = split(list(range(players)), parts)
        for w, idx in enumerate(indexes):
            job = {
                "kind": "s1",
                "url": server.ws_url,
                "code": code,
                "players": [roster[i] for i in idx],
                "offsets": [offsets[i] for i in idx],
                "texts": [texts[i] for i in idx],
                "compression": args.compression,
                "rounds": args.bursts,
                "concurrency": args.join_concurrency,
            }
            workers.append(await Worker.spawn(w, job))
        joined = await hear_all(workers, "ready", timeout=1800)
        bursts = []
        for burst in range(args.bursts):
            if not reference:
                await open_riddle(host, screen, burst)
            bursts.append(
                await measure_burst(
                    server, workers, screen, screen_seen, redis, target, players, burst, args
                )
            )
        return summarize(target, players, teams, joined, bursts, redis is not None)
    finally:
        for w in workers:
            await w.stop()
        for c in clients:
            with contextlib.suppress(Exception):
                c.ws.transport.abort()
        server.stop()


async def open_riddle(host: RitrovoClient, screen: RitrovoClient, index: int) -> None:
    """The host opens riddle ``index`` (revealing the previous one if it is still open)."""
    if index > 0:
        with contextlib.suppress(ProtocolError):
            await host.request("reveal", timeout=60)
        await screen.wait_state(
            lambda s: s.get("riddle") is not None and s["riddle"]["stage"] == "revealed", 60
        )
    await host.request("next", timeout=60)
    await screen.wait_state(
        lambda s: (
            s.get("riddle") is not None
            and s["riddle"]["index"] == index
            and s["riddle"]["stage"] == "open"
        ),
        60,
    )


async def measure_burst(
    server: Any, workers: list[Worker], screen: RitrovoClient, screen_seen: list[tuple[int, float]],
    redis: BenchRedis | None, target: str, players: int, burst: int, args: argparse.Namespace,
) -> dict[str, Any]:  # fmt: skip
    settle = await wait_idle(server)
    before = redis.commandstats() if redis else {}
    redis_cpu0 = redis.cpu_seconds() if redis else 0.0
    profiler = (
        Profiler(server.pid, f"s1-{target}-{players}-{burst}").start() if args.profile else None
    )
    measured = [
        server.pid,
        os.getpid(),
        *(w.proc.pid for w in workers),
        *([redis.pid] if redis else []),
    ]
    set_nice(measured, args.nice)
    load_at_go = os.getloadavg()[0]
    cpu0 = server.cpu_seconds()
    t0 = time.monotonic() + 0.3
    await tell_all(workers, {"cmd": "go", "t0": t0})
    acked = await hear_all(workers, "acked", timeout=300)
    last_send = max(a["last_send"] for a in acked)
    accepted_sends = [a["last_accepted_send"] for a in acked if a["last_accepted_send"] is not None]
    last_accepted = max(accepted_sends) if accepted_sends else last_send
    # The final state: the screen's seq once nothing has changed for half a second.
    stable_since, seq = time.monotonic(), screen.state_seq
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and time.monotonic() - stable_since < 0.5:
        await asyncio.sleep(0.05)
        if screen.state_seq != seq:
            stable_since, seq = time.monotonic(), screen.state_seq
    final_seq = screen.state_seq
    await tell_all(workers, {"cmd": "final", "seq": final_seq})
    results = await hear_all(workers, "result", timeout=120)
    cpu = server.cpu_seconds() - cpu0
    set_nice(measured, 0)
    if profiler is not None:
        print(profiler.stop())
    redis_cpu = (redis.cpu_seconds() - redis_cpu0) if redis else 0.0
    after = redis.commandstats() if redis else {}
    hwm_mib = server.hwm_kib() / 1024
    latencies = [x * 1000 for r in results for x in r["latencies"]]
    final_at = [t for r in results for t in r["final_at"]]
    screen_final = next((t for s, t in screen_seen if s >= final_seq), None)
    if screen_final is not None:
        final_at.append(screen_final)
    kinds: dict[str, int] = {}
    for r in results:
        for k, v in r["kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    commits = sum(v for k, v in kinds.items() if not k.startswith("error:"))
    delta = stats_delta(before, after)
    state_bytes = len(orjson.dumps(screen.state)) if screen.state else 0  # one screen state
    out = {
        "burst": burst,
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "max_ms": max(latencies) if latencies else float("nan"),
        # From the last guess that changed the scoreboard (refused guesses change nothing).
        # Negative means the screen's seq went quiet before the server had
        # sent everything (the per-message reference at large P): no figure.
        "final_ms": final_ms
        if (final_ms := (max(final_at) - last_accepted) * 1000) >= 0
        else float("nan"),
        "final_after_last_guess_ms": max(0.0, (max(final_at) - last_send) * 1000),
        "cpu_s": cpu,
        "redis_cpu_s": redis_cpu,
        "hwm_mib": hwm_mib,
        "replies": kinds,
        "accepted_guesses": commits,
        "unanswered": sum(r["unanswered"] for r in results),
        "missing_final": sum(r["missing"] for r in results),
        "frames": sum(r["frames"] for r in results),
        "mbytes_to_players": sum(r["bytes"] for r in results) / 1e6,
        "load_cpu_s": sum(r["cpu_s"] for r in results),
        "loadavg_at_go": load_at_go,
        "settle_seconds": settle,
        "final_seq": final_seq,
        "screen_state_chars": state_bytes,
        "redis_commands": delta,
        "timeline": sorted(x for r in results for x in r["timeline"]),
    }
    if redis:
        evalsha = delta.get("evalsha", 0)
        out["redis_round_trips"] = evalsha + delta.get("hmget", 0) + delta.get("multi", 0)
        out["redis_round_trips_per_accepted_guess"] = (
            (evalsha + delta.get("hmget", 0)) / commits if commits else float("nan")
        )
        out["commit_retries"] = max(0, evalsha - commits)
    return out


def summarize(
    target: str,
    players: int,
    teams: int,
    joined: list[dict[str, Any]],
    bursts: list[dict[str, Any]],
    redis: bool,
) -> dict[str, Any]:
    """The run's figures: the median over its bursts (each burst is also kept)."""

    def median(key: str) -> float:
        values = sorted(
            b[key]
            for b in bursts
            if isinstance(b.get(key), (int, float)) and not math.isnan(b[key])
        )
        return values[len(values) // 2] if values else float("nan")

    out: dict[str, Any] = {
        "target": target,
        "players": players,
        "teams": teams,
        "bursts": len(bursts),
    }
    for key in (
        "p50_ms",
        "p99_ms",
        "max_ms",
        "final_ms",
        "final_after_last_guess_ms",
        "cpu_s",
        "redis_cpu_s",
        "load_cpu_s",
        "mbytes_to_players",
        "loadavg_at_go",
    ):
        out[key] = median(key)
        out[key + "_best"] = min((b[key] for b in bursts), default=float("nan"))
    out["hwm_mib"] = max(b["hwm_mib"] for b in bursts)
    out["replies"] = bursts[len(bursts) // 2]["replies"]
    out["accepted_guesses"] = bursts[len(bursts) // 2]["accepted_guesses"]
    out["join_seconds"] = max(j["seconds"] for j in joined)
    out["screen_state_chars"] = bursts[-1]["screen_state_chars"]
    if redis:
        out["redis_round_trips_per_accepted_guess"] = median("redis_round_trips_per_accepted_guess")
        out["commit_retries"] = median("commit_retries")
        out["redis_round_trips"] = median("redis_round_trips")
    out["per_burst"] = [{k: v for k, v in b.items() if k != "timeline"} for b in bursts]
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--players",
        default="250",
        help="comma-separated P values (default 250; the issue: 250,500,1000,2000)",
    )
    parser.add_argument("--teams", type=int, default=20, help="T teams (default 20; at most 26)")
    parser.add_argument("--store", choices=("memory", "redis", "both"), default="memory")
    parser.add_argument(
        "--accuracy", type=float, default=0.3, help="share of right guesses (default 0.3)"
    )
    parser.add_argument(
        "--bursts",
        type=int,
        default=3,
        help="bursts per run (a fresh riddle each, same players); figures are the median (default 3)",
    )
    parser.add_argument(
        "--window", type=float, default=1.0, help="seconds over which the guesses are spread"
    )
    parser.add_argument(
        "--join-concurrency",
        type=int,
        default=20,
        help="joins in flight per load process while the room fills (default 20)",
    )
    parser.add_argument(
        "--per-worker", type=int, default=500, help="clients per load process (default 500)"
    )
    parser.add_argument(
        "--compression",
        choices=("deflate", "none"),
        default="deflate",
        help="permessage-deflate offered by the clients, as browsers do (default deflate)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the server during each round (bench/results/profiles/)",
    )
    parser.add_argument(
        "--patch",
        default="",
        help="experiment: candidate fixes patched into the server "
        "(bench/lib/patched_serve.py: room_lock,decoded_cache,small_views)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=-20,
        help="priority of the server and load processes while measuring (root only; 0 = leave)",
    )
    parser.add_argument("--no-reference", action="store_true", help="skip the reference server")
    parser.add_argument(
        "--reference-modes",
        default="per-message,coalesce",
        help="reference variants to run (default per-message,coalesce)",
    )
    parser.add_argument(
        "--save",
        default="s1-latest",
        help="results file name in bench/results/ (default s1-latest; the README table and the plot use s1)",
    )
    args = parser.parse_args()
    pin_self()
    stop_on_sigterm()
    raise_file_limit()
    sizes = [int(p) for p in args.players.split(",") if p.strip()]
    stores = ["memory", "redis"] if args.store == "both" else [args.store]
    info = machine_info()
    rows: list[dict[str, Any]] = []
    for players in sizes:
        refs: dict[str, dict[str, Any]] = {}
        if not args.no_reference:
            for mode in args.reference_modes.split(","):
                print(f"S1 P={players}: reference server ({mode})...", flush=True)
                refs[mode] = await run_once("ref-" + mode, players, args.teams, args)
                rows.append(refs[mode])
        for store in stores:
            print(f"S1 P={players}: ritrovo ({store} store)...", flush=True)
            redis = BenchRedis().start() if store == "redis" else None
            try:
                result = await run_once(store, players, args.teams, args, redis)
            finally:
                if redis:
                    redis.stop()
            coal = refs.get("coalesce", {})
            for key in ("p50_ms", "p99_ms", "final_ms", "cpu_s", "hwm_mib"):
                result[key + "_ratio"] = ratio(result[key], coal.get(key, float("nan")))
            if args.patch:
                result["target"] = f"{store}+{args.patch}"
            rows.append(result)
            save(args.save, {"machine": info, "args": vars(args), "rows": rows})
    save(args.save, {"machine": info, "args": vars(args), "rows": rows})
    headers = ["server", "P", "p50 ms", "p99 ms", "p99 best", "final ms", "CPU s", "RSS MiB",
               "vs ref: p99", "final", "CPU", "accepted", "refused"]  # fmt: skip
    body = []
    for r in rows:
        refused = sum(v for k, v in r["replies"].items() if k.startswith("error:"))
        body.append([
            r["target"], r["players"], r["p50_ms"], r["p99_ms"], r["p99_ms_best"], r["final_ms"], r["cpu_s"],
            r["hwm_mib"], r.get("p99_ms_ratio", ""), r.get("final_ms_ratio", ""), r.get("cpu_s_ratio", ""),
            r["accepted_guesses"], refused,
        ])  # fmt: skip
    print()
    print(
        f"S1 quiz burst ({args.bursts} bursts per run: median, and best p99), T={args.teams} teams, {args.accuracy:.0%} right, window {args.window:g} s, "
        f"compression {args.compression}; {info['date']}, {info['cores']} cores, {info['memory_gib']} GiB"
    )
    print(table(headers, body))
    for r in rows:
        if r["target"].startswith("redis"):
            print(
                f"  redis P={r['players']}: {r['redis_round_trips']} round trips for {r['accepted_guesses']} "
                f"accepted guesses ({r['redis_round_trips_per_accepted_guess']:.2f} each, "
                f"{r['commit_retries']} CAS retries); redis CPU {r['redis_cpu_s']:.2f} s"
            )
    print("targets (P=2000):")
    by = {(r["target"], r["players"]): r for r in rows}
    mem, ref = by.get(("memory", 2000)), by.get(("ref-coalesce", 2000))
    if mem:
        print(check("memory p99 guess->verdict", mem["p99_ms"], 60, " ms"))
        print(check("memory final scoreboard to every client", mem["final_ms"], 150, " ms"))
        if ref:
            print(
                check("memory CPU vs reference (coalescing)", mem["cpu_s"] / ref["cpu_s"], 1.5, "x")
            )
    red = by.get(("redis", 2000))
    if red and mem:
        print(check("redis p99 vs memory p99", red["p99_ms"] / mem["p99_ms"], 2.0, "x"))
        print(
            check(
                "redis round trips per accepted guess",
                red["redis_round_trips_per_accepted_guess"],
                1.0,
            )
        )


if __name__ == "__main__":
    asyncio.run(main())
