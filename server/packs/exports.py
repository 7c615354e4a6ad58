"""Export a pack to GIFT or CSV, so a pack made here can go back to Moodle or a spreadsheet.

Both are read back by ``ritrovo.packs.imports`` into the same riddles, as far
as the format carries them (docs/packs.md, "Exporting"): CSV carries every
riddle field; GIFT the text, answers, options, near answers (as partly right
answers with their nudge as feedback), numbers and explanation, but not time
limits, points, hints or typo tolerance. Story rounds are in neither format.
Each export also returns notes on what it left out, for the command to print.
"""

from __future__ import annotations

import csv
import io
import re

from ..game.pack import Pack, Riddle, RiddleRound
from .draft import TRUE_FALSE
from .sheets import join_cell

__all__ = ["to_csv", "to_gift"]

_GIFT_SPECIAL = re.compile(r"([\\~=#{}:])")
_NUMBER_RE = re.compile(r"^-?\d+(?:\.\d+)?$")


def _gift_text(text: str) -> str:
    return _GIFT_SPECIAL.sub(r"\\\1", text).replace("\n", "\\n")


def _story_notes(pack: Pack, fmt: str) -> list[str]:
    return [
        f'story round "{r.title}" left out: {fmt} has no stories'
        for r in pack.rounds
        if not isinstance(r, RiddleRound)
    ]


def to_gift(pack: Pack) -> tuple[str, list[str]]:
    """The pack's riddle rounds as GIFT, and notes on what GIFT cannot carry."""
    out = [f"// {pack.title} ({pack.id}, {pack.language}): exported from Ritrovo", ""]
    lost: dict[str, int] = {}
    for round_ in pack.rounds:
        if not isinstance(round_, RiddleRound):
            continue
        out += [f"$CATEGORY: {round_.title.replace('/', '//')}", ""]
        for riddle in round_.riddles:
            out += [_gift_riddle(riddle, pack.language), ""]
            for what, kept in (
                ("hints", not riddle.hints),
                ("time limits", riddle.time_limit == 60),
                ("points", riddle.points == 100),
                ("typo tolerances", riddle.typo_tolerance == "auto"),
            ):
                if not kept:
                    lost[what] = lost.get(what, 0) + 1
    notes = _story_notes(pack, "GIFT")
    notes += [f"{what} of {n} riddle(s) left out: GIFT has none" for what, n in lost.items()]
    return "\n".join(out), notes


def _gift_riddle(riddle: Riddle, language: str) -> str:
    answers: list[str]
    tf = TRUE_FALSE.get(language, TRUE_FALSE["en"])
    if riddle.options and tuple(riddle.options) == tf and len(riddle.answers) == 1:
        answers = ["T" if riddle.answers[0] == tf[0] else "F"]
    elif riddle.options:
        right = set(riddle.answers)
        answers = [("=" if o in right else "~") + _gift_text(o) for o in riddle.options]
    elif riddle.numbers and all(_NUMBER_RE.match(a) for a in riddle.answers) and not riddle.near:
        answers = ["#" + " ".join("=" + a for a in riddle.answers)]
        if len(riddle.answers) == 1:
            answers = ["#" + riddle.answers[0]]
    else:
        answers = ["=" + _gift_text(a) for a in riddle.answers]
        for near in riddle.near:
            answers += [f"=%50%{_gift_text(a)}#{_gift_text(near.nudge)}" for a in near.answers]
    if riddle.explanation:
        answers.append("####" + _gift_text(riddle.explanation))
    return f"{_gift_text(riddle.text)} {{{' '.join(answers)}}}"


def _csv_header(pack: Pack) -> list[str]:
    riddles = [
        r for round_ in pack.rounds if isinstance(round_, RiddleRound) for r in round_.riddles
    ]
    near = max((len(r.near) for r in riddles), default=0)
    hints = max((len(r.hints) for r in riddles), default=0)
    header = ["round", "question", "answers", "options"]
    for i in range(1, near + 1):
        header += [f"near {i}", f"nudge {i}"]
    for i in range(1, hints + 1):
        header += [f"hint {i}", f"hint {i} after", f"hint {i} cost"]
    return [*header, "time limit", "points", "typo tolerance", "numbers", "explanation"]


def to_csv(pack: Pack) -> tuple[str, list[str]]:
    """The pack's riddle rounds as CSV (every riddle field), and notes on what was left out."""
    header = _csv_header(pack)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for round_ in pack.rounds:
        if not isinstance(round_, RiddleRound):
            continue
        for riddle in round_.riddles:
            row: dict[str, str] = {
                "round": round_.title,
                "question": riddle.text,
                "answers": join_cell(riddle.answers),
                "options": join_cell(riddle.options),
                "time limit": str(riddle.time_limit),
                "points": str(riddle.points),
                "typo tolerance": str(riddle.typo_tolerance),
                "numbers": "true" if riddle.numbers else "false",
                "explanation": riddle.explanation,
            }
            for i, near in enumerate(riddle.near, start=1):
                row[f"near {i}"] = join_cell(near.answers)
                row[f"nudge {i}"] = near.nudge
            for i, hint in enumerate(riddle.hints, start=1):
                row[f"hint {i}"] = hint.text
                row[f"hint {i} after"] = str(hint.after)
                row[f"hint {i} cost"] = str(hint.cost)
            writer.writerow([row.get(name, "") for name in header])
    return buffer.getvalue(), _story_notes(pack, "CSV")
