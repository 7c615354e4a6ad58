"""Imports from GIFT, Aiken, Kahoot (.xlsx), Open Trivia DB and CSV (ritrovo.packs.imports).

Real files throughout: the examples of docs/examples/, the broken ones in
tests/packs/imports/, and spreadsheets written with openpyxl into tmp_path.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ritrovo.game.pack import Riddle, RiddleRound
from ritrovo.packs import PackError, load_pack_bytes
from ritrovo.packs.imports import Imported, detect_format, import_pack_bytes, load_upload
from ritrovo.packs.sheets import MAX_ROWS, MAX_XLSX_UNPACKED_BYTES, split_cell

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "docs" / "examples"
BROKEN = HERE / "imports"
KAHOOT_HEADER = [
    "",
    "Question - max 120 characters",
    "Answer 1 - max 75 characters",
    "Answer 2 - max 75 characters",
    "Answer 3 - max 75 characters",
    "Answer 4 - max 75 characters",
    "Time limit (sec) – 5, 10, 20, 30, 60, 90, 120, or 240 secs",
    "Correct answer(s) - choose at least one",
]


def imported(name: str, **options: object) -> Imported:
    path = EXAMPLES / name
    return import_pack_bytes(path.read_bytes(), name, **options)  # type: ignore[arg-type]


def problems(path: Path, **options: object) -> list[str]:
    with pytest.raises(PackError) as info:
        import_pack_bytes(path.read_bytes(), path.name, **options)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def riddles(result: Imported) -> list[Riddle]:
    return [
        r
        for round_ in result.pack.rounds
        if isinstance(round_, RiddleRound)
        for r in round_.riddles
    ]


def kahoot_file(path: Path, rows: list[list[str | int | None]], *, title: str = "Sheet1") -> Path:
    """A spreadsheet laid out as Kahoot's template: notes, then the header in row 8."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    sheet["B2"] = "Quiz template"
    sheet["B3"] = "Add questions, at least two answer alternatives, time limit and correct answers."
    for col, text in enumerate(KAHOOT_HEADER, start=1):
        sheet.cell(8, col, text)
    for i, row in enumerate(rows, start=9):
        for col, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(i, col, value)
    book.save(path)
    return path


# --- every example of the docs ---------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.iterdir()), ids=lambda p: p.name)
def test_every_docs_example_imports_and_validates(path: Path) -> None:
    result = import_pack_bytes(path.read_bytes(), path.name)
    assert result.format == detect_format(path.name, path.read_bytes())
    assert len(riddles(result)) >= 6
    # The YAML written for the facilitator is a valid pack, and the same one.
    again = load_pack_bytes(result.yaml(path.name).encode(), "again.yaml")
    assert again == result.pack
    # And an upload reads the file to the same pack.
    assert load_upload(path.read_bytes(), path.name) == result.pack


def test_formats_are_told_from_name_and_content() -> None:
    gift = (EXAMPLES / "quiz-di-squadra.gift").read_bytes()
    aiken = (EXAMPLES / "office-quiz-aiken.txt").read_bytes()
    opentdb = (EXAMPLES / "trivia-opentdb.json").read_bytes()
    xlsx = (EXAMPLES / "kahoot-quiz-it.xlsx").read_bytes()
    csv_data = (EXAMPLES / "team-riddles.csv").read_bytes()
    assert detect_format("quiz.gift", gift) == "gift"
    assert detect_format("quiz.txt", gift) == "gift"
    assert detect_format("quiz.txt", aiken) == "aiken"
    assert detect_format("quiz", aiken) == "aiken"
    assert detect_format("trivia.json", opentdb) == "opentdb"
    assert detect_format("pack.json", b'{"id": "x", "rounds": []}') == "pack"
    assert detect_format("upload.yaml", xlsx) == "kahoot"  # a zip is a spreadsheet
    assert detect_format("quiz.csv", csv_data) == "csv"
    assert detect_format("quiz.txt", csv_data) == "csv"
    assert detect_format("notes.txt", b"just some notes") is None


# --- GIFT -------------------------------------------------------------------------------


def test_gift_mapping() -> None:
    result = imported("quiz-di-squadra.gift")
    pack = result.pack
    assert pack.language == "it"  # guessed from the questions
    assert [r.title for r in pack.rounds] == ["Ufficio e dintorni", "Cultura italiana"]
    by_text = {r.text: r for r in riddles(result)}
    coffee = by_text[
        "Qual è la bevanda che in ufficio mette d'accordo tutti, alle dieci del mattino?"
    ]
    assert coffee.answers == ("il caffè", "l'espresso")
    assert [(n.answers, n.nudge) for n in coffee.near] == [
        (("il cappuccino",), "Quasi: ma dopo le undici non si ordina più!")
    ]
    printer = by_text["Quale oggetto d'ufficio si inceppa sempre il lunedì mattina?"]
    assert printer.options == (
        "la cucitrice",
        "la stampante",
        "il proiettore",
        "la macchinetta del caffè",
    )
    assert printer.answers == ("la stampante",)
    assert printer.explanation == "Esatto: la stampante sa che giorno è."
    holiday = by_text["Ferragosto si festeggia il 15 agosto."]
    assert (holiday.options, holiday.answers) == (("Vero", "Falso"), ("Vero",))
    assert holiday.explanation == "Cade sempre il 15 agosto, anche quando è domenica."
    assert by_text["Quanti giorni ha un anno bisestile?"].answers == ("366",)
    assert by_text["Quanti giorni ha un anno bisestile?"].numbers
    # #56:1 is 55 to 57, the middle first; #3..5 is 3 to 5.
    assert by_text["Quanti metri è alta, più o meno, la Torre di Pisa?"].answers == (
        "56",
        "55",
        "57",
    )
    assert by_text["Di quanti gradi pende oggi la Torre di Pisa, all'incirca?"].answers == (
        "4",
        "3",
        "5",
    )
    proverb = by_text["Chi dorme non piglia _____, dice il proverbio."]
    assert (proverb.options, proverb.answers) == (("granchi", "pesci", "topi"), ("pesci",))
    # \: is a colon; the escapes never start an answer.
    timing = next(r for r in riddles(result) if r.text.startswith("In ufficio"))
    assert timing.answers == ("alle 9:30", "9:30")
    assert timing.near[0].answers == ("alle 9:45",)
    # [html] and Moodle's default format: tags dropped, entities read.
    assert "Qual è l'ingrediente principale del pesto alla genovese?" in by_text
    assert "Chi ha scritto la Divina Commedia?" in by_text


def test_gift_unsupported_and_malformed_questions_are_reported_with_their_lines() -> None:
    path = BROKEN / "broken.gift"
    assert problems(path) == [
        f"{path.name}:4: matching question (a -> b): a riddle has one answer to find",
        f"{path.name}:9: essay question ({{}}): a riddle needs an answer to check",
        f"{path.name}:11: description (text with no answers): there is nothing to answer",
        f"{path.name}:13: no right answer: mark it with = (or ~%100%)",
        f'{path.name}:15: "about a lot" is not a number (write 8, 5:1 or 1..5)',
        (
            f"{path.name}:17: multiple-answer question (several options to tick, ~%50%): "
            "a riddle takes one option"
        ),
        f'{path.name}:19: answer block not closed: "{{" has no matching "}}"',
        # The validator's problem, at the line of the question it is about.
        f"{path.name}:21: rounds[0].riddles[0].answers[1]: duplicate answer (same as answers[0])",
    ]


def test_gift_skip_unsupported_keeps_the_rest_and_lists_what_it_left_out(tmp_path: Path) -> None:
    text = (BROKEN / "broken.gift").read_text()
    playable = "\n".join(text.splitlines()[:12])  # matching, essay and description only
    playable += "\n\nQual è la capitale d'Italia? {=Roma ~Milano}\n"
    with pytest.raises(PackError) as info:
        import_pack_bytes(playable.encode(), "mixed.gift")
    assert [p.line for p in info.value.problems] == [4, 9, 11]
    result = import_pack_bytes(playable.encode(), "mixed.gift", skip_unsupported=True)
    assert [r.text for r in riddles(result)] == ["Qual è la capitale d'Italia?"]
    assert [p.line for p in result.skipped] == [4, 9, 11]


def test_gift_numerical_ranges_and_partial_credit() -> None:
    text = """\
Year the Berlin Wall fell? {#1989}

Pi to two decimals? {#3.14:0.005}

A number from 1 to 3? {#1..3}

Roughly how many countries are in the EU? {#=27 =%50%28#Close: that was before Brexit.}

The whole range of a century? {#1900..2000}
"""
    with pytest.raises(PackError) as info:
        import_pack_bytes(text.encode(), "numbers.gift", language="en")
    assert [str(p) for p in info.value.problems] == [
        (
            'numbers.gift:9: "1900..2000" covers 101 whole numbers; a riddle can accept at most 25 '
            "(list the answers with = instead)"
        )
    ]
    result = import_pack_bytes(text.rsplit("\n\n", 1)[0].encode(), "numbers.gift")
    wall, pi, small, eu = riddles(result)
    assert wall.answers == ("1989",) and wall.numbers
    assert pi.answers == ("3.14",)  # a decimal tolerance keeps the value only
    assert small.answers == ("2", "1", "3")
    assert eu.answers == ("27",)
    assert [(n.answers, n.nudge) for n in eu.near] == [(("28",), "Close: that was before Brexit.")]


def test_gift_escapes_comments_and_multiline() -> None:
    text = """\
// leading comment
::Sum:: What is 2 + 2 \\= ? Answer with a \\{word\\}. {
  // a comment inside the question does not end it
  =four#Right\\: four.
  =4
}
"""
    result = import_pack_bytes(text.encode(), "escapes.gift", language="en")
    (riddle,) = riddles(result)
    assert riddle.text == "What is 2 + 2 = ? Answer with a {word}."
    assert riddle.answers == ("four", "4")
    assert riddle.explanation == "Right: four."


# --- Aiken ------------------------------------------------------------------------------


def test_aiken_mapping() -> None:
    result = imported("office-quiz-aiken.txt")
    assert result.format == "aiken"
    assert result.pack.language == "en"
    first, *_, cafe, colour, minutes = riddles(result)
    assert first.options == ("The boardroom", "The break room", "The server room", "The mailroom")
    assert first.answers == ("The break room",)
    assert cafe.text == 'A "café crème" is coffee served with what?'
    assert cafe.answers == ("Cream",)  # "B)" as well as "B."
    assert colour.answers == ("Yellow",)
    assert minutes.answers == ("15",)


def test_aiken_problems_have_their_lines() -> None:
    path = BROKEN / "broken-aiken.txt"
    assert problems(path) == [
        f'{path.name}:4: "ANSWER: E" is not one of the options (A, B)',
        f"{path.name}:6: a question needs at least two options (A. and B.)",
        f'{path.name}:10: option "A" with no question before it',
        f'{path.name}:12: question has no "ANSWER:" line after its options',
        f'{path.name}:18: option "C" out of order: expected "B."',
    ]


# --- Open Trivia DB ------------------------------------------------------------------------


def test_opentdb_mapping() -> None:
    result = imported("trivia-opentdb.json")
    assert result.format == "opentdb"
    assert [r.title for r in result.pack.rounds] == ["Art", "Geography", "Food & Drink"]
    venus, david, tiber, san_marino, corretto, carbonara = riddles(result)
    # HTML entities decoded; options in alphabetical order, so the right one moves.
    assert venus.text == 'Who painted "The Birth of Venus", now in Florence\'s Uffizi Gallery?'
    assert venus.options == ("Caravaggio", "Leonardo da Vinci", "Raphael", "Sandro Botticelli")
    assert venus.answers == ("Sandro Botticelli",)
    assert (david.options, david.answers) == (("True", "False"), ("False",))
    assert corretto.text == 'In a "caffè corretto", the espresso is "corrected" with what?'
    # The categories are rounds in first-appearance order: Geography's two come together.
    assert san_marino.answers == ("True",) and tiber.answers == ("Tiber",)
    assert [venus.points, david.points, corretto.points] == [100, 150, 200]
    assert carbonara.answers == ("Pecorino Romano",)


def test_opentdb_problems_have_their_lines() -> None:
    path = BROKEN / "broken-opentdb.json"
    assert problems(path) == [
        f'{path.name}:4: question has no "correct_answer"',
        (
            f'{path.name}:11: question type "fill_in": only "multiple" and "boolean" are read '
            "(with the API's default encoding)"
        ),
        f'{path.name}:19: a boolean question\'s answer must be True or False, not "Maybe"',
        f"{path.name}:27: rounds[0].riddles[0].options[2]: duplicate option (same as options[1])",
    ]


def test_opentdb_error_response() -> None:
    with pytest.raises(PackError) as info:
        import_pack_bytes(b'{"response_code": 1, "results": []}', "empty.json")
    assert [str(p) for p in info.value.problems] == [
        "empty.json:1: response_code 1: no results (the API had too few questions for the request)"
    ]


# --- CSV ----------------------------------------------------------------------------------


def test_csv_mapping() -> None:
    result = imported("team-riddles.csv")
    assert [r.title for r in result.pack.rounds] == ["Warm-up", "Office life"]
    piano, steps, colour, days, meeting, coffee = riddles(result)
    assert piano.text == "What has keys but can't open locks?"
    assert piano.answers == ("a piano", "piano")
    assert [(n.answers, n.nudge) for n in piano.near] == [
        (("keyboard", "computer keyboard"), "Close: which instrument?")
    ]
    assert [(h.text, h.after, h.cost) for h in piano.hints] == [("It makes music.", 20, 10)]
    assert (steps.time_limit, steps.points) == (45, 100)
    assert colour.options == ("Red", "Green", "Yellow", "Blue") and colour.points == 150
    assert days.numbers and days.answers == ("5",)
    assert meeting.answers == ("a waste of time", "a waste", "a quick sync")
    assert coffee.near[0].nudge == 'Less milk than that, just a "stain".'
    assert coffee.explanation == "Macchiato means 'stained' or 'marked'."


def test_csv_problems_have_their_lines() -> None:
    path = BROKEN / "broken.csv"
    assert problems(path) == [
        f'{path.name}:2: rounds[0].riddles[0].time_limit: expected a whole number, got text ("soon")',
        # The row on lines 3-4 is fine; the next starts on line 5.
        f'{path.name}:5: rounds[0].riddles[2].answers: "Dog" is not one of the options',
        f"{path.name}:6: rounds[0].riddles[3].answers: at least one answer is required",
        f"{path.name}:7: rounds[0].riddles[4].points: must be between 1 and 10000, got -5",
    ]


def test_csv_semicolons_and_unknown_columns() -> None:
    italian = "domanda;risposte\nQual è la capitale?;Roma\n".replace("domanda", "question")
    italian = italian.replace("risposte", "answers")
    result = import_pack_bytes(italian.encode("utf-8-sig"), "excel.csv")
    assert riddles(result)[0].answers == ("Roma",)
    with pytest.raises(PackError) as info:
        import_pack_bytes(b"question,answr,pionts\nQ?,A,1\n", "typos.csv")
    assert [str(p) for p in info.value.problems] == [
        'typos.csv:1: unknown column "answr" (did you mean "answer"?)',
        'typos.csv:1: unknown column "pionts" (did you mean "points"?)',
    ]


def test_cells_split_on_bars_with_escapes() -> None:
    assert split_cell("Rome | Roma") == ["Rome", "Roma"]
    assert split_cell("a \\| b | c") == ["a | b", "c"]
    assert split_cell("") == []


# --- Kahoot -----------------------------------------------------------------------------


def test_kahoot_mapping() -> None:
    result = imported("kahoot-quiz-it.xlsx")
    assert result.format == "kahoot"
    assert result.pack.language == "it"
    spritz, matera, pasta, *_ = riddles(result)
    assert spritz.options == ("Spritz", "Negroni", "Bellini", "Americano")
    assert spritz.answers == ("Spritz",) and spritz.time_limit == 20
    assert matera.answers == ("Basilicata",)
    assert pasta.answers == ("Penne", "Fusilli")  # "1,2": either is right
    regions = riddles(result)[5]
    assert regions.options == ("18", "20", "22", "25") and regions.answers == ("20",)


def test_kahoot_problems_name_their_cells(tmp_path: Path) -> None:
    path = kahoot_file(
        tmp_path / "quiz.xlsx",
        [
            [1, "Quale colore ha il cielo?", "Blu", "Verde", None, None, 20, 5],
            [2, None, "Uno", "Due", None, None, 20, 1],
            [3, "Quanto fa 2+2?", "4", "5", None, None, "presto", 1],
            [4, "Quale animale abbaia?", "Cane", "cane", "Gatto", None, 20, 1],
            [5, "Chi ha scritto l'Inferno?", "Dante", "Petrarca", None, None, 30, "uno"],
            [6, "Qual è la capitale d'Italia?", "Roma", "Milano", None, None, 20, 1],
        ],
    )
    assert problems(path) == [
        "quiz.xlsx:Sheet1!H9: correct answer 5 is not one of the filled answers (1, 2)",
        "quiz.xlsx:Sheet1!B10: answers with no question",
        'quiz.xlsx:Sheet1!G11: time limit "presto" is not a whole number of seconds',
        "quiz.xlsx:Sheet1!B12: rounds[0].riddles[0].options[1]: duplicate option (same as options[0])",
        'quiz.xlsx:Sheet1!H13: "uno" is not answer numbers (1 to 4, or 1,3)',
    ]
    with pytest.raises(PackError) as info:
        import_pack_bytes(path.read_bytes(), path.name)
    # The row is the problem's line, and the cell goes to the HTTP API too.
    assert info.value.problems[0].to_dict() == {
        "file": "quiz.xlsx",
        "line": 9,
        "field": "",
        "message": "correct answer 5 is not one of the filled answers (1, 2)",
        "cell": "Sheet1!H9",
    }


def test_kahoot_without_a_header_row(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["A1"] = "Just a list of names"
    book.save(tmp_path / "names.xlsx")
    assert problems(tmp_path / "names.xlsx") == [
        (
            'names.xlsx: no Kahoot header row found (cells "Question", "Answer 1", "Answer 2", '
            '"Time limit" and "Correct answer(s)" in one row)'
        )
    ]


def test_kahoot_rows_are_capped(tmp_path: Path) -> None:
    rows: list[list[str | int | None]] = [
        [i, f"Question {i}?", "Yes", "No", None, None, 20, 1] for i in range(MAX_ROWS + 100)
    ]
    path = kahoot_file(tmp_path / "huge.xlsx", rows)
    # Every question is fine but those past the cap: the reading stops at the first.
    assert problems(path) == [
        (
            f"huge.xlsx:Sheet1!B{9 + MAX_ROWS}: a question past row {8 + MAX_ROWS}: "
            f"a spreadsheet may hold {MAX_ROWS} rows of questions after its header"
        )
    ]


def test_a_zip_bomb_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        # 40 MiB of zeros deflate to ~40 KiB.
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 100 * 1024
    with pytest.raises(PackError) as info:
        load_upload(data, "bomb.xlsx")
    assert [str(p) for p in info.value.problems] == [
        (
            f"bomb.xlsx: the .xlsx unpacks to {40 * 1024 * 1024 + 8} bytes, more than the "
            f"{MAX_XLSX_UNPACKED_BYTES} bytes a quiz spreadsheet may"
        )
    ]


def test_not_a_spreadsheet() -> None:
    with pytest.raises(PackError) as info:
        load_upload(b"hello", "quiz.xlsx")
    assert [str(p) for p in info.value.problems] == [
        "quiz.xlsx: not a valid .xlsx file (it is not a zip archive)"
    ]


# --- common -----------------------------------------------------------------------------


def test_pack_fields_from_options_and_file_name() -> None:
    result = imported("office-quiz-aiken.txt", pack_id="office", title="Office", language="it")
    assert (result.pack.id, result.pack.title, result.pack.language) == ("office", "Office", "it")
    default = imported("office-quiz-aiken.txt")
    assert (default.pack.id, default.pack.title) == ("office-quiz-aiken", "Office quiz aiken")
    written = yaml.safe_load(default.yaml("office-quiz-aiken.txt"))
    assert written["rounds"][0]["riddles"][0]["answers"] == "The break room"


def test_uploads_still_refuse_unknown_files_and_read_packs() -> None:
    with pytest.raises(PackError) as info:
        load_upload(b"just some notes", "notes.txt")
    assert "cannot tell the format of this .txt file" in info.value.problems[0].message
    with pytest.raises(PackError) as info:
        load_upload(b"hello", "pack.exe")
    assert info.value.problems[0].message.startswith("unsupported file type")
    good = (HERE / "good" / "office.yaml").read_bytes()
    assert load_upload(good, "office.yaml") == load_pack_bytes(good, "office.yaml")


def test_size_limit_applies_to_imports() -> None:
    data = (EXAMPLES / "office-quiz-aiken.txt").read_bytes()
    with pytest.raises(PackError) as info:
        load_upload(data, "quiz.txt", max_bytes=100)
    assert [str(p) for p in info.value.problems] == [
        f"quiz.txt: file is {len(data)} bytes, more than the 100 byte limit"
    ]


def test_not_utf8() -> None:
    with pytest.raises(PackError) as info:
        load_upload("Domanda?\nA. sì\nB. no\nANSWER: A\n".encode("latin-1"), "quiz.txt")
    assert [str(p) for p in info.value.problems] == [
        "quiz.txt:2: file is not valid UTF-8 text (save it as UTF-8)"
    ]


def handmade_xlsx(path: Path, rows: list[list[str]], *, sheet: str = "Domande") -> Path:
    """An .xlsx as some generators write it: inline strings, no shared strings, no
    styles part and no dimension (openpyxl writes none of these ways)."""

    def cell(ref: str, text: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

    xml_rows = "".join(
        f'<row r="{r}">'
        + "".join(cell(f"{'ABCDE'[c]}{r}", text) for c, text in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    ooxml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ooxml}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{ooxml}.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{rels}">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<workbook {ns} xmlns:r="{rel}"><sheets>'
            f'<sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{rels}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": f"<worksheet {ns}><sheetData>{xml_rows}</sheetData></worksheet>",
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


HEADER = ["Question", "Answer 1", "Answer 2", "Time limit (sec)", "Correct answer(s)"]


def test_a_spreadsheet_written_by_another_tool(tmp_path: Path) -> None:
    path = handmade_xlsx(
        tmp_path / "domande.xlsx",
        [
            HEADER,
            ["Qual è la capitale d&apos;Italia?", "Milano", "Roma", "20", "2"],
            ["Quanti sono i giorni di una settimana?", "5", "7", "10", "2"],
        ],
    )
    result = import_pack_bytes(path.read_bytes(), path.name)
    capital, week = riddles(result)
    assert capital.text == "Qual è la capitale d'Italia?"
    assert (capital.options, capital.answers, capital.time_limit) == (
        ("Milano", "Roma"),
        ("Roma",),
        20,
    )
    assert week.answers == ("7",) and week.time_limit == 10


def test_rows_past_the_cap_are_reported_however_far_down(tmp_path: Path) -> None:
    # No dimension to tell the sheet's size, and a row a million rows down.
    far = handmade_xlsx(tmp_path / "far.xlsx", [HEADER, ["Q?", "Sì", "No", "20", "1"]])
    with zipfile.ZipFile(far) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        "</sheetData>",
        '<row r="1000000"><c r="A1000000" t="inlineStr"><is><t>Lost?</t></is></c></row>'
        '<row r="9999999999"><c r="A9999999999" t="inlineStr"><is><t>Past Excel</t></is></c>'
        "</row></sheetData>",
    ).encode()
    with zipfile.ZipFile(far, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert problems(far) == [
        (
            f"far.xlsx:Domande!A1000000: a question past row {MAX_ROWS + 1}: "
            f"a spreadsheet may hold {MAX_ROWS} rows of questions after its header"
        )
    ]


def test_a_pack_is_not_an_import() -> None:
    good = (HERE / "good" / "office.yaml").read_bytes()
    with pytest.raises(PackError) as info:
        import_pack_bytes(good, "office.yaml")
    assert [str(p) for p in info.value.problems] == [
        "office.yaml: this is a pack, not an import: check it with ritrovo packs validate"
    ]


def test_gift_lines_count_comments_and_categories() -> None:
    text = """\
$CATEGORY: $course$/top/Default for Team day/Geografia
// question: 1  name: Capitale
// [id:geo-1]
Qual è la capitale d'Italia? {=Roma ~Milano ~Torino ~Napoli ~}
"""
    with pytest.raises(PackError) as info:
        import_pack_bytes(text.encode(), "moodle.gift")
    assert [str(p) for p in info.value.problems] == [
        "moodle.gift:4: an empty answer (= or ~ with no text after it)"
    ]
    fixed = import_pack_bytes(text.replace(" ~}", "}").encode(), "moodle.gift")
    assert [r.title for r in fixed.pack.rounds] == ["Geografia"]


def test_a_damaged_sheet_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = handmade_xlsx(tmp_path / "damaged.xlsx", [HEADER, ["Q?", "Sì", "No", "20", "1"]])
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    # Cut the sheet's XML in the middle of a row, after a dimension: openpyxl
    # opens the workbook (in read-only mode it reads no further than the
    # dimension) and fails on the rows.
    sheet = parts["xl/worksheets/sheet1.xml"].replace(
        b"<sheetData>", b'<dimension ref="A1:E2"/><sheetData>'
    )
    parts["xl/worksheets/sheet1.xml"] = sheet[: sheet.index(b'<row r="2"') + 30]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    found = problems(path)
    assert len(found) == 1
    assert found[0].startswith("damaged.xlsx: cannot read the spreadsheet: ")


# Text made of what the formats' structure is made of, so that the parsers'
# every branch is reached: an importer answers with a pack or a PackError,
# never another exception (in the upload worker that would be a 500).
_PIECES = st.sampled_from(
    [
        "{",
        "}",
        "=",
        "~",
        "#",
        "####",
        "::",
        "\\",
        "%50%",
        "->",
        "\n",
        "\n\n",
        " ",
        "A. ",
        "B) ",
        "ANSWER: A",
        "$CATEGORY: x/y",
        "//",
        ",",
        ";",
        '"',
        "|",
        "T",
        "#1..3",
        "5:1",
        "Roma",
        "è",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_PIECES, max_size=40).map("".join),
    st.sampled_from(["q.gift", "q.txt", "q.csv", "q.json"]),
)
def test_importers_answer_any_text_with_a_pack_or_problems(text: str, name: str) -> None:
    try:
        result = import_pack_bytes(text.encode(), name)
    except PackError as e:
        assert e.problems
        assert all(p.file == name for p in e.problems)
    else:
        assert riddles(result)
