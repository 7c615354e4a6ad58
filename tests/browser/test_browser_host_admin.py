"""The console manages teams and players: create, move, lock, delete; players see it live."""

from __future__ import annotations

import pytest
from browser_helpers import SCREEN, Pages
from playwright.async_api import expect
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(60)


async def test_team_admin(pages: Pages) -> None:
    async with running_server(fast_settings()) as server:
        base = server.base_url
        room = await create_room(base, "Admin", pack="office-riddles")
        code = room["code"]
        host = (await pages.open("host")).page
        await host.goto(f"{base}/host/{code}#token={room['host_token']}")
        await expect(host.locator("#conn")).to_have_attribute("data-status", "connected")

        # A third team.
        await host.get_by_placeholder("New team name").fill("Cometa")
        await host.get_by_role("button", name="Add team").click()
        await expect(host.locator("#team-admin > li")).to_have_count(3)

        ada = (await pages.open("ada", phone=True)).page
        await ada.goto(f"{base}/r/{code}")
        await expect(ada.locator("#team-choices label").filter(has_text="Cometa")).to_have_count(1)
        await ada.locator("#join-name").fill("Ada")
        await ada.locator("#join-button").click()
        await expect(ada.locator("#me-team")).to_have_text("Team Aurora")

        # The host moves Ada to Cometa; her phone follows.
        await host.get_by_role("button", name="Move Ada to").click()
        dialog = host.get_by_role("dialog")
        await dialog.get_by_label("Team").select_option(label="Cometa")
        await dialog.get_by_role("button", name="Done").click()
        await expect(ada.locator("#me-team")).to_have_text("Team Cometa")
        await expect(host.locator("#team-admin > li").filter(has_text="Cometa")).to_contain_text(
            "Ada"
        )

        # Locked: nobody new gets in, and the join page says why.
        await host.get_by_label("Lock the room (no new players)").check()
        # Bob types the code on the landing page, sloppily: lower case, with a dash.
        bob = (await pages.open("bob", phone=True)).page
        await bob.goto(f"{base}/")
        await bob.get_by_label("Room code").fill("ZZZ-ZZZ")
        await bob.get_by_role("button", name="Join", exact=True).click()
        await expect(bob.locator("#join-error")).to_have_text(
            "No room with the code ZZZZZZ. Check it and try again."
        )
        await bob.get_by_label("Room code").fill(f"{code[:3].lower()}-{code[3:].lower()}")
        await bob.get_by_label("Room code").press("Enter")
        await expect(bob).to_have_url(f"{base}/r/{code}")
        await expect(bob.locator("#join-error")).to_have_text(
            "The host has locked this room: new players cannot join."
        )
        await bob.locator("#join-name").fill("Bob")
        await bob.locator("#join-button").click()
        await expect(bob.locator("#join-error")).to_have_text(
            "The host has locked this room: new players cannot join."
        )
        await expect(bob.locator("#join-button")).to_be_enabled()
        await host.get_by_label("Lock the room (no new players)").uncheck()
        await bob.locator("#join-button").click()
        await expect(bob.locator("#me-name")).to_have_text("You are Bob")

        # Deleting Cometa moves Ada to another team.
        await host.get_by_role("button", name="Delete team Cometa").click()
        await host.get_by_role("dialog").get_by_role("button", name="Delete team").click()
        await expect(host.locator("#team-admin > li")).to_have_count(2)
        await expect(ada.locator("#me-team")).not_to_have_text("Team Cometa")

        # The language switch is persisted per device.
        await ada.get_by_role("button", name="IT Italiano").click()
        await expect(ada.locator("#leave-button")).to_have_text("Esci dalla partita")
        await ada.reload()
        await expect(ada.locator("#leave-button")).to_have_text("Esci dalla partita")
        await expect(ada.locator("html")).to_have_attribute("lang", "it")
        # The screen lists the players who are in.
        screen = (await pages.open("screen", viewport=SCREEN)).page
        await screen.goto(f"{base}/screen/{code}")
        await expect(screen.locator("#lobby-teams")).to_contain_text("Ada")
        await expect(screen.locator("#lobby-teams")).to_contain_text("Bob")
        # The one expected error: the browser's log line for looking up room ZZZZZZ (404).
        assert pages.problems(allow=("status of 404",)) == []
