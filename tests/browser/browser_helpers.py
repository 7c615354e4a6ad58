"""Helpers for the browser tests (Playwright, async API, system Chromium).

The ``browser`` and ``artifacts_dir`` fixtures come from tests/conftest.py.
Every page opened through ``Watched`` records uncaught errors, console errors
and dialogs, so a test can assert that none happened. ``axe_violations`` runs
axe-core (node_modules/axe-core, pinned by package-lock.json) in a page.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 960}
SCREEN = {"width": 1280, "height": 720}

# A short game: two riddles (a typed one with a close answer and a hint, a
# multiple-choice one), then a story round every team member reads (full).
SMALL_PACK = """\
id: small-test
title: Small test pack
language: en
rounds:
  - kind: riddles
    title: Warm-up
    riddles:
      - text: What has keys but opens no locks?
        answers: [piano]
        near:
          - answers: [keyboard]
            nudge: "Close! It makes music."
        hints:
          - text: It has 88 of them.
            after: 10
            cost: 10
        explanation: A piano has keys and no locks.
      - text: Which of these is a colour?
        answers: [Blue]
        options: [Blue, Table, Seven, Run]
  - kind: story
    title: Tales of the office
    prompts:
      - opening: The printer woke up at midnight.
        must_include: [stapler]
        theme: mystery
      - opening: Nobody expected the snow in July.
    turns_per_player: 1
    seconds_per_turn: 60
    max_chars: 120
    visibility: full
"""

# Playwright waits: generous for a loaded CI machine, never a fixed sleep.
expect.set_options(timeout=10_000)


@dataclass
class Watched:
    """A page plus everything suspicious it did."""

    page: Page
    name: str
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def problems(self, allow: tuple[str, ...] = ()) -> list[str]:
        errors = [e for e in self.errors if not any(a in e for a in allow)]
        return [f"{self.name}: {e}" for e in errors] + [
            f"{self.name}: dialog {d}" for d in self.dialogs
        ]


class Pages:
    """Opens contexts and pages, and closes them all at the end."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.watched: list[Watched] = []

    async def open(
        self,
        name: str,
        *,
        phone: bool = False,
        locale: str = "en-US",
        scale: float = 1,
        **options: Any,
    ) -> Watched:
        if phone:
            options.setdefault("viewport", PHONE)
            options.setdefault("is_mobile", True)
            options.setdefault("has_touch", True)
        else:
            options.setdefault("viewport", DESKTOP)
        context = await self.browser.new_context(
            locale=locale, device_scale_factor=scale, **options
        )
        self.contexts.append(context)
        page = await context.new_page()
        watched = Watched(page, name)

        def on_console(message: Any) -> None:
            if message.type == "error":
                watched.errors.append(f"console: {message.text}")

        async def on_dialog(dialog: Any) -> None:
            watched.dialogs.append(f"{dialog.type}: {dialog.message}")
            await dialog.dismiss()

        page.on("pageerror", lambda exc: watched.errors.append(f"pageerror: {exc}"))
        page.on("console", on_console)
        page.on("dialog", on_dialog)
        self.watched.append(watched)
        return watched

    def problems(self, allow: tuple[str, ...] = ()) -> list[str]:
        """Errors and dialogs of every page; ``allow`` lists expected error texts."""
        return [p for w in self.watched for p in w.problems(allow)]

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


async def join(page: Page, url: str, name: str, team: str) -> None:
    """Join through the player page's form, into ``team``."""
    await page.goto(url)
    await page.locator("#join-name").fill(name)
    await page.locator("#team-choices label").filter(has_text=team).locator("input").check()
    await page.locator("#join-button").click()
    await expect(page.locator("#me-team")).to_contain_text(team)


class Shots:
    """Screenshots into artifacts/screenshots/, the chosen ones copied to docs/screenshots/."""

    def __init__(self, artifacts_dir: Path) -> None:
        self.dir = artifacts_dir / "screenshots"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    async def take(self, page: Page, name: str, *, full_page: bool = False) -> Path:
        path = self.dir / f"{name}.png"
        # Let fonts settle and any entrance animation finish (auto-waiting, not a sleep).
        await page.evaluate("document.fonts.ready.then(() => true)")
        await page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        self.taken.append(path)
        return path


def publish(paths: list[Path]) -> None:
    """Copy screenshots to docs/screenshots/ (used by hand: RITROVO_PUBLISH_SCREENSHOTS=1)."""
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in paths:
        shutil.copy2(path, DOCS_SCREENSHOTS / path.name)


# axe.run's results, cut down to what a failure message needs.
_AXE_RUN = """async (options) => {
  const results = await window.axe.run(document, options);
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on ``page`` as it is now, every default rule.

    axe is injected with ``add_script_tag``, so the page's context needs
    ``bypass_csp=True`` (the served pages allow no inline script); it is
    injected again after a navigation.
    """
    if not await page.evaluate("typeof window.axe === 'object'"):
        if not AXE_JS.is_file():
            raise FileNotFoundError(
                f"{AXE_JS} is missing: run `bash scripts/setup.sh --test` (npm ci installs "
                "axe-core from package-lock.json)"
            )
        await page.add_script_tag(path=str(AXE_JS))
    # Whatever is entering or leaving is measured as it will stay, not mid-fade.
    await page.evaluate("document.fonts.ready.then(() => true)")
    violations: list[dict[str, Any]] = await page.evaluate(
        _AXE_RUN, {"resultTypes": ["violations"]}
    )
    return violations


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per rule, then one per element: for assertion messages."""
    lines = []
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            summary = " ".join(str(node["summary"]).split())
            lines.append(f"    {node['target']}: {summary[:300]}")
    return "\n".join(lines)
