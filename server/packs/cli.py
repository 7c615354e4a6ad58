"""``ritrovo packs ...``: check pack files and list the installed packs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..game.pack import Pack, RiddleRound, StoryRound
from .loader import (
    PackError,
    PackLibrary,
    default_pack_dir,
    is_pack_file,
    load_pack,
)

__all__ = ["build_parser", "packs_command"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``ritrovo packs``."""
    parser = argparse.ArgumentParser(
        prog="ritrovo packs", description="Check puzzle pack files and list installed packs."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    validate = commands.add_parser(
        "validate", help="check pack files and report every problem with its line"
    )
    validate.add_argument(
        "files", nargs="+", metavar="FILE", help="pack files (.yaml, .yml, .json) or folders"
    )
    listing = commands.add_parser("list", help="list the packs in a folder")
    listing.add_argument(
        "--dir",
        type=Path,
        default=None,
        help=f"folder to read (default: {default_pack_dir()})",
    )
    return parser


def packs_command(argv: list[str]) -> int:
    """Run ``ritrovo packs`` with ``argv`` (the arguments after "packs").

    Returns the exit status: 0 when everything is valid, 1 when a pack has
    problems, 2 for a usage error.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits on usage errors and --help
        return e.code if isinstance(e.code, int) else 2
    if args.command == "validate":
        return _validate(args.files)
    return _list(args.dir)


def _validate(targets: Sequence[str]) -> int:
    failed = False
    for path in _expand(targets):
        try:
            pack = load_pack(path)
        except PackError as e:
            failed = True
            for problem in e.problems:
                print(problem)
            continue
        riddles, prompts = _counts(pack)
        print(
            f"OK {path}: {_plural(len(pack.rounds), 'round')}, "
            f"{_plural(riddles, 'riddle')}, {_plural(prompts, 'prompt')}"
        )
    return 1 if failed else 0


def _expand(targets: Sequence[str]) -> list[str]:
    """Files as given; a folder stands for the pack files directly inside it."""
    paths: list[str] = []
    for target in targets:
        folder = Path(target)
        if folder.is_dir():
            paths.extend(
                str(p) for p in sorted(folder.iterdir()) if is_pack_file(p) and p.is_file()
            )
        else:
            paths.append(target)
    return paths


def _list(directory: Path | None) -> int:
    library = PackLibrary(directory, log_errors=False)
    rows = [("ID", "LANG", "TITLE", "ROUNDS")]
    rows += [(p.id, p.language, p.title, str(len(p.rounds))) for p in library]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        print("  ".join(cells) + "  " + row[3])
    if not len(library):
        print(f"(no packs in {library.directory})")
    for problem in library.errors:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if library.errors else 0


def _counts(pack: Pack) -> tuple[int, int]:
    riddles = sum(len(r.riddles) for r in pack.rounds if isinstance(r, RiddleRound))
    prompts = sum(len(r.prompts) for r in pack.rounds if isinstance(r, StoryRound))
    return riddles, prompts


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
