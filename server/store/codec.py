"""JSON encoding of rooms and packs for the stores.

orjson writes dataclasses directly; msgspec rebuilds them with type checks, so
a corrupted or foreign blob fails loudly instead of producing a half room.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from ..game.models import Room
from ..game.pack import Pack, RiddleRound, Round, StoryRound, WhosWhoRound


def encode_room(room: Room) -> bytes:
    return orjson.dumps(room)


def decode_room(data: bytes) -> Room:
    return msgspec.json.decode(data, type=Room)


def encode_pack(pack: Pack) -> bytes:
    return orjson.dumps(pack)


def decode_pack(data: bytes) -> Pack:
    raw: dict[str, Any] = orjson.loads(data)
    # Rounds are a union of dataclasses told apart by "kind"; msgspec needs
    # that spelled out for dataclasses, so convert each round by its kind.
    rounds: list[Round] = []
    for item in raw.pop("rounds"):
        if item.get("kind") == "riddles":
            rounds.append(msgspec.convert(item, type=RiddleRound))
        elif item.get("kind") == "whoswho":
            rounds.append(msgspec.convert(item, type=WhosWhoRound))
        else:
            rounds.append(msgspec.convert(item, type=StoryRound))
    prompts = tuple(msgspec.convert(raw.pop("conversation_prompts", []), type=list[str]))
    return Pack(
        **msgspec.convert(raw, type=dict[str, Any]),
        rounds=tuple(rounds),
        conversation_prompts=prompts,
    )
