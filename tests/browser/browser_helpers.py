"""Helpers for the browser tests (Playwright, async API, system Chromium).

The ``browser`` and ``artifacts_dir`` fixtures come from tests/conftest.py.
Every page opened through ``Watched`` records uncaught errors, console errors
and dialogs, so a test can assert that none happened.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS_SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 960}
SCREEN = {"width": 1280, "height": 720}

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
