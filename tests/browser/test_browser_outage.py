"""When Redis goes away mid-game, every page says the game is paused, and stops saying it when Redis is back."""

from __future__ import annotations

import pytest
from browser_helpers import Pages
from playwright.async_api import expect
from ritrovo.store.redis import RedisStore
from support.protocol_helpers import create_room
from support.redis_server import RedisServer
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(90)


async def test_store_outage_banner(pages: Pages, fresh_redis_server: RedisServer) -> None:
    settings = fast_settings(store_check_interval=0.2)
    async with running_server(settings, store=RedisStore(fresh_redis_server.url)) as server:
        room = await create_room(server.base_url, "Outage check", pack="office-riddles")
        code, token = room["code"], room["host_token"]
        host = (await pages.open("host")).page
        await host.goto(f"{server.base_url}/host/{code}#token={token}")
        screen = (await pages.open("screen")).page
        await screen.goto(f"{server.base_url}/screen/{code}")
        ada = (await pages.open("ada", phone=True)).page
        await ada.goto(f"{server.base_url}/r/{code}")
        await ada.locator("#join-name").fill("Ada")
        await ada.locator("#join-button").click()
        await expect(ada.locator("#conn")).to_have_attribute("data-status", "connected")
        every_page = (host, screen, ada)
        for page in every_page:
            await expect(page.locator("#notice-banner")).to_be_hidden()

        fresh_redis_server.kill()
        for page in every_page:
            await expect(page.locator("#notice-banner")).to_be_visible(timeout=15_000)
            await expect(page.locator("#notice-banner")).to_contain_text("paused")

        await fresh_redis_server.start_async()
        for page in every_page:
            await expect(page.locator("#notice-banner")).to_be_hidden(timeout=15_000)
