"""A pack's ``conversation_prompts`` (coffee pairing): read, checked, written back by the editor."""

from __future__ import annotations

import pytest
from ritrovo.packs import PackError, load_pack_bytes
from ritrovo.packs.source import pack_source
from ritrovo.store.codec import decode_pack, encode_pack

BASE = """\
id: prompts
title: Prompts
language: en
rounds:
  - kind: story
    title: Tales
    prompts:
      - opening: Once upon a time.
"""


def problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(PackError) as info:
        load_pack_bytes(text.encode(), "pack.yaml")
    return [(p.field, p.message) for p in info.value.problems]


def test_prompts_are_a_text_or_a_list_of_texts() -> None:
    assert load_pack_bytes(BASE.encode(), "p.yaml").conversation_prompts == ()
    one = load_pack_bytes((BASE + "conversation_prompts: Where next?\n").encode(), "p.yaml")
    assert one.conversation_prompts == ("Where next?",)
    many = BASE + "conversation_prompts:\n  - Where next?\n  - Why?\n"
    pack = load_pack_bytes(many.encode(), "p.yaml")
    assert pack.conversation_prompts == ("Where next?", "Why?")
    # As the editor writes it back, and as the store keeps an uploaded pack.
    assert pack_source(pack)["conversation_prompts"] == ["Where next?", "Why?"]
    assert decode_pack(encode_pack(pack)) == pack


def test_bad_prompts_are_refused_with_their_place() -> None:
    assert problems(BASE + "conversation_prompts:\n  - Why?\n  - Why?\n") == [
        ("conversation_prompts[1]", "duplicate prompt (same as conversation_prompts[0])")
    ]
    assert problems(BASE + "conversation_prompts:\n  - ''\n") == [
        ("conversation_prompts[0]", "must not be empty")
    ]
    long = "x" * 301
    assert problems(BASE + f"conversation_prompts:\n  - {long}\n") == [
        ("conversation_prompts[0]", "at most 300 characters, got 301")
    ]
    many = "".join(f"  - Prompt {n}?\n" for n in range(101))
    assert problems(BASE + "conversation_prompts:\n" + many) == [
        ("conversation_prompts", "at most 100 prompts, got 101")
    ]
