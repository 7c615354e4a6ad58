"""What every importer builds: a draft of the pack, the way a pack author would write it.

An importer (GIFT, Aiken, Kahoot, Open Trivia DB, CSV) reads its format into a
``Draft``: rounds of riddles as plain dicts with the fields of docs/packs.md,
each riddle remembering where it came from (a line, or a spreadsheet cell).
Questions it cannot read are ``problems``; questions a riddle game cannot play
are ``unsupported``. ``finish`` then writes the pack's dict and hands it to the
loader's own validator, so an imported pack is checked exactly as a
hand-written one, and the validator's problems are moved back to the line or
cell of the question they are about.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePath

from ..game.pack import Pack
from .loader import PackError, PackProblem, load_pack_bytes

__all__ = [
    "Draft",
    "DraftRiddle",
    "DraftRound",
    "Source",
    "decode_text",
    "finish",
    "guess_language",
    "pack_id_from",
    "title_from",
]

# True/false questions become two options, named in the pack's language.
TRUE_FALSE = {"en": ("True", "False"), "it": ("Vero", "Falso")}
DEFAULT_ROUND_TITLE = {"en": "Questions", "it": "Domande"}
DEFAULT_NUDGE = {"en": "Close!", "it": "Ci sei quasi!"}

# A few of the commonest words of each language the importers know; a pack's
# language is the one whose words its questions use most (English on a tie).
_WORDS = {
    "en": frozenset(
        [
            "the",
            "of",
            "and",
            "a",
            "to",
            "in",
            "is",
            "was",
            "what",
            "which",
            "who",
            "how",
            "many",
            "are",
            "does",
            "did",
            "this",
            "that",
            "with",
            "for",
            "from",
            "on",
            "by",
            "an",
            "it",
            "its",
            "not",
            "or",
            "true",
            "false",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "i",
            "gli",
            "le",
            "di",
            "del",
            "della",
            "dei",
            "delle",
            "che",
            "è",
            "e",
            "un",
            "una",
            "uno",
            "per",
            "non",
            "con",
            "su",
            "quale",
            "quali",
            "chi",
            "come",
            "quanti",
            "quante",
            "cosa",
            "dove",
            "quando",
            "nel",
            "nella",
            "sono",
            "ha",
            "vero",
            "falso",
        ]
    ),
}
_WORD_RE = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a question (or a round) came from in the imported file."""

    line: int | None  # 1-based line, or a spreadsheet's row
    cell: str = ""  # "Sheet1!B9" in a spreadsheet


@dataclass(slots=True)
class DraftRiddle:
    source: Source
    fields: dict[str, object]  # the riddle's fields as in a YAML pack
    # A true/false question: its options and answer are named once the
    # pack's language is known. None for every other question.
    truth: bool | None = None
    # Near answers whose nudge is the format's default ("Close!") in the pack's language.
    plain_near: list[str] = field(default_factory=list)


@dataclass(slots=True)
class DraftRound:
    title: str | None  # None: a default title in the pack's language
    source: Source
    riddles: list[DraftRiddle] = field(default_factory=list)


@dataclass(slots=True)
class Draft:
    """An imported file on its way to becoming a pack."""

    file: str  # the name problems are reported against
    rounds: list[DraftRound] = field(default_factory=list)
    problems: list[PackProblem] = field(default_factory=list)  # what could not be read
    unsupported: list[PackProblem] = field(default_factory=list)  # what cannot be played
    title: str | None = None  # from the file, when the format has one
    language: str | None = None

    def error(self, source: Source, message: str) -> None:
        """A question or part of the file that could not be read."""
        self.problems.append(PackProblem(self.file, source.line, "", message, cell=source.cell))

    def cannot_play(self, source: Source, message: str) -> None:
        """A question of a type a riddle game cannot play."""
        self.unsupported.append(PackProblem(self.file, source.line, "", message, cell=source.cell))

    def round(self, title: str | None, source: Source) -> DraftRound:
        """The round that questions go to from now on (the current one if the title is the same)."""
        if self.rounds and self.rounds[-1].title == title:
            return self.rounds[-1]
        new = DraftRound(title, source)
        self.rounds.append(new)
        return new

    def add(self, riddle: DraftRiddle, round_title: str | None = None) -> None:
        """Add a riddle to the current round (a first, untitled one if there is none)."""
        if not self.rounds:
            self.rounds.append(DraftRound(round_title, riddle.source))
        self.rounds[-1].riddles.append(riddle)

    def texts(self) -> list[str]:
        out: list[str] = []
        for r in self.rounds:
            out.extend(str(q.fields.get("text", "")) for q in r.riddles)
        return out


def decode_text(data: bytes, file: str) -> str:
    """Text of an imported file: UTF-8 (with or without a byte-order mark), or UTF-16 with one."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise PackError(
                [PackProblem(file, None, "", "file is not valid UTF-16 text")]
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise PackError(
            [PackProblem(file, line, "", "file is not valid UTF-8 text (save it as UTF-8)")]
        ) from None


def guess_language(texts: list[str]) -> str:
    """``it`` when the questions use more common Italian words than English ones, else ``en``."""
    counts = dict.fromkeys(_WORDS, 0)
    for text in texts:
        for word in _WORD_RE.findall(text.casefold()):
            for language, words in _WORDS.items():
                if word in words:
                    counts[language] += 1
    return "it" if counts["it"] > counts["en"] else "en"


def pack_id_from(filename: str) -> str:
    """A pack id from a file name: ``Quiz d'estate.gift`` -> ``quiz-d-estate``."""
    stem = PurePath(filename).stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_stem.lower()).strip("-")[:64].strip("-")
    return slug or "imported-pack"


def title_from(filename: str) -> str:
    """A pack title from a file name: ``office_quiz-2024.csv`` -> ``Office quiz 2024``."""
    words = re.sub(r"[_\-.]+", " ", PurePath(filename).stem).split()
    title = " ".join(words)[:120].strip()
    return title[:1].upper() + title[1:] if title else "Imported pack"


def finish(
    draft: Draft,
    *,
    pack_id: str | None = None,
    title: str | None = None,
    language: str | None = None,
    skip_unsupported: bool = False,
) -> tuple[dict[str, object], Pack]:
    """The pack's dict (as it would be written in YAML) and the validated ``Pack``.

    Raises ``PackError`` with every problem: what the importer could not read,
    the questions it cannot play (unless ``skip_unsupported``), and what the
    pack validator found, each at the line or cell of its question.
    """
    lang = language or draft.language or guess_language(draft.texts())
    rounds: list[dict[str, object]] = []
    origins: dict[str, Source] = {}
    for draft_round in draft.rounds:
        if not draft_round.riddles:
            continue  # a category with no questions (or only unplayable ones)
        path = f"rounds[{len(rounds)}]"
        origins[path] = draft_round.source
        riddles: list[dict[str, object]] = []
        for riddle in draft_round.riddles:
            origins[f"{path}.riddles[{len(riddles)}]"] = riddle.source
            riddles.append(_riddle_fields(riddle, lang))
        rounds.append(
            {
                "kind": "riddles",
                "title": draft_round.title or DEFAULT_ROUND_TITLE.get(lang, "Questions"),
                "riddles": riddles,
            }
        )
    data: dict[str, object] = {
        "id": pack_id or pack_id_from(draft.file),
        "title": title or draft.title or title_from(draft.file),
        "language": lang,
        "rounds": rounds,
    }
    problems = list(draft.problems)
    if not skip_unsupported:
        problems.extend(draft.unsupported)
    if not rounds and not problems:
        message = (
            "no question in this file can be played as a riddle"
            if draft.unsupported
            else "no questions found in this file"
        )
        problems.append(PackProblem(draft.file, None, "", message))
    pack: Pack | None = None
    if not rounds:
        raise PackError(problems)
    try:
        # The one validator every pack goes through; JSON because it is read
        # fastest (the problems' lines in it are not used: see _moved).
        encoded = json.dumps(data, ensure_ascii=False).encode()
        pack = load_pack_bytes(encoded, "import.json", max_bytes=len(encoded))
    except PackError as e:
        problems.extend(_moved(p, draft.file, origins) for p in e.problems)
    if problems or pack is None:
        raise PackError(sorted(problems, key=lambda p: p.line or 0))
    return data, pack


def _riddle_fields(riddle: DraftRiddle, language: str) -> dict[str, object]:
    fields = dict(riddle.fields)
    if riddle.truth is not None:
        true, false = TRUE_FALSE.get(language, TRUE_FALSE["en"])
        fields["options"] = [true, false]
        fields["answers"] = true if riddle.truth else false
    if riddle.plain_near:
        nudge = DEFAULT_NUDGE.get(language, DEFAULT_NUDGE["en"])
        given = fields.get("near")
        near = list(given) if isinstance(given, list) else []
        near.append({"answers": riddle.plain_near, "nudge": nudge})
        fields["near"] = near
    answers = fields.get("answers")
    if isinstance(answers, list) and len(answers) == 1:
        fields["answers"] = answers[0]  # as an author writes one answer
    # The order a pack author would write them in.
    order = ("text", "options", "answers", "near", "hints", "numbers", "time_limit", "points")
    ordered = {k: fields[k] for k in order if k in fields}
    ordered.update((k, v) for k, v in fields.items() if k not in ordered)
    return ordered


def _moved(problem: PackProblem, file: str, origins: dict[str, Source]) -> PackProblem:
    """A validator's problem, at the line or cell of the question (or round) it is about."""
    source: Source | None = None
    path = problem.field
    while path:
        source = origins.get(path)
        if source is not None:
            break
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    if source is None:
        return PackProblem(file, None, problem.field, problem.message)
    return PackProblem(file, source.line, problem.field, problem.message, cell=source.cell)
