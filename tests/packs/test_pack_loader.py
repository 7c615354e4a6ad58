"""Loading valid packs, and the loader's safety limits."""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml
from ritrovo.game.pack import (
    Hint,
    NearAnswer,
    Pack,
    Riddle,
    RiddleRound,
    StoryPrompt,
    StoryRound,
)
from ritrovo.packs import (
    MAX_PACK_BYTES,
    PackError,
    PackLibrary,
    PackProblem,
    load_pack,
    load_pack_bytes,
    load_pack_file,
)

GOOD = Path(__file__).resolve().parent / "good"

MINIMAL = """\
id: minimal
title: Minimal
language: en
rounds:
  - kind: riddles
    title: Only
    riddles:
      - text: Q
        answers: a
"""

EXPECTED_OFFICE = Pack(
    id="office-riddles",
    title="Office Riddles",
    language="en",
    description="Wordplay and lateral thinking about office life.",
    author="Ritrovo team",
    rounds=(
        RiddleRound(
            title="Warm-up",
            riddles=(
                Riddle(
                    text="What has keys but can't open locks?",
                    answers=("a piano", "piano"),
                    time_limit=45,
                    points=200,
                    near=(
                        NearAnswer(answers=("keyboard", "organ"), nudge="Close: which instrument?"),
                        NearAnswer(answers=("harpsichord",), nudge="Older than you think."),
                    ),
                    hints=(
                        Hint(text="It makes music.", after=10, cost=20),
                        Hint(text="Grand or upright?", after=10, cost=30),
                    ),
                    typo_tolerance=1,
                    numbers=True,
                    explanation="Eighty-eight keys,\nnot a single lock.",
                ),
                Riddle(
                    text="Which of these is not a primary colour of light?",
                    answers=("Yellow",),
                    time_limit=20,
                    points=50,
                    options=("Red", "Green", "Yellow", "Blue"),
                    typo_tolerance="auto",
                    numbers=False,
                ),
            ),
        ),
        StoryRound(
            title="Tales of the office",
            prompts=(
                StoryPrompt(
                    opening="It was a Monday...", must_include=("stapler", "moon"), theme="mystery"
                ),
                StoryPrompt(opening="The printer spoke."),
            ),
            turns_per_player=3,
            seconds_per_turn=45,
            max_chars=200,
            visibility="chain",
            vote_seconds=30,
        ),
        StoryRound(title="Defaults", prompts=(StoryPrompt(opening="Once upon a time"),)),
    ),
)


def problems_of(data: str | bytes, filename: str = "pack.yaml") -> list[PackProblem]:
    raw = data.encode() if isinstance(data, str) else data
    with pytest.raises(PackError) as info:
        load_pack_bytes(raw, filename)
    return info.value.problems


# -- valid packs -----------------------------------------------------------------------


def test_yaml_pack_loads_into_dataclasses() -> None:
    pack = load_pack(GOOD / "office.yaml")
    assert pack == EXPECTED_OFFICE
    assert isinstance(pack.rounds, tuple)
    riddle = pack.rounds[0].riddles[0]  # type: ignore[union-attr]
    assert isinstance(riddle.answers, tuple) and isinstance(riddle.near[0].answers, tuple)


def test_json_pack_loads_the_same_as_yaml() -> None:
    assert load_pack(GOOD / "office.json") == EXPECTED_OFFICE


def test_yml_suffix_and_bytes_api() -> None:
    data = (GOOD / "office.yaml").read_bytes()
    assert load_pack_bytes(data, "office.yml") == EXPECTED_OFFICE
    assert load_pack_bytes(data, "UPPER.YAML") == EXPECTED_OFFICE


def test_defaults_when_nothing_is_set() -> None:
    pack = load_pack_bytes(MINIMAL.encode(), "minimal.yaml")
    riddle = pack.rounds[0].riddles[0]  # type: ignore[union-attr]
    assert riddle == Riddle(text="Q", answers=("a",), time_limit=60, points=100)
    assert riddle.typo_tolerance == "auto" and riddle.numbers is False
    assert pack.description == "" and pack.author == ""


def test_null_optional_fields_mean_not_given() -> None:
    text = MINIMAL.replace(
        "language: en\n", "language: en\ndescription:\nauthor: ~\ndefaults: null\n"
    )
    text += "        near:\n        hints: null\n        points: ~\n"
    pack = load_pack_bytes(text.encode(), "nulls.yaml")
    assert pack.description == ""
    riddle = pack.rounds[0].riddles[0]  # type: ignore[union-attr]
    assert riddle.near == () and riddle.hints == () and riddle.points == 100


def test_unquoted_scalars_in_text_fields_are_taken_as_written() -> None:
    text = MINIMAL.replace("answers: a", "answers: [42, yes, 3.10, 2024-01-01]").replace(
        "language: en", "language: no"
    )
    pack = load_pack_bytes(text.encode(), "scalars.yaml")
    assert pack.language == "no"
    assert pack.rounds[0].riddles[0].answers == ("42", "yes", "3.10", "2024-01-01")  # type: ignore[union-attr]


def test_riddle_settings_override_defaults() -> None:
    text = MINIMAL.replace(
        "rounds:", "defaults:\n  time_limit: 30\n  points: 10\n  typo_tolerance: 2\nrounds:"
    )
    text += "        time_limit: 90\n        typo_tolerance: 0\n"
    riddle = load_pack_bytes(text.encode(), "p.yaml").rounds[0].riddles[0]  # type: ignore[union-attr]
    assert (riddle.time_limit, riddle.points, riddle.typo_tolerance) == (90, 10, 0)


def test_yaml_merge_keys_and_aliases() -> None:
    text = """\
id: merges
title: Merges
language: en
rounds:
  - kind: riddles
    title: R
    riddles:
      - &base
        text: First
        answers: [one]
        points: 50
      - <<: *base
        text: Second
"""
    riddles = load_pack_bytes(text.encode(), "m.yaml").rounds[0].riddles  # type: ignore[union-attr]
    assert riddles[1].text == "Second"
    assert riddles[1].answers == ("one",) and riddles[1].points == 50


def test_utf8_bom_and_crlf_are_accepted() -> None:
    data = b"\xef\xbb\xbf" + MINIMAL.replace("\n", "\r\n").encode()
    assert load_pack_bytes(data, "bom.yaml").id == "minimal"


def test_json_unicode_escapes_and_line_separators() -> None:
    doc = json.loads((GOOD / "office.json").read_text())
    doc["title"] = "Emoji \ud83d\ude00 and a\u2028line"
    text = json.dumps(doc, ensure_ascii=True).replace("\\u2028", "\u2028")
    assert "\\ud83d\\ude00" in text and "\u2028" in text
    pack = load_pack_bytes(text.encode(), "emoji.json")
    assert pack.title == "Emoji \U0001f600 and a\u2028line"


def test_json_lines_survive_tabs_and_odd_characters() -> None:
    text = '{\n\t"id": "x",\n\t"title": "a\u0085b\u2029",\n\t"language": "en",\n\t"rounds": 3\n}\n'
    [problem] = problems_of(text, "odd.json")
    assert (problem.line, problem.field) == (5, "rounds")


def test_json_is_checked_without_lines_and_gets_them_on_a_problem(tmp_path: Path) -> None:
    text = (GOOD / "office.json").read_text()
    # A valid pack: the lines were never needed, both passes build the same pack.
    assert load_pack_bytes(text.encode(), "office.json") == EXPECTED_OFFICE
    # The library still learns the id's line (for duplicate reports).
    (tmp_path / "office.json").write_text(text)
    assert load_pack_file(tmp_path / "office.json") == (EXPECTED_OFFICE, 2)
    # Numbers and words keep their JSON types in the pass with lines too.
    doc = json.loads(text)
    doc["rounds"][0]["riddles"][0]["points"] = 1e2
    doc["rounds"][0]["riddles"][0]["numbers"] = None
    doc["extra"] = [True, -0, "a\\b\u00e8"]
    dumped = json.dumps(doc, indent=1)
    lines = dumped.splitlines()
    points = lines.index('     "points": 100.0,') + 1
    [problem, other] = problems_of(dumped, "typed.json")
    assert (problem.field, problem.line) == ("rounds[0].riddles[0].points", points)
    assert problem.message == "expected a whole number, got a decimal number (100.0)"
    assert (other.field, other.line) == ("extra", lines.index(' "extra": [') + 1)


def test_a_huge_json_list_is_refused_without_looking_for_lines() -> None:
    data = b"[" + b"0," * 300_000 + b"0]"
    [problem] = problems_of(data, "huge.json")
    assert problem.line is None and "too large" in problem.message


def test_json_must_be_strict_json() -> None:
    text = '{"id": "x", # a YAML comment\n "title": "t"}'
    [problem] = problems_of(text, "comment.json")
    assert problem.line == 1 and problem.message.startswith("JSON syntax error")


def test_pack_problem_format_and_error_dict() -> None:
    text = MINIMAL.replace("riddles:\n", "riddles: # four riddles, the last one broken\n")
    text += "      - {text: Q2, answers: b}\n      - {text: Q3, answers: c}\n"
    text += "      - text: Q4\n        # no answers yet\n        answers: []\n"
    with pytest.raises(PackError) as info:
        load_pack_bytes(text.encode(), "office.yaml")
    error = info.value
    assert [str(p) for p in error.problems] == [
        "office.yaml:14: rounds[0].riddles[3].answers: at least one answer is required"
    ]
    assert isinstance(error, ValueError)
    assert error.to_dict() == {
        "code": "invalid_pack",
        "message": "invalid pack office.yaml: 1 problem",
        "problems": [
            {
                "file": "office.yaml",
                "line": 14,
                "field": "rounds[0].riddles[3].answers",
                "message": "at least one answer is required",
            }
        ],
    }
    assert str(error).splitlines()[1] == str(error.problems[0])
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and copy.message == error.message


def test_problem_without_line_or_field() -> None:
    problem = PackProblem("big.json", None, "", "too big")
    assert str(problem) == "big.json: too big"
    assert problem.to_dict() == {
        "file": "big.json",
        "line": None,
        "field": "",
        "message": "too big",
    }


def test_load_pack_names_problems_after_the_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\n")
    with pytest.raises(PackError) as info:
        load_pack(path)
    assert {p.file for p in info.value.problems} == {str(path)}
    with pytest.raises(PackError) as info:
        load_pack(path, name="shown.yaml")
    assert {p.file for p in info.value.problems} == {"shown.yaml"}


def test_load_pack_file_returns_the_id_line(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("# header\n\n" + MINIMAL)
    pack, line = load_pack_file(path)
    assert pack.id == "minimal" and line == 3


# -- refusals --------------------------------------------------------------------------


def test_missing_file_is_a_pack_error(tmp_path: Path) -> None:
    with pytest.raises(PackError) as info:
        load_pack(tmp_path / "nope.yaml")
    [problem] = info.value.problems
    assert problem.line is None and "cannot read file" in problem.message


def test_unsupported_suffix() -> None:
    [problem] = problems_of(MINIMAL, "pack.txt")
    assert "unsupported file type" in problem.message


def test_oversized_file_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("an oversized pack must not be parsed")

    monkeypatch.setattr(yaml, "compose", no_parsing)
    monkeypatch.setattr(json, "loads", no_parsing)
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_PACK_BYTES + 1))
    with pytest.raises(PackError) as from_file:
        load_pack(path)
    with pytest.raises(PackError) as from_bytes:
        load_pack_bytes(b" " * 2_000_000, "big.json")
    for info in (from_file, from_bytes):
        [problem] = info.value.problems
        assert problem.line is None and "1 MiB" in problem.message


def test_file_of_exactly_the_limit_is_read() -> None:
    body = MINIMAL.encode()
    data = body + b"#" * (MAX_PACK_BYTES - len(body) - 1) + b"\n"
    assert len(data) == MAX_PACK_BYTES
    assert load_pack_bytes(data, "full.yaml").id == "minimal"


def test_the_limit_is_the_configured_one_above_and_below_the_default(tmp_path: Path) -> None:
    body = MINIMAL.encode()
    big = body + b"#" * (MAX_PACK_BYTES + 1000) + b"\n"  # over the default limit
    with pytest.raises(PackError):
        load_pack_bytes(big, "big.yaml")
    assert load_pack_bytes(big, "big.yaml", max_bytes=2 * MAX_PACK_BYTES).id == "minimal"
    (tmp_path / "big.yaml").write_bytes(big)
    assert PackLibrary(tmp_path, max_bytes=2 * MAX_PACK_BYTES).get("minimal") is not None
    small = PackLibrary(tmp_path, max_bytes=len(body) - 1, log_errors=False)
    assert small.get("minimal") is None
    [problem] = small.errors
    assert f"{len(body) - 1} byte" in problem.message


def test_python_tags_are_refused_without_running_anything(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = [
        f'!!python/object/apply:os.system ["touch {marker}"]',
        (
            "!!python/object/apply:pathlib.Path.touch "
            f'[!!python/object/apply:pathlib.Path ["{marker}"]]'
        ),
        "!!python/name:os.system",
        "!custom thing",
    ]
    for value in evil:
        text = MINIMAL.replace("text: Q", f"text: {value}")
        [problem] = problems_of(text)
        assert problem.line == 8
        assert "is not allowed" in problem.message
    assert not marker.exists()


def test_not_utf8() -> None:
    [problem] = problems_of(MINIMAL.encode() + b"# caf\xe9\n")
    assert problem.line == 10 and "UTF-8" in problem.message


def test_control_characters_are_a_syntax_problem() -> None:
    [problem] = problems_of("id: x\ntitle: a\x01b\n")
    assert problem.line == 2


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    [problem] = problems_of("\n".join(lines) + "\n")
    assert "aliases are expanded" in problem.message


def test_deep_nesting_is_refused() -> None:
    deep = "[" * 5000 + "]" * 5000
    for filename in ("deep.yaml", "deep.json"):
        [problem] = problems_of(f'{{"id": {deep}}}', filename)
        assert "nested too deeply" in problem.message


def test_json_nested_past_the_limit_is_refused_before_it_is_read() -> None:
    def nested(levels: int) -> str:
        return "[" * levels + '"x"' + "]" * levels

    riddle = '{"text": "Q", "answers": ["a"], "explanation": %s}'
    pack = '{"id": "p", "title": "T", "language": "en", "rounds": [{"kind": "riddles", "title": "R", "riddles": [%s]}]}'
    # Past 32 levels: one problem for the whole file, nothing else is checked.
    [problem] = problems_of(pack % (riddle % nested(30)), "p.json")
    assert (problem.field, problem.message) == ("", "data is nested too deeply")
    # Brackets inside strings are text, not nesting.
    text = json.dumps("[" * 100 + '\\"{' * 50)
    loaded = load_pack_bytes((pack % (riddle % text)).encode(), "p.json")
    assert isinstance(loaded.rounds[0], RiddleRound)
    assert loaded.rounds[0].riddles[0].explanation == json.loads(text)


def riddle_pack(riddle: Mapping[str, object]) -> bytes:
    rounds = [{"kind": "riddles", "title": "R", "riddles": [riddle]}]
    return json.dumps({"id": "p", "title": "T", "language": "en", "rounds": rounds}).encode()


def test_a_riddle_has_at_most_50_answers_and_50_near_answers_of_200_characters() -> None:
    # A riddle's matcher is compiled on the event loop when it is played: its
    # answers bound that work (6,500 answers took 75-170 ms).
    answers = [f"answer {i}" for i in range(50)]
    near = [
        {"answers": [f"near {i}" for i in range(25)], "nudge": "Close"},
        {"answers": [f"other {i}" for i in range(25)], "nudge": "Closer"},
    ]
    longest = "x" * 200
    most = {"text": "Q", "answers": [*answers[:49], longest], "near": near}
    loaded = load_pack_bytes(riddle_pack(most), "p.json")
    assert isinstance(loaded.rounds[0], RiddleRound)
    assert len(loaded.rounds[0].riddles[0].answers) == 50

    too_many = {
        "text": "Q",
        "answers": [*answers, "one more"],
        "near": [*near, {"answers": ["a last"], "nudge": "Close"}],
    }
    problems = {p.field: p.message for p in problems_of(riddle_pack(too_many), "p.json")}
    assert problems == {
        "rounds[0].riddles[0].answers": "at most 50 answers per riddle, got 51",
        "rounds[0].riddles[0].near": (
            "at most 50 near answers per riddle (all its near answers together), got 51"
        ),
    }
    too_long = {
        "text": "Q",
        "answers": ["fine", longest + "x"],
        "near": [{"answers": longest + "y", "nudge": "Close"}],
    }
    problems = {p.field: p.message for p in problems_of(riddle_pack(too_long), "p.json")}
    assert set(problems) == {
        "rounds[0].riddles[0].answers[1]",
        "rounds[0].riddles[0].near[0].answers",
    }
    assert all("at most 200 characters" in m for m in problems.values())
