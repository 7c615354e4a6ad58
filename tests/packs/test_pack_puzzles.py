"""The packs shipped in puzzles/ and the examples in docs/packs.md are valid, and every
shipped pack plays over the WebSocket."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ritrovo.client import RitrovoClient, join
from ritrovo.game.pack import Pack, RiddleRound, WhosWhoRound
from ritrovo.packs import PackLibrary, default_pack_dir, is_pack_file, load_pack, load_pack_bytes
from support.protocol_helpers import create_room
from support.servers import running_server
from support.servers import test_settings as fast_settings

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "packs.md"


def _shipped() -> list[Path]:
    folder = default_pack_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if is_pack_file(p) and not p.name.startswith("."))


SHIPPED = _shipped()
NO_PACKS = pytest.mark.skipif(not SHIPPED, reason="puzzles/ has no packs yet")

Outline = list[tuple[str, str, int]]  # per round: kind, title, riddles or prompts


def written_rounds(document: Any) -> Outline:
    """The rounds a pack file holds, read as plain data without the loader."""
    return [
        (r["kind"], r["title"], len(r["riddles"] if r["kind"] == "riddles" else r["prompts"]))
        for r in document["rounds"]
    ]


def loaded_rounds(pack: Pack) -> Outline:
    """The same outline of what the loader made of it: nothing dropped, nothing reordered."""
    return [
        (r.kind, r.title, len(r.riddles) if isinstance(r, RiddleRound) else len(r.prompts))
        for r in pack.rounds
    ]


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.name) for p in SHIPPED]
    or [pytest.param(None, id="none", marks=pytest.mark.skip(reason="puzzles/ has no packs yet"))],
)
def test_shipped_pack_validates(path: Path) -> None:
    pack = load_pack(path, name=path.name)  # raises PackError listing every problem
    assert loaded_rounds(pack) == written_rounds(yaml.safe_load(path.read_bytes()))


@NO_PACKS
def test_shipped_packs_have_distinct_ids() -> None:
    library = PackLibrary(log_errors=False)
    assert [str(p) for p in library.errors] == []
    assert len(library) == len(SHIPPED)


def _doc_examples() -> list[tuple[str, str]]:
    """Fenced yaml/json blocks of docs/packs.md that are whole packs."""
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"^```(yaml|json)\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    return [
        (kind, body)
        for kind, body in blocks
        if re.search(r'^"?rounds"?:|"rounds":', body, re.MULTILINE)
    ]


def test_docs_have_a_yaml_and_a_json_example() -> None:
    assert sorted({kind for kind, _ in _doc_examples()}) == ["json", "yaml"]


@pytest.mark.parametrize("index", range(len(_doc_examples())))
def test_docs_example_is_valid(index: int) -> None:
    kind, body = _doc_examples()[index]
    pack = load_pack_bytes(body.encode(), f"example.{kind}")
    written = json.loads(body) if kind == "json" else yaml.safe_load(body)
    assert loaded_rounds(pack) == written_rounds(written)


def _open_riddle(state: dict[str, Any]) -> bool:
    return state["riddle"] is not None and state["riddle"]["stage"] == "open"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.name) for p in SHIPPED]
    or [pytest.param(None, id="none", marks=pytest.mark.skip(reason="puzzles/ has no packs yet"))],
)
async def test_shipped_pack_plays_over_websocket(path: Path) -> None:
    """A room made with the pack plays its first riddle: a near answer gets its
    nudge and an accepted alternative is right. A pack of stories alone writes
    its first line instead; a pack that starts with a Who's who round answers
    a prompt."""
    pack = load_pack(path, name=path.name)
    async with running_server(fast_settings()) as server:
        room = await create_room(server.base_url, "Shipped pack", pack=pack.id)
        host = await RitrovoClient.connect(server.ws_url)
        await host.hello("host", room=room["code"], token=room["host_token"])
        ada = await join(server.ws_url, room["code"], "Ada")
        try:
            assert (await host.request("next"))["result"] == {"step": "round_started"}
            first = pack.rounds[0]
            if isinstance(first, RiddleRound):
                riddle = first.riddles[0]
                state = await ada.wait_state(_open_riddle)
                assert state["riddle"]["text"] == riddle.text
                if riddle.near and not riddle.options:
                    near = riddle.near[0]
                    result = (await ada.request("guess", text=near.answers[0]))["result"]
                    assert (result["verdict"], result["nudge"]) == ("near", near.nudge)
                result = (await ada.request("guess", text=riddle.answers[-1]))["result"]
                assert result["verdict"] == "correct", (riddle.text, riddle.answers[-1])
                assert result["points"] > 0
            elif isinstance(first, WhosWhoRound):
                # A Who's who round starts by collecting the players' answers.
                await ada.wait_state(
                    lambda s: s["whoswho"] is not None and s["whoswho"]["stage"] == "answering"
                )
                ack = await ada.request(
                    "whoswho_answer", answers=[{"prompt": 0, "text": "Lisbon"}], line=None
                )
                assert ack["result"] == {"answers": 1}
            else:
                # Riddles after a story would need the story played out: keep them first.
                assert not any(isinstance(r, RiddleRound) for r in pack.rounds)
                assert ada.welcome is not None
                me = ada.welcome["player"]["id"]
                await ada.wait_state(
                    lambda s: (
                        s["story"] is not None
                        and any(t["writer"] == me for t in s["story"]["teams"].values())
                    )
                )
                ack = await ada.request("line", text="And then the lights came back on.")
                assert ack["type"] == "ack" and ack["of"] == "line"
        finally:
            for client in (host, ada):
                await client.close()
