"""/metrics in Prometheus text format, one registry per app."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from ritrovo.app import TIMERS
from ritrovo.client import ProtocolError, RitrovoClient, join
from ritrovo.store.redis import RedisStore
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(base_url: str) -> Samples:
    async with aiohttp.ClientSession() as http, http.get(base_url + "/metrics") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        text = await r.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_describe_rooms_connections_messages_errors_and_latencies(
    redis_url: str,
) -> None:
    settings = fast_settings()
    async with (
        running_server(settings, store=RedisStore(redis_url)) as a,
        running_server(settings, store=RedisStore(redis_url)) as b,
    ):
        room = await create_room(a.base_url)
        await create_room(b.base_url)
        code = room["code"]
        host = await RitrovoClient.connect(a.ws_url)
        await host.hello("host", room=code, token=room["host_token"])
        ada = await join(a.ws_url, code, "Ada")
        idle = await RitrovoClient.connect(a.ws_url)  # not in a room yet
        with pytest.raises(ProtocolError):
            await ada.request("guess", text="too early")  # no riddle yet
        start = len(ada.messages)
        await ada.send_raw("not json")
        await ada.wait_for(lambda m: m["type"] == "error", start=start)
        await host.request("create_team", name="Gatti")
        await ada.wait_state(lambda s: len(s["teams"]) == 3)
        timers = (a.app[TIMERS], b.app[TIMERS])
        async with asyncio.timeout(5):  # one of them takes the lease as it starts
            while not any(t.lease.held for t in timers):
                await asyncio.sleep(0.02)

        m = await scrape(a.base_url)
        assert value(m, "ritrovo_rooms") == 2  # in the store, created on either process
        assert value(m, "ritrovo_rooms_connected") == 1
        assert value(m, "ritrovo_connections", role="host") == 1
        assert value(m, "ritrovo_connections", role="player") == 1
        assert value(m, "ritrovo_connections", role="none") == 1
        assert value(m, "ritrovo_messages_in_total", type="guess") == 1
        assert value(m, "ritrovo_messages_in_total", type="invalid") == 1
        assert value(m, "ritrovo_messages_in_total", type="create_team") == 1
        assert value(m, "ritrovo_messages_out_total", type="state") >= 2  # one per opening
        assert value(m, "ritrovo_messages_out_total", type="patch") >= 1  # then the changes
        assert value(m, "ritrovo_messages_out_total", type="ack") >= 1
        assert value(m, "ritrovo_errors_total", code="no_riddle") == 1
        assert value(m, "ritrovo_errors_total", code="invalid_json") == 1
        assert value(m, "ritrovo_broadcast_latency_seconds_count") >= 1
        assert value(m, "ritrovo_redis_roundtrip_seconds_count", operation="commit") >= 2
        assert value(m, "ritrovo_redis_roundtrip_seconds_count", operation="load") >= 1
        assert value(m, "ritrovo_store_up") == 1

        # The other app has its own registry: none of a's traffic shows there.
        other = await scrape(b.base_url)
        assert value(other, "ritrovo_messages_in_total", type="guess") == 0
        assert value(other, "ritrovo_connections", role="host") == 0
        # Exactly one of the two processes holds the timer lease, and says so.
        assert value(m, "ritrovo_timer_lease_held") + value(other, "ritrovo_timer_lease_held") == 1
        for client in (host, ada, idle):
            await client.close()
