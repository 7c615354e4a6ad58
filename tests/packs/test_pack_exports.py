"""Exports to GIFT and CSV, and their round trips through the importers."""

from __future__ import annotations

from pathlib import Path

import pytest
from ritrovo.game.pack import Pack, Riddle, RiddleRound
from ritrovo.packs import load_pack
from ritrovo.packs.exports import to_csv, to_gift
from ritrovo.packs.imports import import_pack_bytes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PACKS = sorted([*(ROOT / "puzzles").glob("*.yaml"), HERE / "good" / "office.yaml"])
EXAMPLES = sorted((ROOT / "docs" / "examples").iterdir())


def riddle_rounds(pack: Pack) -> list[RiddleRound]:
    return [r for r in pack.rounds if isinstance(r, RiddleRound)]


def pack_of(path: Path) -> Pack:
    """A shipped pack, or a docs example imported."""
    if path.suffix in (".yaml", ".yml"):
        return load_pack(path)
    return import_pack_bytes(path.read_bytes(), path.name).pack


def story_notes(pack: Pack, fmt: str) -> list[str]:
    return [
        f'story round "{r.title}" left out: {fmt} has no stories'
        for r in pack.rounds
        if not isinstance(r, RiddleRound)
    ]


def gift_view(riddle: Riddle) -> tuple[object, ...]:
    """What GIFT carries of a riddle (docs/packs.md, "Exporting")."""
    near = () if riddle.options else tuple((n.answers, n.nudge) for n in riddle.near)
    return (riddle.text, riddle.answers, riddle.options, near, riddle.explanation)


@pytest.mark.parametrize("path", [*PACKS, *EXAMPLES], ids=lambda p: p.name)
def test_csv_round_trip_keeps_every_riddle_field(path: Path) -> None:
    pack = pack_of(path)
    text, notes = to_csv(pack)
    assert notes == story_notes(pack, "CSV")
    if not riddle_rounds(pack):  # a story pack: nothing but the header
        assert text.count("\n") == 1
        return
    back = import_pack_bytes(
        text.encode(), f"{pack.id}.csv", pack_id=pack.id, title=pack.title, language=pack.language
    ).pack
    assert [(r.title, r.riddles) for r in riddle_rounds(back)] == [
        (r.title, r.riddles) for r in riddle_rounds(pack)
    ]


@pytest.mark.parametrize("path", [*PACKS, *EXAMPLES], ids=lambda p: p.name)
def test_gift_round_trip_keeps_what_gift_carries(path: Path) -> None:
    pack = pack_of(path)
    text, notes = to_gift(pack)
    assert notes[: len(story_notes(pack, "GIFT"))] == story_notes(pack, "GIFT")
    if not riddle_rounds(pack):  # a story pack: nothing but the heading comment
        assert [line for line in text.splitlines() if line] == [text.splitlines()[0]]
        return
    back = import_pack_bytes(text.encode(), f"{pack.id}.gift", language=pack.language).pack
    assert [r.title for r in riddle_rounds(back)] == [r.title for r in riddle_rounds(pack)]
    assert [[gift_view(q) for q in r.riddles] for r in riddle_rounds(back)] == [
        [gift_view(q) for q in r.riddles] for r in riddle_rounds(pack)
    ]


def test_gift_export_writes_each_kind_of_question() -> None:
    pack = import_pack_bytes(
        (ROOT / "docs" / "examples" / "quiz-di-squadra.gift").read_bytes(), "quiz-di-squadra.gift"
    ).pack
    text, notes = to_gift(pack)
    lines = text.splitlines()
    assert lines[0] == "// Quiz di squadra (quiz-di-squadra, it): exported from Ritrovo"
    assert "$CATEGORY: Ufficio e dintorni" in lines
    assert (
        "Ferragosto si festeggia il 15 agosto. "
        "{T ####Cade sempre il 15 agosto, anche quando è domenica.}"
    ) in lines
    assert "Quanti giorni ha un anno bisestile? {#366}" in lines
    assert "Quanti metri è alta, più o meno, la Torre di Pisa? {#=56 =55 =57 " in " ".join(lines)
    # Colons and other GIFT characters are escaped.
    assert any(line.startswith("In ufficio, l'appuntamento alle 9\\:30") for line in lines)
    assert notes == []


def test_exports_say_what_they_leave_out() -> None:
    pack = load_pack(HERE / "good" / "office.yaml")
    _, gift_notes = to_gift(pack)
    _, csv_notes = to_csv(pack)
    stories = [f'story round "{r.title}" left out' for r in pack.rounds if r.kind == "story"]
    assert stories
    assert [n.split(":")[0] for n in csv_notes] == stories
    assert [n.split(":")[0] for n in gift_notes[: len(stories)]] == stories
    assert any(n.startswith("hints of ") for n in gift_notes)
