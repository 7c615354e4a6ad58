"""``ritrovo packs ...``: check pack files, list the installed packs, import and export."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..game.pack import Pack, RiddleRound, StoryRound
from .exports import to_csv, to_gift
from .imports import FORMAT_NAMES, IMPORT_FORMATS, import_pack_bytes
from .loader import (
    MAX_PACK_BYTES,
    PackError,
    PackLibrary,
    PackProblem,
    default_pack_dir,
    is_pack_file,
    load_pack,
)

__all__ = ["build_parser", "packs_command"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``ritrovo packs``."""
    parser = argparse.ArgumentParser(
        prog="ritrovo packs",
        description="Check puzzle pack files, list installed packs, "
        "import quizzes from other tools and export packs to them.",
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
    importing = commands.add_parser(
        "import",
        help="convert a GIFT, Aiken, Kahoot (.xlsx), Open Trivia DB or CSV file to a YAML pack",
    )
    importing.add_argument("file", metavar="FILE", help="the file to import")
    importing.add_argument(
        "--format",
        choices=IMPORT_FORMATS,
        default=None,
        help="the file's format (default: told from its name and content)",
    )
    importing.add_argument(
        "-o", "--output", type=Path, default=None, help="write the pack here (default: stdout)"
    )
    importing.add_argument("--id", default=None, help="the pack's id (default: from the file name)")
    importing.add_argument("--title", default=None, help="the pack's title")
    importing.add_argument(
        "--language", default=None, help="the pack's language, en or it (default: guessed)"
    )
    importing.add_argument(
        "--skip-unsupported",
        action="store_true",
        help="leave out questions a riddle game cannot play (listed on stderr) "
        "instead of refusing the file",
    )
    exporting = commands.add_parser("export", help="write a pack as GIFT or CSV")
    exporting.add_argument("pack", metavar="PACK", help="a pack file, or the id of a library pack")
    exporting.add_argument("--format", choices=("gift", "csv"), required=True)
    exporting.add_argument(
        "-o", "--output", type=Path, default=None, help="write here (default: stdout)"
    )
    exporting.add_argument(
        "--dir", type=Path, default=None, help="the library folder to find PACK by id in"
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
    if args.command == "import":
        return _import(args)
    if args.command == "export":
        return _export(args)
    return _list(args.dir)


def _import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PACK_BYTES + 1)
    except OSError as e:
        print(
            PackProblem(args.file, None, "", f"cannot read file: {e.strerror or e}"),
            file=sys.stderr,
        )
        return 1
    try:
        imported = import_pack_bytes(
            data,
            args.file,
            fmt=args.format,
            pack_id=args.id,
            title=args.title,
            language=args.language,
            skip_unsupported=args.skip_unsupported,
        )
    except PackError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        return 1
    for problem in imported.skipped:
        print(f"skipped: {problem}", file=sys.stderr)
    text = imported.yaml(path.name)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        riddles, _ = _counts(imported.pack)
        print(
            f"OK {args.file} ({FORMAT_NAMES[imported.format]}) -> {args.output}: "
            f"{_plural(len(imported.pack.rounds), 'round')}, {_plural(riddles, 'riddle')}",
            file=sys.stderr,
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    try:
        if Path(args.pack).is_file() or is_pack_file(args.pack):
            pack = load_pack(args.pack)
        else:
            library = PackLibrary(args.dir, log_errors=False)
            found = library.get(args.pack)
            if found is None:
                print(
                    f"{args.pack}: no such pack file or pack id in {library.directory}",
                    file=sys.stderr,
                )
                return 1
            pack = found
    except PackError as e:
        for problem in e.problems:
            print(problem, file=sys.stderr)
        return 1
    if not any(isinstance(r, RiddleRound) for r in pack.rounds):
        print(
            f"{args.pack}: no riddle round to export (GIFT and CSV have no stories)",
            file=sys.stderr,
        )
        return 1
    text, notes = to_gift(pack) if args.format == "gift" else to_csv(pack)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(text)
    else:
        # newline="" keeps the CSV's own line ends (\r\n, as the csv module writes them).
        with open(args.output, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    return 0


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
