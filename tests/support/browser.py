"""Headless Debian Chromium driven by Playwright for Python (async API).

Playwright's own browser download does not work here; we launch the system
``/usr/bin/chromium`` (installed by ``scripts/setup.sh --test``) instead.

    async with async_playwright() as pw:
        browser = await launch_chromium(pw)
        page = await browser.new_page()
        ...
        await browser.close()

In tests, prefer the ``browser`` fixture from tests/conftest.py.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.async_api import Browser, Playwright

__all__ = ["CHROMIUM_ARGS", "CHROMIUM_PATH", "BrowserNotInstalled", "launch_chromium"]

#: ``$RITROVO_CHROMIUM`` overrides the binary.
CHROMIUM_PATH = os.environ.get("RITROVO_CHROMIUM", "/usr/bin/chromium")

#: Sandbox off (we run as root), and none of Chromium's background traffic:
#: this machine has no network beyond loopback.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


class BrowserNotInstalled(RuntimeError):
    pass


async def launch_chromium(
    playwright: Playwright,
    *,
    executable_path: str | None = None,
    headless: bool = True,
    extra_args: Sequence[str] = (),
    **launch_options: Any,
) -> Browser:
    """Launch headless system Chromium; the caller closes the returned browser."""
    path = executable_path or CHROMIUM_PATH
    if not os.access(path, os.X_OK):
        raise BrowserNotInstalled(
            f"{path} not found. Run `make test` (it runs `scripts/setup.sh --test`, which "
            "installs chromium), or `apt-get install chromium`."
        )
    return await playwright.chromium.launch(
        executable_path=path,
        headless=headless,
        args=[*CHROMIUM_ARGS, *extra_args],
        **launch_options,
    )
