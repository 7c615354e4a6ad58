"""Fixtures of the browser tests: ``pages`` (watched pages, closed at the end) and ``shots``.

``browser`` and ``artifacts_dir`` come from tests/conftest.py; the helpers live
in browser_helpers.py.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser
from playwright.async_api import Error as PlaywrightError

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from browser_helpers import Pages, Shots


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
async def pages(
    browser: Browser, request: pytest.FixtureRequest, artifacts_dir: Path
) -> AsyncIterator[Pages]:
    opened = Pages(browser)
    try:
        yield opened
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            # Every page as it was when the test failed, plus what it complained about.
            out = artifacts_dir / "failures" / request.node.name
            out.mkdir(parents=True, exist_ok=True)
            for watched in opened.watched:
                try:
                    await watched.page.screenshot(
                        path=str(out / f"{watched.name}.png"), full_page=True
                    )
                except PlaywrightError as exc:  # a closed page must not hide the real failure
                    watched.errors.append(f"screenshot failed: {exc}")
            (out / "problems.txt").write_text("\n".join(opened.problems()) + "\n", encoding="utf-8")
        await opened.close()


@pytest.fixture
def shots(artifacts_dir: Path) -> Shots:
    return Shots(artifacts_dir)
