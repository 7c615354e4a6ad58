"""A circle in the browser: a phone that comes back is the same member, and can be forgotten.

A facilitator (over HTTP) makes a circle and opens two rooms in it. Ada's
phone joins the first: the player page keeps a device token for the circle
and shows the circle's card; she is paired with Bea. On the same phone she
joins the second room under another name: the circle knows her, and her card
shows what it remembers (her name, that she met Bea, and her line of the
first room's keepsake). "Forget me" deletes it: the circle's export no
longer names her and the phone drops its token. The console shows the
room's circle and deals its players with "Mix teams" in the lobby.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import aiohttp
import pytest
from browser_helpers import Pages, Shots, join, publish
from playwright.async_api import expect
from ritrovo.client import RitrovoClient
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(120)


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with http.post(url, json=body) as response:
        assert response.status == 201, await response.text()
        return await response.json()


async def test_a_returning_phone_is_remembered_and_can_be_forgotten(
    pages: Pages, shots: Shots
) -> None:
    async with running_server(fast_settings()) as server, aiohttp.ClientSession() as http:
        base = server.base_url
        circle = await post(http, base + "/api/circles", {"name": "Marketing, Milan"})
        facilitator = {"Authorization": "Bearer " + circle["facilitator_token"]}
        opened = {"circle": circle["id"], "circle_token": circle["facilitator_token"]}
        room1 = await post(http, base + "/api/rooms", {"name": "Monday", **opened})
        room2 = await post(http, base + "/api/rooms", {"name": "Friday", **opened})

        ada_w = await pages.open("ada", phone=True)
        ada = ada_w.page
        bea = (await pages.open("bea", phone=True)).page
        await join(ada, f"{base}/r/{room1['code']}", "Ada", "Aurora")
        await join(bea, f"{base}/r/{room1['code']}", "Bea", "Bora")
        card = ada.locator("#circle-card")
        await expect(card).to_be_visible()
        await expect(card.locator("#circle-title")).to_have_text("Circle: Marketing, Milan")
        token = await ada.evaluate(f"localStorage.getItem('ritrovo.circle.{circle['id']}')")
        assert re.fullmatch(r'"[A-Za-z0-9_-]{32}"', token)

        host = await RitrovoClient.connect(server.ws_url)
        try:
            await host.hello("host", room=room1["code"], token=room1["host_token"])
            await host.request("start_pairing", seconds=300)
            await expect(ada.locator("#pairing-card")).to_contain_text("Bea")
            await host.request("end_pairing")
            await host.request("finish")  # the circle keeps the session's keepsake
            await server.circles_recorded()  # (in the background, after the answer)
        finally:
            await host.close()

        # The same phone, another room of the circle, another name: the same member.
        await join(ada, f"{base}/r/{room2['code']}", "Ada R.", "Aurora")
        await expect(card).to_be_visible()
        await card.get_by_role("button", name="What it remembers about me").click()
        memory = card.locator("#circle-memory")
        await expect(memory).to_contain_text("Your name: Ada R.")
        await expect(memory).to_contain_text("met Bea")
        await expect(memory.locator(".circle-keepsake")).to_contain_text("You met 1 new colleague")
        await shots.take(ada, "player-circle", full_page=True)
        async with http.get(f"{base}/api/circles/{circle['id']}/export", headers=facilitator) as r:
            exported = await r.json()
        assert sorted(m["name"] for m in exported["members"]) == ["Ada R.", "Bea"]

        # The console mixes the second room's teams in the lobby.
        console = (await pages.open("host")).page
        await console.goto(f"{base}/host/{room2['code']}#token={room2['host_token']}")
        await expect(console.locator("#conn")).to_have_attribute("data-status", "connected")
        circle_link = console.locator("#room-circle-link")  # the room's circle, and its page
        await expect(circle_link).to_have_text("Marketing, Milan")
        await expect(circle_link).to_have_attribute("href", f"/circles#{circle['id']}")
        await shots.take(console, "host-console-circle")
        await console.get_by_role("button", name="Mix teams").click()
        await expect(console.locator("#toast")).to_have_text("Teams mixed.")

        # Forget me.
        await card.get_by_role("button", name="Forget me").click()
        await ada.get_by_role("dialog").get_by_role("button", name="Forget me").click()
        await expect(ada.locator("#toast")).to_have_text("The circle has forgotten you.")
        assert await ada.evaluate(f"localStorage.getItem('ritrovo.circle.{circle['id']}')") is None
        async with http.get(f"{base}/api/circles/{circle['id']}/export", headers=facilitator) as r:
            exported = await r.json()
        assert [m["name"] for m in exported["members"]] == ["Bea"]
        assert exported["sessions"][0]["groups"] == []
        await card.get_by_role("button", name="What it remembers about me").click()
        await expect(memory).to_have_text("The circle remembers nothing about you.")
        assert pages.problems(allow=("403",)) == []
    if os.environ.get("RITROVO_PUBLISH_SCREENSHOTS"):
        publish(shots.taken)


async def test_the_facilitators_page_makes_a_circle_opens_a_room_and_shows_it(
    pages: Pages, shots: Shots
) -> None:
    """/circles: create a circle (its token kept on this device), open a room in it, see a
    member who came through the circle's link, remove nothing, delete it (confirmed)."""
    async with running_server(fast_settings()) as server:
        base = server.base_url
        page = (await pages.open("facilitator")).page
        await page.goto(base + "/")
        await page.get_by_role("link", name="Circles: meet the same people again").click()
        # The page's script has run (it draws the language switch, then takes the
        # forms): a click before it would submit the form as plain HTML.
        await expect(page.get_by_role("group", name="Language")).to_be_visible()
        # A name the server refuses: its reason, in words, not its code.
        await page.locator("#cc-name").fill("Ops\u0007")
        await page.get_by_role("button", name="Create a circle").click()
        await expect(page.locator("#cc-create-error")).to_have_text(
            "That name contains characters that are not allowed."
        )
        await page.locator("#cc-name").fill("Ops <b>team</b>")
        await page.get_by_role("button", name="Create a circle").click()
        title = page.locator("#cc-circle-name")
        await expect(title).to_have_text("Ops <b>team</b>")  # as text, never as markup
        kept = await page.evaluate("JSON.parse(localStorage.getItem('ritrovo.circles'))")
        [circle] = kept
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", circle["token"])
        await expect(page.locator("#cc-link")).to_have_value(f"{base}/c/{circle['id']}")
        await expect(page).to_have_title("Ops <b>team</b> · Circles · Ritrovo")
        await expect(page.locator("#cc-room-name")).to_have_value("Ops <b>team</b>")
        await page.locator("#cc-copy").click()  # the console's copy button, shared
        await expect(page.locator("#cc-copy")).to_have_text("Copied!")

        await page.get_by_role("button", name="Open a room in this circle").click()
        room = page.locator("#cc-rooms li")
        await expect(room).to_have_count(1)
        code = (await room.locator(".pill").text_content()) or ""
        await expect(room.get_by_role("link", name="Open the console")).to_have_attribute(
            "href", f"/host/{code}"
        )

        # A colleague comes through the circle's link: a member, shown on the page.
        phone = (await pages.open("phone", phone=True)).page
        await join(phone, f"{base}/c/{circle['id']}", "Zoé <i>", "Aurora")
        assert phone.url.endswith(f"/r/{code}")
        await page.reload()
        await expect(page.locator("#cc-members")).to_contain_text("Zoé <i>")
        await page.locator("#cc-members").scroll_into_view_if_needed()
        await shots.take(page, "circles-page")
        await page.get_by_role("button", name="IT Italiano").click()
        await expect(page.locator("#cc-members")).to_contain_text("Rimuovi")
        await page.get_by_role("button", name="EN English").click()

        # Deleting asks first.
        await page.get_by_role("button", name="Delete the circle").click()
        await page.get_by_role("dialog").get_by_role("button", name="Delete the circle").click()
        await expect(page.locator("#toast")).to_contain_text("deleted")
        await expect(page.locator("#cc-circle")).to_be_hidden()
        assert await page.evaluate("JSON.parse(localStorage.getItem('ritrovo.circles'))") == []
        await expect(page).to_have_title("Ritrovo · Circles")  # not the deleted circle's name

        # What another version of the page left (a circle without its rooms), and a
        # malformed address: the page shows the list, no error.
        old = [{"id": "A" * 16, "name": "Old", "token": "t" * 32}]
        await page.evaluate(f"localStorage.setItem('ritrovo.circles', '{json.dumps(old)}')")
        await page.goto(base + "/circles#%E0")
        await expect(page.get_by_text("Old")).to_be_visible()
        assert pages.problems(allow=("400",)) == []  # (the refused name)
        # Another circle chosen: its name in the room name field, not the deleted one's;
        # the server refuses its token (403), and the page says so in words.
        await page.get_by_text("Old").click()
        await expect(page.locator("#cc-room-name")).to_have_value("Old")
        await expect(page.locator("#cc-error")).to_contain_text("no longer exists")
        await expect(page).to_have_title("Old · Circles · Ritrovo")
        assert pages.problems(allow=("400", "403")) == []
    if os.environ.get("RITROVO_PUBLISH_SCREENSHOTS"):
        publish(shots.taken)
