"""What a pack listing shows besides ``Pack.summary()``: the riddle count, the kinds
of round, an estimated duration, and whether the pack is a template to fill in
(``GET /api/packs``, documented in docs/protocol.md)."""

from __future__ import annotations

import re

from ..game.pack import Pack, RiddleRound, WhosWhoRound
from .loader import PackLibrary

__all__ = ["listing", "listing_facts"]

# What the duration estimate assumes.
REVEAL_SECONDS = 15  # per riddle: the reveal and the move to the next one
TEAM_SIZE = 4  # writers per team in a story round
STORY_REVEAL_SECONDS = 60  # reading the stories out, per story round
OPEN_VOTE_SECONDS = 60
WHOSWHO_ANSWER_SECONDS = 120  # players answering a "Who's who" round's prompts  # a vote with no time limit (vote_seconds: 0)

# A template's blanks: {{COMPANY}}, {{ANNO_FONDAZIONE}} (puzzles/company-template-en.yaml).
PLACEHOLDER = re.compile(r"\{\{[^{}\n]+\}\}")


def listing_facts(pack: Pack) -> dict[str, object]:
    """The riddle count, the kinds of round in order of first appearance, an
    estimated duration in minutes, rounded up (at least 1), and ``template``: whether
    a riddle's text or answers or a story's opening has a ``{{PLACEHOLDER}}`` to fill in.

    The estimate plays every riddle to its time limit plus the reveal, and every
    story round with teams of four writers using every turn, then the reveal and
    the vote: an upper bound for a typical session, not a promise.
    """
    seconds = 0
    kinds: list[str] = []
    texts: list[str] = []
    for r in pack.rounds:
        if r.kind not in kinds:
            kinds.append(r.kind)
        if isinstance(r, RiddleRound):
            seconds += sum(q.time_limit + REVEAL_SECONDS for q in r.riddles)
            texts.extend(t for q in r.riddles for t in (q.text, *q.answers))
        elif isinstance(r, WhosWhoRound):
            # Answering the prompts, then every question to its time limit and its reveal.
            seconds += WHOSWHO_ANSWER_SECONDS + r.questions * (r.time_limit + REVEAL_SECONDS)
            texts.extend(r.prompts)
        else:
            seconds += r.turns_per_player * TEAM_SIZE * r.seconds_per_turn
            seconds += STORY_REVEAL_SECONDS + (r.vote_seconds or OPEN_VOTE_SECONDS)
            texts.extend(p.opening for p in r.prompts)
    riddles = sum(len(r.riddles) for r in pack.rounds if isinstance(r, RiddleRound))
    return {
        "riddles": riddles,
        "kinds": kinds,
        "minutes": max(1, -(-seconds // 60)),
        "template": any(PLACEHOLDER.search(text) for text in texts),
    }


def listing(library: PackLibrary) -> list[dict[str, object]]:
    """``library.summaries()``, each with its :func:`listing_facts`, sorted by id."""
    return [{**pack.summary(), **listing_facts(pack)} for pack in library]
