"""Patches over real WebSockets, against both stores, on a fake clock.

After its first full ``state`` every connection gets ``patch`` frames. For
each role, the first state plus every patch received must rebuild exactly
the full state the server sends when asked (``resync``). The clock only moves
when the test says so, so the two are built at the same instant and must be
equal byte for byte.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
import pytest
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.edge import hub
from ritrovo.game.patches import apply
from ritrovo.store.base import RoomStore
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.servers import RunningServer, running_server
from support.servers import test_settings as fast_settings

PACK_YAML = """
id: patches-test
title: Patches
language: en
rounds:
  - kind: riddles
    title: Two riddles
    riddles:
      - text: Which spice island lies off the coast of Tanzania?
        answers: [Zanzibar]
        time_limit: 60
        points: 200
        near:
          - answers: [Madagascar]
            nudge: Smaller, and further north.
        hints:
          - text: It is famous for cloves.
            after: 10
            cost: 20
        explanation: Stone Town, its old quarter, is a World Heritage Site.
      - text: What do you call a group of owls?
        answers: [parliament]
        time_limit: 30
        points: 100
"""


@dataclass
class Clocked:
    server: RunningServer
    clock: FakeClock


@pytest.fixture
async def clocked(make_store: Callable[[], RoomStore]) -> AsyncIterator[Clocked]:
    clock = FakeClock()
    async with running_server(fast_settings(), store=make_store(), clock=clock) as server:
        yield Clocked(server, clock)


@dataclass
class Wire:
    """The state and patch frames one client received, as they came."""

    frames: list[tuple[str, bytes]] = field(default_factory=list)

    def hook(self, kind: str, message: Any, raw: bytes, at: float) -> None:
        if raw.startswith((b'{"type":"state"', b'{"type":"patch"')):
            self.frames.append((orjson.loads(raw)["type"], raw))

    def rebuilt(self) -> tuple[int, Any]:
        """(seq, state) from the first full state and every frame after it."""
        seq, state = -1, None
        for kind, raw in self.frames:
            message = orjson.loads(raw)
            if kind == "state":
                seq, state = message["seq"], message["state"]
            else:
                assert message["base"] == seq, "a patch that does not follow the last frame"
                seq, state = message["seq"], apply(state, message["ops"])
        return seq, state

    def sizes(self, kind: str) -> list[int]:
        return [len(raw) for k, raw in self.frames if k == kind]


async def upload_pack(base_url: str, code: str, host_token: str, text: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/api/rooms/{code}/pack",
            params={"filename": "riddles.yaml"},
            data=text.encode(),
            headers={"Authorization": f"Bearer {host_token}"},
        ) as r,
    ):
        assert r.status == 201, await r.text()


async def resync(client: RitrovoClient) -> dict[str, Any]:
    """Ask for a full state; return the ``state`` message that answers."""
    start = len(client.messages)
    await client.send("resync")
    return await client.wait_for(
        lambda m: m["type"] == "state" and "base" not in m, timeout=5, start=start
    )


def riddle_at(index: int, stage: str) -> Callable[[dict[str, Any]], bool]:
    return lambda s: (
        s["riddle"] is not None and s["riddle"]["index"] == index and s["riddle"]["stage"] == stage
    )


@pytest.mark.parametrize("write_slice", [hub.WRITE_SLICE, 1])
async def test_first_state_plus_patches_is_the_full_state_for_every_role(
    clocked: Clocked, write_slice: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # write_slice=1: a flush lets the event loop run after every frame it
    # writes, so commands, acks, joins and the next flush all fall between
    # one connection's frames and another's.
    monkeypatch.setattr(hub, "WRITE_SLICE", write_slice)
    server, clock = clocked.server, clocked.clock
    room = await create_room(server.base_url, "Patched")
    code, token = room["code"], room["host_token"]
    wires = {name: Wire() for name in ("host", "screen", "ada", "cy")}
    host = await RitrovoClient.connect(server.ws_url, on_frame=wires["host"].hook)
    await host.hello("host", room=code, token=token)
    await upload_pack(server.base_url, code, token, PACK_YAML)
    state = await host.wait_state(lambda s: s["pack"] is not None)
    team_a, team_b = state["teams"][0]["id"], state["teams"][1]["id"]
    screen = await RitrovoClient.connect(server.ws_url, on_frame=wires["screen"].hook)
    await screen.hello("screen", room=code)
    ada = await join(server.ws_url, code, "Ada", team=team_a, on_frame=wires["ada"].hook)
    cy = await join(server.ws_url, code, "Cy", team=team_b, on_frame=wires["cy"].hook)
    clients = {"host": host, "screen": screen, "ada": ada, "cy": cy}

    # A short riddle game: guesses, a hint, the reveal, the next riddle.
    await host.request("next")
    for client in clients.values():
        await client.wait_state(riddle_at(0, "open"))
    await cy.request("guess", text="Atlantis")
    assert (await ada.request("guess", text="Madagascar"))["result"]["verdict"] == "near"
    clock.advance(10)
    await ada.wait_state(lambda s: s["riddle"]["hints"][0]["unlocked"])
    await ada.request("hint")
    await ada.wait_state(lambda s: "text" in s["riddle"]["hints"][0])
    assert (await ada.request("guess", text="Zanzibar"))["result"]["verdict"] == "correct"
    await host.request("reveal")
    for client in clients.values():
        await client.wait_state(riddle_at(0, "revealed"))
    await host.request("next")
    # Cy changes team: their view key changes, the patch goes across.
    await host.request("move_player", player=cy.welcome["player"]["id"], team=team_a)  # type: ignore[index]
    final = await host.wait_state(
        lambda s: (
            riddle_at(1, "open")(s) and any(p["name"] == "Cy" for p in s["teams"][0]["players"])
        )
    )
    for client in clients.values():
        await client.wait_state(lambda s: s["seq"] >= final["seq"])

    for name, client in clients.items():
        wire = wires[name]
        seq, rebuilt = wire.rebuilt()
        assert client.resyncs_sent == 0, name
        assert client.state is not None and client.state["seq"] == seq == final["seq"], name
        assert orjson.dumps(client.state["state"]) == orjson.dumps(rebuilt), name
        patch_sizes, state_sizes = wire.sizes("patch"), wire.sizes("state")
        assert len(patch_sizes) >= 3 and client.patches_applied == len(patch_sizes), name
        assert state_sizes and len(state_sizes) == 1, name  # only the first was whole

        full = await resync(client)
        assert full["seq"] == seq, name
        assert orjson.dumps(full["state"]) == orjson.dumps(rebuilt), name
        assert max(patch_sizes) < len(wire.frames[-1][1]), name  # every patch beats the state
    for client in clients.values():
        await client.close()


async def test_a_client_that_misses_a_patch_asks_for_the_full_state(clocked: Clocked) -> None:
    server = clocked.server
    room = await create_room(server.base_url, "Gaps")
    code, token = room["code"], room["host_token"]
    host = await RitrovoClient.connect(server.ws_url)
    await host.hello("host", room=code, token=token)
    ada = await join(server.ws_url, code, "Ada")
    await host.wait_state(lambda s: s["players_count"] == 1)
    # Pretend the client lost a frame: its state is no longer the base of the next patch.
    assert ada.state is not None
    ada.state = {**ada.state, "seq": ada.state["seq"] - 1}
    await host.request("create_team", name="Cobalt")
    state = await ada.wait_state(lambda s: any(t["name"] == "Cobalt" for t in s["teams"]))
    assert ada.resyncs_sent == 1
    last = [m for m in ada.messages if m["type"] == "state"][-1]
    assert "base" not in last  # the answer to resync: a whole state
    assert any(m["type"] == "patch" for m in ada.messages)  # the one it could not apply
    assert orjson.dumps(state) == orjson.dumps((await resync(ada))["state"])
    # The patches that follow apply again.
    await host.request("rename_team", team=state["teams"][0]["id"], name="Renamed")
    await ada.wait_state(lambda s: any(t["name"] == "Renamed" for t in s["teams"]))
    last = [m for m in ada.messages if m["type"] == "state"][-1]
    assert "base" in last and ada.resyncs_sent == 1
    await host.close()
    await ada.close()


async def test_resync_needs_a_room_and_is_allowed_to_every_role(clocked: Clocked) -> None:
    server = clocked.server
    room = await create_room(server.base_url, "Resync")
    lost = await RitrovoClient.connect(server.ws_url)
    with pytest.raises(ProtocolError) as err:
        await lost.request("resync")
    assert err.value.code == "not_allowed"
    screen = await RitrovoClient.connect(server.ws_url)
    await screen.hello("screen", room=room["code"])
    first = next(m for m in screen.messages if m["type"] == "state")
    again = await resync(screen)
    assert again["seq"] == first["seq"] and again["state"] == first["state"]
    await lost.close()
    await screen.close()
