"""The landing page, the host console and the player's page, as issue 13 found them.

* Landing: "Create room" is in view at 1440x900 without scrolling; the room
  name has a default; the default pack is one in the UI's language (and
  follows a language switch until the facilitator picks one); story rounds
  read "4 stories", not "(4 story)".
* Console: presenter-safe mode hides the answers (and hints, and correct or
  close guesses) until "Show the answer" is pressed, again for every riddle,
  and is remembered; a greyed-out "Next riddle" says "Reveal or skip first";
  after a language switch the story lines' "hide" buttons speak the new
  language and the Italian "new team name" placeholder fits its box.
* Player: a half-typed story line survives a reload; in a full-visibility
  story the story so far is above the writer's box; a skip right after a
  team's accepted answer does not tell that team "Nobody solved this one".
"""

from __future__ import annotations

import re
import time

import pytest
from browser_helpers import SMALL_PACK, Pages, join
from playwright.async_api import expect
from ritrovo.packs import PackLibrary
from ritrovo.packs.listing import listing_facts
from support.clock import FakeClock
from support.protocol_helpers import create_room
from support.resilience import upload_pack
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(90)

LAPTOP = {"width": 1440, "height": 900}

# How much of an input's placeholder fits: its text's width against the box's
# inner width, measured with the input's own font.
PLACEHOLDER_FITS = """(el) => {
  const style = getComputedStyle(el);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = style.font;
  const text = ctx.measureText(el.placeholder).width;
  const inner = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return { text, inner };
}"""


async def test_landing_page(pages: Pages) -> None:
    async with running_server(fast_settings()) as server:
        base = server.base_url
        page = (await pages.open("facilitator", viewport=LAPTOP)).page
        await page.goto(base + "/")
        packs = page.locator("#pack-list label")
        library = PackLibrary(log_errors=False)
        await expect(packs).to_have_count(len(library) + 1)  # every pack and "choose later"
        # The pack offered first: the library's first pack (by id) in the UI's language
        # that is not a template to fill in.
        first = {
            lang: next(
                p for p in library if p.language == lang and not listing_facts(p)["template"]
            )
            for lang in ("en", "it")
        }
        radio = {lang: f'#pack-list input[value="{p.id}"]' for lang, p in first.items()}

        # "Create room" is in view as the page opens, wholly.
        create = page.get_by_role("button", name="Create room")
        box = await create.bounding_box()
        assert box is not None
        assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], box
        assert await page.evaluate("window.scrollY") == 0

        # A room name is there already, and the English UI offers an English pack.
        name = page.locator("#room-name")
        await expect(name).to_have_value(re.compile(r"^Team games · \w+"))
        await expect(page.locator(radio["en"])).to_be_checked()
        team_mix = packs.filter(has_text="Team Mix")
        await expect(team_mix).to_contain_text("Story Time: Once Upon a Workday (4 stories)")
        await expect(team_mix).to_contain_text("Quick Fire (9 riddles)")
        await expect(team_mix).not_to_contain_text("story)")

        # In Italian: an Italian pack, an Italian default name, Italian counts.
        await page.get_by_role("button", name="IT Italiano").click()
        await expect(page.locator(radio["it"])).to_be_checked()
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
        await expect(phone.locator(radio["it"])).to_be_checked()
        default_name = await phone.get_by_label("Nome della stanza").input_value()
        await phone.get_by_role("button", name="Crea la stanza").click()
        await expect(phone).to_have_url(re.compile(r"/host/[2-9A-Z]{6}$"))
        await expect(phone.locator("#room-title")).to_have_text(default_name)
        await expect(phone.locator("#pack-current")).to_contain_text(first["it"].title)
        assert pages.problems() == []


async def test_console_pages(pages: Pages) -> None:
    clock = FakeClock(start=time.time())
    async with running_server(fast_settings(), clock=clock) as server:
        base = server.base_url
        room = await create_room(base, "Console checks")
        code, token = room["code"], room["host_token"]
        await upload_pack(base, code, token, SMALL_PACK)
        host = (await pages.open("host")).page
        await host.goto(f"{base}/host/{code}#token={token}")
        await expect(host.locator("#pack-current")).to_contain_text("Small test pack")
        ada = (await pages.open("ada", phone=True)).page
        bea = (await pages.open("bea", phone=True)).page
        await join(ada, f"{base}/r/{code}", "Ada", "Aurora")
        await join(bea, f"{base}/r/{code}", "Bea", "Bora")

        # Presenter-safe on, then the first riddle.
        await host.get_by_label("Presenter-safe: hide the answers until I show them").check()
        next_button = host.locator("#btn-next")
        await next_button.click()
        await expect(host.locator("#riddle-heading")).to_have_text("Riddle 1 of 2")
        panel = host.locator("#riddle-panel")
        await expect(panel).to_contain_text("What has keys")
        await expect(panel).not_to_contain_text("piano")
        await expect(panel).not_to_contain_text("88")  # the hint
        await expect(host.locator("#riddle-answers")).to_be_hidden()

        # "Next riddle" is greyed out, and says why (to screen readers too).
        await expect(next_button).to_have_text("Next riddle")
        await expect(next_button).to_be_disabled()
        await expect(host.locator("#next-why")).to_have_text("Reveal or skip first")
        await expect(next_button).to_have_accessible_description("Reveal or skip first")

        # A close guess and a right one show up without their text (or the nudge).
        await ada.locator("#guess-input").fill("keyboard")
        await ada.locator("#guess-input").press("Enter")
        await expect(ada.locator("#verdict-flash")).to_contain_text("Close")
        await ada.locator("#guess-input").fill("piano")
        await ada.locator("#guess-input").press("Enter")
        await expect(ada.locator("#solved-banner")).to_be_visible()
        aurora = host.locator("#host-guesses > div").filter(has_text="Aurora")
        await expect(aurora.locator(".guess-row")).to_have_count(2)
        await expect(aurora).to_contain_text("(hidden)")
        await expect(panel).not_to_contain_text("piano")
        await expect(panel).not_to_contain_text("keyboard")
        await expect(panel).not_to_contain_text("It makes music")

        # Pressed: everything shows; pressed again: hidden again.
        show = host.get_by_role("button", name="Show the answer")
        await show.click()
        await expect(host.locator("#riddle-answers")).to_have_text("piano")
        await expect(host.locator("#riddle-explanation")).to_contain_text("no locks")
        await expect(aurora).to_contain_text("keyboard")
        await expect(aurora).to_contain_text("It makes music")
        await expect(panel).to_contain_text("It has 88 of them")
        await host.get_by_role("button", name="Hide the answer").click()
        await expect(panel).not_to_contain_text("piano")

        # The mode is remembered on this device.
        await host.reload()
        await expect(host.locator("#riddle-heading")).to_have_text("Riddle 1 of 2")
        await expect(
            host.get_by_label("Presenter-safe: hide the answers until I show them")
        ).to_be_checked()
        await expect(panel).not_to_contain_text("piano")
        await expect(show).to_be_visible()

        # Revealed to everyone, nothing is secret; "next" can go on and needs no reason.
        await host.locator("#btn-reveal").click()
        await expect(host.locator("#riddle-answers")).to_have_text("piano")
        await expect(show).to_be_hidden()
        await expect(next_button).to_be_enabled()
        await expect(host.locator("#next-why")).to_be_hidden()

        # The next riddle starts hidden again.
        await next_button.click()
        await expect(host.locator("#riddle-heading")).to_have_text("Riddle 2 of 2")
        await expect(host.locator("#riddle-answers")).to_be_hidden()
        await expect(show).to_be_visible()
        await host.locator("#btn-skip").click()
        await expect(next_button).to_have_text("End the round")
        await next_button.click()
        await expect(next_button).to_have_text("Start the next round")
        await next_button.click()

        # The story round: a line to hide, then the console in Italian.
        await expect(ada.locator("#composer")).to_be_visible()
        await ada.locator("#line-input").fill("The stapler hummed a lullaby.")
        await ada.locator("#line-input").press("Enter")
        stories = host.locator("#host-stories")
        await expect(stories).to_contain_text("stapler hummed")
        await expect(
            stories.get_by_role("button", name="Hide this line from everyone")
        ).to_have_count(1)
        await host.get_by_role("button", name="IT Italiano").click()
        await expect(host.locator("html")).to_have_attribute("lang", "it")
        await expect(
            stories.get_by_role("button", name="Nascondi questa riga a tutti")
        ).to_have_count(1)
        await expect(
            stories.get_by_role("button", name="Hide this line from everyone")
        ).to_have_count(0)
        await stories.get_by_role("button", name="Nascondi questa riga a tutti").click()
        await expect(
            stories.get_by_role("button", name="Mostra di nuovo questa riga")
        ).to_have_count(1)

        team_name = host.locator("#team-name")
        await expect(team_name).to_have_attribute("placeholder", "Nuova squadra")
        fit = await team_name.evaluate(PLACEHOLDER_FITS)
        assert fit["text"] <= fit["inner"], fit
        assert pages.problems() == []


async def test_player_pages(pages: Pages) -> None:
    clock = FakeClock(start=time.time())
    async with running_server(fast_settings(), clock=clock) as server:
        base = server.base_url
        room = await create_room(base, "Player checks")
        code, token = room["code"], room["host_token"]
        await upload_pack(base, code, token, SMALL_PACK)
        host = (await pages.open("host")).page
        await host.goto(f"{base}/host/{code}#token={token}")
        await expect(host.locator("#pack-current")).to_contain_text("Small test pack")
        ada = (await pages.open("ada", phone=True)).page
        bea = (await pages.open("bea", phone=True)).page
        cy = (await pages.open("cy", phone=True)).page
        await join(ada, f"{base}/r/{code}", "Ada", "Aurora")
        await join(bea, f"{base}/r/{code}", "Bea", "Aurora")
        await join(cy, f"{base}/r/{code}", "Cy", "Bora")

        # Aurora solves riddle 1; the host skips it right after (Bora has not).
        await host.locator("#btn-next").click()
        await expect(ada.locator("#riddle-count")).to_have_text("Riddle 1 of 2")
        await ada.locator("#guess-input").fill("piano")
        await ada.locator("#guess-input").press("Enter")
        await expect(ada.locator("#verdict-flash")).to_contain_text("Correct")
        await expect(host.locator("#host-guesses")).to_contain_text("piano")
        await host.locator("#btn-skip").click()
        for page in (ada, bea):
            await expect(page.locator("#reveal-answer")).to_have_text("piano")
            await expect(page.locator("#reveal-skipped")).to_have_text(
                "Your team got it right, but the host skipped this riddle: "
                "a skipped riddle scores nothing."
            )
            await expect(page.locator("#riddle-revealed")).not_to_contain_text("Nobody solved")
        await expect(cy.locator("#reveal-skipped")).to_have_text(
            "The host skipped this riddle: no points."
        )
        await expect(cy.locator("#riddle-revealed")).not_to_contain_text("Nobody solved")
        await expect(cy.locator("#reveal-solvers")).to_be_hidden()

        # On to the story round.
        await host.locator("#btn-next").click()
        await expect(ada.locator("#riddle-count")).to_have_text("Riddle 2 of 2")
        await host.locator("#btn-skip").click()
        await expect(host.locator("#btn-next")).to_have_text("End the round")
        await host.locator("#btn-next").click()
        await expect(host.locator("#btn-next")).to_have_text("Start the next round")
        await host.locator("#btn-next").click()

        # Ada's half-typed line survives a reload.
        await expect(ada.locator("#composer")).to_be_visible()
        draft = "The stapler hummed a lull"
        await ada.locator("#line-input").fill(draft)
        await ada.reload()
        await expect(ada.locator("#composer")).to_be_visible()
        await expect(ada.locator("#line-input")).to_have_value(draft)
        await expect(ada.locator("#char-counter")).to_have_text(f"{len(draft)}/120 characters")
        await ada.locator("#line-input").press("End")
        await ada.locator("#line-input").press_sequentially("aby.")
        await ada.locator("#line-input").press("Enter")
        await expect(ada.locator("#composer")).to_be_hidden()
        await expect(ada.locator("#my-story")).to_contain_text("The stapler hummed a lullaby.")
        # Sent, the draft is gone: a reload brings back no text.
        assert await ada.evaluate(f"localStorage.getItem('ritrovo.draft.{code}')") is None

        # Bea's turn (full visibility): the story so far comes first, then her box.
        await expect(bea.locator("#composer")).to_be_visible()
        await expect(bea.locator("#my-story-box")).to_contain_text("The stapler hummed a lullaby.")
        await expect(bea.locator("#my-story-box")).to_contain_text("Your team's story so far")
        story_box = await bea.locator("#my-story-box").bounding_box()
        composer = await bea.locator("#composer").bounding_box()
        assert story_box is not None and composer is not None
        assert story_box["y"] + story_box["height"] <= composer["y"], (story_box, composer)
        assert pages.problems() == []
