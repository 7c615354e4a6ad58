"""The wire contract has one source: the enums in ritrovo.protocol.

The web client's generated constants and docs/protocol.md's tables must say
the same as the code, or an independent client written from the docs breaks.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ritrovo import protocol, wire_js
from ritrovo.errors import BadRequest, ErrorCode

DOCS = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def _section(title: str) -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_generated_web_constants_are_current() -> None:
    assert wire_js.TARGET.read_text(encoding="utf-8") == wire_js.render(), (
        "web/js/protocol.js is out of date: run python -m ritrovo.wire_js"
    )


def test_generated_file_holds_every_code() -> None:
    text = wire_js.render()
    for code in ErrorCode:
        assert f'{code.name}: "{code.value}",' in text
    for close in protocol.CloseCode:
        assert f"{close.name}: {close.value}," in text


def test_docs_error_table_matches_the_codes() -> None:
    documented: set[str] = set()
    for line in _section("Error codes").splitlines():
        first_cell = re.match(r"^\| ((?:`[a-z_]+`(?:, )?)+) \|", line)
        if first_cell:
            documented.update(re.findall(r"`([a-z_]+)`", first_cell.group(1)))
    assert documented == {code.value for code in ErrorCode}


def test_docs_close_table_matches_the_codes() -> None:
    documented = {
        int(n) for n in re.findall(r"^\| (\d{4}) \|", _section("Close codes"), re.MULTILINE)
    }
    # 1009 is aiohttp's own (frame over the hard limit), documented for clients.
    assert documented - {1009} == {int(c) for c in protocol.CloseCode}


def test_an_unknown_error_code_is_refused_where_it_is_raised() -> None:
    # Plain strings, as an untyped caller would pass them (mypy refuses both).
    with pytest.raises(ValueError):
        BadRequest("typo", code="no_such_code")  # type: ignore[arg-type]
    fine = BadRequest("fine", code="invalid_json")  # type: ignore[arg-type]
    assert fine.code is ErrorCode.INVALID_JSON
