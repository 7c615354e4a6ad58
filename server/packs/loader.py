"""Read puzzle pack files (YAML or JSON) into ``ritrovo.game.pack`` data, and the
``PackLibrary`` of the packs in a folder.

Validation walks a YAML node tree, so every problem carries the line it comes
from, and it collects every problem before failing: an author fixes a pack in one
round trip instead of one error at a time. JSON is read by the json module (strict,
and fast on any input); its tree gets line numbers only when there is a problem to
report. The format is documented in docs/packs.md.

Uploaded packs are parsed in a worker process with a time budget (``ritrovo.packs.worker``);
this module is the synchronous parser itself, used there and for the packs folder.
"""

from __future__ import annotations

import difflib
import itertools
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.constructor import SafeConstructor
from yaml.error import Mark
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..config import DEFAULT_MAX_PACK_BYTES
from ..game.matching import normalize
from ..game.pack import (
    Hint,
    NearAnswer,
    Pack,
    Riddle,
    RiddleRound,
    Round,
    StoryPrompt,
    StoryRound,
    TypoTolerance,
    Visibility,
    WhosWhoRound,
)
from ..game.riddles import GUESS_MAX_CHARS

__all__ = [
    "MAX_JSON_NESTING",
    "MAX_PACK_BYTES",
    "PACK_SUFFIXES",
    "PackError",
    "PackLibrary",
    "PackProblem",
    "default_pack_dir",
    "is_pack_file",
    "json_nesting",
    "load_pack",
    "load_pack_bytes",
    "load_pack_file",
]

log = logging.getLogger(__name__)

MAX_PACK_BYTES = DEFAULT_MAX_PACK_BYTES  # the default limit; Settings.max_pack_bytes overrides it
PACK_SUFFIXES = (".yaml", ".yml", ".json")

# Aliases share nodes, so a small file can describe a huge tree ("billion laughs");
# the whole tree, aliases expanded, may not have more nodes than this.
MAX_NODES = 200_000

# A pack is at most 8 arrays and objects deep (a near answer's answers); JSON
# nested deeper is refused before it is read (orjson writes at most 254 levels,
# Python's json reads about 1,000: past either, a 500 instead of an answer).
MAX_JSON_NESTING = 32
# A JSON string, escapes and all; outside strings, valid JSON has no backslash.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_NESTING_STEP = tuple(1 if b in b"[{" else -1 for b in range(256))

PACK_ID_RE = re.compile(r"[a-z0-9-]{1,64}")
LANGUAGE_RE = re.compile(r"[a-z]{2}")
TITLE_MAX = 120
RIDDLE_TEXT_MAX = 1000
OPTIONS_MIN, OPTIONS_MAX = 2, 8
# A riddle's matcher is compiled on the event loop when the riddle is played
# (and in a worker for the editor's "try"): its answers bound that work. A
# riddle of 6,500 answers took 75-170 ms; 50 and 50 of 200 characters, a few.
ANSWERS_MAX = 50  # accepted answers of one riddle
CONVERSATION_PROMPTS_MAX = 100  # coffee pairing's prompts of one pack
CONVERSATION_PROMPT_MAX = 300  # characters of one of them
WHOSWHO_PROMPTS_MAX = 20  # prompts of one "Who's who" round
WHOSWHO_PROMPT_MAX = 200  # characters of one of them
WHOSWHO_QUESTIONS_MAX = 50  # answers one "Who's who" round plays
NEAR_ANSWERS_MAX = 50  # near answers of one riddle, all its near groups together
ANSWER_MAX_CHARS = GUESS_MAX_CHARS  # a longer answer could never be typed

DEFAULT_TIME_LIMIT = 60
DEFAULT_POINTS = 100
DEFAULT_TYPO_TOLERANCE: TypoTolerance = "auto"
DEFAULT_NUMBERS = False

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _BOOL, _NULL, _MERGE = (_TAG + t for t in ("str", "int", "bool", "null", "merge"))
# Tags the safe loader resolves implicitly (plus their explicit "!!" forms). Anything
# else, such as !!python/object or a custom !tag, is refused before any validation.
_PLAIN_DATA_TAGS = frozenset(
    _TAG + t
    for t in ("str", "int", "float", "bool", "null", "seq", "map", "merge", "timestamp", "value")
)

PACK_FIELDS = (
    "id",
    "title",
    "language",
    "description",
    "author",
    "defaults",
    "rounds",
    "conversation_prompts",
)
DEFAULTS_FIELDS = ("time_limit", "points", "typo_tolerance", "numbers")
RIDDLE_ROUND_FIELDS = ("kind", "title", "riddles")
RIDDLE_FIELDS = (
    "text",
    "answers",
    "near",
    "hints",
    "time_limit",
    "points",
    "options",
    "typo_tolerance",
    "numbers",
    "explanation",
)
NEAR_FIELDS = ("answers", "nudge")
HINT_FIELDS = ("text", "after", "cost")
STORY_ROUND_FIELDS = (
    "kind",
    "title",
    "prompts",
    "turns_per_player",
    "seconds_per_turn",
    "max_chars",
    "visibility",
    "vote_seconds",
)
PROMPT_FIELDS = ("opening", "must_include", "theme")
WHOSWHO_ROUND_FIELDS = (
    "kind",
    "title",
    "prompts",
    "max_answers",
    "questions",
    "time_limit",
    "points",
)
ROUND_KINDS = ("riddles", "story", "whoswho")
VISIBILITIES: tuple[Visibility, ...] = ("full", "chain")


@dataclass(frozen=True, slots=True)
class PackProblem:
    """One thing wrong with a pack file: where it is and what is wrong."""

    file: str
    line: int | None  # 1-based; None when the problem is about the whole file
    field: str  # dotted path such as "rounds[0].riddles[3].answers"; "" for the file
    message: str
    # A spreadsheet's cell, such as "Sheet1!B9" (then ``line`` is its row); "" in text files.
    cell: str = ""

    def __str__(self) -> str:
        if self.cell:
            where = f"{self.file}:{self.cell}"
        else:
            where = self.file if self.line is None else f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form used by the HTTP API (with ``cell`` only for spreadsheets)."""
        body: dict[str, object] = {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }
        if self.cell:
            body["cell"] = self.cell
        return body


class PackError(ValueError):
    """A pack file could not be loaded; ``problems`` lists every reason at once."""

    def __init__(self, problems: Sequence[PackProblem], message: str | None = None) -> None:
        self.problems: list[PackProblem] = list(problems)
        if message is None:
            files = sorted({p.file for p in self.problems})
            count = len(self.problems)
            message = (
                f"invalid pack {', '.join(files)}: {count} problem{'s' if count != 1 else ''}"
                if files
                else "invalid pack"
            )
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return "\n".join([self.message, *(str(p) for p in self.problems)])

    def __reduce__(self) -> tuple[type[PackError], tuple[list[PackProblem], str]]:
        return (type(self), (self.problems, self.message))

    def to_dict(self) -> dict[str, object]:
        """Error body for the HTTP API: ``{"code": "invalid_pack", "message", "problems"}``."""
        return {
            "code": "invalid_pack",
            "message": self.message,
            "problems": [p.to_dict() for p in self.problems],
        }


def is_pack_file(path: str | os.PathLike[str]) -> bool:
    """True when the file name has a pack suffix (.yaml, .yml or .json)."""
    return Path(path).suffix.lower() in PACK_SUFFIXES


def load_pack(
    path: str | os.PathLike[str], *, name: str | None = None, max_bytes: int = MAX_PACK_BYTES
) -> Pack:
    """Load and validate the pack file at ``path``.

    Problems are reported against ``name`` (default: the path as given). Raises
    ``PackError`` for an unreadable, oversized, malformed or invalid file; nothing
    of a broken pack is returned.
    """
    pack, _ = load_pack_file(path, name=name, max_bytes=max_bytes)
    return pack


def load_pack_file(
    path: str | os.PathLike[str], *, name: str | None = None, max_bytes: int = MAX_PACK_BYTES
) -> tuple[Pack, int | None]:
    """Like ``load_pack``, also returning the line of the pack's ``id`` (for duplicate reports)."""
    display = name if name is not None else os.fspath(path)
    try:
        with open(path, "rb") as f:
            # One byte past the limit is enough to know it is too big.
            data = f.read(max_bytes + 1)
    except OSError as e:
        message = f"cannot read file: {e.strerror or e}"
        raise PackError([PackProblem(display, None, "", message)]) from None
    return _load(data, display, max_bytes, want_id_line=True)


def load_pack_bytes(data: bytes, filename: str, *, max_bytes: int = MAX_PACK_BYTES) -> Pack:
    """Load and validate a pack from raw bytes; ``filename`` picks the format and names errors.

    Raises ``PackError`` with every problem found.
    """
    pack, _ = _load(data, filename, max_bytes)
    return pack


def _size(n: int) -> str:
    """``1048576`` -> ``1 MiB (1048576 bytes)``: a limit as people and scripts both read it."""
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit} ({n} bytes)"
    return f"{n} byte"


def _load(
    data: bytes, filename: str, max_bytes: int, *, want_id_line: bool = False
) -> tuple[Pack, int | None]:
    """Load a pack and also return the line of its id (the library reports duplicates there).

    The id's line of a valid JSON pack is None unless ``want_id_line``.
    """
    suffix = Path(filename).suffix.lower()
    if suffix not in PACK_SUFFIXES:
        raise PackError(
            [PackProblem(filename, None, "", "unsupported file type: use .yaml, .yml or .json")]
        )
    if len(data) > max_bytes:
        raise PackError(
            [
                PackProblem(
                    filename,
                    None,
                    "",
                    f"file is {len(data)} bytes, more than the {_size(max_bytes)} limit",
                )
            ]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise PackError([PackProblem(filename, line, "", "file is not valid UTF-8 text")]) from None
    if suffix == ".json":
        # Checked without line numbers first; only a pack with problems (or a
        # caller that wants the id's line) pays for the pass that finds them.
        root = _node_from_json(_parse_json(text, filename), filename)
        checker = _Checker(filename)
        pack = checker.pack(root)
        # A tree too large is a problem of the whole file: no line to find.
        if (checker.problems or pack is None or want_id_line) and not checker.too_large:
            root = _json_with_lines(text, filename)
            checker = _Checker(filename)
            pack = checker.pack(root)
    else:
        checker = _Checker(filename)
        pack = checker.pack(_parse_yaml(text, filename))
    if checker.problems or pack is None:
        raise PackError(sorted(checker.problems, key=lambda p: p.line or 0))
    return pack, checker.id_line


# --- library ---------------------------------------------------------------------


def default_pack_dir() -> Path:
    """The repository's ``puzzles/`` folder."""
    return Path(__file__).resolve().parents[2] / "puzzles"


class PackLibrary:
    """Every valid pack in a folder (not its subfolders), by id.

    A broken file is logged and recorded in ``errors`` without stopping the others.
    When two files share an id, the first in file-name order is kept and the other
    is refused as an error.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        log_errors: bool = True,
        max_bytes: int = MAX_PACK_BYTES,
    ) -> None:
        """Load the packs in ``directory`` (default: the repository's ``puzzles/``).

        ``log_errors=False`` leaves reporting ``errors`` to the caller (the CLI prints them).
        """
        self.directory = Path(directory) if directory is not None else default_pack_dir()
        self.log_errors = log_errors
        self.max_bytes = max_bytes
        self.errors: list[PackProblem] = []
        self._packs: dict[str, Pack] = {}
        self._files: dict[str, Path] = {}
        self.reload()

    def reload(self) -> None:
        """Forget everything and read the folder again."""
        packs: dict[str, Pack] = {}
        files: dict[str, Path] = {}
        errors: list[PackProblem] = []
        try:
            paths = sorted(
                p
                for p in self.directory.iterdir()
                if is_pack_file(p) and not p.name.startswith(".") and p.is_file()
            )
        except OSError as e:
            paths = []
            errors.append(
                PackProblem(str(self.directory), None, "", f"cannot read folder: {e.strerror or e}")
            )
        for path in paths:
            try:
                pack, id_line = load_pack_file(path, name=path.name, max_bytes=self.max_bytes)
            except PackError as e:
                errors.extend(e.problems)
                continue
            if pack.id in packs:
                errors.append(
                    PackProblem(
                        path.name,
                        id_line,
                        "id",
                        f'duplicate pack id "{pack.id}" (already used by {files[pack.id].name})',
                    )
                )
                continue
            packs[pack.id] = pack
            files[pack.id] = path
        if self.log_errors:
            for problem in errors:
                log.warning("pack not loaded: %s", problem)
        self._packs, self._files, self.errors = packs, files, errors

    def get(self, pack_id: str) -> Pack | None:
        """The pack with this id, or None."""
        return self._packs.get(pack_id)

    def path_of(self, pack_id: str) -> Path | None:
        """The file a pack was loaded from, or None."""
        return self._files.get(pack_id)

    def ids(self) -> list[str]:
        """Ids of the loaded packs, sorted."""
        return sorted(self._packs)

    def summaries(self) -> list[dict[str, object]]:
        """Answer-free descriptions of every loaded pack, sorted by id."""
        return [self._packs[pack_id].summary() for pack_id in self.ids()]

    def __len__(self) -> int:
        return len(self._packs)

    def __iter__(self) -> Iterator[Pack]:
        return iter([self._packs[pack_id] for pack_id in self.ids()])

    def __contains__(self, pack_id: object) -> bool:
        return pack_id in self._packs


# --- parsing -------------------------------------------------------------------------


def _parse_yaml(text: str, filename: str) -> Node:
    try:
        root: Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        raise PackError([_yaml_syntax_problem(e, filename)]) from None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        message = f"character #x{e.character:04x} is not allowed in a YAML file"
        raise PackError([PackProblem(filename, line, "", message)]) from None
    except yaml.YAMLError as e:
        raise PackError([PackProblem(filename, None, "", f"invalid YAML: {e}")]) from None
    except RecursionError:
        raise _too_deep(filename) from None
    if root is None:
        raise PackError([PackProblem(filename, None, "", "file is empty")])
    return root


def _yaml_syntax_problem(e: yaml.MarkedYAMLError, filename: str) -> PackProblem:
    mark = e.problem_mark or e.context_mark
    line = mark.line + 1 if mark is not None else None
    parts = [p for p in (e.context, e.problem) if p]
    detail = ", ".join(parts) if parts else "cannot parse"
    if e.context and e.context_mark is not None and e.context_mark is not mark:
        detail += f" (started at line {e.context_mark.line + 1})"
    return PackProblem(filename, line, "", f"YAML syntax error: {detail}")


def json_nesting(data: bytes) -> int:
    """How deeply arrays and objects nest in JSON ``data`` (0: a scalar alone).

    Strings dropped, brackets kept, and a running sum of +1 and -1: each step
    is a C loop, so this costs a few milliseconds for 64 KiB and never
    recurses, whatever the nesting. For valid JSON; other input gets a number
    that means nothing.
    """
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(itertools.accumulate(map(_NESTING_STEP.__getitem__, brackets)), default=0)


def _too_deep(filename: str) -> PackError:
    return PackError([PackProblem(filename, None, "", "data is nested too deeply")])


class _JsonObject(list[tuple[object, object]]):
    """A JSON object's members in order, repeated names kept (the checker reports them)."""


def _parse_json(text: str, filename: str) -> object:
    """The data of a JSON document, read by the json module (which decides what is JSON)."""
    if json_nesting(text.encode()) > MAX_JSON_NESTING:
        raise _too_deep(filename)
    try:
        return json.loads(text, object_pairs_hook=_JsonObject)
    except json.JSONDecodeError as e:
        raise PackError(
            [PackProblem(filename, e.lineno, "", f"JSON syntax error: {e.msg}")]
        ) from None
    except RecursionError:
        raise _too_deep(filename) from None
    except ValueError as e:  # a number of more than 4,300 digits
        raise PackError([PackProblem(filename, None, "", f"invalid JSON: {e}")]) from None


def _node_from_json(value: object, filename: str) -> Node:
    """The node tree of JSON data, without line numbers (the first, fast check)."""
    try:
        return _json_node(value)
    except RecursionError:
        raise _too_deep(filename) from None


def _json_node(value: object) -> Node:
    if isinstance(value, _JsonObject):
        pairs = [(_json_node(k), _json_node(v)) for k, v in value]
        return MappingNode(_TAG + "map", pairs)
    if isinstance(value, list):
        return SequenceNode(_TAG + "seq", [_json_node(v) for v in value])
    return _json_scalar(value, None)


def _json_scalar(value: object, mark: Mark | None) -> ScalarNode:
    if value is None:
        return ScalarNode(_NULL, "null", mark, mark)
    if isinstance(value, bool):
        return ScalarNode(_BOOL, "true" if value else "false", mark, mark)
    if isinstance(value, int):
        return ScalarNode(_INT, str(value), mark, mark)
    if isinstance(value, float):
        return ScalarNode(_TAG + "float", repr(value), mark, mark)
    return ScalarNode(_STR, str(value), mark, mark)


# The tokens of valid JSON that matter for its tree: a whole string, a bare word (a
# number, true, false, null, NaN, Infinity), a bracket, or a line break. What none of
# these match (other whitespace, "," and ":") is skipped by finditer.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[^ \t\r\n\[\]{},:"]+|[\[\]{}]|\n')
_JSON_WORDS: dict[str, tuple[str, str]] = {
    "true": (_BOOL, "true"),
    "false": (_BOOL, "false"),
    "null": (_NULL, "null"),
}


def _json_with_lines(text: str, filename: str) -> Node:
    """The node tree of a document ``_parse_json`` accepted, with each value's line.

    A flat tokenizer (no recursion, one regex scan): the text is known to be
    valid JSON, so only where values start matters, and line breaks can only
    be whitespace between tokens (JSON strings hold none).
    """
    stack: list[tuple[Node, list[Node]]] = []  # open containers, and a mapping's pending key
    root: Node | None = None
    line = 0
    mark = Mark(filename, 0, 0, 0, None, 0)  # one per line: only the line is read
    for m in _JSON_TOKEN.finditer(text):
        token = m.group()
        first = token[0]
        node: Node
        if first == "\n":
            line += 1
            mark = Mark(filename, m.start(), line, 0, None, 0)
            continue
        if first == '"':
            value = json.loads(token) if "\\" in token else token[1:-1]
            node = ScalarNode(_STR, value, mark, mark)
        elif first == "[":
            stack.append((SequenceNode(_TAG + "seq", [], mark, mark), []))
            continue
        elif first == "{":
            stack.append((MappingNode(_TAG + "map", [], mark, mark), []))
            continue
        elif first in "]}":
            node = stack.pop()[0]
        else:
            word = _JSON_WORDS.get(token)
            if word is not None:
                node = ScalarNode(word[0], word[1], mark, mark)
            elif token.lstrip("-").isdigit():
                node = ScalarNode(_INT, str(int(token)), mark, mark)
            else:
                node = ScalarNode(_TAG + "float", repr(float(token)), mark, mark)
        if not stack:
            root = node
            continue
        parent, key = stack[-1]
        if isinstance(parent, SequenceNode):
            parent.value.append(node)
        elif not key:
            key.append(node)
        else:
            parent.value.append((key.pop(), node))
    if root is None:  # not reached for a document json accepted
        raise PackError([PackProblem(filename, None, "", "file is empty")])
    return root


# --- validation ----------------------------------------------------------------------


def _line(node: Node) -> int | None:
    mark = node.start_mark
    return mark.line + 1 if mark is not None else None


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _relative(path: str, base: str) -> str:
    """``path`` as seen from inside ``base``, to keep messages short."""
    return path[len(base) + 1 :] if base and path.startswith(base + ".") else path


def _norm(text: str, language: str = "") -> str:
    """Comparison key for answers: what the game's answer matcher sees.

    Two answers that normalise alike (articles, accents, punctuation, case)
    shadow each other in play, so they are duplicates here too.
    """
    key = normalize(text, language) if language else ""
    return key or " ".join(text.split()).casefold()


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = node.tag
    if tag == _NULL:
        return "nothing (null)"
    if tag == _BOOL:
        return f"a boolean ({node.value})"
    if tag == _INT:
        return f"a number ({node.value})"
    if tag == _TAG + "float":
        return f"a decimal number ({node.value})"
    return f'text ("{_short(str(node.value))}")'


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class _Item:
    """One string of a string list, with where it came from."""

    text: str
    line: int | None
    path: str


@dataclass(frozen=True, slots=True)
class _Defaults:
    # None: the pack's default is itself invalid, so checks that depend on it are skipped.
    time_limit: int | None = DEFAULT_TIME_LIMIT
    points: int | None = DEFAULT_POINTS
    typo_tolerance: TypoTolerance = DEFAULT_TYPO_TOLERANCE
    numbers: bool = DEFAULT_NUMBERS


class _Checker:
    """Walks a pack's node tree, building dataclasses and collecting problems."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[PackProblem] = []
        self.id_line: int | None = None
        self.too_large = False  # over MAX_NODES: nothing else was checked
        self.language = ""  # known once the top level is read; answer keys depend on it
        self._constructor = SafeConstructor()

    def problem(self, line: int | None, field: str, message: str) -> None:
        self.problems.append(PackProblem(self.file, line, field, message))

    # -- whole tree ---------------------------------------------------------------

    def check_tree(self, root: Node) -> bool:
        """Refuse non-data tags, self-referencing aliases and alias bombs. True if clean."""
        before = len(self.problems)
        visits = 0
        on_path: set[int] = set()
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            if leaving:
                on_path.discard(id(node))
                continue
            visits += 1
            if visits > MAX_NODES:
                self.too_large = True
                self.problem(
                    None,
                    "",
                    f"pack is too large once aliases are expanded (over {MAX_NODES} values)",
                )
                break
            if node.tag not in _PLAIN_DATA_TAGS:
                tag = node.tag.replace(_TAG, "!!")
                self.problem(
                    _line(node), "", f"YAML tag {tag} is not allowed: packs hold plain data only"
                )
                continue
            if isinstance(node, ScalarNode):
                continue
            if id(node) in on_path:
                self.problem(_line(node), "", "an alias refers to a value that contains it")
                continue
            on_path.add(id(node))
            stack.append((node, True))
            children: list[Node] = (
                list(node.value)
                if isinstance(node, SequenceNode)
                else [n for pair in node.value for n in pair]
            )
            stack.extend((child, False) for child in reversed(children))
        return len(self.problems) == before

    # -- pack ---------------------------------------------------------------------

    def pack(self, root: Node) -> Pack | None:
        if not self.check_tree(root):
            return None
        f = self.fields(root, "", PACK_FIELDS, "the pack", "id, title, language and rounds")
        if f is None:
            return None
        pack_id = f.text("id", required=True)
        self.id_line = f.line("id")
        if pack_id is not None and not PACK_ID_RE.fullmatch(pack_id):
            f.bad(
                "id",
                f'must be 1 to 64 characters among a-z, 0-9 and "-" (got "{_short(pack_id)}")',
            )
        title = f.text("title", required=True, max_len=TITLE_MAX)
        language = f.text("language", required=True)
        if language is not None and not LANGUAGE_RE.fullmatch(language):
            f.bad(
                "language",
                f'must be a two-letter lowercase language code such as "en" or "it" '
                f'(got "{_short(language)}")',
            )
        if language is not None and LANGUAGE_RE.fullmatch(language):
            self.language = language
        description = f.text("description") or ""
        author = f.text("author") or ""
        prompts = self.conversation_prompts(f)
        defaults = self.defaults(f)
        rounds: list[Round] = []
        for i, node in enumerate(f.maps("rounds", required="at least one round is required")):
            built = self.round(node, f"rounds[{i}]", defaults)
            if built is not None:
                rounds.append(built)
        if self.problems:
            return None
        return Pack(
            id=pack_id or "",
            title=title or "",
            language=language or "",
            rounds=tuple(rounds),
            description=description,
            author=author,
            conversation_prompts=prompts,
        )

    def conversation_prompts(self, pack: _Fields) -> tuple[str, ...]:
        """Coffee pairing's conversation prompts: a text or a list of texts (none: built-in ones)."""
        items = pack.strings("conversation_prompts")
        if len(items) > CONVERSATION_PROMPTS_MAX:
            pack.bad(
                "conversation_prompts",
                f"at most {CONVERSATION_PROMPTS_MAX} prompts, got {len(items)}",
                at_key=True,
            )
        for item in items:
            if len(item.text) > CONVERSATION_PROMPT_MAX:
                self.problem(
                    item.line,
                    item.path,
                    f"at most {CONVERSATION_PROMPT_MAX} characters, got {len(item.text)}",
                )
        self.no_duplicates(items, "prompt", "")
        return tuple(item.text for item in items)

    def defaults(self, pack: _Fields) -> _Defaults:
        node = pack.value("defaults")
        if node is None:
            return _Defaults()
        f = self.fields(node, "defaults", DEFAULTS_FIELDS, "defaults", "time_limit, points, ...")
        if f is None:
            return _Defaults(time_limit=None, points=None)
        time_limit = f.integer("time_limit", 5, 3600, default=DEFAULT_TIME_LIMIT)
        points = f.integer("points", 1, 10000, default=DEFAULT_POINTS)
        return _Defaults(
            time_limit=time_limit if f.valid("time_limit") else None,
            points=points if f.valid("points") else None,
            typo_tolerance=f.typo_tolerance("typo_tolerance", DEFAULT_TYPO_TOLERANCE),
            numbers=f.boolean("numbers", DEFAULT_NUMBERS),
        )

    # -- rounds -------------------------------------------------------------------

    def round(self, node: Node, path: str, defaults: _Defaults) -> Round | None:
        if not isinstance(node, MappingNode):
            self.problem(
                _line(node),
                path,
                f"a round must be a mapping with kind and title, not {_describe(node)}",
            )
            return None
        keys = {k.value for k, _ in node.value if isinstance(k, ScalarNode)}
        kind_node = next(
            (v for k, v in node.value if isinstance(k, ScalarNode) and k.value == "kind"), None
        )
        kind: str | None = None
        if kind_node is None or (isinstance(kind_node, ScalarNode) and kind_node.tag == _NULL):
            self.problem(
                _line(node), _join(path, "kind"), 'is required ("riddles", "story" or "whoswho")'
            )
        elif not isinstance(kind_node, ScalarNode) or kind_node.value.strip() not in ROUND_KINDS:
            self.problem(
                _line(kind_node),
                _join(path, "kind"),
                f'must be "riddles", "story" or "whoswho", not {_describe(kind_node)}',
            )
        else:
            kind = kind_node.value.strip()
        if kind is None:
            # Guess from the content so the rest of the round is still checked.
            if "riddles" in keys and "prompts" not in keys:
                kind = "riddles"
            elif "prompts" in keys and "riddles" not in keys:
                kind = "story"
            else:
                return None
        if kind == "riddles":
            return self.riddle_round(node, path, defaults)
        if kind == "whoswho":
            return self.whoswho_round(node, path, defaults)
        return self.story_round(node, path)

    def whoswho_round(self, node: Node, path: str, defaults: _Defaults) -> WhosWhoRound | None:
        """A "Who's who" round: prompts players answer privately, then played as riddles."""
        f = self.fields(node, path, WHOSWHO_ROUND_FIELDS, "a round", "kind, title and prompts")
        if f is None:
            return None
        title = f.text("title", required=True)
        prompts = f.strings("prompts", required="at least one prompt is required")
        if len(prompts) > WHOSWHO_PROMPTS_MAX:
            f.bad(
                "prompts",
                f"at most {WHOSWHO_PROMPTS_MAX} prompts, got {len(prompts)}",
                at_key=True,
            )
        for item in prompts:
            if len(item.text) > WHOSWHO_PROMPT_MAX:
                self.problem(
                    item.line,
                    item.path,
                    f"at most {WHOSWHO_PROMPT_MAX} characters, got {len(item.text)}",
                )
        self.no_duplicates(prompts, "prompt", path)
        return WhosWhoRound(
            title=title or "",
            prompts=tuple(item.text for item in prompts),
            max_answers=f.integer("max_answers", 1, 3, default=3),
            questions=f.integer("questions", 1, WHOSWHO_QUESTIONS_MAX, default=10),
            time_limit=f.integer("time_limit", 5, 600, default=45),
            points=f.integer("points", 1, 10000, default=defaults.points or DEFAULT_POINTS),
        )

    def riddle_round(self, node: Node, path: str, defaults: _Defaults) -> RiddleRound | None:
        f = self.fields(node, path, RIDDLE_ROUND_FIELDS, "a round", "kind, title and riddles")
        if f is None:
            return None
        title = f.text("title", required=True)
        riddles: list[Riddle] = []
        for i, rnode in enumerate(f.maps("riddles", required="at least one riddle is required")):
            riddle = self.riddle(rnode, _join(path, f"riddles[{i}]"), defaults)
            if riddle is not None:
                riddles.append(riddle)
        return RiddleRound(title=title or "", riddles=tuple(riddles))

    def story_round(self, node: Node, path: str) -> StoryRound | None:
        f = self.fields(node, path, STORY_ROUND_FIELDS, "a round", "kind, title and prompts")
        if f is None:
            return None
        title = f.text("title", required=True)
        prompts: list[StoryPrompt] = []
        for i, pnode in enumerate(f.maps("prompts", required="at least one prompt is required")):
            prompt = self.prompt(pnode, _join(path, f"prompts[{i}]"))
            if prompt is not None:
                prompts.append(prompt)
        visibility: Visibility = "full"
        chosen = f.choice("visibility", VISIBILITIES)
        if chosen == "chain":
            visibility = "chain"
        return StoryRound(
            title=title or "",
            prompts=tuple(prompts),
            turns_per_player=f.integer("turns_per_player", 1, 10, default=2),
            seconds_per_turn=f.integer("seconds_per_turn", 10, 600, default=60),
            max_chars=f.integer("max_chars", 20, 500, default=160),
            visibility=visibility,
            vote_seconds=f.integer("vote_seconds", 0, 600, default=0),
        )

    def prompt(self, node: Node, path: str) -> StoryPrompt | None:
        f = self.fields(node, path, PROMPT_FIELDS, "a prompt", "opening")
        if f is None:
            return None
        opening = f.text("opening", required=True)
        words = f.strings("must_include")
        self.no_duplicates(words, "word", path)
        theme = f.text("theme") or ""
        return StoryPrompt(
            opening=opening or "", must_include=tuple(w.text for w in words), theme=theme
        )

    # -- riddles ------------------------------------------------------------------

    def riddle(self, node: Node, path: str, defaults: _Defaults) -> Riddle | None:
        f = self.fields(node, path, RIDDLE_FIELDS, "a riddle", "text and answers")
        if f is None:
            return None
        text = f.text("text", required=True, max_len=RIDDLE_TEXT_MAX)
        answers = f.strings("answers", required="at least one answer is required")
        if len(answers) > ANSWERS_MAX:
            f.bad(
                "answers",
                f"at most {ANSWERS_MAX} answers per riddle, got {len(answers)}",
                at_key=True,
            )
        self.answer_lengths(answers)
        self.no_duplicates(answers, "answer", path)

        time_limit = f.integer(
            "time_limit", 5, 3600, default=defaults.time_limit or DEFAULT_TIME_LIMIT
        )
        points = f.integer("points", 1, 10000, default=defaults.points or DEFAULT_POINTS)
        # The limits hints are checked against; None when unknown because invalid.
        known_time = time_limit if f.has("time_limit") else defaults.time_limit
        known_points = points if f.has("points") else defaults.points
        if not f.valid("time_limit"):
            known_time = None
        if not f.valid("points"):
            known_points = None

        options = f.strings("options") if f.has("options") else []
        if f.has("options"):
            if not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
                f.bad(
                    "options",
                    f"multiple choice needs {OPTIONS_MIN} to {OPTIONS_MAX} options, "
                    f"got {len(options)}",
                    at_key=True,
                )
            self.no_duplicates(options, "option", path, as_matched=True)
            choices = {_norm(o.text, self.language) for o in options}
            if options:
                for answer in answers:
                    if _norm(answer.text, self.language) not in choices:
                        self.problem(
                            answer.line,
                            answer.path,
                            f'"{_short(answer.text)}" is not one of the options',
                        )

        near = self.near_answers(f, answers)
        hints = self.hints(f, known_time, known_points)
        return Riddle(
            text=text or "",
            answers=tuple(a.text for a in answers),
            time_limit=time_limit,
            points=points,
            near=tuple(near),
            hints=tuple(hints),
            options=tuple(o.text for o in options),
            typo_tolerance=f.typo_tolerance("typo_tolerance", defaults.typo_tolerance),
            numbers=f.boolean("numbers", defaults.numbers),
            explanation=f.text("explanation") or "",
        )

    def near_answers(self, riddle: _Fields, answers: list[_Item]) -> list[NearAnswer]:
        accepted: dict[str, _Item] = {}
        for answer in answers:
            accepted.setdefault(_norm(answer.text, self.language), answer)
        seen: dict[str, _Item] = {}
        result: list[NearAnswer] = []
        count = 0
        for i, node in enumerate(riddle.maps("near")):
            path = riddle.sub(f"near[{i}]")
            f = self.fields(node, path, NEAR_FIELDS, "a near answer", "answers and nudge")
            if f is None:
                continue
            items = f.strings("answers", required="at least one near answer is required")
            count += len(items)
            self.answer_lengths(items)
            for item in items:
                key = _norm(item.text, self.language)
                if key in accepted:
                    self.problem(
                        item.line,
                        item.path,
                        f'"{_short(item.text)}" is also an accepted answer '
                        f"({_relative(accepted[key].path, riddle.path)})",
                    )
                elif key in seen:
                    self.problem(
                        item.line,
                        item.path,
                        f"duplicate near answer (same as {_relative(seen[key].path, riddle.path)})",
                    )
                else:
                    seen[key] = item
            nudge = f.text("nudge", required=True)
            result.append(NearAnswer(answers=tuple(a.text for a in items), nudge=nudge or ""))
        if count > NEAR_ANSWERS_MAX:
            riddle.bad(
                "near",
                f"at most {NEAR_ANSWERS_MAX} near answers per riddle "
                f"(all its near answers together), got {count}",
                at_key=True,
            )
        return result

    def answer_lengths(self, items: Iterable[_Item]) -> None:
        for item in items:
            if len(item.text) > ANSWER_MAX_CHARS:
                self.problem(
                    item.line,
                    item.path,
                    f"an answer is at most {ANSWER_MAX_CHARS} characters, as a guess is "
                    f"(got {len(item.text)})",
                )

    def hints(self, riddle: _Fields, time_limit: int | None, points: int | None) -> list[Hint]:
        result: list[Hint] = []
        previous: tuple[int, str] | None = None
        total_cost = 0
        for i, node in enumerate(riddle.maps("hints")):
            path = riddle.sub(f"hints[{i}]")
            f = self.fields(node, path, HINT_FIELDS, "a hint", "text, after and cost")
            if f is None:
                continue
            text = f.text("text", required=True)
            after = f.integer("after", 0, None, default=0)
            cost = f.integer("cost", 0, None, default=0)
            if f.valid("after") and f.has("after"):
                if time_limit is not None and after >= time_limit:
                    f.bad("after", f"must be less than the riddle's time_limit ({time_limit})")
                if previous is not None and after < previous[0]:
                    f.bad(
                        "after",
                        f"hints must unlock in order: {after} is earlier than "
                        f"{_relative(previous[1], riddle.path)}.after ({previous[0]})",
                    )
            if f.valid("after"):
                previous = (after, path)
            total_cost += cost
            result.append(Hint(text=text or "", after=after, cost=cost))
        if result and points is not None and total_cost >= points:
            riddle.bad(
                "hints",
                f"hints cost {total_cost} points in total, which must be less than "
                f"the riddle's {points} points",
                at_key=True,
            )
        return result

    def no_duplicates(
        self, items: Iterable[_Item], what: str, base: str, *, as_matched: bool = False
    ) -> None:
        """Refuse repeats; ``as_matched`` also refuses items the matcher can't tell apart."""
        seen: dict[str, _Item] = {}
        for item in items:
            key = _norm(item.text, self.language if as_matched else "")
            if key in seen:
                first = _relative(seen[key].path, base)
                self.problem(item.line, item.path, f"duplicate {what} (same as {first})")
            else:
                seen[key] = item

    # -- mappings -----------------------------------------------------------------

    def fields(
        self, node: Node, path: str, allowed: Sequence[str], what: str, expected: str
    ) -> _Fields | None:
        """Check that ``node`` is a mapping with only ``allowed`` keys; None if not a mapping."""
        if not isinstance(node, MappingNode):
            self.problem(
                _line(node),
                path,
                f"{what} must be a mapping with {expected}, not {_describe(node)}",
            )
            return None
        entries: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            if key.tag == _MERGE:
                continue
            if not isinstance(key, ScalarNode):
                self.problem(_line(key), path, "field names must be plain text")
                continue
            name = str(key.value)
            if name in entries:
                first = _line(entries[name][0])
                self.problem(
                    _line(key),
                    _join(path, name),
                    f"duplicate field (first given at line {first})"
                    if first
                    else "duplicate field",
                )
                continue
            entries[name] = (key, value)
        # Merge keys ("<<: *base") add the fields the mapping does not set itself.
        for key, value in self.merged(node, path):
            entries.setdefault(str(key.value), (key, value))
        for name, (key, _) in entries.items():
            if name not in allowed:
                close = difflib.get_close_matches(name, allowed, n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else ""
                self.problem(_line(key), _join(path, name), f"unknown field{hint}")
        known = {name: pair for name, pair in entries.items() if name in allowed}
        return _Fields(self, node, path, known)

    def merged(self, node: MappingNode, path: str) -> list[tuple[ScalarNode, Node]]:
        pairs: list[tuple[ScalarNode, Node]] = []
        for key, value in node.value:
            if key.tag != _MERGE:
                continue
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in sources:
                if not isinstance(source, MappingNode):
                    self.problem(_line(source), path, "a merge (<<) must refer to mappings")
                    continue
                # check_tree has ruled out cycles, so this recursion ends.
                own = [(k, v) for k, v in source.value if k.tag != _MERGE]
                pairs.extend((k, v) for k, v in own if isinstance(k, ScalarNode))
                pairs.extend(self.merged(source, path))
        return pairs

    def scalar_int(self, node: ScalarNode) -> int:
        value: int = self._constructor.construct_yaml_int(node)
        return value

    def scalar_bool(self, node: ScalarNode) -> bool:
        value: bool = self._constructor.construct_yaml_bool(node)
        return value


def _clean(raw: str) -> str | None:
    """Strip a string; None if it holds lone surrogates (from a bad \\u escape)."""
    text = raw.strip()
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        # YAML decodes "\ud83d\ude00" as two lone halves; JSON means one emoji.
        try:
            text = text.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            return None
    return text


class _Fields:
    """The known fields of one mapping, with typed getters that record problems."""

    def __init__(
        self, checker: _Checker, node: MappingNode, path: str, entries: dict[str, tuple[Node, Node]]
    ) -> None:
        self.c = checker
        self.node = node
        self.path = path
        self.entries = entries
        self.invalid: set[str] = set()

    def sub(self, name: str) -> str:
        return _join(self.path, name)

    def value(self, name: str) -> Node | None:
        """The field's value node; None when absent or null (null means "not given")."""
        pair = self.entries.get(name)
        if pair is None or (isinstance(pair[1], ScalarNode) and pair[1].tag == _NULL):
            return None
        return pair[1]

    def has(self, name: str) -> bool:
        return self.value(name) is not None

    def valid(self, name: str) -> bool:
        """False once a problem has been recorded for this field."""
        return name not in self.invalid

    def line(self, name: str) -> int | None:
        pair = self.entries.get(name)
        return _line(pair[0]) if pair is not None else _line(self.node)

    def bad(self, name: str, message: str, *, at_key: bool = False) -> None:
        """Record a problem with a field, at its value's line (or its key's)."""
        self.invalid.add(name)
        pair = self.entries.get(name)
        if pair is None:
            line = _line(self.node)
        else:
            line = _line(pair[0]) if at_key else _line(pair[1])
        self.c.problem(line, self.sub(name), message)

    def missing(self, name: str, message: str = "is required") -> None:
        self.invalid.add(name)
        line = _line(self.entries[name][1]) if name in self.entries else _line(self.node)
        self.c.problem(line, self.sub(name), message)

    def text(self, name: str, *, required: bool = False, max_len: int | None = None) -> str | None:
        """A string field (stripped). Unquoted numbers and booleans count as their text."""
        node = self.value(name)
        if node is None:
            if required:
                self.missing(name)
            return None
        if not isinstance(node, ScalarNode):
            self.bad(name, f"expected text, got {_describe(node)}")
            return None
        text = _clean(str(node.value))
        if text is None:
            self.bad(name, "contains an invalid \\u escape")
            return None
        if required and not text:
            self.bad(name, "must not be empty")
            return None
        if max_len is not None and len(text) > max_len:
            self.bad(name, f"is {len(text)} characters long, the limit is {max_len}")
            return None
        return text

    def integer(self, name: str, low: int, high: int | None, *, default: int | None = None) -> int:
        """An int field within [low, high]; ``default`` (or 0) when absent or invalid."""
        fallback = default if default is not None else 0
        node = self.value(name)
        if node is None:
            return fallback
        if not isinstance(node, ScalarNode) or node.tag != _INT:
            self.bad(name, f"expected a whole number, got {_describe(node)}")
            return fallback
        value = self.c.scalar_int(node)
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.bad(name, f"must be {bounds}, got {value}")
            return fallback
        return value

    def boolean(self, name: str, default: bool) -> bool:
        node = self.value(name)
        if node is None:
            return default
        if not isinstance(node, ScalarNode) or node.tag != _BOOL:
            self.bad(name, f"expected true or false, got {_describe(node)}")
            return default
        return self.c.scalar_bool(node)

    def choice(self, name: str, choices: Sequence[str]) -> str | None:
        node = self.value(name)
        if node is None:
            return None
        if isinstance(node, ScalarNode) and node.tag == _STR and node.value.strip() in choices:
            return str(node.value).strip()
        allowed = " or ".join(f'"{c}"' for c in choices)
        self.bad(name, f"must be {allowed}, not {_describe(node)}")
        return None

    def typo_tolerance(self, name: str, default: TypoTolerance) -> TypoTolerance:
        node = self.value(name)
        if node is None:
            return default
        if isinstance(node, ScalarNode):
            if node.tag == _STR and node.value.strip() == "auto":
                return "auto"
            if node.tag == _INT:
                value = self.c.scalar_int(node)
                if 0 <= value <= 3:
                    return value
        self.bad(name, f'must be "auto" or a number of edits from 0 to 3, not {_describe(node)}')
        return default

    def strings(self, name: str, *, required: str | None = None) -> list[_Item]:
        """A non-empty string, or a list of non-empty strings.

        ``required``: the message when the field is absent or an empty list.
        """
        node = self.value(name)
        if node is None:
            if required is not None:
                self.missing(name, required)
            return []
        if isinstance(node, ScalarNode):
            text = self.text(name)
            if text == "":
                self.bad(name, "must not be empty")
            return [_Item(text, _line(node), self.sub(name))] if text else []
        if not isinstance(node, SequenceNode):
            self.bad(name, f"expected text or a list of texts, got {_describe(node)}")
            return []
        if not node.value and required is not None:
            self.bad(name, required, at_key=True)
            return []
        items: list[_Item] = []
        for i, child in enumerate(node.value):
            path = self.sub(f"{name}[{i}]")
            if not isinstance(child, ScalarNode) or child.tag == _NULL:
                self.invalid.add(name)
                self.c.problem(_line(child), path, f"expected text, got {_describe(child)}")
                continue
            text = _clean(str(child.value))
            if text is None:
                self.invalid.add(name)
                self.c.problem(_line(child), path, "contains an invalid \\u escape")
            elif not text:
                self.invalid.add(name)
                self.c.problem(_line(child), path, "must not be empty")
            else:
                items.append(_Item(text, _line(child), path))
        return items

    def maps(self, name: str, *, required: str | None = None) -> list[Node]:
        """A list of (what should be) mappings; the caller checks each item.

        ``required``: the message when the field is absent or an empty list.
        """
        node = self.value(name)
        if node is None:
            if required is not None:
                self.missing(name, required)
            return []
        if not isinstance(node, SequenceNode):
            self.bad(name, f"expected a list, got {_describe(node)}")
            return []
        if not node.value and required is not None:
            self.bad(name, required, at_key=True)
            return []
        return list(node.value)
