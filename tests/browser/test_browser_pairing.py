"""A coffee pairing in the browser: seven phones, the console, the shared screen.

Seven players (7 = 2 + 2 + 3: two pairs and one trio, three breakout rooms)
join through the player page, two teams; one says "new here" in the lobby.
The host starts a five-minute pairing from the console: the console lists the
three breakout rooms as text (copied with its Copy button, in the console's language), each
phone shows its own group (the others' names and teams, the breakout room
that the console's list gives it, the prompt, the timer) and nobody else's,
and the screen shows only that pairing runs, the timer and the number of
groups. When the time is up every page goes back to the lobby.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from browser_helpers import SCREEN, Pages, Shots, join, publish
from playwright.async_api import Page, expect
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(180)

NAMES = ("Ada", "Bea", "Cy", "Dee", "Eli", "Fay", "Gus")
DOCS_SHOTS = {"player-pairing", "host-console-pairing", "screen-pairing"}
ROOM_LINE = re.compile(r"^Room (\d+): (.+?)( \(trio\))?$")


def rooms_of(text: str) -> dict[int, list[str]]:
    """The console's list, "Room 3: Ada, Bea (trio)", as breakout number -> names."""
    found: dict[int, list[str]] = {}
    for line in text.splitlines()[1:]:
        match = ROOM_LINE.match(line)
        assert match, line
        found[int(match.group(1))] = match.group(2).split(", ")
    return found


async def test_coffee_pairing_with_seven_phones(pages: Pages, shots: Shots) -> None:
    clock = FakeClock(start=time.time())
    async with running_server(fast_settings(), clock=clock) as server:
        base = server.base_url
        room = await create_room(base, "Coffee break")
        code, token = room["code"], room["host_token"]

        host_w = await pages.open("host", permissions=["clipboard-read", "clipboard-write"])
        host = host_w.page
        await host.goto(f"{base}/host/{code}#token={token}")
        await expect(host.locator("#conn")).to_have_attribute("data-status", "connected")
        screen = (await pages.open("screen", viewport=SCREEN)).page
        await screen.goto(f"{base}/screen/{code}")
        await expect(screen.locator("#lobby-code")).to_have_text(code)

        phones: dict[str, Page] = {}
        for n, name in enumerate(NAMES):
            phone = (await pages.open(name.lower(), phone=True)).page
            await join(phone, f"{base}/r/{code}", name, ("Aurora", "Bora")[n % 2])
            phones[name] = phone
        await expect(host.locator("#team-admin .player-admin > li")).to_have_count(len(NAMES))

        # The mentoring choice, in the lobby.
        ada = phones["Ada"]
        await ada.get_by_role("radio", name="new here").check()
        await expect(ada.get_by_role("radio", name="new here")).to_be_checked()

        # -- the host starts a five-minute pairing ------------------------------------------
        await host.get_by_label("Minutes").fill("5")
        await host.get_by_role("button", name="Start coffee pairing").click()
        listing = host.locator("#pairing-text")
        await expect(listing).to_have_value(
            re.compile(r"^Breakout rooms: 2 pairs and 1 trio, 7 people\n")
        )
        text = await listing.input_value()
        breakout = rooms_of(text)
        assert sorted(len(names) for names in breakout.values()) == [2, 2, 3]
        assert sorted(breakout) == [1, 2, 3]
        assert sorted(n for names in breakout.values() for n in names) == sorted(NAMES)
        await expect(host.locator("#pairing-status")).to_contain_text("3 groups · 7 people")
        await expect(host.locator("#pairing-countdown")).to_have_text(re.compile(r"^[45]:\d\d$"))

        # The Copy button puts the same text on the clipboard.
        await host.locator("#pairing-assignment").get_by_role("button", name="Copy").click()
        await expect(host.locator("#pairing-assignment button")).to_have_text("Copied!")
        assert await host.evaluate("navigator.clipboard.readText()") == text

        # -- every phone shows its own group, and only it ------------------------------------
        for number, names in breakout.items():
            for name in names:
                phone = phones[name]
                card = phone.locator("#pairing-card")
                await expect(card).to_be_visible()
                await expect(phone.locator("#pairing-breakout")).to_have_text(
                    f"Breakout room {number}"
                )
                mates = [other for other in names if other != name]
                with_text = phone.locator("#pairing-with")
                for mate in mates:
                    team = ("Aurora", "Bora")[NAMES.index(mate) % 2]
                    await expect(with_text).to_contain_text(f"{mate} (Team {team})")
                others = [other for other in NAMES if other not in names]
                shown = await card.inner_text()
                assert not any(re.search(rf"\b{other}\b", shown) for other in others), shown
                await expect(phone.locator("#pairing-prompt")).not_to_be_empty()
                await expect(phone.locator("#pairing-countdown")).to_have_text(
                    re.compile(r"^[45]:\d\d$")
                )

        # -- the screen: that it runs, the timer, how many groups; no names ---------------------
        await expect(screen.locator("#s-pairing")).to_be_visible()
        await expect(screen.locator("#pairing-groups")).to_have_text("3 groups · 7 people")
        await expect(screen.locator("#top-code")).to_have_text(code)  # for latecomers
        stage = await screen.locator("#s-pairing").inner_text()
        assert not any(re.search(rf"\b{name}\b", stage) for name in NAMES), stage

        trio = next(names for names in breakout.values() if len(names) == 3)
        await shots.take(phones[trio[0]], "player-pairing")
        await host.locator("#pairing-panel").scroll_into_view_if_needed()
        await host.evaluate(
            "document.getElementById('pairing-panel').scrollIntoView(); scrollBy(0, -72)"
        )
        await shots.take(host, "host-console-pairing")
        await shots.take(screen, "screen-pairing")

        # The console's list follows the console's language.
        await host.get_by_role("button", name="IT Italiano").click()
        await expect(listing).to_have_value(
            re.compile(r"^Sale per sottogruppi: 2 coppie e 1 terzetto, 7 persone\n")
        )
        await host.get_by_role("button", name="EN English").click()

        # -- time's up: back to the lobby everywhere ---------------------------------------------
        clock.advance(301)
        await expect(screen.locator("#s-lobby")).to_be_visible()
        for phone in phones.values():
            await expect(phone.locator("#pairing-card")).to_be_hidden()
            await expect(phone.locator("#phase-lobby")).to_be_visible()
        await expect(host.locator("#pairing-assignment")).to_be_hidden()
        await expect(host.get_by_role("button", name="Start coffee pairing")).to_be_enabled()

        assert pages.problems() == []
    if os.environ.get("RITROVO_PUBLISH_SCREENSHOTS"):
        publish([path for path in shots.taken if path.stem in DOCS_SHOTS])
