"""Questions in rows: CSV with documented columns, and Kahoot's quiz spreadsheet (.xlsx).

CSV (docs/packs.md lists the columns): a header row, then one riddle per row.
Cells holding several texts (answers, options, near answers) separate them
with ``|`` (``\\|`` is a literal bar). Whole numbers and true/false are read
as such; anything else is handed to the pack validator as written, which
reports it at the row's line.

Kahoot's template: a header row with "Question", "Answer 1" to "Answer 4",
"Time limit (sec)" and "Correct answer(s)" (found among the first rows of
the first sheet that has it), then one multiple-choice question per row.
Read with openpyxl in read-only mode, after checking the size the archive
unpacks to; at most ``MAX_ROWS`` rows of questions are read, and a question
further down (up to Excel's last row, no further) is reported.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .draft import Draft, DraftRiddle, Source
from .loader import PackError, PackProblem

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet as _Sheet

__all__ = [
    "CSV_COLUMNS",
    "MAX_ROWS",
    "MAX_XLSX_UNPACKED_BYTES",
    "join_cell",
    "read_csv",
    "read_kahoot",
    "split_cell",
]

MAX_ROWS = 5000  # questions per file: far more than a game night, far less than a problem
EXCEL_MAX_ROWS = 1_048_576  # no spreadsheet row is read past Excel's last
MAX_COLUMNS = 64
MAX_XLSX_UNPACKED_BYTES = 32 * 1024 * 1024  # what an .xlsx may unpack to (a zip bomb's bound)
MAX_XLSX_MEMBERS = 2000
HEADER_SEARCH_ROWS = 30  # Kahoot's header row is the 8th of its template; look this far

# The CSV columns; "near N", "nudge N", "hint N", "hint N after", "hint N cost"
# are numbered from 1 ("near" alone is "near 1").
CSV_COLUMNS = (
    "round",
    "question",
    "answers",
    "options",
    "near",
    "nudge",
    "hint",
    "hint after",
    "hint cost",
    "time limit",
    "points",
    "typo tolerance",
    "numbers",
    "explanation",
)
_ALIASES = {"answer": "answers", "option": "options", "text": "question", "riddle": "question"}
_NUMBERED_RE = re.compile(r"^(near|nudge|hint)(?: (\d+))?(?: (after|cost))?$")
_INT_RE = re.compile(r"^-?\d+$")
_BOOLS = {"true": True, "yes": True, "false": False, "no": False, "vero": True, "falso": False}
_BOOLS |= {"sì": True, "si": True}
_SPLIT_RE = re.compile(r"((?:\\.|[^|\\])*)(?:\||$)")


def split_cell(cell: str) -> list[str]:
    """``"Rome | Roma"`` -> ``["Rome", "Roma"]``; ``\\|`` is a bar inside a text."""
    parts: list[str] = []
    for m in _SPLIT_RE.finditer(cell):
        if m.start() == len(cell) and parts:
            break
        part = re.sub(r"\\(.)", r"\1", m.group(1)).strip()
        if part:
            parts.append(part)
    return parts


def join_cell(texts: Sequence[str]) -> str:
    """The cell ``split_cell`` reads back as ``texts``."""
    return " | ".join(t.replace("\\", "\\\\").replace("|", "\\|") for t in texts)


def _column_name(header: str) -> str:
    return " ".join(re.sub(r"[_\-]+", " ", header).split()).casefold()


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Rows with the line each starts on (a quoted cell may hold line breaks)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for row in reader:
        yield start, row
        start = reader.line_num + 1


def read_csv(text: str, draft: Draft) -> None:
    """Read CSV ``text`` into ``draft`` (one riddle a row, after the header)."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    records = _records(text, _sniff_delimiter(first_line))
    try:
        header: list[str] | None = None
        header_line = 1
        for line, row in records:
            if any(cell.strip() for cell in row):
                header, header_line = row, line
                break
        if header is None:
            return
        columns = _csv_columns(header, header_line, draft)
        if columns is None:
            return
        count = 0
        for line, row in records:
            if not any(cell.strip() for cell in row):
                continue
            count += 1
            if count > MAX_ROWS:
                draft.error(Source(line), f"more than {MAX_ROWS} questions in one file")
                return
            _csv_row(row, columns, Source(line), draft)
    except csv.Error as e:
        raise PackError([PackProblem(draft.file, None, "", f"CSV syntax error: {e}")]) from None


def _csv_columns(header: list[str], line: int, draft: Draft) -> list[str | None] | None:
    """Each column's meaning ("answers", "hint 2 after"...), None for an empty header."""
    names: list[str | None] = []
    known = [*CSV_COLUMNS, *_ALIASES]
    seen: set[str] = set()
    ok = True
    for raw in header[:MAX_COLUMNS]:
        name = _column_name(raw)
        if not name:
            names.append(None)
            continue
        name = _ALIASES.get(name, name)
        numbered = _NUMBERED_RE.match(name)
        if numbered:
            kind, number, part = numbered.groups()
            if part and kind != "hint":
                numbered = None
            else:
                name = f"{kind} {number or 1}" + (f" {part}" if part else "")
        if numbered is None and name not in CSV_COLUMNS:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            draft.error(Source(line), f'unknown column "{raw.strip()}"{hint}')
            ok = False
        if name in seen:
            draft.error(Source(line), f'column "{raw.strip()}" is given twice')
            ok = False
        seen.add(name)
        names.append(name)
    if "question" not in seen:
        draft.error(Source(line), 'the header row needs a "question" column')
        ok = False
    return names if ok else None


def _value(cell: str) -> object:
    """A whole number or true/false as such; any other text as written (the validator judges)."""
    if _INT_RE.match(cell):
        return int(cell)
    return _BOOLS.get(cell.casefold(), cell)


def _csv_row(row: list[str], columns: list[str | None], source: Source, draft: Draft) -> None:
    cells = {name: cell.strip() for name, cell in zip(columns, row, strict=False) if name}
    if len(row) > len(columns) and any(c.strip() for c in row[len(columns) :]):
        draft.error(source, f"{len(row)} cells, but the header has {len(columns)} columns")
        return
    fields: dict[str, object] = {"text": cells.get("question", "")}
    for name, key in (("options", "options"), ("answers", "answers")):
        if cells.get(name):
            fields[key] = split_cell(cells[name])
    near: list[dict[str, object]] = []
    hints: list[dict[str, object]] = []
    for number in range(1, MAX_COLUMNS + 1):
        answers, nudge = cells.get(f"near {number}", ""), cells.get(f"nudge {number}", "")
        if answers or nudge:
            near.append({"answers": split_cell(answers), "nudge": nudge})
        hint = cells.get(f"hint {number}", "")
        after, cost = cells.get(f"hint {number} after", ""), cells.get(f"hint {number} cost", "")
        if hint or after or cost:
            entry: dict[str, object] = {"text": hint}
            if after:
                entry["after"] = _value(after)
            if cost:
                entry["cost"] = _value(cost)
            hints.append(entry)
    if near:
        fields["near"] = near
    if hints:
        fields["hints"] = hints
    for name in ("time limit", "points", "typo tolerance", "numbers"):
        if cells.get(name):
            fields[name.replace(" ", "_")] = _value(cells[name])
    if cells.get("explanation"):
        fields["explanation"] = cells["explanation"]
    if cells.get("round"):
        draft.round(cells["round"], source)
    draft.add(DraftRiddle(source, fields))


# --- Kahoot's quiz spreadsheet ------------------------------------------------------


def check_xlsx(data: bytes, file: str) -> None:
    """Refuse an archive that is not a zip, has too many members, or unpacks too large.

    The sizes come from the archive's directory; zipfile stops reading a member
    at its stated size, so they bound what openpyxl can unpack.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise PackError(
            [PackProblem(file, None, "", "not a valid .xlsx file (it is not a zip archive)")]
        ) from None
    if len(members) > MAX_XLSX_MEMBERS:
        raise PackError(
            [PackProblem(file, None, "", f"the .xlsx holds {len(members)} files, too many")]
        )
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise PackError(
            [
                PackProblem(
                    file,
                    None,
                    "",
                    f"the .xlsx unpacks to {unpacked} bytes, more than the "
                    f"{MAX_XLSX_UNPACKED_BYTES} bytes a quiz spreadsheet may",
                )
            ]
        )


def read_kahoot(data: bytes, draft: Draft) -> None:
    """Read Kahoot's quiz template (.xlsx bytes) into ``draft``."""
    check_xlsx(data, draft.file)
    import openpyxl  # imported here: only spreadsheets need it

    try:
        with warnings.catch_warnings():
            # "Workbook contains no default style", unknown extensions...: about
            # formatting, which is not read, from files other tools wrote.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise PackError(
            [PackProblem(draft.file, None, "", f"cannot read the spreadsheet: {e}")]
        ) from None
    try:
        for sheet in book.worksheets[:20]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                found = _kahoot_header(sheet)
                if found is None:
                    continue
                header_row, columns = found
                _kahoot_rows(sheet, header_row, columns, draft)
            return
        raise PackError(
            [
                PackProblem(
                    draft.file,
                    None,
                    "",
                    'no Kahoot header row found (cells "Question", "Answer 1", "Answer 2", '
                    '"Time limit" and "Correct answer(s)" in one row)',
                )
            ]
        )
    except (PackError, MemoryError, RecursionError):
        raise
    except Exception as e:  # noqa: BLE001 - a damaged sheet fails when its rows are read
        raise PackError(
            [PackProblem(draft.file, None, "", f"cannot read the spreadsheet: {e}")]
        ) from None
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


@dataclass(frozen=True, slots=True)
class _KahootColumns:
    """Which column (1-based) holds what, in a Kahoot sheet."""

    question: int
    answers: tuple[int, ...]
    correct: int
    time: int | None

    @property
    def last(self) -> int:
        return max(self.question, self.correct, self.time or 0, *self.answers)


def _kahoot_header(sheet: _Sheet) -> tuple[int, _KahootColumns] | None:
    """The header row's number and its columns, or None when the sheet has none."""
    rows = sheet.iter_rows(
        min_row=1, max_row=HEADER_SEARCH_ROWS, max_col=MAX_COLUMNS, values_only=True
    )
    for number, row in enumerate(rows, start=1):
        found: dict[str, int] = {}
        answers: dict[int, int] = {}
        for col, value in enumerate(row, start=1):
            text = _cell_text(value).casefold()
            if not text:
                continue
            if text.startswith("correct") or "corrett" in text:
                found.setdefault("correct", col)
            elif text.startswith(("question", "domanda")):
                found.setdefault("question", col)
            elif text.startswith(("time limit", "limite di tempo", "tempo")):
                found.setdefault("time", col)
            elif m := re.match(r"^(?:answer|risposta)\s*(\d)", text):
                answers.setdefault(int(m.group(1)), col)
        if "question" in found and "correct" in found and len(answers) >= 2:
            columns = _KahootColumns(
                question=found["question"],
                answers=tuple(answers[k] for k in sorted(answers)),
                correct=found["correct"],
                time=found.get("time"),
            )
            return number, columns
    return None


def _kahoot_rows(sheet: _Sheet, header_row: int, columns: _KahootColumns, draft: Draft) -> None:
    from openpyxl.utils import get_column_letter

    def cell(col: int, row: int) -> str:
        return f"{sheet.title}!{get_column_letter(col)}{row}"

    last = header_row + MAX_ROWS  # the last row that may hold a question
    # Read to Excel's last row whatever the sheet's dimension says (it may be
    # missing, or wrong): the rows past ``last`` are only looked at, to report
    # one that is not empty, and a row numbered past Excel's last is never read.
    rows = sheet.iter_rows(
        min_row=header_row + 1, max_row=EXCEL_MAX_ROWS, max_col=columns.last, values_only=True
    )
    for number, row in enumerate(rows, start=header_row + 1):
        if number > last:
            if any(v is not None and str(v).strip() for v in row):
                draft.error(
                    Source(number, cell(columns.question, number)),
                    f"a question past row {last}: a spreadsheet may hold {MAX_ROWS} rows "
                    "of questions after its header",
                )
                return
            continue
        values = [_cell_text(v) for v in row] + [""] * columns.last
        question = values[columns.question - 1]
        filled = [
            (i, values[col - 1])
            for i, col in enumerate(columns.answers, start=1)
            if values[col - 1]
        ]
        if not question and not filled:
            continue
        source = Source(number, cell(columns.question, number))
        if not question:
            draft.error(source, "answers with no question")
            continue
        correct_text = values[columns.correct - 1]
        at_correct = Source(number, cell(columns.correct, number))
        if not correct_text:
            draft.error(at_correct, "no correct answer: give its number (1 to 4, or 1,3)")
            continue
        parts = [p for p in re.split(r"[,;\s]+", correct_text) if p]
        if not all(p.isdigit() for p in parts):
            draft.error(at_correct, f'"{correct_text}" is not answer numbers (1 to 4, or 1,3)')
            continue
        texts = dict(filled)
        picks = [int(p) for p in parts]
        unknown = [p for p in picks if p not in texts]
        if unknown:
            draft.error(
                at_correct,
                f"correct answer {unknown[0]} is not one of the filled answers "
                f"({', '.join(str(i) for i in texts)})",
            )
            continue
        fields: dict[str, object] = {
            "text": question,
            "options": [text for _, text in filled],
            "answers": [texts[p] for p in picks],
        }
        seconds = values[columns.time - 1] if columns.time is not None else ""
        if seconds and columns.time is not None:
            if not seconds.isdigit():
                draft.error(
                    Source(number, cell(columns.time, number)),
                    f'time limit "{seconds}" is not a whole number of seconds',
                )
                continue
            fields["time_limit"] = int(seconds)
        draft.add(DraftRiddle(source, fields))
