"""The session's keepsake page (/keepsake/CODE) in Chromium: reached from a player's
end screen and from the console, with the people's markup shown as text, and
no axe-core violation.

The game is played by WebSocket clients (fast); the browsers only hold the
tokens a real phone and console would have kept, and read the page.
"""

from __future__ import annotations

import json

import pytest
from browser_helpers import Pages, Shots, axe_violations, describe_violations
from playwright.async_api import expect
from ritrovo.client import RitrovoClient, join
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(60)

EVIL_NAME = "<img src=x onerror=alert(1)>"
EVIL_ANSWER = "<b>bold</b> in Lisbon"
EVIL_LINE = "<img src=x onerror=alert(2)>"


def keeps(key: str, value: object) -> str:
    """A page script that saves what the client keeps in localStorage, before the page runs."""
    return f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(value))});"


async def test_keepsake_page_shows_markup_as_text(pages: Pages, shots: Shots) -> None:
    async with running_server(fast_settings()) as server:
        room = await create_room(server.base_url, "Keepsake night", pack="whos-who")
        code, host_token = room["code"], room["host_token"]
        host = await RitrovoClient.connect(server.ws_url)
        clients = [host]
        try:
            await host.hello("host", room=code, token=host_token)
            teams = [t["id"] for t in host.state["state"]["teams"]]  # type: ignore[index]
            evil = await join(server.ws_url, code, EVIL_NAME, team=teams[0])
            bea = await join(server.ws_url, code, "Bea", team=teams[1])
            clients += [evil, bea]
            assert evil.welcome is not None and bea.welcome is not None
            await host.request("start_pairing", seconds=300)  # the two of them meet
            await host.request("end_pairing")
            await host.request("next")
            await evil.wait_state(lambda s: s["whoswho"] is not None)
            await evil.request(
                "whoswho_answer", answers=[{"prompt": 0, "text": EVIL_ANSWER}], line=EVIL_LINE
            )
            await bea.request("whoswho_answer", answers=[])
            await host.wait_state(lambda s: s["whoswho"]["answered"] == 1)
            await host.request("next")
            await bea.wait_state(lambda s: s["whoswho"]["question"] is not None)
            await bea.request("whoswho_choose", player=evil.welcome["player"]["id"])
            await host.wait_state(lambda s: "reveal" in (s["whoswho"]["question"] or {}))
            await host.request("next")
            await host.wait_state(lambda s: s["phase"] == "finished")
        finally:
            for client in clients:
                await client.close()

        # Bea's phone: the end screen links to the keepsake, which names whom she met.
        phone = await pages.open("player", phone=True, bypass_csp=True)  # for axe-core
        session = {"token": bea.welcome["token"], "player_id": bea.welcome["player"]["id"]}
        await phone.page.add_init_script(
            keeps(f"ritrovo.player.{code}", {**session, "name": "Bea"})
        )
        await phone.page.goto(f"{server.base_url}/r/{code}")
        await phone.page.locator("#finished-keepsake").click()
        await expect(phone.page.locator("#ks-you")).to_have_text("You met 1 new colleague today")
        await expect(phone.page.locator("#ks-you-names li")).to_have_text([EVIL_NAME])
        fact = phone.page.locator("#ks-facts li")
        await expect(fact.locator("blockquote")).to_have_text(EVIL_ANSWER)
        await expect(fact.locator(".ww-line")).to_have_text(EVIL_LINE)
        await expect(phone.page.locator("#ks-podium li strong").first).to_be_visible()
        await expect(phone.page.locator("#ks-colleagues-box")).to_be_hidden()
        await expect(phone.page.locator('img[src="x"]')).to_have_count(0)
        await expect(phone.page.locator("b", has_text="bold")).to_have_count(0)
        await shots.take(phone.page, "player-keepsake", full_page=True)
        violations = await axe_violations(phone.page)
        assert violations == [], describe_violations(violations)

        # The console's link: everyone's count, in Italian too.
        console = await pages.open("host")
        await console.page.add_init_script(keeps(f"ritrovo.host.{code}", host_token))
        await console.page.goto(f"{server.base_url}/host/{code}")
        link = console.page.locator("#keepsake-link")
        await expect(link).to_have_attribute("href", f"/keepsake/{code}?as=host")
        await console.page.goto(f"{server.base_url}/keepsake/{code}?as=host")
        await expect(console.page.locator("#ks-colleagues li")).to_have_count(2)
        await expect(console.page.locator("#ks-colleagues li").first).to_contain_text(EVIL_NAME)
        await console.page.get_by_role("button", name="IT").click()
        await expect(console.page.locator("#ks-colleagues li").nth(1)).to_contain_text(
            "un nuovo collega"
        )
        await expect(console.page.locator('img[src="x"]')).to_have_count(0)
        await shots.take(console.page, "host-keepsake", full_page=True)

        # A device with no token for the room is told so.
        stranger = await pages.open("stranger")
        await stranger.page.goto(f"{server.base_url}/keepsake/{code}")
        await expect(stranger.page.locator("#ks-message-title")).to_have_text(
            "No keepsake on this device"
        )
        assert pages.problems() == []
