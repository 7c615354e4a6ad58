"""The puzzle pack as the game sees it: plain, already validated data.

Loading and validating a pack file (YAML or JSON, with file:line:field errors)
lives in ``ritrovo.packs``; this module only describes what a valid pack is.
Every field here has a documented meaning in docs/packs.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Visibility = Literal["full", "chain"]
TypoTolerance = int | Literal["auto"]


@dataclass(frozen=True, slots=True)
class Hint:
    text: str
    after: int  # seconds after the riddle starts when the hint can be opened
    cost: int  # points taken from the team's score for this riddle if opened


@dataclass(frozen=True, slots=True)
class NearAnswer:
    answers: tuple[str, ...]
    nudge: str  # shown to the team that guessed one of these


@dataclass(frozen=True, slots=True)
class Riddle:
    text: str
    answers: tuple[str, ...]  # accepted answers; the first one is shown at the reveal
    time_limit: int  # seconds
    points: int
    near: tuple[NearAnswer, ...] = ()
    hints: tuple[Hint, ...] = ()
    options: tuple[str, ...] = ()  # multiple choice when non-empty; an answer is one of them
    typo_tolerance: TypoTolerance = "auto"  # max edits, or "auto" by answer length
    numbers: bool = False  # "12" and "twelve" / "dodici" match each other
    explanation: str = ""


@dataclass(frozen=True, slots=True)
class RiddleRound:
    title: str
    riddles: tuple[Riddle, ...]
    kind: Literal["riddles"] = "riddles"


@dataclass(frozen=True, slots=True)
class StoryPrompt:
    opening: str  # the story's first line, written by the pack
    must_include: tuple[str, ...] = ()  # optional constraint: words the story should use
    theme: str = ""  # optional genre or theme


@dataclass(frozen=True, slots=True)
class StoryRound:
    title: str
    prompts: tuple[StoryPrompt, ...]  # team i writes from prompts[i % len(prompts)]
    turns_per_player: int = 2
    seconds_per_turn: int = 60
    max_chars: int = 160
    visibility: Visibility = "full"
    vote_seconds: int = 0  # 0: voting stays open until the host closes it
    kind: Literal["story"] = "story"


@dataclass(frozen=True, slots=True)
class WhosWhoRound:
    """A "Who's who" round (``whoswho.py``): players answer ``prompts`` privately,
    then each kept answer is a riddle, "Who wrote: ...?", answered with a person."""

    title: str
    prompts: tuple[str, ...]  # a player answers one to ``max_answers`` of these, or skips
    max_answers: int = 3
    questions: int = 10  # at most this many answers are played
    time_limit: int = 45  # seconds per question
    points: int = 100  # as a riddle's points: speed and the first right team earn more
    kind: Literal["whoswho"] = "whoswho"


Round = RiddleRound | StoryRound | WhosWhoRound


@dataclass(frozen=True, slots=True)
class Pack:
    id: str
    title: str
    language: str  # "en", "it", ... : drives articles and number words in answer matching
    rounds: tuple[Round, ...]
    description: str = ""
    author: str = ""
    # Coffee pairing's conversation prompts (``coffee.py``); none: the built-in ones.
    conversation_prompts: tuple[str, ...] = ()

    def summary(self) -> dict[str, object]:
        """Public, answer-free description used by pack listings."""
        return {
            "id": self.id,
            "title": self.title,
            "language": self.language,
            "description": self.description,
            "author": self.author,
            "rounds": [
                {
                    "kind": r.kind,
                    "title": r.title,
                    "items": len(r.riddles) if isinstance(r, RiddleRound) else len(r.prompts),
                }
                for r in self.rounds
            ],
        }
