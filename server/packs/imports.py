"""Import packs from the formats facilitators already have (docs/packs.md, "Importing").

``import_pack_bytes`` reads a GIFT, Aiken, Kahoot (.xlsx), Open Trivia DB or
CSV file into the dict a pack author would write and the validated ``Pack``;
``load_upload`` is what an upload goes through: a pack file (YAML or JSON) as
before, or any of these formats, told apart by the file name and content.
Both raise the loader's ``PackError``, so ``ritrovo packs import`` and the
upload endpoint report the same problems, at the same lines (or cells).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

import yaml

from ..game.pack import Pack
from .aiken import looks_like_aiken, read_aiken
from .draft import Draft, decode_text, finish
from .gift import read_gift
from .loader import (
    MAX_PACK_BYTES,
    PACK_SUFFIXES,
    PackError,
    PackProblem,
    _size,
    load_pack_bytes,
)
from .opentdb import looks_like_opentdb, read_opentdb
from .sheets import read_csv, read_kahoot

__all__ = [
    "IMPORT_FORMATS",
    "IMPORT_SUFFIXES",
    "Imported",
    "detect_format",
    "import_pack_bytes",
    "load_upload",
]

IMPORT_FORMATS = ("gift", "aiken", "kahoot", "opentdb", "csv")
FORMAT_NAMES = {
    "gift": "GIFT",
    "aiken": "Aiken",
    "kahoot": "Kahoot spreadsheet",
    "opentdb": "Open Trivia DB JSON",
    "csv": "CSV",
    "pack": "pack",
}
IMPORT_SUFFIXES = (".gift", ".txt", ".csv", ".tsv", ".xlsx", ".json")
_SUFFIX_FORMATS = {".gift": "gift", ".csv": "csv", ".tsv": "csv", ".xlsx": "kahoot"}
_ZIP_MAGIC = b"PK\x03\x04"
_SUPPORTED = (
    "use a pack (.yaml, .yml, .json) or an import: GIFT (.gift, .txt), Aiken (.txt), "
    "Kahoot (.xlsx), Open Trivia DB (.json) or CSV (.csv)"
)


@dataclass(frozen=True, slots=True)
class Imported:
    """An imported file: its format, the pack as written in YAML, and the validated pack."""

    format: str
    data: dict[str, object]
    pack: Pack
    skipped: tuple[PackProblem, ...] = ()  # unplayable questions left out on request

    def yaml(self, source: str = "") -> str:
        """The pack as a YAML file, ready for ``ritrovo packs validate`` and ``puzzles/``."""
        head = f"# Imported from {source} ({FORMAT_NAMES[self.format]}).\n" if source else ""
        body = yaml.safe_dump(self.data, allow_unicode=True, sort_keys=False, width=100)
        return head + body


def detect_format(filename: str, data: bytes) -> str | None:
    """``gift``, ``aiken``, ``kahoot``, ``opentdb``, ``csv``, ``pack`` (YAML or JSON), or None.

    The name decides where it can (``.gift``, ``.csv``, ``.xlsx``, ``.yaml``);
    the content decides for ``.json`` (a pack, or Open Trivia DB), ``.txt``
    (GIFT or Aiken) and unknown names. A zip archive is a spreadsheet whatever
    its name.
    """
    suffix = PurePath(filename).suffix.lower()
    if data.startswith(_ZIP_MAGIC):
        return "kahoot"
    if suffix in _SUFFIX_FORMATS:
        return _SUFFIX_FORMATS[suffix]
    if suffix in (".yaml", ".yml"):
        return "pack"
    head = data[:65536].decode("utf-8", "replace").lstrip("\ufeff")
    if suffix == ".json":
        return "opentdb" if looks_like_opentdb(head) else "pack"
    if head.lstrip().startswith(("{", "[")):
        return "opentdb" if looks_like_opentdb(head) else None
    if looks_like_aiken(head):
        return "aiken"
    if "{" in head and "}" in head:
        return "gift"
    first = next((line for line in head.splitlines() if line.strip()), "").casefold()
    if "question" in first and any(sep in first for sep in ",;\t"):
        return "csv"
    return None


def import_pack_bytes(
    data: bytes,
    filename: str,
    *,
    fmt: str | None = None,
    max_bytes: int = MAX_PACK_BYTES,
    pack_id: str | None = None,
    title: str | None = None,
    language: str | None = None,
    skip_unsupported: bool = False,
) -> Imported:
    """Import a GIFT, Aiken, Kahoot, Open Trivia DB or CSV file (``fmt``, or detected).

    ``filename`` names the problems and gives the pack's default id and title;
    the language is guessed from the questions (English or Italian) unless
    given. Raises ``PackError`` with every problem: malformed questions,
    questions a riddle game cannot play (left out instead, and listed in
    ``skipped``, with ``skip_unsupported``), and what the pack validator finds.
    """
    _check_size(data, filename, max_bytes)
    fmt = fmt or detect_format(filename, data)
    if fmt not in IMPORT_FORMATS:
        message = (
            "this is a pack, not an import: check it with ritrovo packs validate"
            if fmt == "pack"
            else f"cannot tell the format of this file: {_SUPPORTED}"
        )
        raise PackError([PackProblem(filename, None, "", message)])
    draft = Draft(filename, language=language)
    if fmt == "kahoot":
        read_kahoot(data, draft)
    else:
        text = decode_text(data, filename)
        if fmt == "gift":
            read_gift(text, draft)
        elif fmt == "aiken":
            read_aiken(text, draft)
        elif fmt == "opentdb":
            read_opentdb(text, draft)
        else:
            read_csv(text, draft)
    pack_data, pack = finish(
        draft,
        pack_id=pack_id,
        title=title,
        language=language,
        skip_unsupported=skip_unsupported,
    )
    skipped = tuple(draft.unsupported) if skip_unsupported else ()
    return Imported(fmt, pack_data, pack, skipped)


def load_upload(data: bytes, filename: str, *, max_bytes: int = MAX_PACK_BYTES) -> Pack:
    """An uploaded file as a pack: YAML or JSON as written, or imported from another format.

    What the upload endpoint's worker runs; raises ``PackError``.
    """
    _check_size(data, filename, max_bytes)
    fmt = detect_format(filename, data)
    if fmt == "pack":
        return load_pack_bytes(data, filename, max_bytes=max_bytes)
    if fmt is None:
        suffix = PurePath(filename).suffix.lower()
        known = suffix in PACK_SUFFIXES or suffix in IMPORT_SUFFIXES
        message = (
            f"cannot tell the format of this {suffix} file: {_SUPPORTED}"
            if known
            else f"unsupported file type: {_SUPPORTED}"
        )
        raise PackError([PackProblem(filename, None, "", message)])
    return import_pack_bytes(data, filename, fmt=fmt, max_bytes=max_bytes).pack


def _check_size(data: bytes, filename: str, max_bytes: int) -> None:
    if len(data) > max_bytes:
        message = f"file is {len(data)} bytes, more than the {_size(max_bytes)} limit"
        raise PackError([PackProblem(filename, None, "", message)])
