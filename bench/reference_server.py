"""A bare aiohttp WebSocket server doing only the S1/S2 message pattern.

It is the yardstick the load scenarios measure Ritrovo against, in the same
run, on the same core, with the same clients: receive a message, acknowledge
it, broadcast a small room state. No validation beyond the JSON, no rules, no
store, no per-audience views. Two variants:

    --mode per-message   every accepted message broadcasts the room state at once
    --mode coalesce      changes are coalesced: at most one broadcast per room
                         every --interval seconds (0.1, like Ritrovo's flush)

It speaks the subset of Ritrovo's protocol the scenarios use, with the same
message shapes, so the same client code drives both servers:

    join {room, name, team?}   -> welcome {role, room, token, player{id, team_id}}, state, you
    screen|host {room}         -> welcome, state
    guess {text}               -> ack {result: {verdict}}   (answer: --answer)
    line {text}                -> ack; the team's turn passes on (you.your_turn)
    ping                       -> pong

Run without arguments it does a short self-check (serve on a free port,
exchange a few messages, stop) so ``make bench`` can run every bench/*.py.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web


def encode(kind: str, **fields: Any) -> bytes:
    return orjson.dumps({"type": kind, "v": 1, **fields})


@dataclass
class Team:
    id: str
    score: int = 0
    guesses: int = 0
    solved: bool = False
    lines: int = 0
    order: list[str] = field(default_factory=list)  # player ids, join order
    writer: int = 0  # index in order


@dataclass
class Player:
    id: str
    name: str
    team: str
    ws: web.WebSocketResponse


class RefRoom:
    def __init__(self, code: str) -> None:
        self.code = code
        self.seq = 0
        self.teams: dict[str, Team] = {}
        self.conns: set[web.WebSocketResponse] = set()
        self.players: dict[str, Player] = {}
        self.flush_at: asyncio.TimerHandle | None = None
        self.last_flush = 0.0

    def team(self, team_id: str | None) -> Team:
        if team_id is None:  # smallest team, like Ritrovo's auto-assignment
            if len(self.teams) < 2:
                team_id = f"t{len(self.teams) + 1}"
            else:
                team_id = min(self.teams.values(), key=lambda t: len(t.order)).id
        return self.teams.setdefault(team_id, Team(team_id))

    def writer_of(self, team: Team) -> str | None:
        return team.order[team.writer % len(team.order)] if team.order else None

    def state(self) -> bytes:
        body = {
            "code": self.code,
            "phase": "play",
            "seq": self.seq,
            "players_count": len(self.players),
            "teams": [
                {"id": t.id, "score": t.score, "guesses": t.guesses, "solved": t.solved}
                for t in self.teams.values()
            ],
            "story": {
                "stage": "writing",
                "teams": {
                    t.id: {"lines_count": t.lines, "writer": self.writer_of(t)}
                    for t in self.teams.values()
                },
            },
        }
        return encode("state", seq=self.seq, state=body)

    def you(self, player: Player) -> bytes:
        team = self.teams[player.team]
        turn = {"team_id": team.id} if self.writer_of(team) == player.id else None
        return encode("you", player={"id": player.id, "team_id": team.id}, your_turn=turn)


class RefServer:
    def __init__(self, mode: str, interval: float, answer: str, compress: bool = True) -> None:
        self.compress = compress
        self.mode = mode
        self.interval = interval
        self.answer = answer
        self.rooms: dict[str, RefRoom] = {}
        self.ids = itertools.count(1)
        self.tasks: set[asyncio.Task[None]] = set()

    async def broadcast(self, room: RefRoom) -> None:
        data = room.state()
        for ws in list(room.conns):
            if not ws.closed:
                await ws.send_frame(data, WSMsgType.TEXT)

    def changed(self, room: RefRoom) -> None:
        room.seq += 1
        if self.mode == "per-message":
            self._spawn(self.broadcast(room))
            return
        if room.flush_at is not None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, room.last_flush + self.interval - loop.time())
        room.flush_at = loop.call_later(delay, self._flush, room)

    def _flush(self, room: RefRoom) -> None:
        room.flush_at = None
        room.last_flush = asyncio.get_running_loop().time()
        self._spawn(self.broadcast(room))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=1 << 20, compress=self.compress)
        await ws.prepare(request)
        room: RefRoom | None = None
        me: Player | None = None
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            try:
                msg = orjson.loads(frame.data)
            except orjson.JSONDecodeError:
                await ws.send_frame(
                    encode("error", code="invalid_json", message="bad json"), WSMsgType.TEXT
                )
                continue
            kind, rid = msg.get("type"), msg.get("id")
            if room is None:
                code = str(msg.get("room", ""))
                room = self.rooms.setdefault(code, RefRoom(code))
                room.conns.add(ws)
                if kind == "join":
                    team = room.team(msg.get("team"))
                    me = Player(f"p{next(self.ids)}", str(msg.get("name", "")), team.id, ws)
                    room.players[me.id] = me
                    team.order.append(me.id)
                    welcome = {
                        "role": "player",
                        "room": code,
                        "token": me.id,
                        "player": {"id": me.id, "team_id": team.id},
                    }
                    await ws.send_frame(encode("welcome", **welcome), WSMsgType.TEXT)
                    await ws.send_frame(room.state(), WSMsgType.TEXT)
                    await ws.send_frame(room.you(me), WSMsgType.TEXT)
                    self.changed(room)
                else:
                    await ws.send_frame(encode("welcome", role=kind, room=code), WSMsgType.TEXT)
                    await ws.send_frame(room.state(), WSMsgType.TEXT)
                continue
            if kind == "ping":
                await ws.send_frame(encode("pong", id=rid, server_time=time.time()), WSMsgType.TEXT)
                continue
            if me is None:
                await ws.send_frame(encode("ack", id=rid, of=kind), WSMsgType.TEXT)
                continue
            team = room.teams[me.team]
            if kind == "guess":
                correct = str(msg.get("text", "")).strip().lower() == self.answer
                team.guesses += 1
                if correct and not team.solved:
                    team.solved, team.score = True, team.score + 100
                verdict = "correct" if correct else "wrong"
                await ws.send_frame(
                    encode("ack", id=rid, of=kind, result={"verdict": verdict}), WSMsgType.TEXT
                )
                self.changed(room)
            elif kind == "line":
                if room.writer_of(team) != me.id:
                    await ws.send_frame(
                        encode("error", id=rid, code="not_your_turn", message="wait"),
                        WSMsgType.TEXT,
                    )
                    continue
                team.lines += 1
                team.writer += 1
                await ws.send_frame(encode("ack", id=rid, of=kind), WSMsgType.TEXT)
                nxt = room.players.get(room.writer_of(team) or "")
                await ws.send_frame(room.you(me), WSMsgType.TEXT)
                if nxt is not None and nxt is not me and not nxt.ws.closed:
                    await nxt.ws.send_frame(room.you(nxt), WSMsgType.TEXT)
                self.changed(room)
            else:
                await ws.send_frame(encode("ack", id=rid, of=kind), WSMsgType.TEXT)
        if room is not None:
            room.conns.discard(ws)
        return ws


def make_app(
    mode: str, interval: float = 0.1, answer: str = "printer", compress: bool = True
) -> web.Application:
    server = RefServer(mode, interval, answer, compress)
    app = web.Application()
    app.router.add_get("/ws", server.handler)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "mode": mode})

    app.router.add_get("/healthz", healthz)
    return app


async def _self_check() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ritrovo.client import RitrovoClient

    for mode in ("per-message", "coalesce"):
        runner = web.AppRunner(make_app(mode))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        url = f"ws://127.0.0.1:{port}/ws"
        a = await RitrovoClient.connect(url)
        await a.hello("join", room="R", name="a", team="t1")
        b = await RitrovoClient.connect(url)
        await b.hello("join", room="R", name="b", team="t2")
        reply = await a.request("guess", text="Printer")
        assert reply["result"]["verdict"] == "correct", reply
        await b.wait_state(lambda s: s["teams"][0]["score"] == 100)
        await a.request("line", text="once upon a time")
        await b.wait_state(lambda s: s["story"]["teams"]["t1"]["lines_count"] == 1)
        await a.close()
        await b.close()
        await runner.cleanup()
        print(f"reference server ({mode}): self-check ok")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--port", type=int, help="serve on this port (no port: run the self-check and exit)"
    )
    parser.add_argument("--mode", choices=("per-message", "coalesce"), default="coalesce")
    parser.add_argument(
        "--interval", type=float, default=0.1, help="coalescing interval in seconds"
    )
    parser.add_argument("--answer", default="printer", help="the answer that counts as correct")
    parser.add_argument(
        "--no-compress",
        action="store_true",
        help="refuse permessage-deflate (aiohttp compress=False)",
    )
    args = parser.parse_args()
    if args.port is None:
        asyncio.run(_self_check())
        return
    web.run_app(
        make_app(args.mode, args.interval, args.answer, not args.no_compress),
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main()
