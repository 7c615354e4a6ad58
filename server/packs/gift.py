"""Moodle's GIFT format, read into a pack draft (the mapping is in docs/packs.md).

A GIFT file is a list of questions separated by blank lines::

    // a comment
    $CATEGORY: $course$/top/Geography        -> a new round, "Geography"
    ::Name:: What is the capital of Italy? {=Rome =Roma}             short answer
    Which planet is red? {~Venus#No. =Mars ~Jupiter ####Iron oxide.}  multiple choice
    The sun is a star. {T}                                            true/false
    How many legs has a spider? {#8}  ...{#5:1}  ...{#1..5}           numerical
    Rome is the capital of {=Italy ~France}, since 1871.              missing word

``\\~ \\= \\# \\{ \\} \\: \\\\`` are literal characters and ``\\n`` a line break.
Matching questions (``=a -> b``), essays (``{}``), descriptions (no braces)
and questions with several right options to tick are not riddles: they are
reported as unsupported, with their line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .draft import Draft, DraftRiddle, Source

__all__ = ["MAX_RANGE_NUMBERS", "read_gift"]

# A numerical answer with a tolerance or a range becomes every whole number it
# covers, up to this many; a wider range cannot be listed and is reported.
MAX_RANGE_NUMBERS = 25

# Escaped characters are swapped for private-use ones while the structure is
# read, then put back: so "\=" never starts an answer and "\#" never feedback.
_ESCAPES = {"~": "\ue000", "=": "\ue001", "#": "\ue002", "{": "\ue003", "}": "\ue004"}
_ESCAPES |= {":": "\ue005", "\\": "\ue006"}
_UNESCAPES = {v: k for k, v in _ESCAPES.items()}
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
_UNESCAPE_TABLE = str.maketrans(_UNESCAPES)
_FORMAT_RE = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]*>")
_BREAK_RE = re.compile(r"<br\s*/?>|</p\s*>", re.IGNORECASE)
_WEIGHT_RE = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
_TRUE_FALSE = {"t": True, "true": True, "f": False, "false": False}
_NUMBER = r"-?\d+(?:\.\d+)?"
_RANGE_RE = re.compile(rf"^({_NUMBER})\s*\.\.\s*({_NUMBER})$")
_TOLERANCE_RE = re.compile(rf"^({_NUMBER})(?:\s*:\s*({_NUMBER}))?$")


def read_gift(text: str, draft: Draft) -> None:
    """Read GIFT ``text`` into ``draft``: rounds, riddles and problems."""
    for block in _blocks(text):
        first_line, first = block[0]
        if first.strip().upper().startswith("$CATEGORY:"):
            draft.round(_category_title(first.split(":", 1)[1]), Source(first_line))
            block = block[1:]
            if not block:
                continue
        _question("\n".join(raw for _, raw in block), Source(block[0][0]), draft)


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    """The questions: runs of lines between blank lines, each line with its number.

    A comment line (``//`` first) is left out, and does not end a question.
    """
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("//"):
            continue
        if not stripped:
            if current:
                blocks.append(current)
                current = []
            continue
        current.append((number, raw))
    if current:
        blocks.append(current)
    return blocks


def _category_title(path: str) -> str | None:
    """``$course$/top/Default for X/Geografia`` -> ``Geografia`` ("//" is a slash in a name)."""
    parts = [p.replace("\0", "/").strip() for p in path.replace("//", "\0").split("/")]
    names = [p for p in parts if p and not (p.startswith("$") and p.endswith("$"))]
    if names and names[0].lower() == "top":
        names = names[1:]
    return names[-1] if names else None


def _escape(text: str) -> str:
    def swap(m: re.Match[str]) -> str:
        ch = m.group(1)
        if ch == "n":
            return "\n"
        return _ESCAPES.get(ch, "\\" + ch)

    return _ESCAPE_RE.sub(swap, text)


def _plain(text: str, is_html: bool) -> str:
    """Escapes put back (without their backslash); HTML made plain text."""
    text = text.translate(_UNESCAPE_TABLE)
    if is_html and ("<" in text or "&" in text):
        text = html.unescape(_TAG_RE.sub("", _BREAK_RE.sub("\n", text)))
    if "\n" not in text and "  " not in text and "\t" not in text:
        return text.strip()
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


@dataclass(slots=True)
class _Answer:
    right: bool  # "=" or a weight of 100%
    weight: float | None  # the %...% weight, when given
    text: str  # plain text
    feedback: str  # plain text; "" when none


def _question(raw: str, source: Source, draft: Draft) -> None:
    text = _escape(raw).strip()
    if text.startswith("::"):
        end = text.find("::", 2)
        if end < 0:
            draft.error(source, 'question name not closed: "::Name::" needs its second "::"')
            return
        text = text[end + 2 :].strip()
    fmt = _FORMAT_RE.match(text)
    # Moodle's default format ([moodle]) allows HTML too; [plain] and [markdown] do not.
    is_html = not fmt or fmt.group(1).lower() in ("html", "moodle")
    if fmt:
        text = text[fmt.end() :]
    opening = text.find("{")
    if opening < 0:
        if "}" in text:
            draft.error(source, 'an answer block closes with "}" but never opens with "{"')
        else:
            draft.cannot_play(
                source, "description (text with no answers): there is nothing to answer"
            )
        return
    closing = text.find("}", opening)
    if closing < 0:
        draft.error(source, 'answer block not closed: "{" has no matching "}"')
        return
    if "{" in text[opening + 1 : closing] or "{" in text[closing:]:
        draft.error(source, 'only one answer block {...} per question (write "\\{" for a brace)')
        return
    before, inner, after = text[:opening], text[opening + 1 : closing], text[closing + 1 :]
    if "}" in after:
        draft.error(source, 'a "}" with no "{" before it (write "\\}" for a brace)')
        return
    question = _plain(before, is_html)
    rest = _plain(after, is_html)
    if rest:  # missing word: the blank goes where the answers were
        space = "" if rest[0] in ",.;:!?)»" else " "
        question = f"{question} _____{space}{rest}".strip()
    if not question:
        draft.error(source, "the question has no text")
        return
    body, general = _split_general_feedback(inner)
    explanation = _plain(general, is_html)
    stripped = body.strip()
    if not stripped:
        draft.cannot_play(source, "essay question ({}): a riddle needs an answer to check")
        return
    fields: dict[str, object] = {"text": question}
    if stripped.startswith("#"):
        riddle = _numerical(stripped[1:], fields, source, draft)
    elif stripped.split("#", 1)[0].strip().lower() in _TRUE_FALSE:
        riddle = _true_false(stripped, fields, source, is_html)
    else:
        riddle = _choices(stripped, fields, source, draft, is_html)
    if riddle is None:
        return
    if explanation:
        riddle.fields["explanation"] = explanation
    draft.add(riddle)


def _split_general_feedback(inner: str) -> tuple[str, str]:
    at = inner.find("####")
    return (inner, "") if at < 0 else (inner[:at], inner[at + 4 :])


def _answers(body: str, is_html: bool) -> tuple[str, list[_Answer]]:
    """What comes before the first answer, and the answers (``=`` or ``~`` each)."""
    starts = [i for i, ch in enumerate(body) if ch in "=~"]
    if not starts:
        return body, []
    answers: list[_Answer] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(body)
        chunk = body[start + 1 : end]
        weight: float | None = None
        m = _WEIGHT_RE.match(chunk.strip())
        if m:
            weight = float(m.group(1))
            chunk = chunk.strip()[m.end() :]
        text, _, feedback = chunk.partition("#")
        right = (body[start] == "=" and (weight is None or weight >= 100)) or (
            weight is not None and weight >= 100
        )
        answers.append(_Answer(right, weight, _plain(text, is_html), _plain(feedback, is_html)))
    return body[: starts[0]], answers


def _choices(
    body: str, fields: dict[str, object], source: Source, draft: Draft, is_html: bool
) -> DraftRiddle | None:
    lead, answers = _answers(body, is_html)
    if "->" in body:
        draft.cannot_play(source, "matching question (a -> b): a riddle has one answer to find")
        return None
    if lead.strip():
        draft.error(
            source, f'"{_plain(lead, is_html)}" before the first answer: start each with = or ~'
        )
        return None
    if not answers:
        draft.error(source, "no answers in the answer block")
        return None
    for answer in answers:
        if not answer.text:
            draft.error(source, "an empty answer (= or ~ with no text after it)")
            return None
    if "~" in body:  # multiple choice; only "=" is a short answer
        right = [a for a in answers if a.right]
        if not right:
            if any(a.weight is not None and a.weight > 0 for a in answers):
                draft.cannot_play(
                    source,
                    "multiple-answer question (several options to tick, ~%50%): "
                    "a riddle takes one option",
                )
            else:
                draft.error(source, "no right answer: mark it with = (or ~%100%)")
            return None
        fields["options"] = [a.text for a in answers]
        fields["answers"] = [a.text for a in right]
        riddle = DraftRiddle(source, fields)
        if right[0].feedback:
            fields["explanation"] = right[0].feedback
        return riddle
    accepted = [a for a in answers if a.right]
    if not accepted:
        draft.error(source, "no fully right answer: give one with = and no %weight%")
        return None
    fields["answers"] = [a.text for a in accepted]
    riddle = DraftRiddle(source, fields)
    _near_answers(answers, riddle)
    if accepted[0].feedback:
        fields["explanation"] = accepted[0].feedback
    return riddle


def _near_answers(answers: list[_Answer], riddle: DraftRiddle) -> None:
    """Partly right answers (``=%50%``), and wrong ones with feedback, become near answers.

    Their feedback is the nudge; neighbours with the same nudge share one near answer.
    """
    groups: list[dict[str, object]] = []
    for answer in answers:
        if answer.right:
            continue
        text, nudge = answer.text, answer.feedback
        partial = answer.weight is not None and answer.weight > 0
        if not nudge:
            if partial:
                riddle.plain_near.append(text)
            continue  # wrong and silent: like any other wrong guess
        if groups and groups[-1]["nudge"] == nudge:
            group_answers = groups[-1]["answers"]
            assert isinstance(group_answers, list)
            group_answers.append(text)
        else:
            groups.append({"answers": [text], "nudge": nudge})
    if groups:
        riddle.fields["near"] = groups


def _true_false(body: str, fields: dict[str, object], source: Source, is_html: bool) -> DraftRiddle:
    value, *feedback = body.split("#")
    riddle = DraftRiddle(source, fields, truth=_TRUE_FALSE[value.strip().lower()])
    # {T#if wrong#if right}: the second is what a right answer is told.
    if len(feedback) >= 2 and _plain(feedback[1], is_html):
        fields["explanation"] = _plain(feedback[1], is_html)
    return riddle


def _numerical(
    body: str, fields: dict[str, object], source: Source, draft: Draft
) -> DraftRiddle | None:
    if not body.strip():
        draft.error(source, "numerical question with no number after #")
        return None
    parsed: list[tuple[bool, list[str], str]] = []  # (right, numbers, feedback)
    if body.lstrip()[:1] in ("=", "~"):  # several answers: {#=27 =%50%28#Close.}
        lead, answers = _answers(body, False)
        if lead.strip():
            draft.error(source, f'"{_plain(lead, False)}" before the first numerical answer')
            return None
        items = [(a.right, a.weight, a.text, a.feedback) for a in answers]
    else:
        value, _, feedback = body.partition("#")
        items = [(True, None, value, feedback)]
    for right, weight, text, feedback in items:
        numbers = _numbers(_plain(text, False), source, draft)
        if numbers is None:
            return None
        if right or (weight is not None and weight > 0):
            parsed.append((right, numbers, _plain(feedback, False)))
    accepted: list[str] = []
    for right, numbers, _ in parsed:
        if right:
            accepted.extend(n for n in numbers if n not in accepted)
    if not accepted:
        draft.error(source, "no fully right number: give one with = and no %weight%")
        return None
    fields["answers"] = accepted
    fields["numbers"] = True
    riddle = DraftRiddle(source, fields)
    taken = set(accepted)  # a number is an answer or a near answer, never both
    near: list[dict[str, object]] = []
    for right, numbers, feedback in parsed:
        extra = [n for n in numbers if n not in taken]
        if right or not extra:
            continue
        taken.update(extra)
        if feedback:
            near.append({"answers": extra, "nudge": feedback})
        else:
            riddle.plain_near.extend(extra)
    if near:
        fields["near"] = near
    right_feedback = next((f for right, _, f in parsed if right and f), "")
    if right_feedback:
        fields["explanation"] = right_feedback
    return riddle


def _numbers(spec: str, source: Source, draft: Draft) -> list[str] | None:
    """The answers a numerical spec stands for: ``8``, ``5:1`` (4 to 6), ``1..5``.

    A whole-number range becomes each whole number in it, the middle one first
    (shown at the reveal); a decimal value keeps just that value, as a riddle
    cannot accept "anything within 0.01" (docs/packs.md says so).
    """
    spec = spec.strip()
    ranged = _RANGE_RE.match(spec)
    try:
        if ranged:
            low, high = Decimal(ranged.group(1)), Decimal(ranged.group(2))
            if low > high:
                low, high = high, low
            middle = (low + high) / 2
        else:
            m = _TOLERANCE_RE.match(spec)
            if m is None:
                draft.error(source, f'"{spec}" is not a number (write 8, 5:1 or 1..5)')
                return None
            middle = Decimal(m.group(1))
            tolerance = abs(Decimal(m.group(2))) if m.group(2) else Decimal(0)
            low, high = middle - tolerance, middle + tolerance
    except InvalidOperation:
        draft.error(source, f'"{spec}" is not a number (write 8, 5:1 or 1..5)')
        return None
    if low == high or not all(d == d.to_integral_value() for d in (low, high, middle)):
        return [_number_text(middle)]
    count = int(high - low) + 1
    if count > MAX_RANGE_NUMBERS:
        draft.error(
            source,
            f'"{spec}" covers {count} whole numbers; a riddle can accept at most '
            f"{MAX_RANGE_NUMBERS} (list the answers with = instead)",
        )
        return None
    values = [int(low) + i for i in range(count)]
    values.sort(key=lambda v: (abs(v - middle), v))
    return [str(v) for v in values]


def _number_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")
