"""The pack editor writes YAML in the browser (web/js/editor/yaml.js): PyYAML reads it back.

Whatever an author types stays the text they typed ("no", "12", "a: b", "*x",
quotes, backslashes, line breaks, control characters, emoji), and every
shipped pack, written by the editor, loads as the same pack.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from ritrovo.packs import PackLibrary, default_pack_dir, load_pack_bytes
from ritrovo.packs.source import pack_source

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")

WEB_YAML = Path(__file__).resolve().parents[2] / "web" / "js" / "editor" / "yaml.js"
NODE_WRITE = """
import { readFileSync } from "node:fs";
import { toYaml } from %s;
const packs = JSON.parse(readFileSync(0, "utf8"));
console.log(JSON.stringify(packs.map((pack) => toYaml(pack))));
"""

NASTY = [
    "",
    "no",
    "yes",
    "null",
    "~",
    "12",
    "3.10",
    "0x1F",
    "1e3",
    "a: b",
    "- item",
    "*alias",
    "&anchor",
    "!tag",
    "#comment",
    "key # not a comment",
    "'single'",
    '"double"',
    "back\\slash",
    "\\n is not a line break",
    "two\nlines",
    "tab\there",
    "  leading and trailing  ",
    "bell\x07 and nul\x00",
    "\x7f\x85\x9f",
    "line\u2028separator\u2029",
    "\ufeffbom",
    "emoji 🎲🧩",
    "perché l'acqua è così?",
    "{braces} [brackets]",
    "%percent",
    "@at `backtick`",
    "---",
    "...",
]


def write_yaml(packs: list[Any]) -> list[str]:
    script = NODE_WRITE % json.dumps(WEB_YAML.as_uri())
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        input=orjson.dumps(packs),
        capture_output=True,
        timeout=30,
        check=True,
    )
    texts: list[str] = orjson.loads(done.stdout)
    return texts


def random_text(rng: random.Random) -> str:
    alphabet = "ab :#-*&!'\"\\\n\t{}[],%@`|>?~\x00\x1f\x7f\x85\u2028\ufeffé🎲"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))


def test_texts_come_back_as_typed() -> None:
    rng = random.Random(14)
    texts = NASTY + [random_text(rng) for _ in range(400)]
    data: dict[str, Any] = {
        "texts": texts,
        "nested": {"list": [{"a": t, "b": [t, 1, True]} for t in NASTY[:5]], "empty": []},
        "numbers": [0, -3, 3600],
        "flags": [True, False],
        "odd key: #1": "value",
        "empty": {},
    }
    (written,) = write_yaml([data])
    assert yaml.safe_load(written) == data


def test_every_shipped_pack_written_by_the_editor_loads_as_itself() -> None:
    library = PackLibrary(default_pack_dir(), log_errors=False)
    packs = list(library)
    for pack, text in zip(packs, write_yaml([pack_source(p) for p in packs]), strict=True):
        assert text.startswith("# Written with Ritrovo's pack editor.\n")
        assert load_pack_bytes(text.encode(), f"{pack.id}.yaml") == pack, pack.id
