"""``ritrovo packs validate|list`` through packs_command."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ritrovo.packs.cli import packs_command

HERE = Path(__file__).resolve().parent
GOOD = HERE / "good"
BROKEN = HERE / "broken"


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(GOOD / "office.yaml")
    assert packs_command(["validate", path]) == 0
    assert capsys.readouterr().out == f"OK {path}: 3 rounds, 2 riddles, 3 prompts\n"


def test_validate_reports_every_problem(capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = str(GOOD / "office.json"), str(BROKEN / "hints.yaml")
    assert packs_command(["validate", good, bad]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"OK {good}: 3 rounds, 2 riddles, 3 prompts"
    assert lines[1:] == [
        (
            f"{bad}:14: rounds[0].riddles[0].hints[0].after: "
            "must be less than the riddle's time_limit (30)"
        ),
        (
            f"{bad}:23: rounds[0].riddles[1].hints[1].after: "
            "hints must unlock in order: 30 is earlier than hints[0].after (60)"
        ),
        (
            f"{bad}:27: rounds[0].riddles[2].hints: "
            "hints cost 50 points in total, which must be less than the riddle's 50 points"
        ),
        f'{bad}:34: rounds[0].riddles[2].hints[1].costs: unknown field (did you mean "cost"?)',
        f"{bad}:39: rounds[0].riddles[3].hints[0].after: must be at least 0, got -1",
        f"{bad}:40: rounds[0].riddles[3].hints[0].cost: must be at least 0, got -5",
    ]


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "nope.yaml")
    assert packs_command(["validate", path]) == 1
    assert capsys.readouterr().out.startswith(f"{path}: cannot read file")


def test_validate_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(GOOD / "office.yaml", tmp_path / "one.yaml")
    shutil.copy(GOOD / "office.json", tmp_path / "two.json")
    (tmp_path / "notes.txt").write_text("ignored")
    assert packs_command(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == [
        f"OK {tmp_path / 'one.yaml'}",
        f"OK {tmp_path / 'two.json'}",
    ]


def test_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(GOOD / "office.yaml", tmp_path / "office.yaml")
    assert packs_command(["list", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ID", "LANG", "TITLE", "ROUNDS"]
    assert out[1].split() == ["office-riddles", "en", "Office", "Riddles", "3"]
    assert out[0].index("TITLE") == out[1].index("Office Riddles")


def test_list_reports_broken_packs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(GOOD / "office.yaml", tmp_path / "office.yaml")
    shutil.copy(BROKEN / "syntax_error.yaml", tmp_path / "broken.yaml")
    assert packs_command(["list", "--dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "office-riddles" in captured.out
    assert captured.err.splitlines() == [
        "error: broken.yaml:6: YAML syntax error: mapping values are not allowed here"
    ]


def test_list_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert packs_command(["list", "--dir", str(tmp_path)]) == 0
    assert "(no packs in" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["validate"], ["list", "--bogus"]])
def test_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert packs_command(argv) == 2
    assert "usage: ritrovo packs" in capsys.readouterr().err


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert packs_command(["--help"]) == 0
    assert "validate" in capsys.readouterr().out
