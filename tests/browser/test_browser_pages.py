"""The landing page, as issue 13 found it.

* "Create room" is in view at 1440x900 without scrolling; the room name has a
  default; the default pack is one in the UI's language (and follows a
  language switch until the facilitator picks one); story rounds read
  "4 stories", not "(4 story)".
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import Pages
from playwright.async_api import expect
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(90)

LAPTOP = {"width": 1440, "height": 900}


async def test_landing_page(pages: Pages) -> None:
    async with running_server(fast_settings()) as server:
        base = server.base_url
        page = (await pages.open("facilitator", viewport=LAPTOP)).page
        await page.goto(base + "/")
        packs = page.locator("#pack-list label")
        await expect(packs).to_have_count(4)  # three packs and "choose later"

        # "Create room" is in view as the page opens, wholly.
        create = page.get_by_role("button", name="Create room")
        box = await create.bounding_box()
        assert box is not None
        assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], box
        assert await page.evaluate("window.scrollY") == 0

        # A room name is there already, and the English UI offers an English pack.
        name = page.locator("#room-name")
        await expect(name).to_have_value(re.compile(r"^Team games · \w+"))
        await expect(packs.filter(has_text="Office Riddles").locator("input")).to_be_checked()
        team_mix = packs.filter(has_text="Team Mix")
        await expect(team_mix).to_contain_text("Story Time: Once Upon a Workday (4 stories)")
        await expect(team_mix).to_contain_text("Quick Fire (9 riddles)")
        await expect(team_mix).not_to_contain_text("story)")

        # In Italian: an Italian pack, an Italian default name, Italian counts.
        await page.get_by_role("button", name="IT Italiano").click()
        await expect(
            packs.filter(has_text="Indovinelli d'ufficio").locator("input")
        ).to_be_checked()
        await expect(name).to_have_value(re.compile(r"^Giochi di squadra · \w+"))
        await expect(team_mix).to_contain_text("(4 storie)")
        await expect(team_mix).to_contain_text("(9 indovinelli)")

        # A name the facilitator typed and a pack they chose stay put across a switch.
        await name.fill("Venerdì insieme")
        await team_mix.locator("input").check()
        await page.get_by_role("button", name="EN English").click()
        await expect(name).to_have_value("Venerdì insieme")
        await expect(team_mix.locator("input")).to_be_checked()

        # A phone in Italian starts with the Italian pack; the default name creates a room.
        phone = (await pages.open("phone", phone=True, locale="it-IT")).page
        await phone.goto(base + "/")
        await expect(
            phone.locator("#pack-list label")
            .filter(has_text="Indovinelli d'ufficio")
            .locator("input")
        ).to_be_checked()
        default_name = await phone.get_by_label("Nome della stanza").input_value()
        await phone.get_by_role("button", name="Crea la stanza").click()
        await expect(phone).to_have_url(re.compile(r"/host/[2-9A-Z]{6}$"))
        await expect(phone.locator("#room-title")).to_have_text(default_name)
        await expect(phone.locator("#pack-current")).to_contain_text("Indovinelli d'ufficio")
        assert pages.problems() == []
