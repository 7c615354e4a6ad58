"""``ritrovo packs import`` and ``export`` as real processes, and the upload endpoint agreeing.

The upload runs on a server in this event loop, its pack parser in real
worker processes (ritrovo.packs.worker), exactly as for YAML packs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import openpyxl
import pytest
from ritrovo.packs import PackProblem, load_pack, load_pack_bytes
from ritrovo.packs.imports import import_pack_bytes
from support.protocol_helpers import create_room
from support.servers import running_server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
EXAMPLES = ROOT / "docs" / "examples"
BROKEN = HERE / "imports"


def ritrovo(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ritrovo", "packs", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def broken_xlsx(path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Quiz"
    sheet.append(["Question", "Answer 1", "Answer 2", "Time limit", "Correct answer(s)"])
    sheet.append(["Qual è la capitale d'Italia?", "Roma", "Milano", 20, 3])
    sheet.append(["Quanto fa 2+2?", "4", "5", 20, 1])
    sheet.append(["Match these", None, None, None, None])
    book.save(path)
    return path


def test_import_prints_yaml_that_validates(tmp_path: Path) -> None:
    source = EXAMPLES / "quiz-di-squadra.gift"
    done = ritrovo("import", str(source))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith(
        "# Imported from quiz-di-squadra.gift (GIFT).\nid: quiz-di-squadra\n"
    )
    written = load_pack_bytes(done.stdout.encode(), "quiz.yaml")
    assert written == import_pack_bytes(source.read_bytes(), source.name).pack


def test_import_to_a_file_with_options(tmp_path: Path) -> None:
    out = tmp_path / "office.yaml"
    done = ritrovo(
        "import",
        str(EXAMPLES / "office-quiz-aiken.txt"),
        "--format",
        "aiken",
        "--id",
        "office",
        "--title",
        "Office quiz",
        "--language",
        "en",
        "-o",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr == (
        f"OK {EXAMPLES / 'office-quiz-aiken.txt'} (Aiken) -> {out}: 1 round, 6 riddles\n"
    )
    pack = load_pack(out)
    assert (pack.id, pack.title, pack.language) == ("office", "Office quiz", "en")
    # The written file is a pack for the validator too.
    assert ritrovo("validate", str(out)).returncode == 0


def test_import_reports_every_problem_and_exits_1() -> None:
    path = BROKEN / "broken.gift"
    done = ritrovo("import", str(path))
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"{path}:{n}" for n in (4, 9, 11, 13, 15, 17, 19, 21)
    ]


def test_import_skip_unsupported_lists_what_it_left_out(tmp_path: Path) -> None:
    source = tmp_path / "mixed.gift"
    source.write_text(
        "Match the pairs. {=a -> b =c -> d}\n\nWrite an essay. {}\n\n"
        "What is the capital of Italy? {=Rome =Roma}\n"
    )
    assert ritrovo("import", str(source)).returncode == 1
    done = ritrovo("import", str(source), "--skip-unsupported")
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"skipped: {source}:1: matching question (a -> b): a riddle has one answer to find",
        f"skipped: {source}:3: essay question ({{}}): a riddle needs an answer to check",
    ]
    assert "What is the capital of Italy?" in done.stdout


def test_export_gift_and_csv_of_a_library_pack(tmp_path: Path) -> None:
    gift = ritrovo("export", "office-riddles", "--format", "gift")
    assert gift.returncode == 0, gift.stderr
    assert gift.stdout.startswith("// Office Riddles (office-riddles, en): exported from Ritrovo")
    out = tmp_path / "office.csv"
    done = ritrovo("export", "puzzles/office-riddles-en.yaml", "--format", "csv", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"round,question,answers,options,")
    back = ritrovo("import", str(out), "--language", "en")
    assert back.returncode == 0, back.stderr
    stories = tmp_path / "stories.yaml"
    stories.write_text(
        "id: tales\ntitle: Tales\nlanguage: en\nrounds:\n"
        "  - kind: story\n    title: Once\n    prompts: [{opening: Once upon a time.}]\n"
    )
    nothing = ritrovo("export", str(stories), "--format", "gift")
    assert (nothing.returncode, nothing.stdout) == (1, "")
    assert nothing.stderr == (
        f"{stories}: no riddle round to export (GIFT and CSV have no stories)\n"
    )
    missing = ritrovo("export", "no-such-pack", "--format", "csv")
    assert missing.returncode == 1
    assert missing.stderr.startswith("no-such-pack: no such pack file or pack id in ")


async def upload(base_url: str, room: dict[str, Any], path: Path) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base_url}/api/rooms/{room['code']}/pack",
            params={"filename": path.name},
            data=path.read_bytes(),
            headers={"Authorization": f"Bearer {room['host_token']}"},
        ) as r,
    ):
        return r.status, dict(await r.json())


@pytest.mark.timeout(120)
async def test_cli_and_upload_report_the_same_problems(tmp_path: Path) -> None:
    files = [BROKEN / "broken.gift", BROKEN / "broken.csv", broken_xlsx(tmp_path / "quiz.xlsx")]
    async with running_server() as server:
        room = await create_room(server.base_url, "Imports")
        seen: dict[str, list[str]] = {}
        for path in files:
            status, body = await upload(server.base_url, room, path)
            assert status == 422, body
            assert body["error"]["code"] == "invalid_pack"
            uploaded = [str(PackProblem(**p)) for p in body["error"]["problems"]]
            # The CLI names the file as given: run it where the file is.
            done = ritrovo("import", path.name, cwd=path.parent)
            assert done.returncode == 1
            assert uploaded == done.stderr.splitlines(), path.name
            seen[path.name] = uploaded
        assert [len(seen[p.name]) for p in files] == [8, 4, 2]
        # The xlsx's problems carry their cells both ways.
        assert seen["quiz.xlsx"] == [
            "quiz.xlsx:Quiz!E2: correct answer 3 is not one of the filled answers (1, 2)",
            "quiz.xlsx:Quiz!E4: no correct answer: give its number (1 to 4, or 1,3)",
        ]
        # A good import is read as a pack and becomes the room's.
        status, body = await upload(server.base_url, room, EXAMPLES / "trivia-opentdb.json")
        assert status == 201, body
        assert body["pack"]["title"] == "Trivia opentdb"
        assert [r["items"] for r in body["pack"]["rounds"]] == [2, 2, 2]
