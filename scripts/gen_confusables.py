#!/usr/bin/env python3
"""Generate server/game/confusables.py, the UTS #39 prototype table names are compared by.

    .venv/bin/python scripts/gen_confusables.py CONFUSABLES_TXT --source "where it came from"

CONFUSABLES_TXT is Unicode's security data file ``confusables.txt`` (UTS #39,
https://www.unicode.org/reports/tr39/).  This machine reaches only package
registries, so the committed table was made from the copy that a PyPI wheel
ships; the command that fetched it and the file's SHA-256 are written into the
generated module, and this script refuses a file without a ``# Version:`` line.

The table keeps only what a comparison key can reach.  ``names.comparison_key``
maps a name through NFKC and case folding before it looks a character up, so
an entry whose source NFKC or case folding already changes (fullwidth and
mathematical letters, capitals, ...) can never be looked up; dropping them
halves the table.  That claim is checked here, for every code point, against
the key made with the whole file (on this Python's Unicode data).

Run it again when Unicode publishes a new confusables.txt or when the
project's Python moves to a newer Unicode version; then run
``tests/game/test_names.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "server" / "game" / "confusables.py"
LINE_CHARS = 88  # the hex string's chunks, inside ruff's line length


def parse(text: str) -> tuple[dict[int, tuple[int, ...]], dict[str, str]]:
    """The mappings (source code point -> prototype code points) and the header fields."""
    header: dict[str, str] = {}
    mappings: dict[int, tuple[int, ...]] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            found = re.match(r"#\s*(Version|Date):\s*(.+)$", line)
            if found:
                header.setdefault(found.group(1), found.group(2).strip())
            continue
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        fields = [f.strip() for f in data.split(";")]
        if len(fields) != 3 or fields[2] != "MA":
            raise SystemExit(f"gen_confusables: unexpected line: {line!r}")
        source = int(fields[0], 16)
        if source in mappings:
            raise SystemExit(f"gen_confusables: U+{source:04X} is mapped twice")
        mappings[source] = tuple(int(h, 16) for h in fields[1].split())
    if "Version" not in header:
        raise SystemExit("gen_confusables: no '# Version:' line; is this confusables.txt?")
    return mappings, header


def reachable(source: int) -> bool:
    """Whether a comparison key can look this character up (see the module docstring)."""
    ch = chr(source)
    nfkc = unicodedata.normalize("NFKC", ch)
    # names.Skeleton maps spacing accents (which NFKC splits into a space and
    # a mark) before NFKC
    return nfkc.casefold() == ch or (not ch.isspace() and " " in nfkc)


def check_equivalent(full: dict[int, tuple[int, ...]], kept: dict[int, tuple[int, ...]]) -> None:
    """Every code point gets the same comparison key from the kept table as from the full one."""
    # names.py loads the generated table only on first use, so this works
    # before it exists.
    from ritrovo.game.names import MAX_ROUNDS, Skeleton

    def skeleton(mappings: dict[int, tuple[int, ...]]) -> Skeleton:
        return Skeleton({k: "".join(map(chr, v)) for k, v in mappings.items()})

    whole, small = skeleton(full), skeleton(kept)
    worst = 0
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        text = chr(cp)
        a, rounds = whole.key_and_rounds(text)
        b = small.key(text)
        if a != b:
            raise SystemExit(f"gen_confusables: U+{cp:04X} keys differ: {a!r} != {b!r}")
        worst = max(worst, rounds)
    if worst >= MAX_ROUNDS:
        raise SystemExit(f"gen_confusables: a key took {worst} rounds; raise names.MAX_ROUNDS")
    print(f"gen_confusables: every code point keys alike; at most {worst} rounds")


def render(kept: dict[int, tuple[int, ...]], header: dict[str, str], sha: str, source: str) -> str:
    pairs = ";".join(f"{src:x}:{' '.join(f'{t:x}' for t in kept[src])}" for src in sorted(kept))
    chunks = [pairs[i : i + LINE_CHARS] for i in range(0, len(pairs), LINE_CHARS)]
    body = "\n".join(f'    "{chunk}"' for chunk in chunks)
    about = "\n\n".join(
        textwrap.fill(paragraph, width=LINE_CHARS)
        for paragraph in (
            (
                f"Source: Unicode confusables.txt, version {header['Version']}"
                f" ({header.get('Date', 'no date')}), SHA-256 {sha}: {source}."
            ),
            (
                "Unicode data, copyright Unicode, Inc., used under the Unicode License v3"
                " (https://www.unicode.org/license.txt)."
            ),
            (
                f"Only the {len(kept)} mappings a comparison key can reach are kept (those whose"
                " source NFKC and case folding leave alone, and the spacing accents mapped"
                f" before NFKC, on Python's Unicode {unicodedata.unidata_version}); the"
                " generator checked that every code point gets the same key from them as from"
                " the whole file."
            ),
        )
    )
    return f'''"""UTS #39 confusable prototypes: generated by scripts/gen_confusables.py, do not edit.

{about}
"""

UNICODE_VERSION = "{header["Version"]}"
SOURCE_SHA256 = "{sha}"

# "source:prototype;" pairs, code points in hexadecimal, a space between the
# code points of a prototype of several characters.
PROTOTYPES = (
{body}
)
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("confusables", type=Path, help="path to confusables.txt")
    parser.add_argument(
        "--source", required=True, help="where the file came from (written into the module)"
    )
    args = parser.parse_args()
    raw = args.confusables.read_bytes()
    mappings, header = parse(raw.decode("utf-8-sig"))
    kept = {src: proto for src, proto in mappings.items() if reachable(src)}
    check_equivalent(mappings, kept)
    OUTPUT.write_text(render(kept, header, hashlib.sha256(raw).hexdigest(), args.source))
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(OUTPUT)], check=False)
    print(f"gen_confusables: wrote {OUTPUT.relative_to(ROOT)}: {len(kept)} of {len(mappings)}")


if __name__ == "__main__":
    main()
