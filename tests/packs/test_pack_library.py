"""PackLibrary: a folder of packs, indexed by id."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from ritrovo.packs import PackLibrary, default_pack_dir, load_pack_bytes
from ritrovo.packs.listing import listing, listing_facts

HERE = Path(__file__).resolve().parent
GOOD = HERE / "good"
BROKEN = HERE / "broken"

OTHER = """\
id: another-pack
title: Another pack
language: it
rounds:
  - kind: story
    title: Storie
    prompts:
      - opening: C'era una volta
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(GOOD / "office.yaml", tmp_path / "a-office.yaml")
    shutil.copy(GOOD / "office.json", tmp_path / "b-office-copy.json")  # same id: refused
    shutil.copy(BROKEN / "hints.yaml", tmp_path / "c-broken.yml")
    (tmp_path / "d-another.yml").write_text(OTHER)
    (tmp_path / "README.md").write_text("not a pack")
    (tmp_path / ".hidden.yaml").write_text("not: loaded")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nested.yaml").write_text(OTHER.replace("another-pack", "nested"))
    return tmp_path


def test_loads_valid_packs_and_reports_the_rest(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ritrovo.packs"):
        library = PackLibrary(folder)
    assert library.ids() == ["another-pack", "office-riddles"]
    assert len(library) == 2 and "office-riddles" in library and "nested" not in library
    assert library.get("office-riddles") is not None
    assert library.get("missing") is None
    assert library.path_of("another-pack") == folder / "d-another.yml"

    files = [p.file for p in library.errors]
    assert set(files) == {"b-office-copy.json", "c-broken.yml"}
    [duplicate] = [p for p in library.errors if p.file == "b-office-copy.json"]
    assert (duplicate.line, duplicate.field) == (2, "id")
    assert duplicate.message == 'duplicate pack id "office-riddles" (already used by a-office.yaml)'
    assert len([p for p in library.errors if p.file == "c-broken.yml"]) == 6
    assert any("c-broken.yml:14:" in record.getMessage() for record in caplog.records)


def test_summaries_use_pack_summary(folder: Path) -> None:
    library = PackLibrary(folder)
    summaries = library.summaries()
    assert [s["id"] for s in summaries] == ["another-pack", "office-riddles"]
    office = library.get("office-riddles")
    assert office is not None and summaries[1] == office.summary()
    assert "answers" not in repr(summaries)
    assert [p.id for p in library] == ["another-pack", "office-riddles"]


MIXED = """\
id: mixed
title: Mixed
language: en
rounds:
  - kind: story
    title: Opening story
    prompts: [{opening: Once upon a time}]
    turns_per_player: 2
    seconds_per_turn: 45
  - kind: riddles
    title: Riddles
    riddles:
      - {text: "One?", answers: ["1"], time_limit: 30}
      - {text: "Two?", answers: ["2"]}
  - kind: story
    title: Closing story
    prompts: [{opening: The end}]
    turns_per_player: 1
    seconds_per_turn: 30
    vote_seconds: 90
"""


def test_listing_adds_facts_to_the_summaries(folder: Path) -> None:
    library = PackLibrary(folder, log_errors=False)
    office = library.get("office-riddles")
    assert office is not None
    assert listing(library)[1] == {**office.summary(), **listing_facts(office)}
    assert [(p["id"], p["kinds"]) for p in listing(library)] == [
        ("another-pack", ["story"]),
        ("office-riddles", ["riddles", "story"]),
    ]


def test_listing_facts_count_riddles_kinds_and_minutes() -> None:
    facts = listing_facts(load_pack_bytes(MIXED.encode(), "mixed.yaml"))
    # Stories: 2 turns x 4 writers x 45 s + 60 s reveal + 60 s for an open vote = 480 s,
    # then 1 x 4 x 30 + 60 + 90 = 270 s; riddles: (30 + 15) + (60 + 15) = 120 s: 870 s, 15 min rounded up.
    assert facts == {"riddles": 2, "kinds": ["story", "riddles"], "minutes": 15, "template": False}


def test_a_pack_with_placeholders_is_a_template() -> None:
    filled = MIXED.replace('"One?"', '"One at {{COMPANY}}?"')
    assert listing_facts(load_pack_bytes(filled.encode(), "template.yaml"))["template"] is True
    braces = MIXED.replace('"One?"', '"One {in braces}?"')
    assert listing_facts(load_pack_bytes(braces.encode(), "braces.yaml"))["template"] is False


def test_reload_picks_up_changes(folder: Path) -> None:
    library = PackLibrary(folder)
    (folder / "d-another.yml").unlink()
    (folder / "c-broken.yml").unlink()
    library.reload()
    assert library.ids() == ["office-riddles"]
    assert [p.file for p in library.errors] == ["b-office-copy.json"]


def test_missing_folder_is_an_error_not_a_crash(tmp_path: Path) -> None:
    library = PackLibrary(tmp_path / "nowhere", log_errors=False)
    assert len(library) == 0 and library.summaries() == []
    [problem] = library.errors
    assert "cannot read folder" in problem.message


def test_empty_folder(tmp_path: Path) -> None:
    library = PackLibrary(tmp_path)
    assert library.ids() == [] and library.errors == []


def test_default_folder_is_the_repository_puzzles() -> None:
    assert default_pack_dir() == HERE.parents[1] / "puzzles"
    assert PackLibrary(log_errors=False).directory == default_pack_dir()
