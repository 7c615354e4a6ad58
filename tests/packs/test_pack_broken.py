"""Every broken fixture in broken/ fails with exactly the expected problems.

Each expectation is (line, field, part of the message); line None means the
problem is about the whole file, field "" that it is not about one field.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ritrovo.packs import PackError, load_pack, load_pack_bytes

BROKEN = Path(__file__).resolve().parent / "broken"

Expected = list[tuple[int | None, str, str]]

R0 = "rounds[0]"
R1 = "rounds[1]"

EXPECTED: dict[str, Expected] = {
    "unknown_fields.yaml": [
        (2, "titel", 'unknown field (did you mean "title"?)'),
        (11, f"{R0}.riddles[0].hnts", 'unknown field (did you mean "hints"?)'),
        (18, f"{R0}.riddles[1].near[0].nuge", 'unknown field (did you mean "nudge"?)'),
        (19, f"{R0}.prompts", "unknown field"),
    ],
    "missing_required.yaml": [
        (1, "id", "is required"),
        (1, "language", "is required"),
        (3, f"{R0}.title", "is required"),
        (5, f"{R0}.riddles[0].answers", "at least one answer is required"),
        (6, f"{R0}.riddles[1].text", "is required"),
        (8, f"{R0}.riddles[1].hints[0].text", "is required"),
        (12, f"{R1}.prompts[0].opening", "is required"),
    ],
    "empty_values.yaml": [
        (2, "title", "must not be empty"),
        (9, f"{R0}.riddles[0].text", "must not be empty"),
        (10, f"{R0}.riddles[0].answers", "at least one answer is required"),
        (12, f"{R0}.riddles[1].answers", "must not be empty"),
        (14, f"{R0}.riddles[2].answers[1]", "must not be empty"),
        (14, f"{R0}.riddles[2].answers[2]", "expected text, got nothing (null)"),
        (16, f"{R0}.riddles[2].near[0].answers", "at least one near answer is required"),
        (17, f"{R0}.riddles[2].near[0].nudge", "must not be empty"),
    ],
    "wrong_types.yaml": [
        (2, "title", "expected text, got a list"),
        (5, "defaults.time_limit", 'expected a whole number, got text ("sixty")'),
        (6, "defaults.numbers", 'expected true or false, got text ("yes")'),
        (11, f"{R0}.riddles[0].text", "expected text, got a mapping"),
        (12, f"{R0}.riddles[0].answers", "expected text or a list of texts, got a mapping"),
        (13, f"{R0}.riddles[0].points", "expected a whole number, got a decimal number (1.5)"),
        (14, f"{R0}.riddles[0].typo_tolerance", 'must be "auto" or a number of edits from 0 to 3'),
        (15, f"{R0}.riddles[0].hints", "expected a list, got text"),
        (16, f"{R0}.riddles[0].near[0]", "a near answer must be a mapping"),
        (17, f"{R0}.riddles[0].options", "multiple choice needs 2 to 8 options, got 1"),
        (18, f"{R0}.riddles[1]", "a riddle must be a mapping with text and answers, not text"),
        (21, f"{R1}.prompts", "expected a list, got text"),
        (22, f"{R1}.turns_per_player", "expected a whole number, got a boolean (true)"),
    ],
    "out_of_range.yaml": [
        (5, "defaults.points", "must be between 1 and 10000, got 0"),
        (6, "defaults.typo_tolerance", "number of edits from 0 to 3, not a number (4)"),
        (13, f"{R0}.riddles[0].time_limit", "must be between 5 and 3600, got 4"),
        (14, f"{R0}.riddles[0].points", "must be between 1 and 10000, got 10001"),
        (17, f"{R0}.riddles[1].time_limit", "must be between 5 and 3600, got 3601"),
        (18, f"{R0}.riddles[1].typo_tolerance", "not a number (-1)"),
        (23, f"{R1}.turns_per_player", "must be between 1 and 10, got 11"),
        (24, f"{R1}.seconds_per_turn", "must be between 10 and 600, got 9"),
        (25, f"{R1}.max_chars", "must be between 20 and 500, got 501"),
        (26, f"{R1}.vote_seconds", "must be between 0 and 600, got -1"),
    ],
    "duplicates.yaml": [
        (4, "title", "duplicate field (first given at line 2)"),
        (10, f"{R0}.riddles[0].answers[2]", "duplicate answer (same as answers[0])"),
        (12, f"{R0}.riddles[0].near[0].answers[1]", "is also an accepted answer (answers[0])"),
        (14, f"{R0}.riddles[0].near[1].answers[0]", "(same as near[0].answers[0])"),
        (20, f"{R1}.prompts[0].must_include[1]", "duplicate word (same as must_include[0])"),
    ],
    "multiple_choice.yaml": [
        (9, f"{R0}.riddles[0].answers[0]", '"D" is not one of the options'),
        (13, f"{R0}.riddles[1].options", "needs 2 to 8 options, got 1"),
        (16, f"{R0}.riddles[2].options", "needs 2 to 8 options, got 9"),
        (19, f"{R0}.riddles[3].options[2]", "duplicate option (same as options[0])"),
        (22, f"{R0}.riddles[4].answers[0]", '"Z" is not one of the options'),
    ],
    "hints.yaml": [
        (14, f"{R0}.riddles[0].hints[0].after", "must be less than the riddle's time_limit (30)"),
        (
            23,
            f"{R0}.riddles[1].hints[1].after",
            "hints must unlock in order: 30 is earlier than hints[0].after (60)",
        ),
        (
            27,
            f"{R0}.riddles[2].hints",
            "hints cost 50 points in total, which must be less than the riddle's 50 points",
        ),
        (34, f"{R0}.riddles[2].hints[1].costs", 'unknown field (did you mean "cost"?)'),
        (39, f"{R0}.riddles[3].hints[0].after", "must be at least 0, got -1"),
        (40, f"{R0}.riddles[3].hints[0].cost", "must be at least 0, got -5"),
    ],
    "story.yaml": [
        (7, f"{R0}.prompts", "at least one prompt is required"),
        (8, f"{R0}.visibility", 'must be "full" or "chain", not text ("everyone")'),
        (12, f"{R1}.prompts[0].opening", "must not be empty"),
        (15, f"{R1}.prompts[1].must_include[0]", "must not be empty"),
        (16, f"{R1}.prompts[1].theme", "expected text, got a list"),
        (17, f"{R1}.riddles", "unknown field"),
    ],
    "whoswho.yaml": [
        (7, f"{R0}.prompts", "at least one prompt is required"),
        (8, f"{R0}.max_answers", "must be between 1 and 3, got 4"),
        (13, f"{R1}.prompts[1]", "must not be empty"),
        (14, f"{R1}.prompts[2]", "duplicate prompt (same as prompts[0])"),
        (15, f"{R1}.questions", "must be between 1 and 50, got 0"),
        (16, f"{R1}.time_limit", 'expected a whole number, got text ("fast")'),
        (17, f"{R1}.riddles", "unknown field"),
    ],
    "header.yaml": [
        (1, "id", 'must be 1 to 64 characters among a-z, 0-9 and "-"'),
        (2, "title", "is 121 characters long, the limit is 120"),
        (3, "language", 'two-letter lowercase language code such as "en" or "it" (got "english")'),
        (4, "description", "expected text, got a list"),
        (6, "rounds", "at least one round is required"),
    ],
    "round_kinds.yaml": [
        (5, f"{R0}.kind", 'is required ("riddles", "story" or "whoswho")'),
        (9, f"{R0}.riddles[0].hint", 'unknown field (did you mean "hints"?)'),
        (10, f"{R1}.kind", 'must be "riddles", "story" or "whoswho", not text ("quiz")'),
        (12, "rounds[2]", "a round must be a mapping"),
    ],
    "syntax_error.yaml": [(6, "", "YAML syntax error: mapping values are not allowed here")],
    "syntax_error.json": [(6, "", "JSON syntax error: Expecting property name")],
    "invalid.json": [
        (10, f"{R0}.riddles[0].answers", "at least one answer is required"),
        (10, f"{R0}.riddles[0].points", "expected a whole number, got a decimal number"),
        (11, f"{R0}.riddles[1].hnts", "unknown field"),
        (13, f"{R0}.title", "duplicate field (first given at line 8)"),
    ],
    "python_tag.yaml": [(8, "", "YAML tag !!python/object/apply:os.system is not allowed")],
    "not_a_mapping.yaml": [(1, "", "the pack must be a mapping with id, title, language")],
    "empty.yaml": [(None, "", "file is empty")],
    "two_documents.yaml": [(2, "", "expected a single document")],
    "alias_cycle.yaml": [(4, "", "an alias refers to a value that contains it")],
}


def test_every_fixture_has_expectations() -> None:
    assert sorted(p.name for p in BROKEN.iterdir() if p.is_file()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_pack_reports_exact_problems(name: str) -> None:
    with pytest.raises(PackError) as info:
        load_pack_bytes((BROKEN / name).read_bytes(), name)
    problems = info.value.problems
    assert {p.file for p in problems} == {name}
    got = [(p.line, p.field) for p in problems]
    assert got == [(line, field) for line, field, _ in EXPECTED[name]]
    for problem, (_, _, message) in zip(problems, EXPECTED[name], strict=True):
        assert message in problem.message, str(problem)


@pytest.mark.parametrize("name", ["hints.yaml", "invalid.json"])
def test_load_pack_reports_the_path(name: str) -> None:
    path = BROKEN / name
    with pytest.raises(PackError) as info:
        load_pack(path)
    assert {p.file for p in info.value.problems} == {str(path)}
    assert len(info.value.problems) == len(EXPECTED[name])


def test_many_problems_are_reported_at_once() -> None:
    with pytest.raises(PackError) as info:
        load_pack(BROKEN / "wrong_types.yaml")
    error = info.value
    assert len(error.problems) == 13
    assert error.message.endswith(": 13 problems")
    assert len(error.to_dict()["problems"]) == 13  # type: ignore[arg-type]
    lines = [p.line or 0 for p in error.problems]
    assert lines == sorted(lines)
