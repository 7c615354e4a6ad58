"""Open Trivia DB's JSON (what its API returns, or a saved copy of it).

``{"response_code": 0, "results": [{"type": "multiple", "difficulty": "easy",
"category": "...", "question": "...", "correct_answer": "...",
"incorrect_answers": [...]}]}``, texts in HTML entities (the API's default
encoding). ``multiple`` becomes a multiple-choice riddle, its options in
alphabetical order (the right one is not always first); ``boolean`` a
true/false riddle. Each category is a round, in the order they first appear;
difficulty sets the points (easy 100, medium 150, hard 200).
"""

from __future__ import annotations

import html
import json

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .draft import Draft, DraftRiddle, DraftRound, Source
from .loader import PackError, PackProblem, _json_with_lines

__all__ = ["looks_like_opentdb", "read_opentdb"]

POINTS = {"easy": 100, "medium": 150, "hard": 200}
_RESPONSE_CODES = {
    1: "no results (the API had too few questions for the request)",
    2: "invalid parameter in the request",
    3: "session token not found",
    4: "session token has returned every question",
    5: "rate limit exceeded",
}


def looks_like_opentdb(text: str) -> bool:
    """True for JSON with Open Trivia DB's fields (a pack has none of them)."""
    head = text[:4096]
    return '"response_code"' in head or (
        '"correct_answer"' in text and ('"results"' in head or '"incorrect_answers"' in head)
    )


def read_opentdb(text: str, draft: Draft) -> None:
    """Read Open Trivia DB JSON ``text`` into ``draft``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise PackError(
            [PackProblem(draft.file, e.lineno, "", f"JSON syntax error: {e.msg}")]
        ) from None
    except (RecursionError, ValueError) as e:
        raise PackError([PackProblem(draft.file, None, "", f"invalid JSON: {e}")]) from None
    root = _json_with_lines(text, draft.file)  # the same data, with each value's line
    items: list[Node]
    if isinstance(root, SequenceNode):
        items = list(root.value)
    elif isinstance(root, MappingNode):
        code = data.get("response_code") if isinstance(data, dict) else None
        if isinstance(code, int) and code != 0:
            message = _RESPONSE_CODES.get(code, "an error")
            draft.error(Source(1), f"response_code {code}: {message}")
            return
        results = _get(root, "results")
        if not isinstance(results, SequenceNode):
            draft.error(Source(_line(root)), 'expected a "results" list of questions')
            return
        items = list(results.value)
    else:
        draft.error(Source(1), 'expected an object with "results", or a list of questions')
        return
    for item in items:
        _question(item, draft)


def _line(node: Node) -> int:
    return node.start_mark.line + 1 if node.start_mark is not None else 1


def _get(node: MappingNode, name: str) -> Node | None:
    pairs: list[tuple[Node, Node]] = node.value
    for key, value in pairs:
        if isinstance(key, ScalarNode) and key.value == name:
            return value
    return None


def _text(node: MappingNode, name: str) -> str | None:
    value = _get(node, name)
    if isinstance(value, ScalarNode) and value.tag.endswith(":str"):
        return html.unescape(str(value.value)).strip()
    return None


def _question(node: Node, draft: Draft) -> None:
    source = Source(_line(node))
    if not isinstance(node, MappingNode):
        draft.error(source, "a question must be an object")
        return
    kind = _text(node, "type")
    question = _text(node, "question")
    correct = _text(node, "correct_answer")
    if kind not in ("multiple", "boolean"):
        if kind is None:
            draft.error(source, 'question has no "type" ("multiple" or "boolean")')
        else:
            draft.cannot_play(
                source,
                f'question type "{kind}": only "multiple" and "boolean" are read '
                "(with the API's default encoding)",
            )
        return
    missing = [
        name for name, value in (("question", question), ("correct_answer", correct)) if not value
    ]
    if missing:
        draft.error(source, "question has no " + " or ".join(f'"{m}"' for m in missing))
        return
    assert question is not None and correct is not None
    fields: dict[str, object] = {"text": question}
    points = POINTS.get(_text(node, "difficulty") or "")
    if points is not None:
        fields["points"] = points
    category = _text(node, "category") or None
    if kind == "boolean":
        if correct.lower() not in ("true", "false"):
            draft.error(
                source, f'a boolean question\'s answer must be True or False, not "{correct}"'
            )
            return
        riddle = DraftRiddle(source, fields, truth=correct.lower() == "true")
    else:
        wrong_node = _get(node, "incorrect_answers")
        if not isinstance(wrong_node, SequenceNode) or not all(
            isinstance(n, ScalarNode) for n in wrong_node.value
        ):
            draft.error(source, 'question has no "incorrect_answers" list')
            return
        wrong = [html.unescape(str(n.value)).strip() for n in wrong_node.value]
        fields["options"] = sorted([correct, *wrong], key=str.casefold)
        fields["answers"] = correct
        riddle = DraftRiddle(source, fields)
    _round_for(category, source, draft).riddles.append(riddle)


def _round_for(category: str | None, source: Source, draft: Draft) -> DraftRound:
    for existing in draft.rounds:
        if existing.title == category:
            return existing
    return draft.round(category, source)
