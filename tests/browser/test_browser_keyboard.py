"""The keyboard alone is enough: join, answer a riddle, vote; and the host runs the game."""

from __future__ import annotations

import pytest
from browser_helpers import Pages
from playwright.async_api import Page, expect
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(60)


async def tab_to(page: Page, selector: str, limit: int = 30) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        if await page.evaluate(
            "(s) => document.activeElement === document.querySelector(s)", selector
        ):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with Tab")


async def test_keyboard_only(pages: Pages) -> None:
    async with running_server(fast_settings()) as server:
        base = server.base_url
        room = await create_room(base, "Keyboard", pack="office-riddles")
        code = room["code"]
        host = (await pages.open("host")).page
        await host.goto(f"{base}/host/{code}#token={room['host_token']}")
        await expect(host.locator("#conn")).to_have_attribute("data-status", "connected")

        page = (await pages.open("player", phone=True)).page
        await page.goto(f"{base}/r/{code}")
        # The name field has the focus; the team radios are one Tab stop, arrows choose.
        await expect(page.locator("#join-name")).to_be_focused()
        await page.keyboard.type("Kay")
        await page.keyboard.press("Tab")
        await expect(
            page.get_by_role("radio", name="Suggested: put me where I'm needed")
        ).to_be_focused()
        await page.keyboard.press("ArrowDown")
        await expect(page.locator("#team-choices input[type=radio]").nth(1)).to_be_checked()
        await tab_to(page, "#join-button")
        await page.keyboard.press("Enter")
        await expect(page.locator("#me-team")).to_have_text("Team Aurora")

        # The host starts the game from the keyboard.
        await tab_to(host, "#btn-next")
        await host.keyboard.press("Enter")
        await expect(page.locator("#riddle-count")).to_have_text("Riddle 1 of 9")

        await tab_to(page, "#guess-input")
        await page.keyboard.type("tea")
        await page.keyboard.press("Enter")
        await expect(page.locator("#verdict-flash")).to_contain_text("Close")
        # The focus stays in the box for the next try.
        await expect(page.locator("#guess-input")).to_be_focused()
        await page.keyboard.type("team")
        await page.keyboard.press("Enter")
        await expect(page.locator("#verdict-flash")).to_contain_text("Correct")

        # The host's confirmation dialog works from the keyboard too: Escape cancels it.
        await tab_to(host, "#btn-finish")
        await host.keyboard.press("Enter")
        await expect(host.get_by_role("dialog")).to_be_visible()
        await host.keyboard.press("Escape")
        await expect(host.get_by_role("dialog")).to_have_count(0)
        await expect(host.locator("#game-status")).to_contain_text("Riddle")
        assert pages.problems() == []
