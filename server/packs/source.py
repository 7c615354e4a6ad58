"""A pack as the editor edits it: the fields of docs/packs.md, as an author writes them.

``pack_source`` turns a validated ``Pack`` back into the mapping a pack file
holds (the pack editor's "open"): JSON-ready, every riddle with its own
settings where they differ from the documented defaults, so it validates
again to the same pack. ``trial_pack`` wraps one riddle being edited in a
pack of its own, for the "try an answer" box: the riddle is checked by the
same validator, then judged by the game's matcher.
"""

from __future__ import annotations

import orjson

from ..game.pack import Pack, Riddle, RiddleRound, StoryRound, WhosWhoRound
from .loader import DEFAULT_NUMBERS, DEFAULT_POINTS, DEFAULT_TIME_LIMIT, PackProblem

__all__ = ["TRIAL_RIDDLE", "pack_source", "trial_field", "trial_pack"]

# Where the riddle of a trial pack sits, and the name its problems are given instead.
TRIAL_RIDDLE = "rounds[0].riddles[0]"


def pack_source(pack: Pack) -> dict[str, object]:
    """The pack as a pack file would write it (``id``, ``title``, ... ``rounds``)."""
    data: dict[str, object] = {"id": pack.id, "title": pack.title, "language": pack.language}
    if pack.description:
        data["description"] = pack.description
    if pack.author:
        data["author"] = pack.author
    if pack.conversation_prompts:
        data["conversation_prompts"] = list(pack.conversation_prompts)
    rounds: list[dict[str, object]] = []
    for round_ in pack.rounds:
        if isinstance(round_, RiddleRound):
            rounds.append(
                {
                    "kind": "riddles",
                    "title": round_.title,
                    "riddles": [_riddle_source(r) for r in round_.riddles],
                }
            )
        elif isinstance(round_, WhosWhoRound):
            rounds.append(_whoswho_source(round_))
        else:
            rounds.append(_story_source(round_))
    data["rounds"] = rounds
    return data


def _riddle_source(riddle: Riddle) -> dict[str, object]:
    data: dict[str, object] = {"text": riddle.text}
    if riddle.options:
        data["options"] = list(riddle.options)
    data["answers"] = list(riddle.answers)
    if riddle.near:
        data["near"] = [{"answers": list(n.answers), "nudge": n.nudge} for n in riddle.near]
    if riddle.hints:
        data["hints"] = [{"text": h.text, "after": h.after, "cost": h.cost} for h in riddle.hints]
    # A loaded riddle carries the pack's defaults resolved: only what differs
    # from the documented defaults is written, as an author would.
    if riddle.time_limit != DEFAULT_TIME_LIMIT:
        data["time_limit"] = riddle.time_limit
    if riddle.points != DEFAULT_POINTS:
        data["points"] = riddle.points
    if riddle.typo_tolerance != "auto":
        data["typo_tolerance"] = riddle.typo_tolerance
    if riddle.numbers != DEFAULT_NUMBERS:
        data["numbers"] = riddle.numbers
    if riddle.explanation:
        data["explanation"] = riddle.explanation
    return data


def _story_source(round_: StoryRound) -> dict[str, object]:
    prompts: list[dict[str, object]] = []
    for prompt in round_.prompts:
        item: dict[str, object] = {"opening": prompt.opening}
        if prompt.must_include:
            item["must_include"] = list(prompt.must_include)
        if prompt.theme:
            item["theme"] = prompt.theme
        prompts.append(item)
    return {
        "kind": "story",
        "title": round_.title,
        "prompts": prompts,
        "turns_per_player": round_.turns_per_player,
        "seconds_per_turn": round_.seconds_per_turn,
        "max_chars": round_.max_chars,
        "visibility": round_.visibility,
        "vote_seconds": round_.vote_seconds,
    }


def _whoswho_source(round_: WhosWhoRound) -> dict[str, object]:
    return {
        "kind": "whoswho",
        "title": round_.title,
        "prompts": list(round_.prompts),
        "max_answers": round_.max_answers,
        "questions": round_.questions,
        "time_limit": round_.time_limit,
        "points": round_.points,
    }


def trial_pack(language: object, defaults: object, riddle: object) -> bytes:
    """A pack of one round of one riddle, as JSON for the validator.

    ``language``, ``defaults`` and ``riddle`` are the editor's, unchecked: the
    validator reports what is wrong with them (``trial_field`` names it).
    """
    data: dict[str, object] = {"id": "trial", "title": "Trial", "language": language}
    if defaults is not None:
        data["defaults"] = defaults
    data["rounds"] = [{"kind": "riddles", "title": "Trial", "riddles": [riddle]}]
    return orjson.dumps(data)


def trial_field(problem: PackProblem) -> dict[str, object]:
    """A problem of a trial pack, named as the editor's request named its parts."""
    field = problem.field
    if field == TRIAL_RIDDLE or field.startswith((TRIAL_RIDDLE + ".", TRIAL_RIDDLE + "[")):
        field = "riddle" + field[len(TRIAL_RIDDLE) :]
    elif field.startswith("rounds"):
        field = "riddle"
    return {"field": field, "message": problem.message}
