"""Names as people read them: the form a name is shown in, and the key names are compared by.

A name is stored and shown in its **display form**: what was typed, in NFC,
trimmed, runs of spaces made one, with the invisible characters that do
nothing where they stand taken out (a zero-width joiner between two Latin
letters, a combining grapheme joiner at the end, a variation selector after a
letter) and the characters that look like a space (U+2800 BRAILLE PATTERN
BLANK, the Hangul fillers) read as one.  Accents, apostrophes and emoji stay as
typed: ``Niccolò``, ``D'Angelo``, ``Zoë``, ``👩‍💻``.  Invisible characters that
do something are kept: a joiner inside an emoji sequence, a joiner or
non-joiner between letters of the scripts they shape (Arabic, Indic, ...).

Two names are the same when their **comparison keys** are: NFKC, case
folding, then the confusable skeleton of Unicode Technical Standard #39
(https://www.unicode.org/reports/tr39/#Confusable_Detection: NFD, default
ignorable code points removed, each character replaced by its prototype in
Unicode's confusables.txt, NFD again), case-folded again because some
prototypes are capitals (``0`` -> ``O``), until nothing changes.  So ``Ada``,
``ADA``, ``Аda`` (Cyrillic A), ``Ａｄａ`` (fullwidth), ``A\\u200dda`` and
``Ada\\u034f`` are one name; ``D'Angelo`` and ``D’Angelo`` are one name; but
``Zoë`` and ``Zoe`` are two, as a reader sees them: the skeleton keeps
diacritics.  TR39 warns that a skeleton is for comparing only, never for
showing, and it is only ever used so here.  Known limit: case folding comes
first (names are compared ignoring case), so ``Ian`` and ``lan``, alike in
many sans-serif fonts, stay two names.

The prototype table is generated from confusables.txt into ``confusables.py``
by ``scripts/gen_confusables.py`` (its docstring says from which file and why
no library is used).

Everything here is pure and deterministic; nothing refuses a name (the lobby
rules in ``rooms.py`` do, with :func:`has_visible`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping

__all__ = [
    "IGNORABLE_CODE_POINTS",
    "Skeleton",
    "comparison_key",
    "display_form",
    "has_visible",
]

ZWJ = "\u200d"
ZWNJ = "\u200c"
CGJ = "\u034f"
VIRAMA = 9  # the canonical combining class of a virama (Indic conjunct control)

# Default_Ignorable_Code_Point, from DerivedCoreProperties.txt (Unicode 15.0;
# the property has been stable since 2008 except for reserved code points).
_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian free variation selectors, vowel separator
    (0x200B, 0x200F),  # zero width space, non-joiner, joiner, LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, bidi isolates, ...
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero width no-break space (BOM)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),  # reserved
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # tags, variation selectors 17-256, reserved
)
IGNORABLE_CODE_POINTS = frozenset(
    cp for low, high in _IGNORABLE_RANGES for cp in range(low, high + 1)
)

# Characters that show as blank space, though Unicode does not call them
# whitespace; read as a space in a name.  The two Hangul jamo fillers are kept
# where they complete an old-Hangul syllable (see _completes_syllable).
_BLANKS = frozenset("\u2800\u3164\uffa0\u115f\u1160")
_VARIATION_SELECTORS = frozenset(
    chr(cp)
    for cp in (*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0), 0x180B, 0x180C, 0x180D, 0x180F)
)
_DROPPED = frozenset("\u17b4\u17b5")  # Khmer inherent vowels: "should not be used", invisible
_CONTEXTUAL = frozenset({ZWJ, ZWNJ, CGJ}) | _VARIATION_SELECTORS | _DROPPED
_SPACES = re.compile(" {2,}")
# Any character display_form looks at one by one (the others are kept as
# they are): blanks, the contextual invisibles, and the spaces (Zs) but U+0020.
_SPECIAL = re.compile(
    "[\u00a0\u034f\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180d\u180f\u2000-\u200a"
    "\u200c\u200d\u202f\u205f\u2800\u3000\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)


def _is_cased(ch: str) -> bool:
    return ch.lower() != ch or ch.upper() != ch


def _shapes(ch: str) -> bool:
    """A letter or mark of a script without case: where joiners change how text is drawn."""
    return unicodedata.category(ch)[0] in "LM" and not _is_cased(ch)


def _emoji_part(ch: str) -> bool:
    """What may stand before a joiner in an emoji sequence (a symbol, skin tone, VS16)."""
    return unicodedata.category(ch) in ("So", "Sk") or ch == "\ufe0f"


def _has_effect(ch: str, before: str, after: str) -> bool:
    """Whether invisible ``ch`` changes what is drawn, between ``before`` and ``after``."""
    if ch in _DROPPED or not before or before == " ":
        return False
    if ch in (ZWJ, ZWNJ):
        if not after:
            return False
        if unicodedata.combining(before) == VIRAMA:
            return True
        if ch == ZWJ and _emoji_part(before) and unicodedata.category(after) == "So":
            return True
        return _shapes(before) and _shapes(after)
    if ch == CGJ:  # keeps the combining marks around it from being reordered
        return bool(after) and unicodedata.category(after)[0] == "M"
    # A variation selector picks a glyph of the character before it: an emoji
    # or text presentation, a CJK ideograph's variant, a Mongolian letter form.
    return not _is_cased(before) and unicodedata.category(before)[0] in "LNPS"


def _completes_syllable(ch: str, before: str, after: str) -> bool:
    """A Hangul choseong filler before a vowel, or a jungseong filler after a consonant."""
    if ch == "\u115f":
        return bool(after) and ("\u1160" <= after <= "\u11a7" or "\ud7b0" <= after <= "\ud7c6")
    if ch == "\u1160":
        return bool(before) and ("\u1100" <= before <= "\u115f" or "\ua960" <= before <= "\ua97c")
    return False


def display_form(text: str) -> str:
    """The name as typed, as it will be shown: see the module docstring. Refuses nothing."""
    text = unicodedata.normalize("NFC", text)
    if not _SPECIAL.search(text):
        return _SPACES.sub(" ", text).strip()
    out: list[str] = []
    for i, ch in enumerate(text):
        before = out[-1] if out else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if ch in _BLANKS:
            if not _completes_syllable(ch, before, after):
                ch = " "
        elif ch in _CONTEXTUAL:
            if not _has_effect(ch, before, after):
                continue
        elif unicodedata.category(ch) == "Zs":
            ch = " "
        out.append(ch)
    return unicodedata.normalize("NFC", _SPACES.sub(" ", "".join(out)).strip())


def has_visible(text: str) -> bool:
    """Whether anything in ``text`` shows: a letter, digit, punctuation or symbol that is not blank."""
    return any(
        unicodedata.category(ch)[0] in "LNPS"
        and ord(ch) not in IGNORABLE_CODE_POINTS
        and ch not in _BLANKS
        for ch in text
    )


MAX_ROUNDS = 4  # scripts/gen_confusables.py checks that every code point needs fewer


class Skeleton:
    """Comparison keys from one prototype table (``source code point -> prototype``)."""

    __slots__ = ("_before_nfkc", "_mapped", "_table")

    def __init__(self, prototypes: Mapping[int, str]) -> None:
        table = {chr(cp): proto for cp, proto in prototypes.items()}
        table.update(dict.fromkeys(map(chr, IGNORABLE_CODE_POINTS), ""))
        self._table = table
        # str.translate looks every character up in a dict; a regular
        # expression finds the few that map (most characters of most names
        # are their own prototype) several times faster.  Its class is kept to
        # the BMP (a bitmap); any character beyond is looked up one by one.
        bmp = _char_class(ord(ch) for ch in table if ord(ch) <= 0xFFFF)
        self._mapped = re.compile(f"{bmp}|[\U00010000-\U0010ffff]")
        # NFKC splits spacing accents into a space and a combining mark
        # (U+00B4 ACUTE ACCENT -> " \u0301"), losing the apostrophe they look
        # like: these go to their prototype first.
        before = {
            cp: proto
            for cp, proto in prototypes.items()
            if not chr(cp).isspace() and " " in unicodedata.normalize("NFKC", chr(cp))
        }
        self._before_nfkc = re.compile(_char_class(before)) if before else None

    def key_and_rounds(self, text: str) -> tuple[str, int]:
        if self._before_nfkc is not None:
            text = self._before_nfkc.sub(self._prototype, text)
        key = unicodedata.normalize("NFKC", text).casefold()
        for rounds in range(1, MAX_ROUNDS + 1):
            mapped = self._mapped.sub(self._prototype, unicodedata.normalize("NFD", key))
            skeleton = unicodedata.normalize("NFD", mapped).casefold()
            if skeleton == key:
                return key, rounds
            key = skeleton
        return key, MAX_ROUNDS

    def key(self, text: str) -> str:
        return self.key_and_rounds(text)[0]

    def _prototype(self, found: re.Match[str]) -> str:
        ch = found.group()
        return self._table.get(ch, ch)


def _char_class(code_points: Iterable[int]) -> str:
    """A regular expression character class of these code points, in ranges."""
    ranges: list[list[int]] = []
    for cp in sorted(code_points):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    members = "".join(
        re.escape(chr(low)) if low == high else f"{re.escape(chr(low))}-{re.escape(chr(high))}"
        for low, high in ranges
    )
    return f"[{members}]"


def parse_prototypes(packed: str) -> dict[int, str]:
    """The generated table's ``"source:prototype;..."`` string (hexadecimal code points)."""
    table: dict[int, str] = {}
    for pair in packed.split(";"):
        source, _, proto = pair.partition(":")
        table[int(source, 16)] = "".join(chr(int(cp, 16)) for cp in proto.split())
    return table


@functools.cache
def _skeleton() -> Skeleton:
    from .confusables import PROTOTYPES  # on first use: see scripts/gen_confusables.py

    return Skeleton(names_prototypes(parse_prototypes(PROTOTYPES)))


def names_prototypes(prototypes: Mapping[int, str]) -> dict[int, str]:
    """UTS #39's prototypes, with the plain ASCII characters of names left as they are.

    The standard maps ``m`` to ``rn``, ``0`` to ``O`` and ``1`` to ``l``: two
    real people called Arnie and Amie (or Burns and Bums) would be one name.
    A name's own ASCII letters and digits keep their identity; characters of
    other scripts and shapes still go to their prototype, written with those
    letters (an m-like character goes to ``m``, not ``rn``), so ``Аrnie``
    with a Cyrillic А is still ``Arnie``.
    """
    return {cp: proto.replace("rn", "m") for cp, proto in prototypes.items() if cp >= 0x80}


@functools.lru_cache(maxsize=4096)
def comparison_key(name: str) -> str:
    """The key two names are the same by: see the module docstring.

    Cached (a room's index is rebuilt from its players' names when it is
    decoded again), bounded so that a stream of new names cannot grow it.
    """
    return _skeleton().key(display_form(name))
