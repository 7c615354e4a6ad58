"""Circles that remember, over HTTP and real WebSockets, on both stores.

A facilitator makes a circle and opens two rooms in it. Four members join the
first with the device tokens their browsers keep, are paired for coffee and
play in two teams; in the second room the same devices (under new names) are
the same members, the pairing avoids the first session's pairs and "mix
teams" keeps its team-mates apart. A member reads and deletes what the circle
remembers of them; the facilitator exports and deletes the circle. Each
room's keepsake is kept with its session once the room ends (finished,
closed), and a keepsake's new colleagues leave out those met in the
circle's earlier sessions. Wrong
tokens, unknown circles and bad shapes get one answer each and count as
failed attempts; bad input changes nothing.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from ritrovo.app import SERVICE
from ritrovo.client import ProtocolError, RitrovoClient
from ritrovo.game import keepsake
from ritrovo.store.base import RoomStore
from support.clock import FakeClock
from support.resilience import upload_pack
from support.servers import running_server
from support.servers import test_settings as fast_settings

NAMES = ("Ada", "Bea", "Cy", "Dee")


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    status: int,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> Any:
    async with http.request(
        method, url, json=json, headers=headers or {}, allow_redirects=False
    ) as response:
        body = await response.json() if response.content_type == "application/json" else None
        assert response.status == status, (method, url, response.status, body)
        return body


async def export(http: aiohttp.ClientSession, base: str, circle: dict[str, Any]) -> dict[str, Any]:
    """The circle's export, with its facilitator's token."""
    headers = {"Authorization": "Bearer " + circle["facilitator_token"]}
    exported: dict[str, Any] = await call(
        http, "GET", f"{base}/api/circles/{circle['id']}/export", status=200, headers=headers
    )
    return exported


def groups_of(state: dict[str, Any]) -> list[list[str]]:
    return [[p["id"] for p in g["players"]] for g in state["pairing"]["assignment"]["groups"]]


def rotation_started(rotation: int) -> Callable[[dict[str, Any]], bool]:
    def started(state: dict[str, Any]) -> bool:
        return state["pairing"] is not None and state["pairing"]["rotation"] == rotation

    return started


def rosters(state: dict[str, Any]) -> list[list[str]]:
    return [[p["id"] for p in t["players"]] for t in state["teams"]]


async def play_session(
    base: str,
    ws_url: str,
    http: aiohttp.ClientSession,
    circle: dict[str, Any],
    devices: dict[str, str],
    suffix: str = "",
) -> tuple[dict[str, Any], RitrovoClient, dict[str, RitrovoClient], dict[str, str]]:
    """A room in the circle, its host, and the members joined (name -> player id)."""
    room = await call(
        http,
        "POST",
        base + "/api/rooms",
        status=201,
        json={
            "name": "Coffee",
            "circle": circle["id"],
            "circle_token": circle["facilitator_token"],
        },
    )
    assert room["circle"] == {"id": circle["id"], "name": circle["name"]}
    info = await call(http, "GET", f"{base}/api/rooms/{room['code']}", status=200)
    assert info["circle"] == room["circle"]
    host = await RitrovoClient.connect(ws_url)
    await host.hello("host", room=room["code"], token=room["host_token"])
    players: dict[str, RitrovoClient] = {}
    ids: dict[str, str] = {}
    for name in NAMES:
        client = await RitrovoClient.connect(ws_url)
        welcome = await client.hello(
            "join", room=room["code"], name=name + suffix, device=devices[name]
        )
        assert welcome["circle"] == room["circle"]
        players[name] = client
        ids[name] = welcome["player"]["id"]
    await host.wait_state(lambda s: s["players_count"] == len(NAMES))
    return room, host, players, ids


async def test_circles_remember_across_sessions(make_store: Callable[[], RoomStore]) -> None:
    async with (
        running_server(fast_settings(), store=make_store()) as server,
        aiohttp.ClientSession() as http,
    ):
        base = server.base_url
        circle = await call(
            http, "POST", base + "/api/circles", status=201, json={"name": "Marketing, Milan"}
        )
        assert len(circle["id"]) == 16 and circle["name"] == "Marketing, Milan"
        assert circle["circle_url"].endswith("/c/" + circle["id"])
        facilitator = {"Authorization": "Bearer " + circle["facilitator_token"]}
        devices = {name: secrets.token_urlsafe(24) for name in NAMES}
        clients: list[RitrovoClient] = []
        try:
            # Session 1: pairs and teams as they come.
            room1, host1, players1, ids1 = await play_session(
                base, server.ws_url, http, circle, devices
            )
            clients += [host1, *players1.values()]
            # The circle's link leads to its last room.
            async with http.get(base + "/c/" + circle["id"], allow_redirects=False) as response:
                assert response.status == 303
                assert response.headers["Location"] == "/r/" + room1["code"]
            await host1.request("start_pairing", seconds=300, seed=1)
            state = await host1.wait_state(lambda s: s["pairing"] is not None)
            names1 = {pid: name for name, pid in ids1.items()}
            met1 = {tuple(sorted(names1[p] for p in g)) for g in groups_of(state)}
            teams1 = [sorted(names1[p] for p in r) for r in rosters(state)]
            await host1.request("end_pairing")
            await host1.request("finish")  # the room ends: the circle keeps its keepsake
            await server.circles_recorded()  # (in the background, after the answer)

            # Session 2: the same devices, new names; the same members.
            room2, host2, players2, ids2 = await play_session(
                base, server.ws_url, http, circle, devices, suffix=" 2"
            )
            clients += [host2, *players2.values()]
            exported = await export(http, base, circle)
            assert sorted(m["name"] for m in exported["members"]) == sorted(n + " 2" for n in NAMES)
            assert [s["room"] for s in exported["sessions"]] == [room1["code"]]
            assert "facilitator_token" not in str(exported) and "device" not in str(exported)
            kept = exported["sessions"][0]["keepsake"]
            assert kept["room"]["code"] == room1["code"] and kept["room"]["phase"] == "finished"
            by_member = {m["id"]: m["name"][: -len(" 2")] for m in exported["members"]}
            # The names the members had then, and each one met the other three.
            assert {by_member[c["member"]]: (c["name"], c["met"]) for c in kept["colleagues"]} == {
                n: (
                    n,
                    len(
                        {
                            *(p for g in met1 if n in g for p in g),
                            *next(t for t in teams1 if n in t),
                        }
                    )
                    - 1,
                )
                for n in NAMES
            }
            assert exported["sessions"][0]["names"] == {m: by_member[m] for m in by_member}

            # Mix teams: the first session's team-mates end up apart.
            names2 = {pid: name for name, pid in ids2.items()}
            ack = await host2.request("mix_teams", seed=3)
            assert ack["result"] == {"players": 4}
            # (the state after the mix: the lobby's teams were session 1's until then)
            state = await host2.wait_state(
                lambda s: all(
                    sorted(names2[p] for p in roster) not in teams1 for roster in rosters(s)
                )
            )
            assert sorted(len(r) for r in rosters(state)) == [2, 2]

            # Pairing: none of the first session's pairs (a fresh pairing of 4 exists).
            rotations: list[set[tuple[str, ...]]] = []
            for rotation in (1, 2):
                await host2.request("start_pairing", seconds=300, seed=rotation)
                state = await host2.wait_state(rotation_started(rotation))
                met2 = {tuple(sorted(names2[p] for p in g)) for g in groups_of(state)}
                assert not met2 & met1, (met1, met2)
                # Rotations of one room weigh each other as well: the second is fresh too.
                for earlier in rotations:
                    assert not met2 & earlier
                rotations.append(met2)
                await host2.request("end_pairing")
                await host2.wait_state(lambda s: s["pairing"] is None)

            # The room's own keepsake: colleagues met in session 1 are not new.
            state = await host2.wait_state(lambda s: s["pairing"] is None)
            await server.circles_recorded()
            met_before = {
                n: {p for g in met1 if n in g for p in g} | {*next(t for t in teams1 if n in t)}
                for n in NAMES
            }
            met_now = {
                n: {p for r in rotations for g in r if n in g for p in g}
                | {names2[p] for r in rosters(state) if ids2[n] in r for p in r}
                for n in NAMES
            }
            live = await call(
                http,
                "GET",
                f"{base}/api/rooms/{room2['code']}/keepsake.json",
                status=200,
                headers={"Authorization": "Bearer " + room2["host_token"]},
            )
            assert {c["name"]: c["met"] for c in live["colleagues"]} == {
                n + " 2": len({p.removesuffix(" 2") for p in met_now[n]} - met_before[n] - {n})
                for n in NAMES
            }

            # A member reads what the circle remembers of them.
            ada = {"X-Device-Token": devices["Ada"]}
            me = await call(
                http, "GET", f"{base}/api/circles/{circle['id']}/me", status=200, headers=ada
            )
            assert me["member"]["name"] == "Ada 2"
            assert [s["room"] for s in me["sessions"]] == [room1["code"], room2["code"]]
            partner = next(p for pair in met1 for p in pair if "Ada" in pair and p != "Ada")
            # Each session with the names people had in it (review finding 5).
            assert partner in me["sessions"][0]["met"] and me["sessions"][0]["name"] == "Ada"
            assert me["sessions"][1]["name"] == "Ada 2"
            assert me["sessions"][0]["keepsake"]["met"] == len(met_before["Ada"] - {"Ada"})
            assert "keepsake" not in me["sessions"][1]  # room 2 is still open

            # ... and deletes it: nothing of Ada is left in the circle.
            assert await call(
                http, "DELETE", f"{base}/api/circles/{circle['id']}/me", status=200, headers=ada
            ) == {"forgotten": True}
            gone = await call(
                http, "GET", f"{base}/api/circles/{circle['id']}/me", status=403, headers=ada
            )
            assert gone["error"]["code"] == "unknown_member"
            exported = await export(http, base, circle)
            assert "Ada" not in str(exported)
            ada_member = me["member"]["id"]
            assert ada_member not in str(exported["sessions"])
            # Recording the room again (teams mixed, a new pairing) does not bring her back.
            await host2.request("mix_teams", seed=5)
            await host2.request("start_pairing", seconds=300, seed=3)
            await server.circles_recorded()
            exported = await export(http, base, circle)
            assert "Ada" not in str(exported) and ada_member not in str(exported["sessions"])
            # Room 2 closes: its keepsake is kept too, without her.
            await host2.request("close")
            await server.circles_recorded()
            exported = await export(http, base, circle)
            kept = exported["sessions"][1]["keepsake"]
            assert kept["room"]["phase"] == "closed"
            assert sorted(c["name"] for c in kept["colleagues"]) == ["Bea 2", "Cy 2", "Dee 2"]
            assert "Ada" not in str(exported)

            # The facilitator has the circle forget a member (Bea) on her behalf.
            bea_id = next(m["id"] for m in exported["members"] if m["name"] == "Bea 2")
            members_url = f"{base}/api/circles/{circle['id']}/members/"
            body = await call(
                http,
                "DELETE",
                members_url + bea_id,
                status=403,
                headers={"Authorization": "Bearer " + secrets.token_urlsafe(24)},
            )
            assert body["error"]["code"] == "bad_circle_token"
            assert await call(
                http, "DELETE", members_url + bea_id, status=200, headers=facilitator
            ) == {"forgotten": True}
            for wrong in (bea_id, "c0", "x" * 40, "c1%00"):
                body = await call(
                    http, "DELETE", members_url + wrong, status=404, headers=facilitator
                )
                assert body["error"]["code"] == "member_not_found", wrong
            exported = await export(http, base, circle)
            assert "Bea" not in str(exported) and bea_id not in str(exported["sessions"])

            # The facilitator deletes the circle: its routes and rooms answer as for no circle.
            assert await call(
                http,
                "DELETE",
                f"{base}/api/circles/{circle['id']}",
                status=200,
                headers=facilitator,
            ) == {"deleted": True}
            for method, path in (("GET", "/export"), ("DELETE", "")):
                body = await call(
                    http,
                    method,
                    f"{base}/api/circles/{circle['id']}{path}",
                    status=403,
                    headers=facilitator,
                )
                assert body["error"]["code"] == "bad_circle_token"
            bea = {"X-Device-Token": devices["Bea"]}
            body = await call(
                http, "GET", f"{base}/api/circles/{circle['id']}/me", status=403, headers=bea
            )
            assert body["error"]["code"] == "unknown_member"
            body = await call(
                http,
                "POST",
                base + "/api/rooms",
                status=403,
                json={"circle": circle["id"], "circle_token": circle["facilitator_token"]},
            )
            assert body["error"]["code"] == "bad_circle_token"
            await call(http, "GET", f"{base}/c/{circle['id']}", status=404)
        finally:
            for client in clients:
                await client.close()


async def test_wrong_tokens_get_one_answer_and_count_as_attempts(
    make_store: Callable[[], RoomStore],
) -> None:
    async with (
        running_server(fast_settings(join_attempts_per_minute=8), store=make_store()) as server,
        aiohttp.ClientSession() as http,
    ):
        base = server.base_url
        circle = await call(http, "POST", base + "/api/circles", status=201, json={"name": "Ops"})
        other = "B" * 16
        token = circle["facilitator_token"]
        wrong = secrets.token_urlsafe(24)
        tries: list[tuple[str, str, dict[str, Any]]] = [
            ("GET", f"/api/circles/{circle['id']}/export", {"Authorization": "Bearer " + wrong}),
            ("GET", f"/api/circles/{other}/export", {"Authorization": "Bearer " + token}),
            ("DELETE", f"/api/circles/{circle['id']}", {}),  # no token
            ("DELETE", f"/api/circles/{circle['id']}", {"X-Circle-Token": "x" * 5000}),
            ("GET", "/api/circles/..%2F..%2Fetc/export", {"Authorization": "Bearer " + token}),
        ]
        for method, path, headers in tries:
            body = await call(http, method, base + path, status=403, headers=headers)
            assert body["error"]["code"] == "bad_circle_token", (method, path)
        body = await call(
            http,
            "POST",
            base + "/api/rooms",
            status=403,
            json={"name": "x", "circle": circle["id"], "circle_token": wrong},
        )
        assert body["error"]["code"] == "bad_circle_token"
        body = await call(
            http,
            "GET",
            f"{base}/api/circles/{circle['id']}/me",
            status=403,
            headers={"X-Device-Token": secrets.token_urlsafe(24)},
        )
        assert body["error"]["code"] == "unknown_member"
        body = await call(http, "GET", f"{base}/api/circles/{circle['id']}/me", status=403)
        assert body["error"]["code"] == "unknown_member"
        # Eight failures in the minute: the ninth attempt is refused before any look-up,
        # even with the right token.
        body = await call(
            http,
            "GET",
            f"{base}/api/circles/{circle['id']}/export",
            status=429,
            headers={"Authorization": "Bearer " + token},
        )
        assert body["error"]["code"] == "too_many_attempts"


async def test_bad_input_is_refused_and_changes_nothing(
    make_store: Callable[[], RoomStore],
) -> None:
    async with (
        running_server(fast_settings(), store=make_store()) as server,
        aiohttp.ClientSession() as http,
    ):
        base = server.base_url
        for body, code in (
            ({}, "invalid_field"),
            ({"name": ""}, "empty_name"),
            ({"name": "x" * 81}, "name_too_long"),
            ({"name": ["list"]}, "invalid_field"),
            ({"name": "a\u202eb"}, "invalid_name"),
        ):
            reply = await call(http, "POST", base + "/api/circles", status=400, json=body)
            assert reply["error"]["code"] == code, body
        circle = await call(http, "POST", base + "/api/circles", status=201, json={"name": "Ops"})
        room = await call(
            http,
            "POST",
            base + "/api/rooms",
            status=201,
            json={
                "name": "Ops",
                "circle": circle["id"],
                "circle_token": circle["facilitator_token"],
            },
        )
        host = await RitrovoClient.connect(server.ws_url)
        await host.hello("host", room=room["code"], token=room["host_token"])
        try:
            for device in ("short", "x" * 65, "with space " * 3, 12):
                client = await RitrovoClient.connect(server.ws_url)
                with pytest.raises(ProtocolError) as err:
                    await client.hello("join", room=room["code"], name="Ada", device=device)
                assert err.value.code == "invalid_field", device
                await client.close()
            # A name the room refuses makes no member.
            device = secrets.token_urlsafe(24)
            client = await RitrovoClient.connect(server.ws_url)
            with pytest.raises(ProtocolError) as err:
                await client.hello("join", room=room["code"], name="", device=device)
            assert err.value.code == "empty_name"
            await client.close()
            exported = await export(http, base, circle)
            assert exported["members"] == [] and exported["sessions"] == []
            info = await call(http, "GET", f"{base}/api/rooms/{room['code']}", status=200)
            assert info["players_count"] == 0  # as the server has it now, not a state held
            with pytest.raises(ProtocolError) as err:
                await host.request("mix_teams", seed=-1)
            assert err.value.code == "invalid_field"
        finally:
            await host.close()


async def make_circle_room(
    http: aiohttp.ClientSession, base: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    circle = await call(http, "POST", base + "/api/circles", status=201, json={"name": "Ops"})
    room = await call(
        http,
        "POST",
        base + "/api/rooms",
        status=201,
        json={"name": "Ops", "circle": circle["id"], "circle_token": circle["facilitator_token"]},
    )
    return circle, room


async def test_join_and_leave_loops_cannot_fill_the_circle(
    make_store: Callable[[], RoomStore],
) -> None:
    """A room adds at most its player limit's worth of new members, however many come and go."""
    async with (
        running_server(fast_settings(max_players_per_room=3), store=make_store()) as server,
        aiohttp.ClientSession() as http,
    ):
        base = server.base_url
        circle, room = await make_circle_room(http, base)
        for i in range(6):
            client = await RitrovoClient.connect(server.ws_url)
            welcome = await client.hello(
                "join", room=room["code"], name=f"Bot{i}", device=secrets.token_urlsafe(24)
            )
            assert welcome["circle"]["id"] == circle["id"]  # the join stands, as a guest if need be
            await client.request("leave")
            await client.close()
        exported = await export(http, base, circle)
        assert sorted(m["name"] for m in exported["members"]) == ["Bot0", "Bot1", "Bot2"]


async def test_circle_answers_are_not_cached_and_a_room_plays_on_without_its_circle(
    make_store: Callable[[], RoomStore],
) -> None:
    """no-store on the facilitator token, the export and a member's data; an unreadable
    circle leaves pairing and mixing teams to go on without the history."""
    store = make_store()
    async with (
        running_server(fast_settings(), store=store) as server,
        aiohttp.ClientSession() as http,
    ):
        base = server.base_url
        async with http.post(base + "/api/circles", json={"name": "Ops"}) as response:
            assert response.status == 201
            assert response.headers["Cache-Control"] == "no-store"
            circle = await response.json()
        room = await call(
            http,
            "POST",
            base + "/api/rooms",
            status=201,
            json={
                "name": "Ops",
                "circle": circle["id"],
                "circle_token": circle["facilitator_token"],
            },
        )
        host = await RitrovoClient.connect(server.ws_url)
        await host.hello("host", room=room["code"], token=room["host_token"])
        clients = [host]
        try:
            devices = [secrets.token_urlsafe(24) for _ in range(4)]
            for i, device in enumerate(devices):
                client = await RitrovoClient.connect(server.ws_url)
                clients.append(client)
                await client.hello("join", room=room["code"], name=f"P{i}", device=device)
            await host.wait_state(lambda s: s["players_count"] == 4)
            url = f"{base}/api/circles/{circle['id']}"
            facilitator = {"Authorization": "Bearer " + circle["facilitator_token"]}
            for method, path, headers in (
                ("GET", "/export", facilitator),
                ("GET", "/me", {"X-Device-Token": devices[0]}),
                ("DELETE", "/me", {"X-Device-Token": devices[0]}),
            ):
                async with http.request(method, url + path, headers=headers) as response:
                    assert response.status == 200, (method, path)
                    assert response.headers["Cache-Control"] == "no-store", (method, path)
            # A part of the circle nobody can read (a store's bad day).
            now = time.time()
            stored = await store.load_circle(circle["id"], now=now)
            assert stored is not None
            assert await store.commit_circle(
                circle["id"], stored.version, {"s:BROKEN": b"{not json"}, [], ttl=3600, now=now
            )
            ack = await host.request("start_pairing", seconds=300, seed=1)
            assert ack["result"]["groups"] >= 1
            await host.request("end_pairing")
            await host.wait_state(lambda s: s["pairing"] is None)
            assert (await host.request("mix_teams", seed=2))["result"] == {"players": 4}
        finally:
            for client in clients:
                await client.close()


async def test_a_server_keeps_at_most_max_circles(make_store: Callable[[], RoomStore]) -> None:
    async with (
        running_server(fast_settings(max_circles=2), store=make_store()) as server,
        aiohttp.ClientSession() as http,
    ):
        base = server.base_url
        made = [
            await call(http, "POST", base + "/api/circles", status=201, json={"name": f"C{i}"})
            for i in range(2)
        ]
        refused = await call(http, "POST", base + "/api/circles", status=429, json={"name": "C2"})
        assert refused["error"]["code"] == "too_many_circles"
        await call(
            http,
            "DELETE",
            f"{base}/api/circles/{made[0]['id']}",
            status=200,
            headers={"Authorization": "Bearer " + made[0]["facilitator_token"]},
        )
        await call(http, "POST", base + "/api/circles", status=201, json={"name": "C2"})
        # A browser that follows a circle's link to no open room gets a page saying why.
        html = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        for circle_id, reason in (
            (made[1]["id"], "room_not_found"),
            (made[0]["id"], "circle_not_found"),
        ):
            async with http.get(f"{base}/c/{circle_id}", headers=html) as response:
                assert response.status == 404 and response.content_type == "text/html"
                assert f'<body data-reason="{reason}">' in await response.text()
        body = await call(http, "GET", f"{base}/c/{made[1]['id']}", status=404)
        assert body["error"]["code"] == "room_not_found"  # anything else: the JSON error


ONE_RIDDLE = """\
id: one-riddle
title: One riddle
language: en
rounds:
  - kind: riddles
    title: R1
    riddles:
      - text: What is the secret?
        answers: [swordfish]
        time_limit: 10
"""


async def test_a_game_ended_by_auto_advance_is_kept_by_its_circle(
    make_store: Callable[[], RoomStore],
) -> None:
    """The deadline poller's auto-advance finishes the game: its session and keepsake are
    kept as when the host finishes it (recorded where the end was committed)."""
    clock = FakeClock()
    async with (
        running_server(fast_settings(), store=make_store(), clock=clock) as server,
        aiohttp.ClientSession() as http,
    ):
        base = server.base_url
        circle = await call(http, "POST", base + "/api/circles", status=201, json={"name": "Ops"})
        devices = {name: secrets.token_urlsafe(24) for name in NAMES}
        room, host, players, _ = await play_session(base, server.ws_url, http, circle, devices)
        try:
            await upload_pack(base, room["code"], room["host_token"], ONE_RIDDLE)  # chosen too
            await host.wait_state(lambda s: s["pack"] is not None)
            await host.request("auto_advance", enabled=True)
            assert (await host.request("next"))["result"] == {"step": "round_started"}
            await server.circles_recorded()  # the teams, recorded after the command
            clock.advance(11)  # the riddle times out...
            await host.wait_state(lambda s: s["riddle"] and s["riddle"]["stage"] == "revealed")
            clock.advance(60)  # ... and the game moves on by itself, to its end
            await host.wait_state(lambda s: s["phase"] == "finished")
            await server.circles_recorded()
            exported = await export(http, base, circle)
            [session] = exported["sessions"]
            assert session["keepsake"] is not None
            assert session["keepsake"]["room"]["phase"] == "finished"
            assert sorted(c["name"] for c in session["keepsake"]["colleagues"]) == sorted(NAMES)
        finally:
            for client in (host, *players.values()):
                await client.close()


async def test_a_game_the_host_ends_builds_its_keepsake_once(
    make_store: Callable[[], RoomStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host's last ``next`` ends the game: the commit queues its session, keepsake
    and all, and the background record of the teams that every ``next`` asks for
    does not build the keepsake again (an O(players) build, twice a game)."""
    built: list[str] = []
    for_circle = keepsake.for_circle

    def counted(room: Any, *args: Any, **kwargs: Any) -> Any:
        built.append(room.code)
        return for_circle(room, *args, **kwargs)

    monkeypatch.setattr(keepsake, "for_circle", counted)
    async with (
        running_server(fast_settings(), store=make_store()) as server,
        aiohttp.ClientSession() as http,
    ):
        base = server.base_url
        circle = await call(http, "POST", base + "/api/circles", status=201, json={"name": "Ops"})
        devices = {name: secrets.token_urlsafe(24) for name in NAMES}
        room, host, players, _ = await play_session(base, server.ws_url, http, circle, devices)
        try:
            await upload_pack(base, room["code"], room["host_token"], ONE_RIDDLE)
            await host.wait_state(lambda s: s["pack"] is not None)
            steps = [(await host.request("next"))["result"]["step"]]  # the riddle opens
            await host.request("reveal")
            while "round_ended" not in steps and len(steps) < 6:  # the pack's one round
                steps.append((await host.request("next"))["result"]["step"])
            await host.wait_state(lambda s: s["phase"] == "finished")
            await server.circles_recorded()
            [session] = (await export(http, base, circle))["sessions"]
            assert session["keepsake"] is not None, steps
            assert built == [room["code"]], steps
        finally:
            for client in (host, *players.values()):
                await client.close()


async def test_close_answers_at_once_whatever_the_circles_store_does(
    make_store: Callable[[], RoomStore], caplog: pytest.LogCaptureFixture
) -> None:
    """Recording the session is no part of the host's close: with the circle's part of the
    store failing (an unexpected error, not a store outage), the room closes and says so;
    the recording in the background tries again, then gives up, logged."""
    store = make_store()
    async with (
        running_server(fast_settings(), store=store) as server,
        aiohttp.ClientSession() as http,
    ):
        base = server.base_url
        circle = await call(http, "POST", base + "/api/circles", status=201, json={"name": "Ops"})
        devices = {name: secrets.token_urlsafe(24) for name in NAMES}
        room, host, players, _ = await play_session(base, server.ws_url, http, circle, devices)
        try:

            async def failing(*args: Any, **kwargs: Any) -> Any:
                raise RuntimeError("the circle's part of the store is failing")

            store.load_circle = failing  # type: ignore[method-assign]
            circles = server.app[SERVICE].circles
            assert circles is not None
            circles.retry_pause, circles.retry_for = 0.001, 0.05  # tried again, then given up
            ack = await host.request("close")
            assert ack["of"] == "close" and "error" not in ack
            await host.wait_state(lambda s: s["phase"] == "closed")
            await server.circles_recorded()
            assert "gave up recording the sessions of rooms " + room["code"] in caplog.text
        finally:
            for client in (host, *players.values()):
                await client.close()


async def test_past_its_rotations_start_pairing_is_refused_before_the_circle_is_read(
    make_store: Callable[[], RoomStore], tmp_path: Path
) -> None:
    """``too_many_rotations`` comes before the circle's history is read: with the circle's
    store failing, the host hears the refusal, not an internal error. And a circle's link
    in a process without the web client answers its JSON error, not a 500."""
    store = make_store()
    async with (
        running_server(fast_settings(web_dir=tmp_path, message_burst=200), store=store) as server,
        aiohttp.ClientSession() as http,
    ):
        base = server.base_url
        circle = await call(http, "POST", base + "/api/circles", status=201, json={"name": "Ops"})
        html = {"Accept": "text/html"}
        body = await call(http, "GET", f"{base}/c/{circle['id']}", status=404, headers=html)
        assert body["error"]["code"] == "room_not_found"
        devices = {name: secrets.token_urlsafe(24) for name in NAMES}
        _, host, players, _ = await play_session(base, server.ws_url, http, circle, devices)
        try:
            for rotation in range(50):
                await host.request("start_pairing", seconds=60, seed=rotation)
                await host.request("end_pairing")

            async def failing(*args: Any, **kwargs: Any) -> Any:
                raise RuntimeError("the circle's part of the store is failing")

            store.load_circle = failing  # type: ignore[method-assign]
            with pytest.raises(ProtocolError) as refused:
                await host.request("start_pairing", seconds=60, seed=99)
            assert refused.value.code == "too_many_rotations"
            # The history is best effort, whatever the error: mixing teams goes on without it.
            assert (await host.request("mix_teams", seed=1))["result"] == {"players": 4}
        finally:
            for client in (host, *players.values()):
                await client.close()
