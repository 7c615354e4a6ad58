"""Moodle's Aiken format: multiple-choice questions, one after another::

    What is the capital of Italy?
    A. Milan
    B) Rome
    C. Turin
    ANSWER: B

Each question becomes a multiple-choice riddle in one round. The question may
run over several lines (Moodle wants one); blank lines between questions are
optional.
"""

from __future__ import annotations

import re

from .draft import Draft, DraftRiddle, Source

__all__ = ["looks_like_aiken", "read_aiken"]

_OPTION_RE = re.compile(r"^([A-Z])\s*[.)]\s+(.*\S)\s*$")
_ANSWER_RE = re.compile(r"^ANSWER\s*:\s*(.*?)\s*$", re.IGNORECASE)


def looks_like_aiken(text: str) -> bool:
    """True when a line is ``ANSWER: <letter>`` (what no other format has)."""
    return any(
        (m := _ANSWER_RE.match(line.strip())) is not None and re.fullmatch(r"[A-Za-z]", m.group(1))
        for line in text.splitlines()
    )


class _Question:
    def __init__(self, line: int, text: str) -> None:
        self.source = Source(line)
        self.lines = [text]
        self.options: list[tuple[str, str, int]] = []  # (letter, text, line)


def read_aiken(text: str, draft: Draft) -> None:
    """Read Aiken ``text`` into ``draft``."""
    current: _Question | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        answer = _ANSWER_RE.match(line)
        option = _OPTION_RE.match(line)
        if answer is not None:
            if current is None:
                draft.error(Source(number), '"ANSWER:" with no question before it')
            else:
                _finish(current, answer.group(1), Source(number), draft)
            current = None
        elif option is not None and current is not None:
            letter, option_text = option.group(1), option.group(2)
            expected = chr(ord("A") + len(current.options))
            if letter != expected:
                draft.error(
                    Source(number), f'option "{letter}" out of order: expected "{expected}."'
                )
            current.options.append((letter, option_text, number))
        elif current is not None and current.options:
            # A new question while the last one still waits for its ANSWER line.
            draft.error(current.source, 'question has no "ANSWER:" line after its options')
            current = _Question(number, line)
        elif current is not None:
            current.lines.append(line)
        elif option is not None:
            draft.error(Source(number), f'option "{option.group(1)}" with no question before it')
        else:
            current = _Question(number, line)
    if current is not None:
        draft.error(current.source, 'question has no "ANSWER:" line (the file ends first)')


def _finish(question: _Question, letter: str, at: Source, draft: Draft) -> None:
    letters = {opt[0]: opt[1] for opt in question.options}
    if len(question.options) < 2:
        draft.error(question.source, "a question needs at least two options (A. and B.)")
        return
    if letter.upper() not in letters or len(letter) != 1:
        known = ", ".join(letters)
        draft.error(at, f'"ANSWER: {letter}" is not one of the options ({known})')
        return
    fields: dict[str, object] = {
        "text": "\n".join(question.lines),
        "options": [opt[1] for opt in question.options],
        "answers": letters[letter.upper()],
    }
    draft.add(DraftRiddle(question.source, fields))
