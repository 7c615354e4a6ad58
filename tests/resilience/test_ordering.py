"""Ordering and catch-up across processes: snapshots then every later update,
never an older seq after a newer one, no gap when a change races an opening."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from ritrovo.app import STORE
from ritrovo.client import RitrovoClient, join
from ritrovo.store import parts
from ritrovo.store.base import NoticeHandler, Stored
from ritrovo.store.redis import RedisStore
from support.protocol_helpers import create_room
from support.resilience import assert_seqs_increase, state_seqs
from support.servers import running_server
from support.servers import test_settings as fast_settings


class SpyStore(RedisStore):
    """A Redis store that can run a hook inside a load, and tells when its hub got a notice."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.during_load: Callable[[], Awaitable[None]] | None = None
        self.delivered_seq = 0
        self._delivered = asyncio.Condition()

    async def load(self, code: str) -> Stored | None:
        stored = await super().load(code)
        hook, self.during_load = self.during_load, None
        if hook is not None:
            await hook()  # the room changes after we read it, before we return it
        return stored

    async def listen(self, handler: NoticeHandler) -> None:
        async def spy(code: str, notice: bytes) -> None:
            result = handler(code, notice)
            if result is not None:
                await result
            change, _ = parts.decode_notice(notice)
            if change.seq:
                async with self._delivered:
                    self.delivered_seq = max(self.delivered_seq, change.seq)
                    self._delivered.notify_all()

        await super().listen(spy)

    async def wait_delivered(self, seq: int) -> None:
        async with self._delivered:
            await asyncio.wait_for(self._delivered.wait_for(lambda: self.delivered_seq >= seq), 5)


async def test_a_change_racing_an_opening_still_reaches_the_new_connection(redis_url: str) -> None:
    spy = SpyStore(redis_url)
    settings = fast_settings()
    async with (
        running_server(settings, store=RedisStore(redis_url)) as a,
        running_server(settings, store=spy) as b,
    ):
        room = await create_room(a.base_url)
        code = room["code"]
        host = await RitrovoClient.connect(a.ws_url)
        await host.hello("host", room=code, token=room["host_token"])
        team = host.state["state"]["teams"][0]["id"]  # type: ignore[index]

        async def rename_meanwhile() -> None:
            ack = await host.request("rename_team", team=team, name="Renamed meanwhile")
            assert ack["type"] == "ack"
            seq = (await host.wait_state(lambda s: s["teams"][0]["name"] == "Renamed meanwhile"))[
                "seq"
            ]
            await spy.wait_delivered(
                seq
            )  # b's hub has seen (and, unwatched, would drop) the notice

        spy.during_load = rename_meanwhile
        screen = await RitrovoClient.connect(b.ws_url)
        await screen.hello("screen", room=code)
        assert spy.during_load is None  # the rename did happen during the opening's read
        # The opening's first state may predate the rename (then a later one
        # brings it) or already include it (the room was read again after the
        # hook); either way the rename must arrive, in order.
        await screen.wait_state(lambda s: s["teams"][0]["name"] == "Renamed meanwhile", timeout=3)
        assert_seqs_increase(screen)
        await screen.close()
        await host.close()


async def test_bursts_across_processes_arrive_in_order_and_complete(redis_url: str) -> None:
    settings = fast_settings(flush_interval=0.01)
    async with (
        running_server(settings, store=RedisStore(redis_url)) as a,
        running_server(settings, store=RedisStore(redis_url)) as b,
    ):
        room = await create_room(a.base_url)
        code = room["code"]
        host = await RitrovoClient.connect(a.ws_url)
        await host.hello("host", room=code, token=room["host_token"])
        team = host.state["state"]["teams"][0]["id"]  # type: ignore[index]
        watchers = [await join(b.ws_url, code, "Ada"), await join(a.ws_url, code, "Ben")]
        screen = await RitrovoClient.connect(b.ws_url)
        await screen.hello("screen", room=code)
        watchers.append(screen)
        # Commands from two processes at once, interleaved.
        other_host = await RitrovoClient.connect(b.ws_url)
        await other_host.hello("host", room=code, token=room["host_token"])
        await asyncio.gather(
            *(host.request("rename_team", team=team, name=f"A{i}") for i in range(15)),
            *(other_host.request("create_team", name=f"B{i}") for i in range(5)),
        )
        # Every command is acknowledged, so committed: the store has the last word.
        stored = await a.app[STORE].load(code)
        assert stored is not None
        last = orjson.loads(stored.parts["meta"])
        assert len(last["teams"]) == 7
        clients = [host, other_host, *watchers]
        for client in clients:  # closing one now would commit a disconnection: check all first
            state = await client.wait_state(lambda s: s["seq"] >= stored.version)
            assert state["seq"] == stored.version, state_seqs(client)
            assert [t["name"] for t in state["teams"]] == [t["name"] for t in last["teams"]]
            assert_seqs_increase(client)
        for client in clients:
            await client.close()


async def test_reconnecting_to_another_process_resumes_from_a_newer_snapshot(
    redis_url: str,
) -> None:
    settings = fast_settings()
    async with (
        running_server(settings, store=RedisStore(redis_url)) as a,
        running_server(settings, store=RedisStore(redis_url)) as b,
    ):
        room = await create_room(a.base_url)
        code = room["code"]
        ada = await join(a.ws_url, code, "Ada")
        last_seen = state_seqs(ada)[-1]
        token = ada.welcome["token"]  # type: ignore[index]
        await ada.close()
        again = await RitrovoClient.connect(b.ws_url)
        await again.hello("rejoin", room=code, token=token)
        first: Any = again.state
        assert first is not None and first["seq"] > last_seen
        assert first["state"]["players_count"] == 1
        await again.close()
