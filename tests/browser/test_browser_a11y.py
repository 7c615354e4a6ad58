"""axe-core on every page at every stage of one game.

One short game (a small uploaded pack: two riddles, then a story round) with
the landing page, the host console, the shared screen and two phones. At each
stage (lobby, a coffee pairing, riddle open, riddle revealed, between rounds, story writing,
reveal, voting, results, podium) axe-core runs in every page of the game, and
any serious or critical violation fails the test, as does any violation of
the rules issue 13 named (some of them only "moderate").

axe-core comes from node_modules (package-lock.json pins it; scripts/setup.sh
--test installs it); it is injected with add_script_tag, so these pages are
opened with ``bypass_csp`` (the served CSP allows no inline script).
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from browser_helpers import (
    SCREEN,
    SMALL_PACK,
    Pages,
    axe_violations,
    describe_violations,
    join,
)
from playwright.async_api import Page, expect
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.resilience import upload_pack
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(150)

FAIL_IMPACTS = {"serious", "critical"}
# Rules issue 13 found, failed at any impact (heading-order and
# page-has-heading-one are only "moderate").
NAMED_RULES = {
    "label-content-name-mismatch",
    "color-contrast",
    "scrollable-region-focusable",
    "page-has-heading-one",
    "heading-order",
}


def failing(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in FAIL_IMPACTS or v["id"] in NAMED_RULES]


async def test_axe_every_page_every_stage(pages: Pages) -> None:
    clock = FakeClock(start=time.time())
    found: dict[str, list[dict[str, Any]]] = {}

    async def check(stage: str, **named: Page) -> None:
        for name, page in named.items():
            found[f"{name} @ {stage}"] = failing(await axe_violations(page))

    async with running_server(fast_settings(), clock=clock) as server:
        base = server.base_url

        # -- the landing page, in both languages -------------------------------------------
        landing = (await pages.open("landing", bypass_csp=True)).page
        await landing.goto(base + "/")
        await expect(landing.locator("#pack-list input")).not_to_have_count(0)
        await check("landing", landing=landing)
        await landing.get_by_role("button", name="IT Italiano").click()
        await expect(landing.locator("html")).to_have_attribute("lang", "it")
        await check("landing (it)", landing=landing)

        room = await create_room(base, "Accessible games")
        code, token = room["code"], room["host_token"]
        await upload_pack(base, code, token, SMALL_PACK)

        host = (await pages.open("host", bypass_csp=True)).page
        await host.goto(f"{base}/host/{code}#token={token}")
        await expect(host.locator("#conn")).to_have_attribute("data-status", "connected")
        await expect(host.locator("#pack-current")).to_contain_text("Small test pack")
        screen = (await pages.open("screen", viewport=SCREEN, bypass_csp=True)).page
        await screen.goto(f"{base}/screen/{code}")
        await expect(screen.locator("#lobby-code")).to_have_text(code)

        ada = (await pages.open("ada", phone=True, bypass_csp=True)).page
        bea = (await pages.open("bea", phone=True, bypass_csp=True)).page
        await ada.goto(f"{base}/r/{code}")
        await expect(ada.locator("#team-choices label")).to_have_count(3)
        await check("join form", player=ada)
        await join(ada, f"{base}/r/{code}", "Ada", "Aurora")
        await join(bea, f"{base}/r/{code}", "Bea", "Bora")
        await expect(screen.locator("#lobby-teams li")).to_have_count(2)
        await expect(host.locator("#team-admin .player-admin > li")).to_have_count(2)
        await check("lobby", player=ada, console=host, screen=screen)

        # -- a coffee pairing in the lobby: Ada says she is new, the host pairs them ---------
        await ada.get_by_role("radio", name="new here").check()
        await host.get_by_role("button", name="Start coffee pairing").click()
        await expect(ada.locator("#pairing-breakout")).to_have_text("Breakout room 1")
        await expect(host.locator("#pairing-text")).to_have_value(re.compile("^Breakout rooms"))
        await expect(screen.locator("#s-pairing")).to_be_visible()
        await check("coffee pairing", player=ada, console=host, screen=screen)
        await host.get_by_role("button", name="End pairing").click()
        await expect(ada.locator("#pairing-card")).to_be_hidden()
        await expect(screen.locator("#s-lobby")).to_be_visible()

        # -- riddle 1, open: a near guess, an unlocked hint ----------------------------------
        await host.locator("#btn-next").click()
        await expect(ada.locator("#riddle-count")).to_have_text("Riddle 1 of 2")
        await ada.locator("#guess-input").fill("keyboard")
        await ada.locator("#guess-input").press("Enter")
        await expect(ada.locator("#verdict-flash")).to_contain_text("Close")
        clock.advance(11)
        await expect(ada.get_by_role("button", name=re.compile("Open hint 1"))).to_be_visible()
        await expect(screen.locator("#riddle-text")).to_contain_text("keys")
        await check("riddle open", player=ada, console=host, screen=screen)

        # -- revealed: Bea solves it, the host reveals --------------------------------------
        await bea.locator("#guess-input").fill("piano")
        await bea.locator("#guess-input").press("Enter")
        await expect(bea.locator("#solved-banner")).to_be_visible()
        await host.locator("#btn-reveal").click()
        await expect(ada.locator("#reveal-answer")).to_have_text("piano")
        await expect(screen.locator("#riddle-answer")).to_have_text("piano")
        await check("riddle revealed", player=ada, console=host, screen=screen)

        # -- riddle 2 (multiple choice), skipped, then between rounds ------------------------
        await host.locator("#btn-next").click()
        await expect(ada.locator("#options button")).to_have_count(4)
        await check("choice riddle open", player=ada)
        await host.locator("#btn-skip").click()
        await expect(host.locator("#btn-next")).to_have_text("End the round")
        await host.locator("#btn-next").click()
        await expect(screen.locator("#s-between")).to_be_visible()
        await expect(ada.locator("#phase-between")).to_be_visible()
        await check("between rounds", player=ada, console=host, screen=screen)

        # -- the story round: Ada writes, Bea waits, then the reveal -------------------------
        await host.locator("#btn-next").click()
        await expect(ada.locator("#composer")).to_be_visible()
        await ada.locator("#line-input").fill("The stapler blinked twice and said nothing.")
        await check("story writing", player=ada, console=host, screen=screen)
        await ada.locator("#line-input").press("Enter")
        await expect(host.locator("#host-stories")).to_contain_text("stapler blinked")
        await expect(bea.locator("#composer")).to_be_visible()
        await bea.locator("#line-input").fill("Snowmen queued for the coffee machine.")
        await bea.locator("#line-input").press("Enter")
        await expect(host.locator("#host-stories")).to_contain_text("Snowmen queued")
        await expect(host.locator("#btn-next")).to_have_text("Reveal the next story")
        await host.locator("#btn-next").click()
        await expect(screen.locator("#story-focus")).to_be_visible()
        await check("story reveal", player=ada, console=host, screen=screen)
        await host.locator("#btn-next").click()
        await expect(host.locator("#btn-next")).to_have_text("Open voting")
        await host.locator("#btn-next").click()

        # -- voting and results ---------------------------------------------------------------
        await ada.get_by_role("button", name="Vote for Bora").click()
        await expect(ada.locator("#vote-flash")).to_contain_text("Vote recorded for Bora")
        await expect(screen.locator("#story-voters")).to_have_text("1 of 2 have voted")
        await check("voting", player=ada, console=host, screen=screen)
        await host.locator("#btn-close-voting").click()
        await expect(ada.locator("#story-heading")).to_have_text("Votes are in!")
        await expect(screen.locator("#story-grid .winner")).to_contain_text("Bora")
        await check("results", player=ada, console=host, screen=screen)

        # -- the podium ---------------------------------------------------------------------------
        # Ending the last round ends the game.
        await expect(host.locator("#btn-next")).to_have_text("End the round")
        await host.locator("#btn-next").click()
        await expect(screen.locator("#podium .podium-step")).to_have_count(2)
        await expect(ada.locator("#finished-rank")).to_contain_text("Your team finished #")
        await check("podium", player=ada, console=host, screen=screen)

        assert pages.problems() == []

    report = "\n".join(f"{where}:\n{describe_violations(v)}" for where, v in found.items() if v)
    assert not report, report


async def test_axe_the_pack_editor(pages: Pages) -> None:
    """The pack editor with a library pack open: problems at their fields, a try, a preview."""
    found: dict[str, list[dict[str, Any]]] = {}
    async with running_server(fast_settings()) as server:
        base = server.base_url
        room = await create_room(base, "Accessible editor")
        editor = (await pages.open("editor", bypass_csp=True)).page
        await editor.goto(f"{base}/editor?room={room['code']}#token={room['host_token']}")
        # A new pack: the validator's problems are shown next to their fields.
        await expect(editor.locator("#f-title-error")).to_be_visible()
        found["editor (new pack)"] = failing(await axe_violations(editor))

        await editor.get_by_label("A pack of the library").select_option("team-mix")
        await editor.get_by_role("button", name="Open", exact=True).click()
        await expect(editor.locator("#check-status")).to_contain_text("The pack is valid")
        attempt = editor.get_by_label("Try an answer to riddle 1").first
        await attempt.fill("something else")
        await attempt.press("Enter")
        await expect(editor.locator(".editor-try .verdict-flash").first).to_be_visible()
        await editor.get_by_role("button", name="Preview").first.click()
        await expect(editor.locator(".preview-pair")).to_be_visible()
        found["editor (library pack)"] = failing(await axe_violations(editor))

        await editor.get_by_role("button", name="IT Italiano").click()
        await expect(editor.locator("html")).to_have_attribute("lang", "it")
        await expect(editor.locator("#check-status")).to_contain_text("Il pacchetto è valido")
        found["editor (it)"] = failing(await axe_violations(editor))
        assert pages.problems() == []

    report = "\n".join(f"{where}:\n{describe_violations(v)}" for where, v in found.items() if v)
    assert not report, report
