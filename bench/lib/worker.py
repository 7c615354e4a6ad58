"""A load worker: many protocol clients in one process, driven over stdin/stdout.

Started by the scenarios on the load core. It reads one JSON job from stdin,
connects its clients (``ritrovo.client.RitrovoClient``), prints
``{"event": "ready"}``, and then follows the coordinator's commands. All times
are ``time.monotonic()``, which is one clock for every process of the machine,
so the coordinator can compare times taken by different workers.

Jobs: ``s1`` (quiz burst players), ``s2`` (story rooms), ``s3`` (idle connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ritrovo.client import ProtocolError, RitrovoClient
from websockets.exceptions import WebSocketException


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


async def command(expected: str) -> dict[str, Any]:
    """The next command line from the coordinator (blocking read in a thread)."""
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            raise SystemExit(0)  # the coordinator went away
        message: dict[str, Any] = json.loads(line)
        if message.get("cmd") == expected:
            return message


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def count_wire_bytes(client: RitrovoClient) -> list[int]:
    """A one-item counter of the bytes this connection reads from its socket.

    ``RitrovoClient.bytes_received`` counts message bytes after
    permessage-deflate has inflated them; what crossed the network is smaller
    when the server compresses (the reference server does, Ritrovo does not).
    The transport looks ``data_received`` up on the protocol at every read, so
    an instance attribute sees every chunk (one call per socket read, not per
    frame).
    """
    counter = [0]
    protocol: Any = client.ws
    original = protocol.data_received

    def data_received(data: bytes) -> None:
        counter[0] += len(data)
        original(data)

    protocol.data_received = data_received
    return counter


def connect_options(job: dict[str, Any]) -> dict[str, Any]:
    compression = job.get("compression", "deflate")
    return {
        "compression": None if compression in (None, "none") else compression,
        "max_queue": None,
        "open_timeout": 300,  # a server busy pushing states to thousands of clients answers late
        "ping_interval": None,  # no client keepalive pings: the server's heartbeat does that
    }


async def bounded(coros: list[Any], concurrency: int) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def run(coro: Any) -> Any:
        async with gate:
            return await coro

    return await asyncio.gather(*(run(c) for c in coros), return_exceptions=True)


# -- S1: quiz burst ------------------------------------------------------------


async def s1(job: dict[str, Any]) -> None:
    url, code = job["url"], job["code"]
    players: list[list[str]] = job["players"]  # [name, team]
    n = len(players)
    clients: list[RitrovoClient | None] = [None] * n
    arrivals: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    state_sizes = [0] * n  # bytes of each client's latest state frame
    wire: list[list[int]] = [[0] for _ in range(n)]  # bytes read from each socket
    # The current round's replies: (client, request id) -> (arrival, outcome).
    current: dict[str, Any] = {"replies": {}, "done": asyncio.Event(), "expected": n}

    def hook_for(i: int) -> Any:
        seen = arrivals[i]

        def hook(kind: str, message: dict[str, Any] | None, raw: bytes, at: float) -> None:
            client = clients[i]
            if kind == "state":
                state_sizes[i] = len(raw)
                seq = client.state_seq if client is not None else -1
                if not seen or seen[-1][0] != seq:
                    seen.append((seq, at))
            elif message is not None and kind in ("ack", "error") and message.get("id") is not None:
                if kind == "ack":
                    outcome = str((message.get("result") or {}).get("verdict", "ack"))
                else:
                    outcome = "error:" + str(message.get("code"))
                replies = current["replies"]
                replies[(i, message["id"])] = (at, outcome)
                if len(replies) >= current["expected"]:
                    current["done"].set()

        return hook

    async def join(i: int) -> None:
        name, team = players[i]
        for attempt in range(3):  # bounded retries: a saturated server may drop a handshake
            try:
                client = await RitrovoClient.connect(
                    url, keep_messages=False, parse_states=False, **connect_options(job)
                )
            except (TimeoutError, OSError):
                if attempt == 2:
                    raise
                await asyncio.sleep(1.0)
                continue
            clients[i] = client
            wire[i] = count_wire_bytes(client)
            client.on_frame = hook_for(i)
            fields = {"room": code, "name": name}
            if team:
                fields["team"] = team
            for busy in range(20):  # Redis: concurrent joins of one room may give up with "busy"
                try:
                    await client.hello("join", timeout=600, **fields)
                    return
                except ProtocolError as exc:
                    if exc.code != "busy" or busy == 19:
                        raise
                    await asyncio.sleep(0.2 * (busy + 1))
            return

    started = time.monotonic()
    outcomes = await bounded([join(i) for i in range(n)], job.get("concurrency", 20))
    failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    if failures:
        emit("error", error=f"{len(failures)} joins failed: {failures[:3]}")
        return
    emit("ready", n=n, seconds=time.monotonic() - started)

    for _ in range(int(job.get("rounds", 1))):
        go = await command("go")
        t0 = float(go["t0"])
        current.update(replies={}, done=asyncio.Event())
        replies: dict[tuple[int, int], tuple[float, str]] = current["replies"]
        cpu0 = cpu_seconds()
        frames0 = sum(c.received for c in clients if c)
        bytes0 = sum(c.bytes_received for c in clients if c)
        wire0 = sum(w[0] for w in wire)
        sends: dict[tuple[int, int], float] = {}

        async def guess(
            i: int, t0: float = t0, sends: dict[tuple[int, int], float] = sends
        ) -> None:
            client = clients[i]
            assert client is not None
            # Waits until this guess's scheduled time (a schedule, not a synchronisation).
            await asyncio.sleep(max(0.0, t0 + job["offsets"][i] - time.monotonic()))
            sent = time.monotonic()
            request_id = await client.send("guess", text=job["texts"][i])
            sends[(i, request_id)] = sent

        await asyncio.gather(*(guess(i) for i in range(n)))
        # Bounded: a round the server never finishes is reported (unanswered), not waited for.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(current["done"].wait(), float(job.get("round_timeout", 120)))
        latencies = [replies[k][0] - sent for k, sent in sends.items() if k in replies]
        timeline = sorted(
            (sent - t0, replies[k][0] - sent) for k, sent in sends.items() if k in replies
        )
        kinds: dict[str, int] = {}
        for _, outcome in replies.values():
            kinds[outcome] = kinds.get(outcome, 0) + 1
        accepted = [
            sent
            for k, sent in sends.items()
            if k in replies and not replies[k][1].startswith("error:")
        ]
        emit(
            "acked",
            n=len(replies),
            last_send=max(sends.values()),
            first_send=min(sends.values()),
            last_accepted_send=max(accepted) if accepted else None,
        )

        final_cmd = await command("final")
        final = int(final_cmd["seq"])
        deadline = time.monotonic() + float(final_cmd.get("wait", 60))
        while time.monotonic() < deadline:  # bounded wait for every client to see the final state
            if all(c is not None and c.state_seq >= final for c in clients):
                break
            await asyncio.sleep(0.05)
        final_at = []
        missing = 0
        for seen in arrivals:
            at = next((t for seq, t in seen if seq >= final), None)
            if at is None:
                missing += 1
            else:
                final_at.append(at)
        emit(
            "result",
            latencies=latencies,
            timeline=timeline,
            kinds=kinds,
            unanswered=len(sends) - len(latencies),
            final_at=final_at,
            missing=missing,
            frames=sum(c.received for c in clients if c) - frames0,
            bytes=sum(c.bytes_received for c in clients if c) - bytes0,
            wire_bytes=sum(w[0] for w in wire) - wire0,
            max_rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            cpu_s=cpu_seconds() - cpu0,
            state_bytes_max=max(state_sizes, default=0),
        )


# -- S2: story afternoon ---------------------------------------------------------


async def s2(job: dict[str, Any]) -> None:
    url = job["url"]
    rooms: list[dict[str, Any]] = job["rooms"]  # {code, names}
    members: list[list[RitrovoClient]] = [[] for _ in rooms]
    # first arrival per client of (team, lines_count)
    seen: dict[int, dict[tuple[str, int], float]] = {}
    wire: list[list[int]] = []  # bytes read from each player's socket (count_wire_bytes)
    # Optional: the frames one player (the second of the first room) gets while
    # the rooms write, [arrival, payload bytes, frame] (S2 --sample-frames).
    sample: dict[str, Any] = {"key": None, "frames": [], "on": False}
    sample_limit = int(job.get("sample_frames", 0))

    def hook_for(key: int) -> Any:
        mine = seen.setdefault(key, {})

        def hook(kind: str, message: dict[str, Any] | None, raw: bytes, at: float) -> None:
            if key == sample["key"] and sample["on"] and len(sample["frames"]) < sample_limit:
                sample["frames"].append([at, len(raw), raw.decode("utf-8", "replace")])
            if kind != "state" or message is None:
                return
            story = (message.get("state") or {}).get("story") or {}
            for tid, entry in (story.get("teams") or {}).items():
                count = entry.get("lines_count", 0)
                if (tid, count) not in mine:
                    mine[(tid, count)] = at

        return hook

    async def join(r: int, name: str) -> None:
        client = await RitrovoClient.connect(url, keep_messages=False, **connect_options(job))
        wire.append(count_wire_bytes(client))
        client.on_frame = hook_for(id(client))
        if r == 0 and name == rooms[0]["names"][min(1, len(rooms[0]["names"]) - 1)]:
            sample["key"] = id(client)
        for busy in range(20):  # Redis: concurrent joins of one room may give up with "busy"
            try:
                await client.hello("join", timeout=120, room=rooms[r]["code"], name=name)
                break
            except ProtocolError as exc:
                if exc.code != "busy" or busy == 19:
                    raise
                await asyncio.sleep(0.2 * (busy + 1))
        members[r].append(client)

    started = time.monotonic()
    outcomes = await bounded(
        [join(r, name) for r, room in enumerate(rooms) for name in room["names"]],
        job.get("concurrency", 20),
    )
    failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    if failures:
        emit("error", error=f"{len(failures)} joins failed: {failures[:3]}")
        return
    emit("ready", n=sum(len(m) for m in members), seconds=time.monotonic() - started)

    go = await command("go")
    collector_off()
    cpu0, wall0 = cpu_seconds(), time.monotonic()
    t0, period, lines = float(go["t0"]), float(job["period"]), int(job["lines"])
    sent: list[tuple[int, str, int, float, int]] = []  # room, team, count after, time, writer key
    problems: dict[str, int] = {}

    def counters() -> tuple[int, int, int]:
        """Frames, message bytes (payloads, inflated) and wire bytes received so far."""
        players = [c for m in members for c in m]
        return (
            sum(c.received for c in players),
            sum(c.bytes_received for c in players),
            sum(w[0] for w in wire),
        )

    # What the players receive during the writing window [t0, t0 + lines * period]
    # (the coordinator's CPU window), and during the drain after it.
    marks: dict[str, tuple[int, int, int]] = {}

    async def mark(name: str, at: float, sampling: bool) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        marks[name] = counters()
        sample["on"] = sampling

    window = asyncio.gather(mark("start", t0, True), mark("end", t0 + lines * period, False))

    async def drive(r: int) -> None:
        clients = members[r]
        start = t0 + job["offsets"][r]
        for k in range(lines):
            await asyncio.sleep(max(0.0, start + k * period - time.monotonic()))
            teams = sorted(
                ((clients[0].state or {}).get("state", {}).get("story") or {}).get("teams", {})
            )
            if not teams:
                problems["no_story"] = problems.get("no_story", 0) + 1
                continue
            team = teams[k % len(teams)]
            writer = next(
                (
                    c
                    for c in clients
                    if ((c.you or {}).get("your_turn") or {}).get("team_id") == team
                ),
                None,
            )
            if writer is None:
                problems["no_writer"] = problems.get("no_writer", 0) + 1
                continue
            story = (writer.state or {}).get("state", {}).get("story") or {}
            count = int(story["teams"][team]["lines_count"]) + 1
            at = time.monotonic()
            await writer.send("line", text=f"Line {k} of room {r}: the stapler moved again.")
            sent.append((r, team, count, at, id(writer)))

    await asyncio.gather(*(drive(r) for r in range(len(rooms))))
    await window
    await asyncio.sleep(float(job.get("drain", 2.0)))
    marks["drained"] = counters()
    gc.enable()
    latencies: list[float] = []
    deliveries_to = os.environ.get("RITROVO_BENCH_DELIVERIES")
    deliveries: list[tuple[float, float, int]] = []  # (sent at, latency, room): a diagnostic
    missing = 0
    for r, team, count, at, writer in sent:
        for client in members[r]:
            if id(client) == writer:
                continue
            arrived = seen.get(id(client), {}).get((team, count))
            if arrived is None:
                missing += 1
            else:
                latencies.append(arrived - at)
                if deliveries_to:
                    deliveries.append((at, arrived - at, r))
    if deliveries_to:  # after the window: the loop has nothing else to do
        Path(f"{deliveries_to}.{os.getpid()}").write_text(
            "".join(f"{at:.6f} {1000 * took:.3f} {r}\n" for at, took, r in deliveries)
        )
    emit(
        "result",
        latencies=latencies,
        lines=len(sent),
        missing=missing,
        problems=problems,
        frames=sum(c.received for m in members for c in m),
        bytes=sum(c.bytes_received for m in members for c in m),
        cpu_s=cpu_seconds() - cpu0,
        wall_s=time.monotonic() - wall0,  # the same span as cpu_s: the window and the drain
        # (line, receiving player) pairs: each line sent x (its room's players - 1)
        deliveries=sum(len(members[r]) - 1 for r, *_ in sent),
        window_frames=marks["end"][0] - marks["start"][0],
        window_bytes=marks["end"][1] - marks["start"][1],
        window_wire_bytes=marks["end"][2] - marks["start"][2],
        drain_frames=marks["drained"][0] - marks["end"][0],
        drain_bytes=marks["drained"][1] - marks["end"][1],
        drain_wire_bytes=marks["drained"][2] - marks["end"][2],
        sample_frames=[[at - t0, size, frame] for at, size, frame in sample["frames"]],
    )


def collector_off() -> None:
    """No cyclic garbage collection in this process until ``gc.enable()``: for a measured window.

    A collection here holds every client of the process: in S2 a full one
    over 800 clients' states took 100-140 ms, and every delivery that came
    meanwhile was timed that late (the run's max, and most of its slowest
    1%, against a server that had not paused). What the clients hold from
    their joins is frozen, out of sight of the collections after the window.
    """
    gc.freeze()
    gc.disable()


# -- S3: idle connections ----------------------------------------------------------


async def s3(job: dict[str, Any]) -> None:
    url = job["url"]
    targets: list[list[str]] = job["targets"]  # [room, name or ""]
    role = job.get("role", "player")
    clients: list[RitrovoClient] = []
    await command("go")
    started = time.monotonic()
    failures: list[str] = []
    done_at: list[float] = []

    async def one(room: str, name: str) -> None:
        try:
            client = await RitrovoClient.connect(
                url, keep_messages=False, parse_states=False, **connect_options(job)
            )
        except (OSError, TimeoutError, WebSocketException) as exc:  # refused: files, backlog...
            failures.append(type(exc).__name__ + ": " + str(exc)[:100])
            return
        try:
            if role == "player":
                await client.hello("join", timeout=120, room=room, name=name)
            else:
                await client.hello("screen", timeout=120, room=room)
        except (OSError, TimeoutError, WebSocketException, ProtocolError) as exc:
            failures.append(type(exc).__name__ + ": " + str(exc)[:100])
            with contextlib.suppress(OSError, TimeoutError, WebSocketException):
                await asyncio.wait_for(client.close(), 2)
            return
        clients.append(client)
        done_at.append(time.monotonic())

    # Stop early once connections start failing: the server is at its limit.
    gate = asyncio.Semaphore(job.get("concurrency", 50))

    async def guarded(room: str, name: str) -> None:
        async with gate:
            if len(failures) < job.get("max_failures", 50):
                await one(room, name)

    await asyncio.gather(*(guarded(room, name) for room, name in targets))
    emit(
        "connected",
        n=len(clients),
        failures=len(failures),
        failure_samples=failures[:5],
        started=started,
        last=max(done_at) if done_at else started,
        rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    )
    await command("release")
    alive = sum(1 for c in clients if not c.closed.done())
    emit("released", alive=alive)


async def main() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    job = json.loads(sys.stdin.readline())
    try:
        await {"s1": s1, "s2": s2, "s3": s3}[job["kind"]](job)
    except SystemExit:
        raise
    except BaseException:  # noqa: BLE001 - whatever ends the job is reported to the scenario
        emit("error", error=traceback.format_exc()[-2000:])
    # Exit without closing every connection politely: the server under test is
    # stopped right after, and thousands of close handshakes would only add noise.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())
