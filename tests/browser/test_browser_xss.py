"""User and pack text is shown literally on every page, never run as HTML.

A player is named ``<img src=x onerror=alert(1)>``, writes a story line with
the same text, the host renames a team to markup, and the story pack (uploaded
through the console, after a broken one is refused with its problems listed)
carries markup in its title and opening. Every page must show the text as
text: no dialog, no <img src="x"> element, no script error.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import SCREEN, Pages, Shots
from playwright.async_api import FilePayload, Page, expect
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(90)

EVIL = "<img src=x onerror=alert(1)>"
EVIL_TEAM = "<img src=x onerror=alert(2)>"
PACK = """\
id: xss-check
title: "Story <img src=x onerror=alert(3)>"
language: en
rounds:
  - kind: story
    title: "Tales <img src=x onerror=alert(4)>"
    prompts:
      - opening: "It began with <img src=x onerror=alert(5)> on the screen."
        theme: "<b>bold</b>"
    turns_per_player: 1
    seconds_per_turn: 60
    visibility: full
"""
BROKEN_PACK = """\
title: Missing things
rounds:
  - kind: riddles
    riddles:
      - text: Where is the answer?
"""


async def no_injected_markup(page: Page) -> None:
    await expect(page.locator('img[src="x"]')).to_have_count(0)
    await expect(page.locator("b", has_text="bold")).to_have_count(0)


async def test_markup_is_displayed_as_text(pages: Pages, shots: Shots) -> None:
    async with running_server(fast_settings()) as server:
        base = server.base_url
        room = await create_room(base, "XSS check")
        code, token = room["code"], room["host_token"]

        # The console opened with the token in the fragment keeps it out of the address bar.
        host = (await pages.open("host")).page
        await host.goto(f"{base}/host/{code}#token={token}")
        await expect(host.locator("#room-code")).to_have_text(code)
        assert "token" not in host.url
        await expect(host.locator("#pack-current")).to_have_text("No pack chosen yet.")

        # A broken pack is refused with every problem listed as file:line: field: message.
        await host.locator("#pack-file").set_input_files(
            files=FilePayload(
                name="broken.yaml", mimeType="application/yaml", buffer=BROKEN_PACK.encode()
            )
        )
        await host.get_by_role("button", name="Upload", exact=True).click()
        problems = host.locator("#pack-problems li")
        await expect(problems.first).to_be_visible()
        await expect(problems.filter(has_text="broken.yaml:1: id: is required")).to_have_count(1)
        await expect(
            problems.filter(
                has_text=re.compile(r"broken\.yaml:\d+: rounds\[0\]\.riddles\[0\]\.answers: ")
            )
        ).to_have_count(1)
        await shots.take(host, "host-pack-problems")

        await host.locator("#pack-file").set_input_files(
            files=FilePayload(name="xss.yaml", mimeType="application/yaml", buffer=PACK.encode())
        )
        await host.get_by_role("button", name="Upload", exact=True).click()
        await expect(host.locator("#upload-result")).to_contain_text(
            "Story <img src=x onerror=alert(3)>"
        )
        await expect(host.locator("#pack-current")).to_contain_text(
            "Story <img src=x onerror=alert(3)>"
        )

        screen = (await pages.open("screen", viewport=SCREEN)).page
        await screen.goto(f"{base}/screen/{code}")
        await expect(screen.locator("#lobby-code")).to_have_text(code)

        evil = (await pages.open("evil", phone=True)).page
        await evil.goto(f"{base}/r/{code}")
        await evil.locator("#join-name").fill(EVIL)
        await evil.locator("#team-choices label").filter(has_text="Aurora").locator("input").check()
        await evil.locator("#join-button").click()
        await expect(evil.locator("#me-name")).to_have_text(f"You are {EVIL}")

        bea = (await pages.open("bea", phone=True)).page
        await bea.goto(f"{base}/r/{code}")
        await bea.locator("#join-name").fill("Bea")
        await bea.locator("#team-choices label").filter(has_text="Bora").locator("input").check()
        await bea.locator("#join-button").click()
        await expect(bea.locator("#me-team")).to_have_text("Team Bora")

        # The host renames Bora to markup, through the console's dialog.
        await host.get_by_role("button", name="Rename team Bora").click()
        dialog = host.get_by_role("dialog")
        await dialog.get_by_label("Rename").fill(EVIL_TEAM)
        await dialog.get_by_role("button", name="Save").click()
        await expect(host.locator("#team-admin")).to_contain_text(EVIL_TEAM)

        # Names, literally, everywhere.
        await expect(host.locator("#team-admin")).to_contain_text(EVIL)
        await expect(host.locator("#moments")).to_contain_text(EVIL)
        await expect(screen.locator("#lobby-teams")).to_contain_text(EVIL)
        await expect(screen.locator("#lobby-teams")).to_contain_text(EVIL_TEAM)
        await expect(bea.locator("#me-team")).to_have_text(f"Team {EVIL_TEAM}")
        await expect(bea.locator("#scoreboard")).to_contain_text(EVIL)
        await expect(evil.locator("#lobby-members")).to_contain_text(EVIL)

        # The story round: each writes one line, the writing ends by itself.
        await host.locator("#btn-next").click()
        await expect(evil.locator("#composer")).to_be_visible()
        await expect(evil.locator("#story-prompt")).to_contain_text(
            "It began with <img src=x onerror=alert(5)> on the screen."
        )
        await expect(evil.locator("#story-prompt")).to_contain_text("<b>bold</b>")
        await evil.locator("#line-input").fill(EVIL)
        await evil.locator("#line-input").press("Enter")
        await expect(bea.locator("#composer")).to_be_visible()
        await bea.locator("#line-input").fill("A calm and ordinary line.")
        await bea.locator("#line-input").press("Enter")
        await expect(host.locator("#btn-next")).to_have_text("Reveal the next story")
        await expect(host.locator("#host-stories")).to_contain_text(EVIL)

        await host.locator("#btn-next").click()
        focus = screen.locator("#story-focus")
        await expect(focus).to_contain_text(EVIL)
        await expect(focus).to_contain_text(
            "It began with <img src=x onerror=alert(5)> on the screen."
        )
        await expect(screen.locator("#story-kicker")).to_contain_text(
            "Tales <img src=x onerror=alert(4)>"
        )
        await expect(bea.locator("#story-cards")).to_contain_text(EVIL)
        await expect(evil.locator("#story-cards")).to_contain_text(EVIL)
        await host.locator("#btn-next").click()
        await expect(screen.locator("#story-heading")).to_have_text(f"{EVIL_TEAM}'s story")
        await host.locator("#btn-next").click()
        await bea.get_by_role("button", name="Vote for Aurora").click()
        await expect(bea.locator("#vote-flash")).to_contain_text("Vote recorded for Aurora")
        await expect(screen.locator("#story-grid")).to_contain_text(EVIL)
        await expect(evil.locator("#story-cards")).to_contain_text(f"Vote for {EVIL_TEAM}")
        await shots.take(screen, "screen-xss-voting")

        # Moderation: the host hides the line, and shows it again.
        aurora_story = host.locator("#host-stories > div").filter(has_text="Aurora")
        await aurora_story.get_by_role("button", name="Hide this line from everyone").click()
        await expect(screen.locator("#story-grid")).to_contain_text("[hidden by the host]")
        await expect(screen.locator("#story-grid")).not_to_contain_text(EVIL)
        await expect(bea.locator("#story-cards")).to_contain_text("[hidden by the host]")
        await aurora_story.get_by_role("button", name="Show this line again").click()
        await expect(screen.locator("#story-grid")).to_contain_text(EVIL)

        for page in (host, screen, evil, bea):
            await no_injected_markup(page)
        # The only error: the browser's log line for the refused (422) upload.
        assert pages.problems(allow=("status of 422",)) == []
