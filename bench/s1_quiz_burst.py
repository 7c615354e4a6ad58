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

``--guesses recorded`` is issue 11's variant: every guess is a near answer of
the riddle (bench/packs/s1-recorded.yaml), which the rules store and show to the
team without solving it, so every guess is a commit; T=26 teams, a host and a
screen connected, and per round also the bytes each client receives, server
CPU per guess, and the load generator's own share of its core.

    .venv/bin/python bench/s1_quiz_burst.py                       # P = 250, store memory (quick)
    .venv/bin/python bench/s1_quiz_burst.py --players 250,500,1000,2000 --store both
    .venv/bin/python bench/s1_quiz_burst.py --guesses recorded --players 250,2000 --ritrovo-rev HEAD
    .venv/bin/python bench/s1_quiz_burst.py --guesses recorded --players 2000 --client rust
    .venv/bin/python bench/s1_quiz_burst.py --guesses recorded --players 2000 --client rust \
        --store both --processes 2 --no-reference     # memory (1 process) and "redis x2"

``--client rust`` drives the players with bench/loadgen (a lean Rust worker,
std only, built with cargo on first use) instead of bench/lib/worker.py, so
that the load core is not the bottleneck at P = 2,000.

``--processes N`` (Redis store only) runs N Ritrovo processes sharing the one
private Redis, all on the server core (as Redis is), and splits the players
evenly over them: player i joins process i * N // P (a contiguous share each,
so every team has players on every process), and each share is split over its
own load workers, each worker talking to one process. The room is created and
the host and the screen connected on process 0. Server CPU and peak RSS are
summed over the processes; the row is named e.g. "redis x2". ``--spread``
puts process i on core i mod (cores) instead, as a deployment would give each
process a core (here the second one shares the load core).
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

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib.common import (
    BENCH,
    BenchRedis,
    LoadSampler,
    Profiler,
    ReferenceServer,
    RitrovoServers,
    Worker,
    check,
    create_room,
    fmt,
    hear_all,
    machine_info,
    pct,
    pin_self,
    raise_file_limit,
    ratio,
    run_from_revision,
    save,
    set_nice,
    split,
    stats_delta,
    stop_on_sigterm,
    store_calls,
    table,
    tell_all,
    upload_pack,
    wait_idle,
)
from lib.loadgen import ensure_built
from lib.worker import count_wire_bytes
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


RECORDED_PACK = BENCH / "packs" / "s1-recorded.yaml"

# The host and the screen: no client keepalive pings (the server's heartbeat
# does that), or a server busy for longer than websockets' 20 s ping timeout
# gets its host dropped by the client in the middle of the run.
WATCHER: dict[str, Any] = {"keep_messages": False, "ping_interval": None, "open_timeout": 300}


def recorded_pack() -> tuple[str, list[str], int]:
    """The recorded-mode pack: its text, the first riddle's near answers, its riddle count."""
    text = RECORDED_PACK.read_text()
    riddles = yaml.safe_load(text)["rounds"][0]["riddles"]
    near = [a for entry in riddles[0]["near"] for a in entry["answers"]]
    return text, near, len(riddles)


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
    """One burst against one server; ``target`` is 'memory', 'redis' or a reference mode.

    With Redis, ``--processes`` Ritrovo processes share it (the row's target is
    then e.g. 'redis x2'); memory and the reference are one process.
    """
    rng = random.Random(players * 7919 + teams)
    reference = target.startswith("ref-")
    recorded = args.guesses == "recorded"
    processes = args.processes if redis else 1
    label = f"{target} x{processes}" if processes > 1 else target
    if processes > 1 and args.spread:
        label += " spread"
    server: Any
    if reference:
        server = ReferenceServer(target[4:], name=f"s1-{target}-{players}").start()
        urls = [server.ws_url]
    else:
        patches = args.patch
        if recorded and args.near_cap == "lifted":
            patches = ",".join(p for p in (patches, "near_cap") if p)
        server = RitrovoServers(
            processes,
            redis.url if redis else None,
            name=f"s1-{target}-{players}",
            patches=patches,
            spread=args.spread,
        ).start()
        urls = server.ws_urls
    workers: list[Worker] = []
    clients: list[RitrovoClient] = []
    host: RitrovoClient | None = None
    try:
        code = "BENCH1"
        if reference:
            team_ids = [f"t{i + 1}" for i in range(teams)]
            if recorded:  # the scenario has a host connected, on the reference too
                host = await RitrovoClient.connect(server.ws_url, **WATCHER)
                clients.append(host)
                await host.hello("host", room=code)
        else:
            room = await create_room(server.base_url, "S1 burst")
            code = room["code"]
            pack_text = recorded_pack()[0] if recorded else pack(args.bursts)
            await upload_pack(server.base_url, code, room["host_token"], pack_text)
            host = await RitrovoClient.connect(server.ws_url, **WATCHER)
            clients.append(host)
            await host.hello("host", room=code, token=room["host_token"])
            for i in range(teams - 2):
                await host.request("create_team", name=f"Team {i + 3}")
            await host.wait_state(lambda s: len(s["teams"]) == teams, timeout=10)
            team_ids = [t["id"] for t in host.state["state"]["teams"]]  # type: ignore[index]
        screen = await RitrovoClient.connect(server.ws_url, **WATCHER)
        clients.append(screen)
        # (seq, arrival) of every state frame, and the size of the latest one.
        seen: dict[str, list[tuple[int, float]]] = {"screen": [], "host": []}
        sizes: dict[str, int] = {"screen": 0, "host": 0}

        wire: dict[str, list[int]] = {}

        def watch(name: str, client: RitrovoClient) -> None:
            wire[name] = count_wire_bytes(client)

            def on_frame(kind: str, message: Any, raw: bytes, at: float) -> None:
                if kind == "state":
                    seen[name].append((client.state_seq, at))
                    sizes[name] = len(raw)

            client.on_frame = on_frame

        watch("screen", screen)
        if host is not None:
            watch("host", host)
        await screen.hello("screen", room=code)
        # While the room fills and while measuring, the host and the screen only
        # read the seq of a state (like the players): the host's state holds every
        # player and every guess. open_riddle() decodes them again when it must.
        lean(host, screen)

        roster = [[f"Player {i + 1:04d}", team_ids[i % teams]] for i in range(players)]
        offsets = [rng.random() * args.window for _ in range(players)]
        if recorded:
            near = recorded_pack()[1]
            texts = [rng.choice(near) for _ in range(players)]
        else:
            texts = [
                ANSWER if rng.random() < args.accuracy else rng.choice(WRONG)
                for _ in range(players)
            ]
        # The players, split evenly over the server processes: a contiguous share
        # each (player i to process i * N // P, so every team has players on
        # every process), then each share over its own load workers (at most
        # --per-worker players each), each worker talking to one process.
        shares = [
            [i for i in range(players) if i * len(urls) // players == k] for k in range(len(urls))
        ]
        jobs = [
            (url, idx)
            for url, share in zip(urls, shares, strict=True)
            for idx in split(share, max(1, math.ceil(len(share) / args.per_worker)))
            if idx
        ]
        for w, (url, idx) in enumerate(jobs):
            job = {
                "kind": "s1",
                "url": url,
                "code": code,
                "players": [roster[i] for i in idx],
                "offsets": [offsets[i] for i in idx],
                "texts": [texts[i] for i in idx],
                "compression": args.compression,
                "rounds": args.bursts,
                "concurrency": args.join_concurrency,
                "round_timeout": args.round_timeout,
                "v": protocol_version(),
            }
            program = [args.loadgen] if args.client == "rust" else None
            workers.append(await Worker.spawn(w, job, program))
        joined = await hear_all(workers, "ready", timeout=1800)
        bursts = []
        for burst in range(args.bursts):
            if not reference:
                assert host is not None
                await open_riddle(host, screen, burst, timeout=max(60.0, args.round_timeout))
            result = await measure_burst(
                server,
                workers,
                host,
                screen,
                seen,
                sizes,
                wire,
                redis,
                target,
                players,
                burst,
                args,
                label,
            )
            bursts.append(result)
            if not result["complete"]:
                print(
                    f"  round {burst + 1} did not complete within {args.round_timeout:g} s "
                    f"({result['unanswered']} of the guesses unanswered, {result['missing_final']} "
                    "clients without the final state): no further rounds",
                    flush=True,
                )
                break
        out = summarize(label, players, teams, joined, bursts, redis is not None)
        out["processes"] = len(urls)
        out["players_per_process"] = [len(share) for share in shares]
        out["workers_per_process"] = [sum(1 for u, _ in jobs if u == url) for url in urls]
        return out
    finally:
        for w in workers:
            await w.stop()
        for c in clients:
            with contextlib.suppress(Exception):
                c.ws.transport.abort()
        server.stop()


def protocol_version() -> int:
    """The protocol version of the ritrovo under test (``--ritrovo-rev`` may be an older one)."""
    from ritrovo import protocol

    return int(getattr(protocol, "PROTOCOL_VERSION", 1))


def lean(*clients: RitrovoClient | None, on: bool = True) -> None:
    """Only read the seq of state frames (``on``), or decode them again."""
    for client in clients:
        if client is not None:
            client.parse_states = not on


async def open_riddle(
    host: RitrovoClient, screen: RitrovoClient, index: int, timeout: float = 60
) -> None:
    """The host opens riddle ``index`` (revealing the previous one if it is still open)."""
    lean(screen, on=False)
    try:
        await _open_riddle(host, screen, index, timeout)
    finally:
        lean(screen)


async def _open_riddle(
    host: RitrovoClient, screen: RitrovoClient, index: int, timeout: float
) -> None:
    if index > 0:
        with contextlib.suppress(ProtocolError):
            await host.request("reveal", timeout=timeout)
        await screen.wait_state(
            lambda s: s.get("riddle") is not None and s["riddle"]["stage"] == "revealed", timeout
        )
    await host.request("next", timeout=timeout)
    await screen.wait_state(
        lambda s: (
            s.get("riddle") is not None
            and s["riddle"]["index"] == index
            and s["riddle"]["stage"] == "open"
        ),
        timeout,
    )


async def measure_burst(
    server: Any, workers: list[Worker], host: RitrovoClient | None, screen: RitrovoClient,
    seen: dict[str, list[tuple[int, float]]], sizes: dict[str, int], wire: dict[str, list[int]],
    redis: BenchRedis | None, target: str, players: int, burst: int, args: argparse.Namespace,
    label: str,
) -> dict[str, Any]:  # fmt: skip
    settle = await wait_idle(server)  # every server process
    group = server if isinstance(server, RitrovoServers) else None
    pids = group.pids if group else [server.pid]
    # Redis store calls by operation, from each process's /metrics (commits
    # alone, apart from the lease and timer traffic that INFO counts too).
    calls0 = (
        [await asyncio.to_thread(store_calls, s.base_url) for s in group.servers]
        if group and redis
        else []
    )
    watched = {"screen": screen, **({"host": host} if host is not None else {})}
    bytes0 = {name: c.bytes_received for name, c in watched.items()}
    wire0 = {name: counter[0] for name, counter in wire.items()}
    sampler = LoadSampler([w.proc.pid for w in workers]).start()
    before = redis.commandstats() if redis else {}
    redis_cpu0 = redis.cpu_seconds() if redis else 0.0
    slug = label.replace(" ", "")
    profilers = (
        [
            Profiler(
                pid, f"s1-{slug}-{players}-{burst}" + (f"-p{i}" if len(pids) > 1 else "")
            ).start()
            for i, pid in enumerate(pids)
        ]
        if args.profile
        else []
    )
    measured = [
        *pids,
        os.getpid(),
        *(w.proc.pid for w in workers),
        *([redis.pid] if redis else []),
    ]
    set_nice(measured, args.nice)
    load_at_go = os.getloadavg()[0]
    cpu0 = group.cpu_by_process() if group else [server.cpu_seconds()]
    t0 = time.monotonic() + 0.3
    await tell_all(workers, {"cmd": "go", "t0": t0})
    # The workers give up waiting for replies after --round-timeout (then report
    # what is unanswered), so this only waits longer than that.
    acked = await hear_all(workers, "acked", timeout=args.round_timeout + 60)
    last_send = max(a["last_send"] for a in acked)
    accepted_sends = [a["last_accepted_send"] for a in acked if a["last_accepted_send"] is not None]
    last_accepted = max(accepted_sends) if accepted_sends else last_send
    # The final state: the screen's seq once nothing has changed for half a second
    # (recorded: a second, as a server that is building a flush for 2,000 clients
    # may be silent for longer than half a second).
    quiet = 1.0 if args.guesses == "recorded" else 0.5
    # A round that timed out (guesses unanswered) is reported as such: do not
    # wait another minute or two for a server that is still catching up.
    timed_out = sum(a["n"] for a in acked) < players
    wait = 5.0 if timed_out else 60.0
    stable_since, seq = time.monotonic(), screen.state_seq
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and time.monotonic() - stable_since < quiet:
        await asyncio.sleep(0.05)
        if screen.state_seq != seq:
            stable_since, seq = time.monotonic(), screen.state_seq
    final_seq = screen.state_seq
    await tell_all(workers, {"cmd": "final", "seq": final_seq, "wait": wait})
    results = await hear_all(workers, "result", timeout=120)
    cpu_by_process = [
        b - a
        for a, b in zip(
            cpu0, group.cpu_by_process() if group else [server.cpu_seconds()], strict=True
        )
    ]
    cpu = sum(cpu_by_process)  # every server process (Redis's own is redis_cpu)
    await sampler.stop()
    set_nice(measured, 0)
    for profiler in profilers:
        print(profiler.stop())
    redis_cpu = (redis.cpu_seconds() - redis_cpu0) if redis else 0.0
    after = redis.commandstats() if redis else {}
    calls: dict[str, int] = {}
    if group and redis:
        for s, c0 in zip(group.servers, calls0, strict=True):
            for op, n in stats_delta(c0, await asyncio.to_thread(store_calls, s.base_url)).items():
                calls[op] = calls.get(op, 0) + n
    hwm_mib = server.hwm_kib() / 1024
    latencies = [x * 1000 for r in results for x in r["latencies"]]
    final_at = [t for r in results for t in r["final_at"]]
    missing_watched = 0
    # The screen is a client that must get the final state; in the recorded
    # mode (issue 11: "every client") the host is one too.
    for name in watched if args.guesses == "recorded" else ["screen"]:
        at = next((t for s, t in seen[name] if s >= final_seq), None)
        if at is None:
            missing_watched += 1
        else:
            final_at.append(at)
    # The load generator's share of its core while the round is live: from the
    # first guess until every client has the final state.
    live_end = max(final_at) if final_at else time.monotonic()
    load = sampler.utilisation(t0, live_end)
    load_peak = sampler.peak(t0, live_end)
    guesses_sent = sum(len(r["latencies"]) for r in results) + sum(r["unanswered"] for r in results)
    kinds: dict[str, int] = {}
    for r in results:
        for k, v in r["kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    commits = sum(v for k, v in kinds.items() if not k.startswith("error:"))
    delta = stats_delta(before, after)
    state_bytes = sizes["screen"]  # the screen's latest state frame
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
        "cpu_s_by_process": cpu_by_process,
        "redis_cpu_s": redis_cpu,
        "hwm_mib": hwm_mib,
        "replies": kinds,
        "accepted_guesses": commits,
        "unanswered": sum(r["unanswered"] for r in results),
        "missing_final": sum(r["missing"] for r in results) + missing_watched,
        "frames": sum(r["frames"] for r in results),
        "mbytes_to_players": sum(r["bytes"] for r in results) / 1e6,
        "guesses": guesses_sent,
        "cpu_ms_per_guess": cpu * 1000 / guesses_sent if guesses_sent else float("nan"),
        "cpu_ms_per_recorded_guess": cpu * 1000 / commits if commits else float("nan"),
        "kb_per_player": sum(r["bytes"] for r in results) / 1e3 / max(1, players),
        "kb_to_host": (host.bytes_received - bytes0["host"]) / 1e3 if host else float("nan"),
        "kb_to_screen": (screen.bytes_received - bytes0["screen"]) / 1e3,
        # What crossed the socket (smaller than the messages when deflate is on).
        "kb_wire_per_player": sum(r.get("wire_bytes", 0) for r in results) / 1e3 / max(1, players),
        "kb_wire_to_host": (wire["host"][0] - wire0["host"]) / 1e3
        if "host" in wire
        else float("nan"),
        "kb_wire_to_screen": (wire["screen"][0] - wire0["screen"]) / 1e3,
        "player_state_kb_max": max((r.get("state_bytes_max", 0) for r in results), default=0) / 1e3,
        "host_state_kb": sizes["host"] / 1e3 if host else float("nan"),
        "screen_state_kb": sizes["screen"] / 1e3,
        "load_cpu_s": sum(r["cpu_s"] for r in results),
        # Share of the load core (workers + coordinator) from the first guess
        # until every client had the final state, and the worst second of it.
        "load_util": load["total"],
        "load_util_workers": load["workers"],
        "load_util_coordinator": load["coordinator"],
        "load_util_peak_1s": load_peak,
        "live_seconds": live_end - t0,
        "loadavg_at_go": load_at_go,
        "settle_seconds": settle,
        "final_seq": final_seq,
        "screen_state_chars": state_bytes,
        "redis_commands": delta,
        "store_calls": calls,
        "timeline": sorted(x for r in results for x in r["timeline"]),
    }
    out["complete"] = out["unanswered"] == 0 and out["missing_final"] == 0
    if not out["complete"]:
        # The round did not finish: there is no final state, and CPU over the
        # guesses sent would flatter it (cpu_ms_per_recorded_guess stays).
        out["final_ms"] = out["cpu_ms_per_guess"] = float("nan")
    if redis:
        evalsha = delta.get("evalsha", 0)
        out["redis_round_trips"] = evalsha + delta.get("hmget", 0) + delta.get("multi", 0)
        out["redis_round_trips_per_accepted_guess"] = (
            (evalsha + delta.get("hmget", 0)) / commits if commits else float("nan")
        )
        out["commit_retries"] = max(0, evalsha - commits)
        # The same from the servers' side, summed over the processes: their
        # commit calls only (INFO's evalsha also counts every process's timer
        # lease renewals and the lease holder's due-room polls).
        out["redis_commit_trips"] = calls.get("commit", float("nan"))
        out["redis_commit_trips_per_accepted_guess"] = (
            calls["commit"] / commits if commits and "commit" in calls else float("nan")
        )
        # A written commit appends to the room's log (XADD); a commit call that
        # did not write lost a version race (with several processes: another
        # process committed first) and was retried.
        out["redis_commits_written"] = delta.get("xadd", 0)
        out["commit_conflicts"] = calls.get("commit", math.nan) - delta.get("xadd", 0)
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
        "guesses",
        "cpu_ms_per_guess",
        "cpu_ms_per_recorded_guess",
        "kb_per_player",
        "kb_to_host",
        "kb_to_screen",
        "kb_wire_per_player",
        "kb_wire_to_host",
        "kb_wire_to_screen",
        "player_state_kb_max",
        "host_state_kb",
        "screen_state_kb",
        "load_util",
        "load_util_workers",
        "load_util_coordinator",
        "load_util_peak_1s",
        "live_seconds",
    ):
        out[key] = median(key)
        out[key + "_best"] = min((b[key] for b in bursts), default=float("nan"))
    out["complete"] = all(b["complete"] for b in bursts)
    out["rounds_complete"] = sum(1 for b in bursts if b["complete"])
    out["hwm_mib"] = max(b["hwm_mib"] for b in bursts)
    out["cpu_s_by_process"] = [
        sorted(b["cpu_s_by_process"][i] for b in bursts)[len(bursts) // 2]
        for i in range(len(bursts[0]["cpu_s_by_process"]))
    ]
    out["replies"] = bursts[len(bursts) // 2]["replies"]
    out["accepted_guesses"] = bursts[len(bursts) // 2]["accepted_guesses"]
    out["join_seconds"] = max(j["seconds"] for j in joined)
    out["screen_state_chars"] = bursts[-1]["screen_state_chars"]
    if redis:
        out["redis_round_trips_per_accepted_guess"] = median("redis_round_trips_per_accepted_guess")
        out["commit_retries"] = median("commit_retries")
        out["redis_round_trips"] = median("redis_round_trips")
        out["redis_commit_trips"] = median("redis_commit_trips")
        out["redis_commit_trips_per_accepted_guess"] = median(
            "redis_commit_trips_per_accepted_guess"
        )
        out["redis_commits_written"] = median("redis_commits_written")
        out["commit_conflicts"] = median("commit_conflicts")
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
    parser.add_argument(
        "--guesses",
        choices=("mixed", "recorded"),
        default="mixed",
        help="mixed: a share right, the rest wrong (most refused by the rules); recorded: every "
        "guess a near answer the rules store (issue 11; T=26, reference coalesce, 3 rounds)",
    )
    parser.add_argument(
        "--near-cap",
        choices=("lifted", "production"),
        default="lifted",
        help="recorded: 'lifted' lets a team record up to 100 near answers per 10 s (patched_serve "
        "near_cap) so every guess is recorded; 'production' keeps 20 and reports what it refuses",
    )
    parser.add_argument(
        "--round-timeout",
        type=float,
        default=150.0,
        help="seconds a round may take before it is reported as not completed (default 150)",
    )
    parser.add_argument(
        "--ritrovo-rev",
        default="",
        help="run server and clients from this git revision (e.g. HEAD) instead of the working tree",
    )
    parser.add_argument(
        "--teams", type=int, default=None, help="T teams (default 20, recorded 26; at most 26)"
    )
    parser.add_argument("--store", choices=("memory", "redis", "both"), default="memory")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="Ritrovo server processes sharing the one Redis (default 1; more needs --store redis "
        "or both, and 'both' then runs memory with one process and Redis with N). All are pinned "
        "to the server core, as Redis is; the players are split evenly (player i joins process "
        "i*N//P; each load worker talks to one process); the room is created and the host and "
        "the screen connected on process 0. Server CPU and peak RSS are the sum over the "
        "processes; the row is named 'redis xN'",
    )
    parser.add_argument(
        "--spread",
        action="store_true",
        help="with --processes N: process i runs on core i mod (cores) instead of all on the "
        "server core (on a 2-core machine the second process shares the load core; the load "
        "core share then counts the load only)",
    )
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
        "--client",
        choices=("python", "rust"),
        default="python",
        help="the players' load worker: python (bench/lib/worker.py, RitrovoClient) or rust "
        "(bench/loadgen, built with cargo on first use; a lean client that is not the bottleneck "
        "at P = 2,000). The host and the screen are RitrovoClients in this process either way",
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
        default=None,
        help="reference variants to run (default per-message,coalesce; recorded: coalesce)",
    )
    parser.add_argument(
        "--save",
        default="s1-latest",
        help="results file name in bench/results/ (default s1-latest; the README table and the plot use s1)",
    )
    args = parser.parse_args()
    if args.processes < 1:
        parser.error("--processes: at least 1")
    if args.processes > 1 and args.store == "memory":
        parser.error(
            "--processes N > 1 needs --store redis (or both): processes share rooms through Redis"
        )
    under_test = run_from_revision(args.ritrovo_rev)  # may re-execute this script
    args.loadgen = str(ensure_built()) if args.client == "rust" else ""
    recorded = args.guesses == "recorded"
    if args.teams is None:
        args.teams = 26 if recorded else 20
    if args.reference_modes is None:
        args.reference_modes = "coalesce" if recorded else "per-message,coalesce"
    if recorded and args.bursts > recorded_pack()[2]:
        parser.error(f"--bursts: {RECORDED_PACK.name} has {recorded_pack()[2]} riddles")
    pin_self()
    stop_on_sigterm()
    raise_file_limit()
    sizes = [int(p) for p in args.players.split(",") if p.strip()]
    stores = ["memory", "redis"] if args.store == "both" else [args.store]
    info = machine_info()
    info["ritrovo"] = under_test
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
            for key in RATIO_KEYS:
                result[key + "_ratio"] = ratio(result[key], coal.get(key, float("nan")))
            if args.patch:
                result["target"] = f"{result['target']}+{args.patch}"
            if recorded:
                result["near_cap"] = args.near_cap
            rows.append(result)
            save(args.save, {"machine": info, "args": vars(args), "rows": rows})
    out: dict[str, Any] = {"machine": info, "args": vars(args), "rows": rows}
    if recorded:
        out["cpu_per_guess_scaling"] = scaling(rows)
    save(args.save, out)
    if recorded:
        report_recorded(rows, args, info, out["cpu_per_guess_scaling"])
        return
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
        f"compression {args.compression}, {args.client} load client; {info['date']}, {info['cores']} cores, "
        f"{info['memory_gib']} GiB"
    )
    print(table(headers, body))
    print_redis(rows)
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
    for red in (r for r in rows if r["target"].startswith("redis") and r["players"] == 2000):
        if mem:
            print(
                check(f"{red['target']} p99 vs memory p99", red["p99_ms"] / mem["p99_ms"], 2.0, "x")
            )
        print(
            check(
                f"{red['target']} round trips per accepted guess",
                red["redis_round_trips_per_accepted_guess"],
                1.0,
            )
        )


def print_redis(rows: list[dict[str, Any]]) -> None:
    """Per Redis row: round trips (INFO commandstats, and the servers' own commit calls),
    Redis's CPU, and the server CPU of each process when there are several."""
    for r in rows:
        if "redis_round_trips" not in r:
            continue
        per_process = r.get("cpu_s_by_process", [])
        split_cpu = (
            f"; server CPU by process {' + '.join(f'{c:.2f}' for c in per_process)} s"
            f" (players {'/'.join(str(n) for n in r.get('players_per_process', []))})"
            if len(per_process) > 1
            else ""
        )
        print(
            f"  {r['target']} P={r['players']}: {r['redis_round_trips']:.0f} round trips (INFO: evalsha "
            f"+ hmget + multi) for {r['accepted_guesses']} accepted guesses "
            f"({r['redis_round_trips_per_accepted_guess']:.2f} each, {r['commit_retries']:.0f} "
            f"evalsha beyond them); commit calls (servers' /metrics) "
            f"{fmt(r.get('redis_commit_trips', float('nan')), 0)} "
            f"({fmt(r.get('redis_commit_trips_per_accepted_guess', float('nan')), 2)} each; "
            f"{fmt(r.get('redis_commits_written', float('nan')), 0)} written, "
            f"{fmt(r.get('commit_conflicts', float('nan')), 0)} lost a version race); "
            f"redis CPU {r['redis_cpu_s']:.2f} s{split_cpu}"
        )


RATIO_KEYS = (
    "p50_ms", "p99_ms", "final_ms", "cpu_s", "hwm_mib", "cpu_ms_per_guess", "kb_per_player",
    "kb_wire_per_player",
)  # fmt: skip


def scaling(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """CPU per guess at the largest P over that at the smallest, per server (issue 11: <= 1.3)."""
    out: dict[str, Any] = {}
    for target in dict.fromkeys(r["target"] for r in rows):
        mine = sorted(
            (r for r in rows if r["target"] == target and r["complete"]), key=lambda r: r["players"]
        )
        if len(mine) < 2:
            continue
        small, large = mine[0], mine[-1]
        out[target] = {
            "small_p": small["players"],
            "large_p": large["players"],
            "small_ms": small["cpu_ms_per_guess"],
            "large_ms": large["cpu_ms_per_guess"],
            "ratio": large["cpu_ms_per_guess"] / small["cpu_ms_per_guess"]
            if small["cpu_ms_per_guess"]
            else float("nan"),
        }
    return out


def report_recorded(
    rows: list[dict[str, Any]], args: argparse.Namespace, info: dict[str, Any],
    scale: dict[str, Any],
) -> None:  # fmt: skip
    """The recorded-mode table: issue 11's figures, each with its ratio to the reference."""
    by = {(r["target"], r["players"]): r for r in rows}

    def cell(r: dict[str, Any], key: str, digits: int = 1) -> str:
        value = fmt(r[key], digits)
        ref = by.get(("ref-coalesce", r["players"]))
        if ref is None or r["target"] == "ref-coalesce":
            return value
        return f"{value} ({ratio(r[key], ref[key])})"

    headers = ["server", "P", "rounds ok", "recorded/guesses", "CPU s per round", "CPU ms per guess",
               "ack p50 ms", "ack p99 ms", "final ms", "KB per player", "wire KB per player",
               "KB host", "KB screen", "load core", "load peak 1 s"]  # fmt: skip
    body = []
    for r in rows:
        body.append([
            r["target"], r["players"], f"{r['rounds_complete']}/{args.bursts}",
            f"{r['accepted_guesses']}/{r['guesses']:.0f}",
            cell(r, "cpu_s", 2), cell(r, "cpu_ms_per_guess", 2), cell(r, "p50_ms"), cell(r, "p99_ms"),
            cell(r, "final_ms"), cell(r, "kb_per_player"), cell(r, "kb_wire_per_player"),
            fmt(r["kb_to_host"]), fmt(r["kb_to_screen"]),
            fmt(r["load_util"], 2), fmt(r["load_util_peak_1s"], 2),
        ])  # fmt: skip
    print()
    print(
        f"S1 recorded guesses (every guess a near answer; near cap {args.near_cap}), "
        f"T={args.teams} teams, window {args.window:g} s, {args.bursts} rounds per run (median), "
        f"host and screen connected, compression {args.compression}, {args.client} load client; "
        f"ratios to ref-coalesce of "
        f"the same P; {info['date']}, {info['cores']} cores; ritrovo: {info['ritrovo']}"
    )
    print(table(headers, body))
    for r in rows:
        refused = {k: v for k, v in r["replies"].items() if k.startswith("error:")}
        if refused and not r["target"].startswith("ref-"):
            print(f"  {r['target']} P={r['players']}: refused {refused}")
    print_redis(rows)
    for r in rows:
        mem = by.get(("memory", r["players"]))
        if r["target"].startswith("redis") and mem:
            print(
                check(
                    f"{r['target']} P={r['players']} ack p99 vs memory",
                    r["p99_ms"] / mem["p99_ms"],
                    2.0,
                    "x",
                )
            )
    for target, s in scale.items():
        print(
            f"  {target}: CPU per guess {s['small_ms']:.2f} ms at P={s['small_p']}, "
            f"{s['large_ms']:.2f} ms at P={s['large_p']}: {s['ratio']:.2f}x (issue 11: <= 1.3x)"
        )
    ref = by.get(("ref-coalesce", 2000))
    if ref:
        print(check("load core share at P=2000 against the reference", ref["load_util"], 0.5))


if __name__ == "__main__":
    asyncio.run(main())
