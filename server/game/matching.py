"""Answer matching: deciding whether a team's guess is correct, near or wrong.

Everything here is pure (no I/O) and deterministic. The pipeline is:

1. :func:`normalize` turns a text into a canonical form for a language: NFKC,
   case folding, accents removed, apostrophes and punctuation turned into word
   boundaries, whitespace collapsed, one leading article removed and, when
   asked, number words turned into digits ("twenty-one", "ventuno" -> "21").
2. :class:`RiddleMatcher` compiles a :class:`~ritrovo.game.pack.Riddle` once
   (normalised answers, near answers, options, typo budgets) so that checking
   the thousands of guesses of a game is cheap.

Matching compares normalised texts with the spaces removed, except spaces
between two digits: "ice cream", "ice-cream" and "icecream" are the same
guess, while "1 5" (from "1/5") is not "15".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from num2words import num2words  # type: ignore[import-untyped]
from rapidfuzz.distance import OSA

from .pack import Riddle, TypoTolerance

__all__ = [
    "RiddleMatcher",
    "Verdict",
    "VerdictKind",
    "matcher_for",
    "max_edits",
    "normalize",
]

VerdictKind = Literal["correct", "near", "wrong"]

# Typed apostrophes come in many shapes; they are unified before NFKC because
# NFKC turns U+00B4 (acute accent) into a space plus a combining mark.
_APOSTROPHES = "'\u2019\u2018\u201b`\u00b4\u02bc\u2032\uff07"
_APOSTROPHE_TO_QUOTE = str.maketrans({c: "'" for c in _APOSTROPHES})

_ARTICLES: dict[str, frozenset[str]] = {
    "en": frozenset({"the", "a", "an"}),
    # "l" and "un" also cover the elided "l'" and "un'" (apostrophes split words).
    "it": frozenset({"il", "lo", "la", "i", "gli", "le", "l", "un", "una", "uno"}),
}

# Languages where an apostrophe joins a word ("don't" -> "dont") rather than
# marking an elision that separates two words ("l'acqua" -> "l acqua").
_APOSTROPHE_JOINS = frozenset({"en"})

_ASCII_NON_WORD = re.compile(r"[^0-9a-z]+")
_SPACE_NOT_BETWEEN_DIGITS = re.compile(r" (?!\d)|(?<!\d) ")

_NUMBER_MAX = 1000
# Folding is iterated to a fixed point; Unicode needs at most a couple of rounds
# (casefold and NFKD can each expose work for the other), this is a safety cap.
_FOLD_ROUNDS = 6


def _language_code(language: str) -> str:
    """Primary subtag, lower case: "it-IT" and "IT_it" are both "it"."""
    return language.strip().lower().replace("_", "-").split("-", 1)[0]


def _fold_once(text: str, joins: bool) -> str:
    text = text.translate(_APOSTROPHE_TO_QUOTE)
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKD", text)
    out: list[str] = []
    for ch in text:
        if ch.isalnum():
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category in ("Mn", "Me"):
            continue  # accents and other non-spacing marks
        if category == "Mc":
            out.append(ch)  # spacing marks are part of words in their scripts
        elif ch in _APOSTROPHES and joins:
            continue
        else:
            out.append(" ")
    return "".join(out)


def _fold(text: str, language: str) -> str:
    """Characters only: fold case, compatibility forms and accents; every run of
    non-word characters becomes a space. Not yet collapsed."""
    joins = language in _APOSTROPHE_JOINS
    if text.isascii():
        # ASCII is already NFKC/NFKD with no marks and casefold == lower there.
        text = text.lower()
        if joins:
            text = text.replace("'", "").replace("`", "")
        return _ASCII_NON_WORD.sub(" ", text)
    for _ in range(_FOLD_ROUNDS):
        folded = _fold_once(text, joins)
        if folded == text:
            break
        text = folded
    return text


def _strip_article(tokens: list[str], articles: frozenset[str]) -> list[str]:
    # Only one article goes, and not when the next word is an article too: that
    # keeps normalize idempotent ("the a team" would otherwise lose one article
    # per call) and keeps answers such as "A" or "Il" intact.
    if len(tokens) >= 2 and tokens[0] in articles and tokens[1] not in articles:
        return tokens[1:]
    return tokens


@dataclass(frozen=True, slots=True)
class _NumberWords:
    table: dict[tuple[str, ...], str]
    longest: int  # longest key, in words


@functools.cache
def _number_words(language: str) -> _NumberWords:
    """Number words of ``language`` (0..1000) as token tuples -> digits."""
    table: dict[tuple[str, ...], str] = {}
    for n in range(_NUMBER_MAX + 1):
        try:
            spelled = num2words(n, lang=language)
        except Exception:  # noqa: BLE001 - unknown languages raise various errors
            return _NumberWords({}, 0)
        words = _fold(str(spelled), language).split()
        if not words or any(ch.isdecimal() for w in words for ch in w):
            continue
        variants = [tuple(words)]
        if language == "en" and "and" in words:
            variants.append(tuple(w for w in words if w != "and"))  # "one hundred one"
        if len(words) > 1:
            variants.append(("".join(words),))  # "twentyone"
        digits = str(n)
        for variant in variants:
            if variant:
                table.setdefault(variant, digits)
    return _NumberWords(table, max((len(k) for k in table), default=0))


def _convert_numbers(tokens: list[str], language: str) -> list[str]:
    """Digits to ASCII digits and number words to digits, greedy longest match."""
    words = _number_words(language)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.isdecimal():
            out.append(token if token.isascii() else _ascii_digits(token))
            i += 1
            continue
        for span in range(min(words.longest, len(tokens) - i), 0, -1):
            digits = words.table.get(tuple(tokens[i : i + span]))
            if digits is not None:
                out.append(digits)
                i += span
                break
        else:
            out.append(token)
            i += 1
    return out


def _ascii_digits(token: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in token)


def normalize(text: str, language: str, *, numbers: bool = False) -> str:
    """Canonical form of ``text`` for comparing answers in ``language``.

    NFKC, case folding, accents removed, apostrophes of every kind unified (in
    English they join words, "don't" -> "dont"; elsewhere they separate them,
    "l'acqua" -> "l acqua"), punctuation and symbols turned into spaces,
    whitespace collapsed. One leading article ("the", "a", "an"; "il", "lo",
    "la", "i", "gli", "le", "l'", "un", "una", "uno", "un'") is removed, unless
    it is the whole text or the next word is also an article.

    With ``numbers``, digits become ASCII digits and number words from 0 to
    1000 become digits ("twenty-one", "twenty one", "ventitré" -> "21"/"23").
    Number words come from num2words for the language; a language num2words
    does not know only gets its digits unified.

    The result is idempotent: ``normalize(normalize(x, l), l) == normalize(x, l)``.
    """
    lang = _language_code(language)
    tokens = _fold(text, lang).split()
    articles = _ARTICLES.get(lang, frozenset())
    tokens = _strip_article(tokens, articles)
    if numbers:
        tokens = _convert_numbers(tokens, lang)
        # Italian "uno" is both article and number: "il uno" keeps "il" above
        # because "uno" looked like an article, but after conversion it is "1"
        # and a second normalize would strip "il"; strip it now instead.
        tokens = _strip_article(tokens, articles)
    return " ".join(tokens)


def _compact(normalized: str) -> str:
    """Comparison key: spaces dropped, except between two digits."""
    return _SPACE_NOT_BETWEEN_DIGITS.sub("", normalized)


def max_edits(tolerance: TypoTolerance, answer_key: str) -> int:
    """Edits (OSA: insert, delete, substitute, swap neighbours) allowed for an answer.

    ``answer_key`` is the compared form of the answer (normalised, spaces
    removed). ``"auto"`` allows 0 edits up to 4 characters, 1 up to 8, 2 beyond.
    An explicit number is capped at one less than the answer's length so that a
    guess always has to share something with the answer.
    """
    length = len(answer_key)
    if tolerance == "auto":
        if length <= 4:
            return 0
        return 1 if length <= 8 else 2
    return max(0, min(int(tolerance), length - 1))


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of one guess."""

    kind: VerdictKind
    nudge: str = ""  # for near
    matched: str = ""  # the accepted answer (original text) matched, for correct


_WRONG = Verdict("wrong")


@dataclass(frozen=True, slots=True)
class _Target:
    key: str
    digits: str  # typo matches never change digits: "1066" is not "1067"
    edits: int
    verdict: Verdict


def _digits_of(key: str) -> str:
    return "".join(ch for ch in key if ch.isdecimal())


def _best_typo(key: str, digits: str, targets: Sequence[_Target]) -> Verdict | None:
    best: Verdict | None = None
    best_distance = 0
    for target in targets:
        if target.digits != digits or abs(len(target.key) - len(key)) > target.edits:
            continue
        distance = OSA.distance(key, target.key, score_cutoff=target.edits)
        if distance <= target.edits and (best is None or distance < best_distance):
            best, best_distance = target.verdict, distance
    return best


class RiddleMatcher:
    """A riddle compiled for checking many guesses quickly.

    Free-text riddles, in order of precedence: a guess equal (after
    normalisation) to an accepted answer is correct; else equal to a near answer
    is near; else within the typo budget of an accepted answer is correct (the
    closest one wins); else within the budget of a near answer is near; else
    wrong. Answers that normalise to nothing are ignored, and a guess that
    normalises to nothing is wrong.

    Multiple-choice riddles (``riddle.options`` non-empty) never use typo
    tolerance. A guess picks an option by its text (normalised equality), or
    else by its 1-based number ("2") or letter ("b" or "B"), in that order, so
    with options ["3", "1", "2"] the guess "2" picks the option "2". The verdict
    is correct if the picked option is an accepted answer, near if it is a near
    answer, wrong otherwise.
    """

    __slots__ = ("_exact", "_language", "_numbers", "_option_keys", "_options", "_typo")

    def __init__(
        self,
        *,
        language: str,
        numbers: bool,
        exact: dict[str, Verdict],
        typo: tuple[tuple[_Target, ...], tuple[_Target, ...]],
        options: tuple[Verdict, ...],
        option_keys: dict[str, int],
    ) -> None:
        """Prefer :meth:`for_riddle`; this takes already compiled tables."""
        self._language = language
        self._numbers = numbers
        self._exact = exact
        self._typo = typo
        self._options = options
        self._option_keys = option_keys

    @classmethod
    def for_riddle(cls, riddle: Riddle, language: str) -> RiddleMatcher:
        """Compile ``riddle`` for guesses written in ``language`` (the pack's)."""
        lang = _language_code(language)
        numbers = riddle.numbers

        def key_of(text: str) -> str:
            return _compact(normalize(text, lang, numbers=numbers))

        correct: dict[str, Verdict] = {}
        for answer in riddle.answers:
            key = key_of(answer)
            if key:
                correct.setdefault(key, Verdict("correct", matched=answer))
        near: dict[str, Verdict] = {}
        for group in riddle.near:
            for answer in group.answers:
                key = key_of(answer)
                if key and key not in correct:
                    near.setdefault(key, Verdict("near", nudge=group.nudge))

        if riddle.options:
            option_keys: dict[str, int] = {}
            verdicts: list[Verdict] = []
            for index, option in enumerate(riddle.options):
                key = key_of(option)
                if key:
                    option_keys.setdefault(key, index)
                verdicts.append(correct.get(key) or near.get(key) or _WRONG)
            return cls(
                language=lang,
                numbers=numbers,
                exact={},
                typo=((), ()),
                options=tuple(verdicts),
                option_keys=option_keys,
            )

        def targets(table: dict[str, Verdict]) -> tuple[_Target, ...]:
            found = []
            for key, verdict in table.items():
                edits = max_edits(riddle.typo_tolerance, key)
                if edits > 0:
                    found.append(_Target(key, _digits_of(key), edits, verdict))
            return tuple(found)

        return cls(
            language=lang,
            numbers=numbers,
            exact={**near, **correct},
            typo=(targets(correct), targets(near)),
            options=(),
            option_keys={},
        )

    def _key(self, guess: str) -> str:
        return _compact(normalize(guess, self._language, numbers=self._numbers))

    def option_index(self, guess: str) -> int | None:
        """0-based index of the option ``guess`` picks, or None.

        Only for multiple choice; always None for free-text riddles. See the
        class docstring for how options are picked.
        """
        if not self._options:
            return None
        key = self._key(guess)
        if not key:
            return None
        index = self._option_keys.get(key)
        if index is not None:
            return index
        count = len(self._options)
        if key.isascii() and key.isdecimal() and len(key) <= 6:
            number = int(key)
            return number - 1 if 1 <= number <= count else None
        if len(key) == 1 and "a" <= key <= "z":
            number = ord(key) - ord("a")
            return number if number < count else None
        return None

    def check(self, guess: str) -> Verdict:
        """Verdict for ``guess``; see the class docstring for the rules."""
        if self._options:
            index = self.option_index(guess)
            return _WRONG if index is None else self._options[index]
        key = self._key(guess)
        if not key:
            return _WRONG
        verdict = self._exact.get(key)
        if verdict is not None:
            return verdict
        digits = _digits_of(key)
        correct_targets, near_targets = self._typo
        return (
            _best_typo(key, digits, correct_targets)
            or _best_typo(key, digits, near_targets)
            or _WRONG
        )


@functools.lru_cache(maxsize=1024)
def matcher_for(riddle: Riddle, language: str) -> RiddleMatcher:
    """Cached :meth:`RiddleMatcher.for_riddle`: compile each riddle once."""
    return RiddleMatcher.for_riddle(riddle, language)
