"""The shared screen reads a whole story, and celebrates without lagging behind the game.

A team writes ten lines of about 150 characters; on the screen, at 1080p and in
a small 640x360 window, every line of the revealed story is on screen, whole
and inside the window, at some point of the reveal (the screen paces it by
itself; whoever runs the screen may step it with the keyboard), and the voting
cards cut their stories between two lines of text, never through one.

Ten teams solve a riddle within two seconds: the screen shows one celebration
that grows ("10 teams solved it!") instead of ten queued ones, in the top bar
where it covers nothing, in the language the screen is switched to, and gone
as soon as the next riddle starts. After a language switch the QR code's alt
text and the ranks follow the new language.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from browser_helpers import SCREEN, Pages, Shots
from playwright.async_api import Page, expect
from ritrovo.client import RitrovoClient, join
from support.protocol_helpers import hosted_room
from support.servers import RunningServer, running_server
from support.servers import test_settings as fast_settings

pytestmark = pytest.mark.timeout(150)

OPENING = (
    "The lighthouse keeper found a letter under the door, sealed with green wax, "
    "addressed to nobody in particular and smelling faintly of oranges."
)
PACK = f"""\
id: long-story
title: Long story
language: en
rounds:
  - kind: story
    title: Tales of the lighthouse
    prompts:
      - opening: "{OPENING}"
    turns_per_player: 10
    seconds_per_turn: 60
    max_chars: 200
    visibility: full
"""
PROSE = (
    "the keeper walked along the shore counting gulls and wondering why the tide had "
    "brought a brass key a folded map and a very polite crab to his doorstep at dawn"
)
WORDS = PROSE.split(" ")


def story_line(n: int) -> str:
    """About 150 characters, starting with a marker no other line has."""
    text = f"Line {n} (qz{n}x):"
    k = n
    while len(text) < 145:
        text += " " + WORDS[k % len(WORDS)]
        k += 7
    return text + "."


LINES = [story_line(n) for n in range(1, 11)]

# Is item `index` of the story shown whole: rendered, visible, inside the story's
# page (which clips) and inside the window? Returns its font size, or 0.
ITEM_SHOWN = """(index) => {
  const el = document.querySelectorAll('#reveal-lines > li')[index];
  if (!el || el.closest('[hidden]')) return 0;
  const style = getComputedStyle(el);
  if (style.visibility !== 'visible' || style.display === 'none') return 0;
  if (el.getAnimations().some((a) => a.playState === 'running')) return 0;
  const r = el.getBoundingClientRect();
  const box = document.getElementById('reveal-page').getBoundingClientRect();
  const inside = r.height > 0 && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5
    && r.left >= box.left - 0.5 && r.right <= box.right + 0.5
    && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;
  return inside ? parseFloat(style.fontSize) : 0;
}"""

# Every line of text in the voting cards either shown whole or not at all:
# no line box straddles the bottom of its card's story box, and the box ends
# inside its card. Returns the problems found.
CARDS_CUT_BETWEEN_LINES = """() => {
  const problems = [];
  for (const card of document.querySelectorAll('#story-grid .screen-story-card')) {
    const box = card.querySelector('.card-story');
    if (!box) continue;
    const b = box.getBoundingClientRect();
    const c = card.getBoundingClientRect();
    if (b.bottom > c.bottom + 0.5 || c.bottom > innerHeight + 0.5) problems.push('box past its card');
    const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) {
        if (r.height > 0 && r.top < b.bottom - 0.5 && r.bottom > b.bottom + 0.5) {
          problems.push(`cut through: ${node.textContent.slice(0, 30)}`);
        }
      }
    }
  }
  return problems;
}"""


async def upload_pack(base_url: str, code: str, token: str, text: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/api/rooms/{code}/pack",
            params={"filename": "story.yaml"},
            data=text.encode(),
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        assert response.status == 201, await response.text()


async def your_turn(client: RitrovoClient, start: int) -> None:
    await client.wait_for(
        lambda m: m["type"] == "you" and bool(m.get("your_turn")), timeout=10, start=start
    )


async def long_story_room(server: RunningServer) -> tuple[str, RitrovoClient, list[RitrovoClient]]:
    """A room whose story round is written: Aurora's story has ten long lines, Bora's one."""
    code, token, host = await hosted_room(server.base_url, server.ws_url, "Story night")
    await upload_pack(server.base_url, code, token, PACK)
    assert host.state is not None
    aurora, bora = (team["id"] for team in host.state["state"]["teams"])
    ada = await join(server.ws_url, code, "Ada", team=aurora)
    bea = await join(server.ws_url, code, "Bea", team=bora)
    await host.request("next")  # the story round starts
    start = 0
    for text in LINES:
        await your_turn(ada, start)
        # Her next turn's ``you`` may come before or after the line's ack
        # (the room's patch can overtake it): looked for from before the line.
        start = len(ada.messages)
        await ada.request("line", text=text)
    await your_turn(bea, 0)
    await bea.request("line", text="Bea wrote one short line.")
    await host.request("end_writing")
    return code, host, [ada, bea]


async def close_all(*clients: RitrovoClient) -> None:
    for client in clients:
        if not client.closed.done():
            await client.close()


async def item_shown(page: Page, index: int) -> float:
    """Wait until item `index` (0: the opening) is shown whole; its font size in px."""
    handle = await page.wait_for_function(ITEM_SHOWN, arg=index, timeout=20_000)
    size = await handle.json_value()
    assert isinstance(size, int | float)
    return float(size)


@pytest.mark.parametrize(
    ("width", "height", "min_font"),
    [(1920, 1080, 36.0), (640, 360, 14.0)],
    ids=["1080p", "640x360"],
)
async def test_every_line_of_a_long_story_is_shown(
    pages: Pages, shots: Shots, width: int, height: int, min_font: float
) -> None:
    async with running_server(fast_settings()) as server:
        code, host, players = await long_story_room(server)
        screen = (await pages.open("screen", viewport={"width": width, "height": height})).page
        await screen.goto(f"{server.base_url}/screen/{code}")
        await expect(screen.locator("#conn")).to_have_attribute("data-status", "connected")

        await host.request("next")  # Aurora's story is revealed
        await expect(screen.locator("#story-heading")).to_have_text("Aurora's story")
        items = screen.locator("#reveal-lines > li")
        await expect(items).to_have_count(1 + len(LINES))
        await expect(items.first).to_contain_text("smelling faintly of oranges")
        for n, text in enumerate(LINES, start=1):
            await expect(items.nth(n)).to_contain_text(text)
        progress = screen.locator("#reveal-progress")
        await expect(progress).to_contain_text(f"Line 1 of {1 + len(LINES)}")

        sizes = [await item_shown(screen, 0)]
        if width >= 1920:
            # By itself, at a reading pace: the first line follows the opening.
            sizes.append(await item_shown(screen, 1))
            await expect(progress).to_contain_text("Line 2 of")
            await shots.take(screen, "screen-story-reveal-long")
        # The rest stepped with the keyboard, as whoever runs the screen may.
        for index in range(len(sizes), 1 + len(LINES)):
            await screen.keyboard.press("ArrowRight")
            sizes.append(await item_shown(screen, index))
        await expect(progress).to_contain_text(f"Line {1 + len(LINES)} of {1 + len(LINES)}")
        await expect(progress).to_contain_text("The end")
        assert min(sizes) >= min_font, sizes
        if width >= 1920:
            # A story this long takes pages; going back shows the previous one whole, paused.
            await expect(progress).to_contain_text("page 3 of 3")
            await screen.keyboard.press("ArrowLeft")
            await expect(progress).to_contain_text("page 2 of 3")
            await expect(progress).to_contain_text("Paused")
        else:
            await shots.take(screen, "screen-story-reveal-small")

        # Bora's story, then the vote: the cards cut between two lines of text.
        await host.request("next")
        await expect(screen.locator("#story-heading")).to_have_text("Bora's story")
        await expect(items.nth(1)).to_contain_text("Bea wrote one short line.")
        await host.request("next")
        await expect(screen.locator("#story-heading")).to_have_text("Vote on your phones!")
        aurora_card = screen.locator("#story-grid .screen-story-card").filter(has_text="Aurora")
        await expect(aurora_card.locator(".card-more")).to_contain_text("more line")
        await expect(
            screen.locator("#story-grid .screen-story-card").filter(has_text="Bora")
        ).to_contain_text("Bea wrote one short line.")
        assert await screen.evaluate(CARDS_CUT_BETWEEN_LINES) == []
        await shots.take(screen, f"screen-story-voting-{width}")
        await close_all(host, *players)
        assert pages.problems() == []


TEAMS = ["Aurora", "Bora", "Cedro", "Dama", "Elce", "Faggio", "Gelso", "Ibisco", "Larice", "Mirto"]


async def boxes_overlap(page: Page, a: str, b: str) -> bool:
    return bool(
        await page.evaluate(
            """([a, b]) => {
              const r = document.querySelector(a).getBoundingClientRect();
              const s = document.querySelector(b).getBoundingClientRect();
              return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom;
            }""",
            [a, b],
        )
    )


async def test_celebrations_merge_follow_the_language_and_end_with_the_riddle(
    pages: Pages, shots: Shots
) -> None:
    async with running_server(fast_settings()) as server:
        code, _, host = await hosted_room(
            server.base_url, server.ws_url, "Ten teams", pack="team-mix"
        )
        assert host.state is not None
        team_ids = {team["name"]: team["id"] for team in host.state["state"]["teams"]}
        for name in TEAMS[2:]:
            ack = await host.request("create_team", name=name)
            team_ids[name] = ack["result"]["team"]
        players = [
            await join(server.ws_url, code, f"Player {name}", team=team_ids[name]) for name in TEAMS
        ]

        screen = (await pages.open("screen", viewport=SCREEN)).page
        await screen.goto(f"{server.base_url}/screen/{code}")
        await expect(screen.locator("#lobby-teams .lobby-team")).to_have_count(len(TEAMS))
        qr = screen.locator("#lobby-qr")
        await expect(qr).to_have_attribute("alt", f"QR code to join room {code}")
        await screen.get_by_role("button", name="Italiano").click()
        await expect(qr).to_have_attribute("alt", f"Codice QR per entrare nella stanza {code}")
        await screen.get_by_role("button", name="English").click()
        await expect(qr).to_have_attribute("alt", f"QR code to join room {code}")

        # Every toast text the screen shows, in order.
        await screen.evaluate(
            """() => {
              window.toastTexts = [];
              const el = document.getElementById('moment-toast');
              new MutationObserver(() => {
                if (!el.hidden && el.textContent !== window.toastTexts.at(-1)) window.toastTexts.push(el.textContent);
              }).observe(el, {attributes: true, childList: true, characterData: true, subtree: true});
            }"""
        )
        await host.request("next")
        await expect(screen.locator("#riddle-text")).to_contain_text("honest number")

        # Ten teams solve it within two seconds.
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(player.request("guess", text="four") for player in players))
        assert loop.time() - started < 2
        toast = screen.locator("#moment-toast")
        await expect(toast).to_have_text("10 teams solved it!")
        await expect(screen.locator("#riddle-answer")).to_have_text("4")  # all solved: revealed
        texts: list[Any] = await screen.evaluate("window.toastTexts")
        assert texts[-1] == "10 teams solved it!"
        assert len(texts) <= len(TEAMS), texts  # one growing celebration, no queue
        # In the top bar: it covers neither the game nor the scoreboard.
        assert not await boxes_overlap(screen, "#moment-toast", "#main")
        await shots.take(screen, "screen-celebration")

        # The language switch reaches the celebration and the ranks.
        await screen.get_by_role("button", name="Italiano").click()
        await expect(toast).to_have_text("10 squadre l'hanno risolto!")
        await expect(screen.locator("#scoreboard .score-rank").first).to_have_text("1º")
        await screen.get_by_role("button", name="English").click()
        await expect(toast).to_have_text("10 teams solved it!")
        await expect(screen.locator("#scoreboard .score-rank").first).to_have_text("#1")

        # The next riddle ends the celebration at once, long before it would time out.
        await host.request("next")
        await expect(screen.locator("#riddle-kicker")).to_contain_text("2 of")
        await expect(toast).to_be_hidden(timeout=1_000)

        # The podium's ranks, as screen readers read them, follow the language too.
        await host.request("finish")
        rank_one = screen.locator("#podium .p1 .podium-block")
        await expect(rank_one.locator(".visually-hidden")).to_have_text("#1")
        await screen.get_by_role("button", name="Italiano").click()
        await expect(rank_one.locator(".visually-hidden")).to_have_text("1º")
        await expect(screen.locator("#podium-rest")).to_contain_text("4º")
        await close_all(host, *players)
        assert pages.problems() == []


async def test_a_long_celebration_is_shown_whole_without_moving_the_game(pages: Pages) -> None:
    """Two teams with long names solve together: the toast takes two smaller lines in the
    top bar (its join address gives way meanwhile), not an ellipsis, and nothing under it moves."""
    long_names = ["Dipartimento Amministrazione", "Ufficio Relazioni Pubbliche"]
    async with running_server(fast_settings()) as server:
        code, _, host = await hosted_room(
            server.base_url, server.ws_url, "Long names", pack="team-mix"
        )
        assert host.state is not None
        teams = [team["id"] for team in host.state["state"]["teams"]]
        for team_id, name in zip(teams, long_names, strict=True):
            await host.request("rename_team", team=team_id, name=name)
        players = [await join(server.ws_url, code, f"P{i}", team=t) for i, t in enumerate(teams)]
        screen = (await pages.open("screen", viewport=SCREEN)).page
        await screen.goto(f"{server.base_url}/screen/{code}")
        await screen.get_by_role("button", name="Italiano").click()
        await host.request("next")
        await expect(screen.locator("#riddle-text")).to_contain_text("honest number")
        before = await screen.locator("#main").bounding_box()
        assert before is not None
        await asyncio.gather(*(player.request("guess", text="four") for player in players))
        toast = screen.locator("#moment-toast")
        await expect(toast).to_have_text(f"{long_names[0]} e {long_names[1]} l'hanno risolto!")
        fits = await toast.evaluate(
            "el => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 1"
        )
        assert fits, "the celebration is cut"
        assert not await boxes_overlap(screen, "#moment-toast", "#main")
        after = await screen.locator("#main").bounding_box()
        assert after is not None and after["y"] == before["y"]  # the game did not move
        await expect(screen.locator("#top-join")).to_be_hidden()
        await close_all(host, *players)
        assert pages.problems() == []
