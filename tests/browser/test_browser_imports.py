"""The console takes the quiz formats facilitators already have (issue 14's imports)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from browser_helpers import Pages
from playwright.async_api import FilePayload, expect
from ritrovo.packs.imports import load_upload
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def broken_kahoot() -> bytes:
    """Kahoot's template (header in row 8) with a correct answer that is not among the answers."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    header = ["", "Question - max 120 characters", "Answer 1 - max 75 characters"]
    header += ["Answer 2 - max 75 characters", "Answer 3 - max 75 characters"]
    header += [
        "Answer 4 - max 75 characters",
        "Time limit (sec) – 5, 10, 20, 30, 60, 90, 120, or 240 secs",
    ]
    header += ["Correct answer(s) - choose at least one"]
    for col, text in enumerate(header, start=1):
        sheet.cell(8, col, text)
    for col, value in enumerate(
        [1, "Quale colore ha il cielo?", "Blu", "Verde", None, None, 20, 5], start=1
    ):
        if value is not None:
            sheet.cell(9, col, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_the_console_imports_a_gift_quiz_and_names_a_spreadsheets_cell(pages: Pages) -> None:
    gift = (EXAMPLES / "quiz-di-squadra.gift").read_bytes()
    title = load_upload(gift, "quiz-di-squadra.gift").title
    async with running_server(fast_settings()) as server:
        room = await create_room(server.base_url, "Imports")
        host = (await pages.open("host")).page
        await host.goto(f"{server.base_url}/host/{room['code']}#token={room['host_token']}")
        await expect(host.locator("#room-code")).to_have_text(room["code"])
        upload = host.get_by_role("button", name="Upload", exact=True)

        # The file picker offers the import formats, and a GIFT file becomes the room's pack.
        accept = await host.locator("#pack-file").get_attribute("accept") or ""
        for suffix in (".gift", ".txt", ".csv", ".xlsx"):
            assert suffix in accept.split(",")
        await host.locator("#pack-file").set_input_files(
            files=FilePayload(name="quiz-di-squadra.gift", mimeType="text/plain", buffer=gift)
        )
        await upload.click()
        await expect(host.locator("#pack-current")).to_contain_text(title)

        # A spreadsheet's problem is shown at its cell, not only its row.
        await host.locator("#pack-file").set_input_files(
            files=FilePayload(
                name="quiz.xlsx",
                mimeType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                buffer=broken_kahoot(),
            )
        )
        await upload.click()
        problem = host.locator("#pack-problems li").first
        await expect(problem).to_have_text(
            "quiz.xlsx:Sheet1!H9: correct answer 5 is not one of the filled answers (1, 2)"
        )
        await expect(host.locator("#pack-current")).to_contain_text(title)  # the pack stays
