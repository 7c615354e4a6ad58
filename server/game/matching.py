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

Typo tolerance accepts a guess a few edits away from an answer only when the
guess does not spell a different word: no word of the guess may be a common
word of the language (server/game/words/, made by scripts/gen_words.py) that
the answer does not have, nor, in Italian, another gender or number of one of
the answer's words ("gatta", "gatti" for "gatto"). Such a guess is near
instead. docs/packs.md lists every rule with examples.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from num2words import num2words  # type: ignore[import-untyped]
from rapidfuzz.distance import OSA

from .pack import Riddle, TypoTolerance

__all__ = [
    "RiddleMatcher",
    "Verdict",
    "VerdictKind",
    "common_words",
    "fold_words",
    "matcher_for",
    "max_edits",
    "normalize",
    "spells_another_word",
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

# Thousands separators, per language: a group of 1-3 digits (not starting with
# 0) followed by groups of exactly 3 digits, each after the separator. The other
# mark is the decimal one and is left alone ("1,000.5" in English, "1.000,5" in
# Italian); a number already next to a separator or a word character is not a
# grouped number ("1,0000", "A1,000" stay as they are).
_GROUPED: dict[str, re.Pattern[str]] = {
    "en": re.compile(r"(?<![\w,])[1-9]\d{0,2}(?:,\d{3})+(?![\w]|,\d)"),
    "it": re.compile(r"(?<![\w.])[1-9]\d{0,2}(?:\.\d{3})+(?![\w]|\.\d)"),
}
_SEPARATOR = {"en": ",", "it": "."}

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


def _ungroup(text: str, language: str) -> str:
    """Drop the language's thousands separators: "1,000" (en), "1.000" (it) -> "1000"."""
    pattern = _GROUPED.get(language)
    if pattern is None or not any(ch.isdigit() for ch in text):
        return text
    separator = _SEPARATOR[language]
    return pattern.sub(lambda m: m.group().replace(separator, ""), text)


def fold_words(text: str, language: str) -> list[str]:
    """The words of ``text`` as :func:`normalize` folds them, articles and numbers kept."""
    return _fold(text, _language_code(language)).split()


_WORDS_DIR = Path(__file__).with_name("words")


@functools.cache
def common_words(language: str) -> frozenset[str]:
    """The common words of ``language``, folded (empty for a language without a list).

    Read once per process, on first use, from server/game/words/<language>.txt
    (generated by scripts/gen_words.py; lines starting with "#" are its header).
    """
    path = _WORDS_DIR / f"{_language_code(language)}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return frozenset()
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


_IT_VOWELS = "aeiou"


def _italian_stem(word: str) -> tuple[str, str]:
    """Stem and ending of an Italian word: "gatto" -> ("gatt", "o"), "amiche" -> ("amic", "e")."""
    stem = word.rstrip(_IT_VOWELS)
    ending = word[len(stem) :]
    if ending and stem.endswith(("ch", "gh")):
        stem = stem[:-1]  # amica/amiche, lago/laghi
    return stem, ending


def _other_italian_form(word: str, answer_word: str) -> bool:
    """``word`` is another gender or number of ``answer_word``: "gatta", "gatti" for "gatto".

    Both must end in vowels on the same stem, with different vowels: "temp" (a
    dropped letter) and "tempoo" (a doubled one) are typos of "tempo", "tempi"
    is its plural.
    """
    stem, ending = _italian_stem(word)
    if not ending or len(stem) < 2:
        return False
    other_stem, other_ending = _italian_stem(answer_word)
    return bool(other_ending) and stem == other_stem and set(ending) != set(other_ending)


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
    whitespace collapsed. Thousands separators go first: "1,000" in English,
    "1.000" in Italian -> "1000" (the other mark, a decimal one, is a word
    boundary like any punctuation: "3.14" and "3,14" are both "3 14"). One
    leading article ("the", "a", "an"; "il", "lo",
    "la", "i", "gli", "le", "l'", "un", "una", "uno", "un'") is removed, unless
    it is the whole text or the next word is also an article.

    With ``numbers``, digits become ASCII digits and number words from 0 to
    1000 become digits ("twenty-one", "twenty one", "ventitré" -> "21"/"23").
    Number words come from num2words for the language; a language num2words
    does not know only gets its digits unified.

    The result is idempotent: ``normalize(normalize(x, l), l) == normalize(x, l)``.
    """
    lang = _language_code(language)
    tokens = _fold(_ungroup(text, lang), lang).split()
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
# A typo of an accepted answer that spells another word: close, but not it.
_NEAR_WORD = Verdict("near")


@dataclass(frozen=True, slots=True)
class _Target:
    key: str
    digits: str  # typo matches never change digits: "1066" is not "1067"
    edits: int
    verdict: Verdict
    words: tuple[str, ...]  # the normalised answer's words


def _digits_of(key: str) -> str:
    return "".join(ch for ch in key if ch.isdecimal())


def _typo_candidates(key: str, digits: str, targets: Sequence[_Target]) -> list[_Target]:
    """Targets within their typo budget of ``key``, closest first (then in order)."""
    found: list[tuple[int, int, _Target]] = []
    for index, target in enumerate(targets):
        if target.digits != digits or abs(len(target.key) - len(key)) > target.edits:
            continue
        distance = OSA.distance(key, target.key, score_cutoff=target.edits)
        if distance <= target.edits:
            found.append((distance, index, target))
    found.sort(key=lambda f: (f[0], f[1]))
    return [target for _, _, target in found]


def spells_another_word(
    guess_words: Sequence[str], answer_words: Sequence[str], language: str
) -> bool:
    """Whether a guess within the typo budget of an answer is a different word instead.

    True when one of the guess's words is not one of the answer's words and is
    a common word of ``language`` ("house" for "horse"), or, in Italian,
    another gender or number of one of the answer's words ("nonna" for
    "nonno", "ragazzi" for "ragazzo"). Words of one character and words with
    digits are never judged, and when the guess has more words than the answer
    a word that is part of an answer word is not either: "sun flowr" splits
    "sunflower", it does not change it.
    """
    lang = _language_code(language)
    answer_set = set(answer_words)
    split = len(guess_words) > len(answer_words)
    common: frozenset[str] | None = None
    english = {f for a in answer_words for f in _english_forms(a)} if lang == "en" else set()
    for word in guess_words:
        if word in answer_set or len(word) < 2 or not word.isalpha():
            continue
        if english and not english.isdisjoint(_english_forms(word)):
            continue  # "colour" for "color", "horses" for "horse": the same word
        if split and any(word in answer_word for answer_word in answer_words):
            continue
        if common is None:
            common = common_words(lang)
        if word in common:
            return True
        if lang == "it" and any(_other_italian_form(word, a) for a in answer_words):
            return True
    return False


# British and American endings of one word, folded to one spelling.
_ENGLISH_ENDINGS = (
    ("isation", "ization"),
    ("isations", "izations"),
    ("ise", "ize"),
    ("ised", "ized"),
    ("ising", "izing"),
    ("yse", "yze"),
    ("ogue", "og"),
    ("ence", "ense"),
    ("ium", "um"),
    ("tre", "ter"),
    ("bre", "ber"),
)


def _english_forms(word: str) -> set[str]:
    """An English word's spelling folded to American, with and without a plural ending.

    Only for telling whether a guess's word is one of the answer's words
    written otherwise (``colour``, ``theatre``, ``organisation``, ``horses``):
    crude on purpose, since it errs towards "the same word", which is how
    typo tolerance judged before common words were looked at.
    """
    for british, american in _ENGLISH_ENDINGS:
        if word.endswith(british):
            word = word[: -len(british)] + american
            break
    word = word.replace("our", "or").replace("ll", "l")
    forms = {word}
    if len(word) > 3 and word.endswith("s"):
        forms.add(word[:-1])
        if len(word) > 4 and word.endswith("es"):
            forms.add(word[:-2])
    return forms


class RiddleMatcher:
    """A riddle compiled for checking many guesses quickly.

    Free-text riddles, in order of precedence: a guess equal (after
    normalisation) to an accepted answer is correct; else equal to a near answer
    is near; else within the typo budget of an accepted answer, and not
    spelling another word (:func:`spells_another_word`), is correct (the
    closest one wins); else within the budget of a near answer is near (with
    that answer's nudge); else, if it was within the budget of an accepted
    answer but spelled another word, near with no nudge; else wrong. Answers
    that normalise to nothing are ignored, and a guess that normalises to
    nothing is wrong.

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

        words_of: dict[str, tuple[str, ...]] = {}  # key -> the first such answer's words

        def key_of(text: str) -> str:
            normalized = normalize(text, lang, numbers=numbers)
            key = _compact(normalized)
            words_of.setdefault(key, tuple(normalized.split()))
            return key

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
                    found.append(_Target(key, _digits_of(key), edits, verdict, words_of[key]))
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
        normalized = normalize(guess, self._language, numbers=self._numbers)
        key = _compact(normalized)
        if not key:
            return _WRONG
        verdict = self._exact.get(key)
        if verdict is not None:
            return verdict
        digits = _digits_of(key)
        correct_targets, near_targets = self._typo
        another_word = False
        candidates = _typo_candidates(key, digits, correct_targets)
        if candidates:
            words = normalized.split()
            for target in candidates:
                if not spells_another_word(words, target.words, self._language):
                    return target.verdict
            another_word = True
        near = _typo_candidates(key, digits, near_targets)
        if near:
            return near[0].verdict
        return _NEAR_WORD if another_word else _WRONG


@functools.lru_cache(maxsize=1024)
def matcher_for(riddle: Riddle, language: str) -> RiddleMatcher:
    """Cached :meth:`RiddleMatcher.for_riddle`: compile each riddle once."""
    return RiddleMatcher.for_riddle(riddle, language)
