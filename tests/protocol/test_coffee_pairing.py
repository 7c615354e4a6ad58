"""Coffee pairing over real WebSockets, on both stores.

Eight players (one of them away), the host starts a pairing, shuffles it and
ends it; a second rotation ends by its timer (a fake clock). Each player's
``you`` frame names their own group and nobody else's; the screen and the
players' shared state carry only the summary; the host gets the whole
assignment and the text to copy. Refusals come with their codes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.game.pairing import meetings
from ritrovo.store.base import RoomStore
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

NAMES = ("Ada", "Bea", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal")


async def refused(client: RitrovoClient, code: str, kind: str, **fields: Any) -> None:
    with pytest.raises(ProtocolError) as err:
        await client.request(kind, **fields)
    assert err.value.code == code, (kind, fields, err.value.code)


def groups_of(state: dict[str, Any]) -> list[list[str]]:
    assignment = state["pairing"]["assignment"]
    return [[p["id"] for p in g["players"]] for g in assignment["groups"]]


async def own_group(client: RitrovoClient, rotation: int, started_at: float) -> dict[str, Any]:
    message = await client.wait_for(
        lambda m: (
            m["type"] == "you"
            and m.get("pairing") is not None
            and m["pairing"]["rotation"] == rotation
            and m["pairing"]["started_at"] == started_at
        )
    )
    pairing: dict[str, Any] = message["pairing"]
    return pairing


async def test_coffee_pairing_end_to_end(make_store: Callable[[], RoomStore]) -> None:
    clock = FakeClock()
    async with running_server(fast_settings(), store=make_store(), clock=clock) as server:
        room = await create_room(server.base_url, "Coffee")
        host = await RitrovoClient.connect(server.ws_url)
        await host.hello("host", room=room["code"], token=room["host_token"])
        screen = await RitrovoClient.connect(server.ws_url)
        await screen.hello("screen", room=room["code"])
        players: dict[str, RitrovoClient] = {}
        ids: dict[str, str] = {}
        try:
            await refused(host, "too_few_players", "start_pairing", seconds=300)
            for name in NAMES:
                client = await join(server.ws_url, room["code"], name)
                assert client.welcome is not None
                players[name] = client
                ids[name] = client.welcome["player"]["id"]
            names = {pid: name for name, pid in ids.items()}
            await host.wait_state(lambda s: s["players_count"] == len(NAMES))

            # Mentoring roles, chosen in the lobby.
            await players["Ada"].request("set_mentoring_role", role="newcomer")
            await players["Bea"].request("set_mentoring_role", role="experienced")
            await refused(players["Cy"], "invalid_field", "set_mentoring_role", role="boss")
            await refused(players["Cy"], "not_allowed", "start_pairing", seconds=300)
            await players["Ada"].wait_for(
                lambda m: m["type"] == "you" and m["player"]["mentoring_role"] == "newcomer"
            )

            # Gus leaves the call: the grace period passes, he is not paired.
            await players["Gus"].close()
            clock.advance(60)
            await host.wait_state(
                lambda s: any(
                    p["id"] == ids["Gus"] and not p["present"]
                    for t in s["teams"]
                    for p in t["players"]
                ),
                timeout=10,
            )
            present = [n for n in NAMES if n != "Gus"]

            await refused(host, "invalid_field", "start_pairing", seconds=5)
            await refused(host, "no_pairing", "end_pairing")
            await refused(host, "no_pairing", "shuffle_pairing")
            ack = await host.request("start_pairing", seconds=300, mentoring=True, seed=7)
            assert ack["result"] == {"rotation": 1, "groups": 3, "seed": 7}
            started = clock.now
            await refused(host, "pairing_running", "start_pairing", seconds=300)
            state = await host.wait_state(lambda s: s["pairing"] is not None)
            groups = groups_of(state)
            assert sorted(len(g) for g in groups) == [2, 2, 3]
            assert sorted(p for g in groups for p in g) == sorted(ids[n] for n in present)
            text = state["pairing"]["assignment"]["text"]
            assert text["en"].startswith("Breakout rooms: 2 pairs and 1 trio, 7 people")
            assert text["it"].startswith("Sale per sottogruppi:")
            assert state["pairing"]["deadline_at"] == started + 300
            assert state["pairing"]["mentoring"] is True

            screen_state = await screen.wait_state(lambda s: s["pairing"] is not None)
            assert screen_state["pairing"]["groups"] == 3
            assert "assignment" not in screen_state["pairing"]

            for name in present:
                mine = await own_group(players[name], 1, started)
                group = next(g for g in groups if ids[name] in g)
                assert mine["breakout"] == groups.index(group) + 1
                assert sorted(m["id"] for m in mine["with"]) == sorted(
                    p for p in group if p != ids[name]
                )
                assert mine["deadline_at"] == started + 300 and mine["prompt"]
                # Nobody else's group reaches this phone: no other player's name
                # outside their own group appears in any pairing frame.
                others = {names[p] for g in groups if g is not group for p in g}
                for message in players[name].messages:
                    body = orjson.dumps(message.get("pairing")).decode()
                    assert not any(f'"{other}"' in body for other in others), (name, message)
                shared = players[name].state
                assert shared is not None
                assert "assignment" not in (shared["state"]["pairing"] or {})

            # Shuffle: another seed, the timer restarts.
            clock.advance(10)
            ack = await host.request("shuffle_pairing", seed=8)
            assert ack["result"]["seed"] == 8 and ack["result"]["rotation"] == 1
            reshuffled = clock.now
            state = await host.wait_state(
                lambda s: s["pairing"] is not None and s["pairing"]["started_at"] == reshuffled
            )
            await own_group(players["Ada"], 1, reshuffled)
            first = groups_of(state)

            await host.request("end_pairing")
            await host.wait_state(lambda s: s["pairing"] is None)
            await players["Ada"].wait_for(lambda m: m["type"] == "you" and m["pairing"] is None)

            # The second rotation repeats no pair of the first, and ends by its timer.
            ack = await host.request("start_pairing", seconds=60)
            assert ack["result"]["rotation"] == 2
            state = await host.wait_state(
                lambda s: s["pairing"] is not None and s["pairing"]["rotation"] == 2
            )
            assert not meetings(groups_of(state)) & meetings(first)
            clock.advance(61)
            await host.wait_state(lambda s: s["pairing"] is None, timeout=10)
            await screen.wait_state(lambda s: s["pairing"] is None)

            # A round running: no pairing, no mentoring role changes.
            await host.request("choose_pack", pack="team-mix")
            await host.request("next")
            await refused(host, "round_in_progress", "start_pairing", seconds=300)
            await refused(
                players["Ada"], "round_in_progress", "set_mentoring_role", role="experienced"
            )
        finally:
            for client in [host, screen, *players.values()]:
                if not client.closed.done():
                    await client.close()
