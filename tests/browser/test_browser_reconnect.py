"""Connections that drop come back by themselves, and say honestly what is going on.

1. The browser goes offline: the page says "offline" at once; back online, it
   checks its socket and is connected again.
2. The server restarts (stopped, then started again on the same port with the
   same store): every page shows that it is reconnecting, retries with backoff,
   and resumes: the player is in the same team with the same points, and the
   game goes on.
3. A kicked player and a closed room end the session: no reconnection loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from browser_helpers import Pages
from playwright.async_api import Page, expect
from ritrovo.app import create_app
from ritrovo.edge.tcp import GuardedRunner
from ritrovo.store.base import RoomStore
from ritrovo.store.memory import MemoryStore
from support.protocol_helpers import create_room
from support.servers import free_port
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(90)


@asynccontextmanager
async def serve(port: int, store: RoomStore) -> AsyncIterator[str]:
    """The app on a fixed port, so a second instance can take over the first one's clients."""
    app = create_app(fast_settings(), store=store)
    runner = GuardedRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def status(page: Page, value: str) -> None:
    await expect(page.locator("#conn")).to_have_attribute("data-status", value)


async def test_offline_and_server_restart(pages: Pages) -> None:
    port = free_port()
    store = MemoryStore()
    async with serve(port, store) as base:
        room = await create_room(base, "Restart check", pack="office-riddles")
        code, token = room["code"], room["host_token"]
        host = (await pages.open("host")).page
        await host.goto(f"{base}/host/{code}#token={token}")
        await status(host, "connected")

        ada_w = await pages.open("ada", phone=True)
        ada = ada_w.page
        await ada.goto(f"{base}/r/{code}")
        await ada.locator("#join-name").fill("Ada")
        await ada.locator("#join-button").click()
        await status(ada, "connected")
        team = await ada.locator("#me-team").inner_text()

        bob = (await pages.open("bob", phone=True)).page
        await bob.goto(f"{base}/r/{code}")
        await bob.locator("#join-name").fill("Bob")  # "suggested" team: the other one
        await bob.locator("#join-button").click()
        await status(bob, "connected")
        assert await bob.locator("#me-team").inner_text() != team

        await host.locator("#btn-next").click()
        await ada.locator("#guess-input").fill("team")
        await ada.locator("#guess-input").press("Enter")
        await expect(ada.locator("#solved-banner")).to_be_visible()
        points = await ada.locator("#me-points").inner_text()
        assert points != "Your points: 0"

        # 1. The phone loses its network, then gets it back.
        await ada.context.set_offline(True)
        await status(ada, "offline")
        await expect(ada.locator("#conn-banner")).to_have_text("Offline: waiting for the network")
        await ada.context.set_offline(False)
        await status(ada, "connected")
        await expect(ada.locator("#conn-banner")).to_be_hidden()

    # 2. The server goes away: every page keeps trying, and says so.
    for page in (ada, bob, host):
        await status(page, "reconnecting")
    await expect(ada.locator("#conn-banner")).to_be_visible()
    await expect(ada.locator("#conn")).to_contain_text("retrying in")

    async with serve(port, store) as base:
        for page in (ada, bob, host):
            await status(page, "connected")
        await expect(ada.locator("#conn-banner")).to_be_hidden()
        await expect(ada.locator("#me-team")).to_have_text(team)
        await expect(ada.locator("#me-points")).to_have_text(points)
        await expect(ada.locator("#solved-banner")).to_be_visible()
        # The game goes on across the restart: Bob's team solves it too, which ends the riddle.
        await bob.locator("#guess-input").fill("team")
        await bob.locator("#guess-input").press("Enter")
        await expect(bob.locator("#reveal-answer")).to_have_text("team")
        await expect(host.locator("#riddle-answers")).to_contain_text("team")
        await host.locator("#btn-next").click()
        await expect(ada.locator("#riddle-count")).to_have_text("Riddle 2 of 9")

        # 3. Sessions that end for good do not reconnect: a kicked player, a closed room.
        await host.get_by_role("button", name="Remove Bob from the room").click()
        await host.get_by_role("dialog").get_by_role("button", name="Remove").click()
        await expect(bob.locator("#message-title")).to_have_text(
            "The host removed you from this room."
        )
        await status(bob, "closed")
        await bob.reload()  # the resume token is gone: back to the join form
        await expect(bob.locator("#join-name")).to_be_visible()
        await host.locator("#btn-close-room").click()
        await host.get_by_role("dialog").get_by_role("button", name="Close the room").click()
        await expect(ada.locator("#message-title")).to_have_text("This room is closed")
        await expect(host.locator("#message-title")).to_have_text("The room is closed.")

    # Closing a socket during a restart is logged by the browser as a failed handshake.
    assert pages.problems(allow=("WebSocket connection to",)) == []
