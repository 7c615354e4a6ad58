"""The pack editor (issue 14): a facilitator writes a pack from scratch and plays it.

Five riddles typed into the form of /editor?room=CODE (a near answer, a hint,
multiple choice, numbers), a problem the server's validator shows next to its
field and the facilitator fixes, answers tried with the game's matcher, a
riddle previewed, the pack saved to the room and one riddle played on a
phone. Also: the Italian UI, the download, and opening a library pack.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser_helpers import Pages, Shots, join, publish
from playwright.async_api import FilePayload, Page, expect
from ritrovo.game.pack import RiddleRound
from ritrovo.packs import load_pack_bytes
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(150)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
BROKEN_GIFT = Path(__file__).resolve().parents[1] / "packs" / "imports" / "broken.gift"

DOCS_SHOTS = {"editor-riddle", "editor-problem", "editor-try", "editor-preview"}


async def centre(page: Page, selector: str) -> None:
    """Scroll so that the element is in the middle of the window (for a screenshot)."""
    await page.locator(selector).first.evaluate("el => el.scrollIntoView({block: 'center'})")


RIDDLES = [
    ("What has keys but opens no locks?", "piano\nthe piano"),
    ("Which of these is not a primary colour of light?", "Yellow"),
    ("How many days are there in a leap year?", "366"),
    ("What gets wetter the more it dries?", "a towel"),
    ("What can you catch but not throw?", "a cold"),
]


def riddle_field(j: int, name: str, suffix: str = "") -> str:
    """A riddle's input in round 1, by its field path (the editor's ids are made from it)."""
    return "#f-" + re.sub(r"[^A-Za-z0-9]+", "-", f"rounds[0].riddles[{j}].{name}") + suffix


async def type_riddle(page: Page, j: int, text: str, answers: str) -> None:
    await page.locator(riddle_field(j, "text")).fill(text)
    await page.locator(riddle_field(j, "answers")).fill(answers)


async def test_write_a_pack_from_scratch_check_it_try_it_save_it_and_play_it(
    pages: Pages, shots: Shots
) -> None:
    async with running_server(fast_settings()) as server:
        base = server.base_url
        room = await create_room(base, "Editor games")
        code, token = room["code"], room["host_token"]

        editor = (await pages.open("editor")).page
        await editor.goto(f"{base}/editor?room={code}#token={token}")
        await expect(editor.get_by_role("heading", level=1)).to_have_text("Pack editor")
        # The token leaves the address bar, as in the console.
        await expect(editor).to_have_url(f"{base}/editor?room={code}")
        # A new pack is not valid yet: the validator says what is missing, at its field.
        await expect(editor.locator("#f-title-error")).to_have_text("must not be empty")

        await editor.get_by_label("Pack id").fill("editor-quiz")
        await editor.get_by_label("Title", exact=True).fill("Editor quiz")
        await editor.get_by_label("Round title").fill("Warm-up")
        await type_riddle(editor, 0, *RIDDLES[0])
        await editor.get_by_role("button", name="Add a near answer to riddle 1").click()
        # The new field has the focus: typing goes straight into it.
        await expect(editor.locator(riddle_field(0, "near[0].answers"))).to_be_focused()
        await editor.keyboard.type("keyboard")
        await editor.locator(riddle_field(0, "near[0].nudge")).fill("Close: which instrument?")
        await editor.get_by_role("button", name="Add a hint to riddle 1").click()
        await editor.locator(riddle_field(0, "hints[0].text")).fill("It makes music.")
        await editor.locator(riddle_field(0, "hints[0].after")).fill("20")
        await editor.locator(riddle_field(0, "hints[0].cost")).fill("10")

        for j in range(1, 5):
            await editor.get_by_role("button", name="Add a riddle to round 1").click()
            await expect(editor.locator(riddle_field(j, "text"))).to_be_focused()
            await type_riddle(editor, j, *RIDDLES[j])
        await editor.locator(riddle_field(1, "options")).fill("Red\nGreen\nYellow\nBlue")
        await editor.locator(riddle_field(2, "numbers")).select_option("true")

        # A time limit the validator refuses is shown next to its field, then fixed.
        time_limit = editor.locator(riddle_field(3, "time_limit"))
        await time_limit.fill("2")
        error = editor.locator(riddle_field(3, "time_limit", "-error"))
        await expect(error).to_contain_text("between 5 and 3600")
        await expect(time_limit).to_have_attribute("aria-invalid", "true")
        await centre(editor, riddle_field(3, "points"))
        await shots.take(editor, "editor-problem")
        await expect(editor.locator("#check-status")).to_have_text(
            "1 problem to fix: it is shown next to its field."
        )
        await editor.locator("#check-problems button").click()
        await expect(time_limit).to_be_focused()
        await time_limit.fill("30")
        await expect(error).to_be_hidden()
        await expect(editor.locator("#check-status")).to_have_text(
            "✓ The pack is valid: 5 riddles."
        )
        await centre(editor, riddle_field(0, "near[0].answers"))
        await shots.take(editor, "editor-riddle")

        # Try answers with the game's matcher.
        attempt = editor.get_by_label("Try an answer to riddle 1")
        verdict = editor.locator(".editor-try").first.locator(".verdict-flash")
        await attempt.fill("keybord")
        await attempt.press("Enter")
        await expect(verdict).to_have_text("Close: the team reads “Close: which instrument?”")
        await attempt.fill("The Piano!")
        await editor.get_by_role("button", name="Try", exact=True).first.click()
        await expect(verdict).to_have_text("✓ Right: it matches “piano”.")
        await centre(editor, riddle_field(0, "explanation"))
        await shots.take(editor, "editor-try")
        numbers = editor.get_by_label("Try an answer to riddle 3")
        await numbers.fill("three hundred sixty-six")
        await numbers.press("Enter")
        await expect(
            editor.locator(".editor-try").nth(2).locator(".verdict-flash")
        ).to_contain_text("Right")

        # The preview shows riddle 2 as a phone and the shared screen would.
        preview = editor.get_by_role("button", name="Preview").nth(1)
        await preview.click()
        await expect(preview).to_have_attribute("aria-expanded", "true")
        phone = editor.get_by_role("group", name="On a player's phone")
        await expect(phone.locator(".option-btn")).to_have_count(4)
        await expect(phone).to_contain_text("Riddle 2 of 5")
        screen = editor.get_by_role("group", name="On the shared screen")
        await expect(screen.locator(".screen-options li")).to_have_count(4)
        await expect(screen).to_contain_text("primary colour of light")
        await centre(editor, ".preview-pair")
        await shots.take(editor, "editor-preview")

        # The YAML download is the pack the validator accepted.
        async with editor.expect_download() as download_info:
            await editor.get_by_role("button", name="Download as YAML").click()
        download = await download_info.value
        assert download.suggested_filename == "editor-quiz.yaml"
        data = Path(await download.path()).read_bytes()
        first = load_pack_bytes(data, "editor-quiz.yaml").rounds[0]
        assert isinstance(first, RiddleRound)
        assert [r.text for r in first.riddles] == [r[0] for r in RIDDLES]

        # Saved to the room, through the upload endpoint.
        await editor.get_by_role("button", name=f"Save to room {code}").click()
        await expect(editor.locator("#save-result")).to_contain_text(
            f"Saved: room {code} now plays this pack."
        )
        await editor.get_by_role("link", name="Back to the console").click()
        host = editor
        await expect(host.locator("#pack-current")).to_contain_text("Editor quiz")
        await expect(host.get_by_role("link", name="Edit in the pack editor")).to_have_attribute(
            "href", f"/editor?room={code}"
        )

        # One riddle played on a phone.
        ada = (await pages.open("ada", phone=True)).page
        await join(ada, f"{base}/r/{code}", "Ada", "Aurora")
        await host.locator("#btn-next").click()
        await expect(ada.locator("#riddle-count")).to_have_text("Riddle 1 of 5")
        await expect(ada.locator("#riddle-text")).to_have_text(RIDDLES[0][0])
        box = ada.locator("#guess-input")
        await box.fill("keyboard")
        await box.press("Enter")
        await expect(ada.locator("#verdict-flash")).to_contain_text("which instrument")
        await box.fill("piano")
        await box.press("Enter")
        await expect(ada.locator("#verdict-flash")).to_contain_text("Correct")

        assert pages.problems() == []

    if os.environ.get("RITROVO_PUBLISH_SCREENSHOTS"):
        publish([path for path in shots.taken if path.stem in DOCS_SHOTS])


async def test_the_editor_in_italian_opens_a_library_pack_and_starts_a_room(
    pages: Pages,
) -> None:
    async with running_server(fast_settings()) as server:
        base = server.base_url
        landing = (await pages.open("landing", locale="it-IT")).page
        await landing.goto(base + "/")
        await landing.get_by_role("link", name="Scrivi il tuo pacchetto").click()
        editor = landing
        await expect(editor.get_by_role("heading", level=1)).to_have_text("Editor dei pacchetti")
        await editor.get_by_label("Un pacchetto della raccolta").select_option("indovinelli")
        await editor.get_by_role("button", name="Apri", exact=True).click()
        await expect(editor.get_by_label("Titolo", exact=True)).to_have_value(re.compile(r"\S"))
        await expect(editor.locator("#check-status")).to_contain_text("Il pacchetto è valido")
        title = await editor.get_by_label("Titolo", exact=True).input_value()
        # Removing the first riddle is one button, named for it.
        await editor.get_by_role("button", name="Elimina l'indovinello 1").first.click()
        await expect(editor.locator("#check-status")).to_contain_text("Il pacchetto è valido")

        # A story round: an opening with a theme, each writer seeing only the line before.
        await editor.get_by_role("button", name="Aggiungi una manche di storie").click()
        story = editor.locator(".editor-round").last
        await expect(story.get_by_label("Titolo della manche")).to_be_focused()
        await editor.keyboard.type("Storie dall'ufficio")
        await story.get_by_label("Incipit 1", exact=True).fill(
            "La stampante si accese a mezzanotte."
        )
        await story.get_by_label("Tema della storia 1").fill("giallo")
        await story.get_by_label("Cosa vede chi scrive").select_option("chain")
        await story.get_by_label("Secondi per turno").fill("5")
        problem = story.locator(".field-error", has_text="between 10 and 600")
        await expect(problem).to_be_visible()
        await story.get_by_label("Secondi per turno").fill("45")
        await expect(problem).to_have_count(0)
        await expect(editor.locator("#check-status")).to_contain_text("Il pacchetto è valido")

        await editor.get_by_role("button", name="Apri una stanza con questo pacchetto").click()
        await expect(editor).to_have_url(re.compile(r"/host/[2-9A-Z]{6}$"))
        host = editor
        await expect(host.locator("#pack-current")).to_contain_text(title)

        # Back in the editor from the console, the room's pack comes back as it was saved.
        await host.get_by_role("link", name="Modifica nell'editor dei pacchetti").click()
        await host.get_by_role("button", name="Apri il pacchetto della stanza").click()
        await expect(host.locator("#open-result")).to_contain_text(title)
        story = host.locator(".editor-round").last
        await expect(story.get_by_label("Incipit 1", exact=True)).to_have_value(
            "La stampante si accese a mezzanotte."
        )
        await expect(story.get_by_label("Cosa vede chi scrive")).to_have_value("chain")
        await expect(story.get_by_label("Secondi per turno")).to_have_value("45")
        assert pages.problems() == []


async def test_the_editor_opens_a_file_as_an_upload_reads_it(pages: Pages) -> None:
    async with running_server(fast_settings()) as server:
        editor = (await pages.open("editor")).page
        await editor.goto(f"{server.base_url}/editor")
        await expect(editor.locator("#check-status")).to_contain_text("problem")
        # A change not saved anywhere: opening a file asks first.
        await editor.get_by_label("Title", exact=True).fill("Draft")
        gift = (EXAMPLES / "quiz-di-squadra.gift").read_bytes()
        await editor.locator("#file-input").set_input_files(
            files=FilePayload(name="quiz-di-squadra.gift", mimeType="text/plain", buffer=gift)
        )
        await editor.get_by_role("button", name="Open file").click()
        await editor.get_by_role("button", name="Replace it").click()
        await expect(editor.locator("#check-status")).to_contain_text("The pack is valid")
        await expect(editor.get_by_label("Language of the riddles")).to_have_value("it")
        await expect(editor.locator(riddle_field(0, "text"))).to_have_value(re.compile(r"\S"))

        # A broken file: its problems, at their lines; the pack being edited stays.
        await editor.locator("#file-input").set_input_files(
            files=FilePayload(
                name="broken.gift", mimeType="text/plain", buffer=BROKEN_GIFT.read_bytes()
            )
        )
        await editor.get_by_role("button", name="Open file").click()
        await expect(editor.locator("#open-result .problems li").first).to_contain_text(
            "broken.gift:"
        )
        await expect(editor.get_by_label("Language of the riddles")).to_have_value("it")
        # The browser logs the refused file's 422; nothing else went wrong.
        assert pages.problems(allow=("status of 422",)) == []


async def test_a_riddle_is_written_tried_and_previewed_with_the_keyboard_alone(
    pages: Pages,
) -> None:
    async with running_server(fast_settings()) as server:
        editor = (await pages.open("editor")).page
        await editor.goto(f"{server.base_url}/editor")
        await editor.locator(riddle_field(0, "text")).focus()
        await editor.keyboard.type("What has keys but opens no locks?")

        async def tab_to(name: str) -> None:
            await editor.keyboard.press("Tab")
            focused = await editor.evaluate(
                "(() => { const el = document.activeElement;"
                " return el.getAttribute('aria-label') || (el.labels && el.labels[0]"
                " ? el.labels[0].textContent : el.textContent); })()"
            )
            assert focused == name

        # The fields of a riddle, in the order they are read.
        await tab_to("Accepted answers")
        await editor.keyboard.type("piano")
        await tab_to("Options (multiple choice)")
        await tab_to("Add a near answer to riddle 1")
        await editor.keyboard.press("Enter")
        await expect(editor.locator(riddle_field(0, "near[0].answers"))).to_be_focused()
        await editor.keyboard.type("keyboard")
        await tab_to("Nudge 1")
        await editor.keyboard.type("Close: which instrument?")
        await tab_to("Remove near answers 1")
        await tab_to("Add a near answer to riddle 1")
        await tab_to("Add a hint to riddle 1")
        await tab_to("Time limit (seconds)")
        await tab_to("Points")
        await tab_to("Typos forgiven")
        await tab_to("Digits and number words")
        await tab_to("Explanation at the reveal")
        await tab_to("Try an answer to riddle 1")
        await editor.keyboard.type("keybord")
        await editor.keyboard.press("Enter")
        await expect(editor.locator(".editor-try .verdict-flash")).to_contain_text(
            "which instrument"
        )
        await tab_to("Try")
        await tab_to("Preview")
        await editor.keyboard.press("Space")
        await expect(editor.get_by_role("group", name="On a player's phone")).to_contain_text(
            "What has keys but opens no locks?"
        )

        # A reload loses nothing: the draft is kept in this browser, and counts as unsaved.
        await editor.reload()
        await expect(editor.locator("#open-result")).to_contain_text("Your last draft")
        await expect(editor.locator(riddle_field(0, "near[0].nudge"))).to_have_value(
            "Close: which instrument?"
        )
        await editor.get_by_role("button", name="New pack").click()
        await editor.get_by_role("button", name="Cancel").click()
        await expect(editor.locator(riddle_field(0, "answers"))).to_have_value("piano")
        await editor.get_by_role("button", name="New pack").click()
        await editor.get_by_role("button", name="Replace it").click()
        await expect(editor.locator(riddle_field(0, "answers"))).to_have_value("")
        assert pages.problems() == []
