"""A whole game in real browsers: landing page, host console, shared screen, four phones.

The facilitator creates a room from the team-mix pack on the landing page; a
shared screen and four players (phone-sized, two teams, one of them in Italian)
join through the console's join link. Riddle 1 gets a wrong, a near and a right
guess, a hint is opened, a guess is accepted by the host, and one player
reloads mid-riddle and comes back in the same team with the same score. The
host skips to the story round with the console; the teams write, the stories
are revealed and voted, and the final podium appears on the screen.

Time is a FakeClock: deadlines fire only when the test advances it (the hint
unlock), so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from browser_helpers import SCREEN, Pages, Shots, join, publish
from playwright.async_api import Page, expect
from support.clock import FakeClock
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(150)

RIDDLES_IN_ROUND_1 = 9

# The screenshots worth showing in the docs (RITROVO_PUBLISH_SCREENSHOTS=1 copies them
# to docs/screenshots/; every screenshot is always saved under artifacts/screenshots/).
DOCS_SHOTS = {
    "screen-lobby",
    "screen-riddle",
    "screen-scoreboard",
    "screen-story-reveal",
    "screen-podium",
    "player-join",
    "player-riddle",
    "player-riddle-it",
    "player-story-turn",
    "player-vote",
    "host-console-lobby",
    "host-console-riddle",
}


async def guess(page: Page, text: str) -> None:
    box = page.locator("#guess-input")
    await box.fill(text)
    await box.press("Enter")


async def test_whole_game(pages: Pages, shots: Shots) -> None:
    clock = FakeClock(start=time.time())
    async with running_server(fast_settings(), clock=clock) as server:
        base = server.base_url

        # -- the facilitator creates the room on the landing page --------------------
        host_w = await pages.open("host")
        host = host_w.page
        await host.goto(base + "/")
        await host.get_by_label("Room name").fill("Friday games")
        await host.locator("#pack-list label").filter(has_text="Team Mix").locator("input").check()
        await host.get_by_role("button", name="Create room").click()
        await expect(host).to_have_url(re.compile(r"/host/[2-9A-Z]{6}$"))
        code = host.url.rsplit("/", 1)[1]
        await expect(host.locator("#room-code")).to_have_text(code)
        await expect(host.locator("#pack-current")).to_contain_text("Team Mix")
        await expect(host.locator("#conn")).to_have_attribute("data-status", "connected")
        join_url = await host.locator("#join-link").input_value()
        assert join_url == f"{base}/r/{code}"
        await host.wait_for_function("document.getElementById('room-qr').naturalWidth > 0")

        # -- the shared screen -----------------------------------------------------------
        screen_w = await pages.open("screen", viewport=SCREEN)
        screen = screen_w.page
        await screen.goto(f"{base}/screen/{code}")
        await expect(screen.locator("#lobby-code")).to_have_text(code)
        await expect(screen.locator("#lobby-url")).to_have_text(join_url.split("://", 1)[1])
        await screen.wait_for_function("document.getElementById('lobby-qr').naturalWidth > 0")

        # -- four players join through the link: Aurora (Ada, Bruno), Bora (Chiara, Dario) --
        ada = (await pages.open("ada", phone=True, scale=2)).page
        bruno = (await pages.open("bruno", phone=True)).page
        chiara = (await pages.open("chiara", phone=True)).page
        dario = (await pages.open("dario", phone=True, locale="it-IT")).page

        await ada.goto(join_url)
        await expect(ada.locator("#team-choices label")).to_have_count(3)  # suggested + 2 teams
        await ada.locator("#join-name").fill("Ada")
        await shots.take(ada, "player-join")
        await ada.locator("#team-choices label").filter(has_text="Aurora").locator("input").check()
        await ada.locator("#join-button").click()
        await expect(ada.locator("#me-team")).to_contain_text("Aurora")
        await join(bruno, join_url, "Bruno", "Aurora")
        await join(chiara, join_url, "Chiara", "Bora")
        # Dario's phone speaks Italian; the page follows navigator.language.
        await dario.goto(join_url)
        await expect(dario.locator("#join-button")).to_have_text("Entra in partita")
        await dario.locator("#join-name").fill("Dario")
        await dario.locator("#team-choices label").filter(has_text="Bora").locator("input").check()
        await dario.locator("#join-button").click()
        await expect(dario.locator("#me-team")).to_have_text("Squadra Bora")

        await expect(host.locator("#team-admin .player-admin > li")).to_have_count(4)
        await expect(screen.locator("#lobby-teams li")).to_have_count(4)
        await expect(ada.locator("#lobby-members li")).to_have_count(2)
        await shots.take(screen, "screen-lobby")
        await shots.take(ada, "player-lobby")
        await shots.take(host, "host-console-lobby")

        # -- riddle 1: "4" -------------------------------------------------------------------
        await host.locator("#btn-next").click()
        for page in (ada, bruno, chiara):
            await expect(page.locator("#riddle-count")).to_have_text(
                f"Riddle 1 of {RIDDLES_IN_ROUND_1}"
            )
        await expect(dario.locator("#riddle-count")).to_have_text(
            f"Indovinello 1 di {RIDDLES_IN_ROUND_1}"
        )
        await expect(screen.locator("#riddle-text")).to_contain_text("honest number")
        await expect(screen.locator("#riddle-countdown")).to_have_text(re.compile(r"^[01]:\d\d$"))

        # A wrong guess, then a near one, both seen live by the teammate.
        await guess(ada, "banana")
        await expect(ada.locator("#verdict-flash")).to_contain_text("Wrong")
        await guess(ada, "3")
        await expect(ada.locator("#verdict-flash")).to_contain_text("Close")
        await expect(ada.locator("#verdict-flash")).to_contain_text("five letters")
        bruno_rows = bruno.locator("#guess-list li")
        await expect(bruno_rows).to_have_count(2)
        await expect(bruno_rows.filter(has_text="banana")).to_contain_text("Wrong")
        await expect(bruno_rows.filter(has_text="3")).to_contain_text("Close")
        await expect(bruno_rows.filter(has_text="3")).to_contain_text("five letters")
        # The other team sees none of it.
        await expect(chiara.locator("#guess-list li")).to_have_count(0)

        # 21 seconds later the first hint unlocks; Ada opens it for her team.
        hint_button = ada.get_by_role("button", name=re.compile(r"Open hint 1 \(−15 points\)"))
        await expect(hint_button).to_have_count(0)
        clock.advance(21)
        await hint_button.click()
        await expect(bruno.locator("#hint-list")).to_contain_text("smaller than ten")
        await expect(chiara.locator("#hint-list")).not_to_contain_text("smaller than ten")
        await shots.take(ada, "player-riddle")
        await shots.take(dario, "player-riddle-it")

        # Bruno solves it; the screen celebrates.
        await guess(bruno, "four")
        await expect(bruno.locator("#verdict-flash")).to_contain_text("Correct")
        await expect(bruno.locator("#verdict-flash")).to_contain_text("points for your team")
        await expect(ada.locator("#solved-banner")).to_be_visible()
        await expect(screen.locator("#moment-toast")).to_have_text("Aurora solved it!")
        await expect(
            screen.locator("#riddle-progress li").filter(has_text="Aurora")
        ).to_contain_text("solved")
        await shots.take(screen, "screen-riddle")

        # Bora tries an answer the matcher refuses; the host will accept it below.
        await guess(chiara, "quattro")
        await expect(chiara.locator("#verdict-flash")).to_contain_text("Wrong")

        # Bruno reloads mid-riddle: same team, same score, straight back into the game.
        aurora_score = (
            await host.locator("#scoreboard li")
            .filter(has_text="Aurora")
            .locator(".score-value")
            .inner_text()
        )
        assert int(aurora_score) > 0
        bruno_points = await bruno.locator("#me-points").inner_text()
        await bruno.reload()
        await expect(bruno.locator("#view-game")).to_be_visible()
        await expect(bruno.locator("#view-join")).to_be_hidden()
        await expect(bruno.locator("#me-team")).to_have_text("Team Aurora")
        await expect(bruno.locator("#me-points")).to_have_text(bruno_points)
        await expect(bruno.locator("#conn")).to_have_attribute("data-status", "connected")
        await expect(bruno.locator("#solved-banner")).to_be_visible()
        await expect(
            bruno.locator("#scoreboard li").filter(has_text="Aurora").locator(".score-value")
        ).to_have_text(aurora_score)
        await expect(host.locator("#team-admin .player-admin > li")).to_have_count(4)

        # The console shows every team's guesses and the answer; the host accepts Bora's.
        await expect(host.locator("#riddle-answers")).to_contain_text("4")
        await expect(host.locator("#host-guesses")).to_contain_text("quattro")
        await shots.take(host, "host-console-riddle")
        await host.get_by_role("button", name="Accept “quattro” from Bora").click()
        # Every team has solved it now, so the riddle ends by itself.
        await expect(screen.locator("#riddle-answer")).to_have_text("4")
        await expect(chiara.locator("#reveal-answer")).to_have_text("4")
        await expect(screen.locator("#scoreboard li")).to_have_count(2)
        await expect(screen.locator("#scoreboard li").first).to_contain_text("Aurora")

        # -- the host skips the rest of round 1 with the console ------------------------------
        for n in range(2, RIDDLES_IN_ROUND_1 + 1):
            await host.locator("#btn-next").click()
            await expect(host.locator("#riddle-heading")).to_have_text(
                f"Riddle {n} of {RIDDLES_IN_ROUND_1}"
            )
            if n == 2:
                # Pause, resume and +30 s reach the phones.
                await host.locator("#btn-pause").click()
                await expect(ada.locator("#riddle-paused")).to_be_visible()
                await expect(ada.locator("#guess-input")).to_be_disabled()
                await host.locator("#btn-resume").click()
                await expect(ada.locator("#riddle-paused")).to_be_hidden()
                await expect(ada.locator("#guess-input")).to_be_enabled()
                await host.locator("#btn-extend").click()
                await expect(ada.locator("#riddle-countdown")).to_have_text(
                    re.compile(r"^1:[23]\d$")
                )
            if n == 6:
                # Multiple choice: one answer per team; a wrong one locks the team out.
                await expect(chiara.locator("#options button")).to_have_count(4)
                await chiara.get_by_role("button", name="A cat").click()
                await expect(chiara.locator("#verdict-flash")).to_contain_text("Wrong")
                await expect(dario.locator("#locked-out")).to_be_visible()
                await expect(dario.locator("#options-box")).to_be_hidden()
                await expect(ada.locator("#options button").first).to_be_enabled()
            await host.locator("#btn-skip").click()
            await expect(host.locator("#btn-next")).to_be_enabled()
            if n == 2:
                # Skipped unsolved: no team is still "thinking" once the answer is out.
                await expect(
                    screen.locator("#riddle-progress li").filter(has_text="Bora")
                ).to_contain_text("not solved")
                await expect(
                    ada.locator("#progress-list li").filter(has_text="Bora")
                ).to_contain_text("not solved")
        await expect(host.locator("#btn-next")).to_have_text("End the round")
        await host.locator("#btn-next").click()
        await expect(screen.locator("#s-between")).to_be_visible()
        await expect(ada.locator("#between-next")).to_contain_text("Story Time")
        await expect(screen.locator("#between-next")).to_have_text(
            "Next up: Story Time: Once Upon a Workday"
        )
        await expect(screen.locator("#moment-toast")).to_be_hidden()
        await shots.take(screen, "screen-scoreboard")
        await expect(host.locator("#btn-next")).to_have_text("Start the next round")
        await host.locator("#btn-next").click()

        # -- the story round: each player writes one line, then the host ends the writing --
        await expect(ada.locator("#composer")).to_be_visible()
        await expect(chiara.locator("#composer")).to_be_visible()
        await expect(bruno.locator("#composer")).to_be_hidden()
        await expect(bruno.locator("#turn-status")).to_contain_text("Ada is writing")
        await expect(ada.locator("#story-prompt")).to_contain_text("tiny, handwritten apologies")
        line_ada = "The stapler confessed first, blinking under the moon."
        await ada.locator("#line-input").fill(line_ada)
        await expect(ada.locator("#char-counter")).to_have_text(f"{len(line_ada)}/160 characters")
        await shots.take(ada, "player-story-turn")
        await ada.locator("#line-input").press("Enter")
        await expect(bruno.locator("#composer")).to_be_visible()
        await expect(bruno.locator("#my-story")).to_contain_text(line_ada)
        await bruno.locator("#line-input").fill("Then the printer asked for a raise.")
        await bruno.get_by_role("button", name="Add my line").click()
        await chiara.locator("#line-input").fill(
            "The cat presented a spreadsheet of pineapple sales."
        )
        await chiara.get_by_role("button", name="Add my line").click()
        await expect(dario.locator("#composer")).to_be_visible()
        await dario.locator("#line-input").fill("Nessuno osò interromperla.")
        await dario.get_by_role("button", name="Aggiungi la mia riga").click()
        await expect(host.locator("#host-stories")).to_contain_text("Nessuno osò interromperla.")
        await expect(screen.locator("#story-grid")).to_contain_text("2 lines")
        await host.locator("#btn-end-writing").click()

        # Reveal both stories on the screen, then open the vote.
        await expect(host.locator("#btn-next")).to_have_text("Reveal the next story")
        await host.locator("#btn-next").click()
        await expect(screen.locator("#story-focus")).to_contain_text(line_ada)
        await expect(screen.locator("#story-focus")).to_contain_text("tiny, handwritten apologies")
        await expect(screen.locator("#story-heading")).to_have_text("Aurora's story")
        # The screen reveals a story line by line; whoever runs it may step it.
        for _ in range(2):
            await screen.keyboard.press("ArrowRight")
        await expect(screen.locator("#reveal-progress")).to_contain_text("Line 3 of 3")
        await expect(screen.locator("#reveal-lines li").filter(has_text=line_ada)).to_be_visible()
        await shots.take(screen, "screen-story-reveal")
        await host.locator("#btn-next").click()
        await expect(screen.locator("#story-focus")).to_contain_text("pineapple sales")
        await expect(host.locator("#btn-next")).to_have_text("Open voting")
        await host.locator("#btn-next").click()

        # Bruno abstains: Aurora's story wins 2 to 1.
        for voter, other in ((ada, "Bora"), (chiara, "Aurora")):
            await voter.get_by_role("button", name=f"Vote for {other}").click()
            await expect(voter.locator("#vote-flash")).to_contain_text(f"Vote recorded for {other}")
        await dario.get_by_role("button", name="Vota Aurora").click()
        await expect(dario.locator("#vote-flash")).to_contain_text("Voto registrato per Aurora")
        # Nobody can vote for their own team's story.
        await expect(ada.get_by_role("button", name="Vote for Aurora")).to_have_count(0)
        await expect(ada.locator("#story-cards li").filter(has_text="Aurora")).to_contain_text(
            "Your team's story"
        )
        await expect(screen.locator("#story-voters")).to_have_text("3 of 4 have voted")
        await shots.take(ada, "player-vote")
        await host.locator("#btn-close-voting").click()
        await expect(screen.locator("#story-grid > div").filter(has_text="Aurora")).to_contain_text(
            "2 votes"
        )
        await expect(screen.locator("#story-grid > div").filter(has_text="Bora")).to_contain_text(
            "1 vote"
        )
        await expect(screen.locator("#story-grid .winner")).to_contain_text("Aurora")
        await expect(ada.locator("#story-heading")).to_have_text("Votes are in!")

        # -- the end: the host finishes the game; the podium appears ----------------------------
        await expect(host.locator("#btn-next")).to_have_text("End the round")
        await host.locator("#btn-next").click()
        await expect(host.locator("#game-status")).to_contain_text("Between rounds")
        await host.locator("#btn-finish").click()
        await host.get_by_role("dialog").get_by_role("button", name="Finish the game").click()
        await expect(screen.locator("#podium .podium-step")).to_have_count(2)
        await expect(screen.locator("#moment-toast")).to_be_hidden()
        await expect(screen.locator("#podium .p1 .podium-name")).to_have_text("Aurora")
        await expect(screen.locator("#podium .p2 .podium-name")).to_have_text("Bora")
        await expect(ada.locator("#finished-rank")).to_contain_text("Your team finished #")
        await expect(dario.locator("#finished-rank")).to_contain_text("La tua squadra è arrivata")
        await shots.take(screen, "screen-podium")
        await shots.take(ada, "player-final")
        await shots.take(host, "host-console-final", full_page=True)

        # The results download as a file, fetched with the host token.
        async with host.expect_download() as download_info:
            await host.get_by_role("button", name="Results (CSV)").click()
        download = await download_info.value
        assert download.suggested_filename == f"ritrovo-{code}-results.csv"
        csv_text = Path(await download.path()).read_text(encoding="utf-8")
        assert "Aurora" in csv_text and "Bora" in csv_text

        assert pages.problems() == []

    if os.environ.get("RITROVO_PUBLISH_SCREENSHOTS"):
        publish([path for path in shots.taken if path.stem in DOCS_SHOTS])
