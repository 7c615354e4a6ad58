"""Checks of ritrovo-loadgen (bench-only; builds it if needed).

    .venv/bin/python bench/loadgen/check.py

1. Its inflater against zlib: messages compressed as aiohttp does for
   permessage-deflate (raw deflate, Z_SYNC_FLUSH, the trailing 00 00 ff ff
   removed), with and without context takeover, at several levels (0: stored
   blocks, 1-9: fixed and dynamic Huffman blocks).
2. The worker against a scripted server (``websockets``, deflate on): the S1
   job over stdin/stdout, a fragmented state, pings, the ack of each guess,
   patches, and a patch whose base is not the seq held (the worker must send
   ``resync`` and take the full state that answers it).
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.loadgen import ensure_built

BINARY = ensure_built()


def messages(rng: random.Random) -> list[bytes]:
    out = []
    state = {"code": "BENCH1", "seq": 0, "teams": [{"id": f"t{i}", "score": 0} for i in range(26)]}
    for k in range(300):
        state["seq"] = k
        state["teams"][rng.randrange(26)]["score"] += rng.randrange(100)
        kind = rng.random()
        if kind < 0.6:
            out.append(json.dumps({"type": "state", "v": 1, "seq": k, "state": state}).encode())
        elif kind < 0.8:
            out.append(
                json.dumps({"type": "ack", "v": 1, "id": k, "result": {"verdict": "near"}}).encode()
            )
        elif kind < 0.9:
            out.append(rng.randbytes(rng.randrange(1, 70000)))  # incompressible, some over 32 KiB
        else:
            out.append(
                bytes(rng.randrange(256) for _ in range(rng.randrange(0, 3000)))
                * rng.randrange(1, 40)
            )
    return out


def run(level: int, takeover: bool, rng: random.Random) -> None:
    plain = messages(rng)
    comp = zlib.compressobj(level, zlib.DEFLATED, -15)
    lines = []
    for m in plain:
        if not takeover:
            comp = zlib.compressobj(level, zlib.DEFLATED, -15)
        data = comp.compress(m) + comp.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(b"\x00\x00\xff\xff")
        lines.append(data[:-4].hex())
    args = [str(BINARY), "inflate-check"] + ([] if takeover else ["--no-takeover"])
    out = subprocess.run(
        args, input="\n".join(lines) + "\n", capture_output=True, text=True, check=True
    )
    got = out.stdout.splitlines()
    assert len(got) == len(plain), (len(got), len(plain))
    for i, (g, m) in enumerate(zip(got, plain)):
        if g != m.hex():
            sys.exit(f"level {level} takeover {takeover}: message {i} differs: {g[:80]}")
    print(f"level {level}, context takeover {takeover}: {len(plain)} messages ok")


async def scripted_server() -> None:
    """The worker with two players against a scripted server; checks what it reports."""
    import websockets

    seen: dict[str, list] = {"pongs": [], "resync": [], "guesses": []}

    async def handler(ws) -> None:
        join = json.loads(await ws.recv())
        assert join["type"] == "join" and join["v"] == 2, join
        name = join["name"]
        await ws.send(json.dumps({"type": "welcome", "v": 2, "role": "player", "id": join["id"]}))
        state = json.dumps({"type": "state", "v": 2, "seq": 1, "state": {"x": "y" * 5000}})
        await ws.send([state[:10], state[10:3000], state[3000:]])  # a fragmented message
        await ws.send(json.dumps({"type": "you", "v": 2, "player": {"id": name}}))
        pong = await ws.ping()
        await asyncio.wait_for(pong, 5)
        seen["pongs"].append(name)
        guess = json.loads(await ws.recv())
        assert guess["type"] == "guess" and guess["text"] == "inkjet", guess
        seen["guesses"].append(name)
        await ws.send(json.dumps({"type": "patch", "v": 2, "seq": 2, "base": 1, "ops": []}))
        await ws.send(
            json.dumps(
                {
                    "type": "ack",
                    "v": 2,
                    "id": guess["id"],
                    "of": "guess",
                    "result": {"verdict": "near", "team": {"id": 7}},
                }
            )
        )
        await ws.send(
            json.dumps({"type": "patch", "v": 2, "seq": 5, "base": 3, "ops": []})
        )  # a gap
        resync = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert resync["type"] == "resync", resync
        seen["resync"].append(name)
        await ws.send(
            json.dumps({"type": "patch", "v": 2, "seq": 6, "base": 5, "ops": []})
        )  # ignored
        await ws.send(json.dumps({"type": "state", "v": 2, "seq": 5, "state": {}}))
        await ws.send(json.dumps({"type": "patch", "v": 2, "seq": 7, "base": 5, "ops": []}))
        await ws.wait_closed()

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        job = {
            "kind": "s1",
            "url": f"ws://127.0.0.1:{port}/ws",
            "code": "ROOM",
            "players": [["Ada", "t1"], ["Bo", ""]],
            "offsets": [0.0, 0.05],
            "texts": ["inkjet", "inkjet"],
            "compression": "deflate",
            "rounds": 1,
            "concurrency": 2,
            "round_timeout": 10,
            "v": 2,
        }
        proc = await asyncio.create_subprocess_exec(
            str(BINARY), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert proc.stdin and proc.stdout

        async def hear(event: str) -> dict:
            while True:
                line = await asyncio.wait_for(proc.stdout.readline(), 20)
                assert line, f"worker exited before {event}"
                message = json.loads(line)
                assert message["event"] != "error", message
                if message["event"] == event:
                    return message

        proc.stdin.write(json.dumps(job).encode() + b"\n")
        ready = await hear("ready")
        assert ready["n"] == 2, ready
        t0 = time.monotonic() + 0.2
        proc.stdin.write(json.dumps({"cmd": "go", "t0": t0}).encode() + b"\n")
        acked = await hear("acked")
        assert acked["n"] == 2 and t0 <= acked["first_send"] <= time.monotonic(), acked
        await asyncio.sleep(0.5)
        proc.stdin.write(json.dumps({"cmd": "final", "seq": 7, "wait": 5}).encode() + b"\n")
        result = await hear("result")
        proc.kill()
        await proc.wait()
    assert result["kinds"] == {"near": 2}, result
    assert result["missing"] == 0 and len(result["final_at"]) == 2, result
    assert all(0 <= x < 1 for x in result["latencies"]) and len(result["latencies"]) == 2, result
    assert result["bytes"] > 0 and result["wire_bytes"] > 0, result
    # Deflate was negotiated (websockets' default): the 5 KB states crossed the wire compressed.
    assert result["wire_bytes"] < result["bytes"], result
    assert sorted(seen["pongs"]) == sorted(seen["resync"]) == ["Ada", "Bo"], seen
    print(
        f"scripted server: join, fragments, ping/pong, acks, patches and resync ok ({result['frames']} frames)"
    )


def main() -> None:
    rng = random.Random(11)
    for level in (0, 1, 6, 9):
        for takeover in (True, False):
            run(level, takeover, rng)
    asyncio.run(scripted_server())


if __name__ == "__main__":
    main()
