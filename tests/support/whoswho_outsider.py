"""What an outsider could compute of a "Who's who" draw from public facts alone.

The draw was once seeded by ``crc32(f"{code}:whoswho:{round_index}")``: with
the room's code, the players' ids in join order (public) and how many answered
(public: with ``skipped`` 0 and one answer each, everyone wrote exactly one),
anyone could replay it and know every question's author before its reveal.
The tests check that the draw no longer follows from these facts.
"""

from __future__ import annotations

import random
import zlib


def predicted_authors(code: str, round_index: int, authors: list[str], questions: int) -> list[str]:
    """The authors, in play order, that the room-seeded draw gave when each of ``authors``
    (player ids in join order) wrote one answer."""
    chooser = random.Random(zlib.crc32(f"{code}:whoswho:{round_index}".encode()))
    by_author: list[list[str]] = []
    for author in authors:
        by_author.append([author])  # one answer each: shuffling it drew nothing
    chooser.shuffle(by_author)
    picked = [mine[0] for mine in by_author][:questions]
    chooser.shuffle(picked)
    return picked
