"""The landing page's pack library: each pack with its language, rounds, riddle
count and estimated length, filtered by language and by kind (issue 14).

The expectations are read from the packs folder itself (``PackLibrary`` and
``listing_facts``), so adding a pack to puzzles/ needs no change here.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import Pages
from playwright.async_api import expect
from ritrovo.game.pack import Pack
from ritrovo.packs import PackLibrary
from ritrovo.packs.listing import listing_facts
from support.servers import running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(90)

LAPTOP = {"width": 1440, "height": 900}


def offered(shown: list[Pack], facts: dict[str, dict[str, object]], lang: str = "en") -> Pack:
    """The pack the page checks first among those shown (templates are listed last):
    the first one in the UI's language that is not a template, else the first that
    is not a template."""
    ready = [p for p in shown if not facts[p.id]["template"]]
    return next((p for p in ready if p.language == lang), ready[0])


async def test_library_filters_by_language_and_kind(pages: Pages) -> None:
    library = PackLibrary(log_errors=False)
    facts = {p.id: listing_facts(p) for p in library}
    italian = [p for p in library if p.language == "it"]
    stories = [p for p in library if "story" in facts[p.id]["kinds"]]  # type: ignore[operator]
    italian_riddles = [p for p in italian if "riddles" in facts[p.id]["kinds"]]  # type: ignore[operator]
    templates = [p for p in library if facts[p.id]["template"]]
    assert italian and stories and len(italian_riddles) > 2 and templates, "a smaller library"

    async with running_server(fast_settings()) as server:
        page = (await pages.open("facilitator", viewport=LAPTOP)).page
        await page.goto(server.base_url + "/")
        choices = page.locator("#pack-list input[name=pack]")
        count = page.locator("#pack-count")
        await expect(choices).to_have_count(len(library) + 1)  # every pack and "choose later"
        await expect(count).to_have_text(f"{len(library)} packs")
        # Templates come last, just before "choose later".
        await expect(choices.nth(len(library) - 1)).to_have_value(templates[-1].id)

        # Each pack shows its riddle count and estimated length.
        some = next(p for p in library if facts[p.id]["riddles"])
        item = page.locator("#pack-list li").filter(has=page.locator(f'input[value="{some.id}"]'))
        await expect(item).to_contain_text(
            f"{facts[some.id]['riddles']} riddles · about {facts[some.id]['minutes']} min"
        )

        # Italian only: the Italian packs, the first of them offered, the count says so.
        language = page.get_by_label("Pack language")
        await language.select_option("it")
        await expect(choices).to_have_count(len(italian) + 1)
        await expect(page.locator("#pack-list .pill[lang]")).to_have_text(["IT"] * len(italian))
        await expect(
            page.locator(f'#pack-list input[value="{offered(italian, facts, "it").id}"]')
        ).to_be_checked()
        await expect(count).to_have_text(f"{len(italian)} of {len(library)} packs")

        # Stories, in any language: a pack hidden by the filter is no longer the choice.
        await language.select_option("")
        kind = page.get_by_label("Kind of game")
        await kind.select_option("story")
        await expect(choices).to_have_count(len(stories) + 1)
        for pack in stories:
            await expect(page.locator(f'#pack-list input[value="{pack.id}"]')).to_have_count(1)
        await expect(page.locator("#pack-list input:checked")).to_have_value(
            offered(stories, facts).id
        )

        # Who's who rounds, in any language: the two shipped packs, each showing its prompts.
        await kind.select_option("whoswho")
        await expect(choices).to_have_count(2 + 1)
        for pack_id in ("whos-who", "chi-e-chi"):
            await expect(page.locator(f'#pack-list input[value="{pack_id}"]')).to_have_count(1)
        await expect(page.locator("#pack-list")).to_contain_text("Who's who, 8 prompts")
        await kind.select_option("story")

        # A template says so, and what to do with it.
        template = page.locator("#pack-list li").filter(
            has=page.locator(f'input[value="{templates[0].id}"]')
        )
        await expect(template.locator(".pill-template")).to_have_text("Template")
        await expect(template).to_contain_text("Replace its {{PLACEHOLDERS}}")

        # The UI in Italian: filters, counts and facts speak Italian, the filters stay.
        await page.get_by_role("button", name="IT Italiano").click()
        await expect(page.get_by_label("Tipo di gioco")).to_have_value("story")
        await expect(page.get_by_label("Lingua del pacchetto").locator("option")).to_contain_text(
            ["Tutte le lingue", "Inglese", "Italiano"]
        )
        await expect(count).to_have_text(f"{len(stories)} pacchetti su {len(library)}")

        # Italian riddle packs, picked with the keyboard alone; the room gets the chosen pack.
        await page.get_by_label("Tipo di gioco").select_option("riddles")
        await page.get_by_label("Lingua del pacchetto").select_option("it")
        await expect(choices).to_have_count(len(italian_riddles) + 1)
        start = offered(italian_riddles, facts, "it")
        first = page.locator(f'#pack-list input[value="{start.id}"]')
        await expect(first).to_be_checked()
        await first.focus()
        await page.keyboard.press("ArrowDown")  # radios: the next one in the list
        shown = sorted(italian_riddles, key=lambda p: bool(facts[p.id]["template"]))  # as listed
        picked = shown[shown.index(start) + 1]
        await expect(page.locator(f'#pack-list input[value="{picked.id}"]')).to_be_checked()
        await page.get_by_label("Nome della stanza").fill("Filtri")
        await page.get_by_role("button", name="Crea la stanza").click()
        await expect(page).to_have_url(re.compile(r"/host/[2-9A-Z]{6}$"))
        await expect(page.locator("#pack-current")).to_contain_text(picked.title)
        assert pages.problems() == []
