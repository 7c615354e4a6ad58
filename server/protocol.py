"""The WebSocket protocol: inbound schemas and outbound message builders.

Every inbound frame is a JSON object with a ``type``; each type maps to one
typed schema below, checked by msgspec before any handler sees it. Anything
else is refused here with an ``error`` frame, so the game never sees a
malformed message. docs/protocol.md describes every message.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any, Literal

import msgspec
import orjson

from .errors import BadRequest

# Re-exported (the explicit alias tells mypy so): error codes are part of the wire contract.
from .errors import ErrorCode as ErrorCode  # noqa: PLC0414

# 2: after the first ``state``, changes come as ``patch`` frames; ``resync``.
PROTOCOL_VERSION = 2

# The room-code alphabet and length, shared with the web client (which checks
# a typed code before asking the server). Readable aloud: no 0/O, 1/I/L; 6
# characters of 31 symbols = 887 million codes, and failed attempts per
# address are rate-limited, so guessing one is hopeless.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6


class CloseCode(IntEnum):
    """Close codes the server sends (RFC 6455 leaves 4000-4999 to applications)."""

    NORMAL = 1000  # after the ack of ``leave``
    PROTOCOL_ERROR = 1002  # an unmasked client frame (edge/frames.py; RFC 6455 section 5.1)
    ABUSE = 1008  # policy violation: sustained flooding
    SERVICE_RESTART = 1012  # this process is shutting down: reconnect
    ROOM_CLOSED = 4000
    KICKED = 4001
    ROOM_GONE = 4004
    TOO_SLOW = 4008
    HELLO_TIMEOUT = 4010


class NoticeCode(StrEnum):
    """Codes of ``notice`` frames: news about the server, not about the room."""

    SERVICE_RESTART = "service_restart"
    STORE_UNAVAILABLE = "store_unavailable"
    STORE_AVAILABLE = "store_available"


class MessageType(StrEnum):
    """Types of the frames the server sends."""

    WELCOME = "welcome"
    STATE = "state"
    PATCH = "patch"
    YOU = "you"
    ACK = "ack"
    ERROR = "error"
    PONG = "pong"
    NOTICE = "notice"
    REMOVED = "removed"


class Message(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    type: str
    id: str | int | None = None  # echoed in the ack or error that answers it
    v: int = PROTOCOL_VERSION


# Opening messages: the first frame of a connection says who it is.
class Join(Message):
    room: str
    name: str
    team: str | None = None
    # In a room of a circle: the token this browser keeps for the circle, so a
    # returning member is recognised (22-64 URL-safe characters; ignored in
    # a room of no circle).
    device: str | None = None


class Rejoin(Message):
    room: str
    token: str


class Host(Message):
    room: str
    token: str


class Screen(Message):
    room: str


# Anyone, once in a room.
class Ping(Message):
    pass


class Resync(Message):
    """Ask for a full ``state``: the client cannot apply a ``patch`` to what it holds."""


# Players.
class GuessMsg(Message):
    text: str


class Hint(Message):
    pass


class Line(Message):
    text: str


class Vote(Message):
    team: str


class Leave(Message):
    pass


class SetMentoringRole(Message):
    """Coffee pairing's mentoring option: what the player is (null: neither)."""

    role: Literal["newcomer", "experienced"] | None


class WhosWhoAnswerItem(msgspec.Struct, forbid_unknown_fields=True):
    """One answer of ``whoswho_answer``: the prompt's index and the text."""

    prompt: int
    text: str


class WhosWhoAnswer(Message):
    """A player's answers in a "Who's who" round (none: they skip), and an optional line
    shown beside their name at the reveal."""

    answers: list[WhosWhoAnswerItem]
    line: str | None = None


class WhosWhoChoose(Message):
    """A player answers "Who wrote: ...?" for their team: a player's id or a typed name."""

    player: str | None = None
    name: str | None = None


# Host commands.
class CreateTeam(Message):
    name: str


class RenameTeam(Message):
    team: str
    name: str


class DeleteTeam(Message):
    team: str


class MovePlayer(Message):
    player: str
    team: str


class Kick(Message):
    player: str


class Lock(Message):
    locked: bool


class ChoosePack(Message):
    pack: str


class Extend(Message):
    seconds: int


class AcceptGuess(Message):
    team: str
    guess: int


class HideLine(Message):
    team: str
    line: int
    hidden: bool = True


class AutoAdvance(Message):
    enabled: bool


class MixTeams(Message):
    """Deal every player into the room's teams afresh (lobby), avoiding past team-mates."""

    seed: int | None = None


class StartPairing(Message):
    """Start a coffee pairing of the present players for ``seconds``."""

    seconds: int
    mentoring: bool = False
    seed: int | None = None


class ShufflePairing(Message):
    """Draw the running coffee pairing again with another seed."""

    seed: int | None = None


class WhosWhoHide(Message):
    """Hide a "Who's who" answer from play (or show it again), before the questions."""

    answer: str
    hidden: bool = True


class Bare(Message):
    """Base of the host commands with no fields."""


class Next(Bare):
    pass


class Pause(Bare):
    pass


class Resume(Bare):
    pass


class Reveal(Bare):
    pass


class Skip(Bare):
    pass


class EndWriting(Bare):
    pass


class CloseVoting(Bare):
    pass


class Finish(Bare):
    pass


class Close(Bare):
    pass


class EndPairing(Bare):
    pass


OPENING: dict[str, type[Message]] = {
    "join": Join,
    "rejoin": Rejoin,
    "host": Host,
    "screen": Screen,
}

PLAYER: dict[str, type[Message]] = {
    "ping": Ping,
    "resync": Resync,
    "guess": GuessMsg,
    "hint": Hint,
    "line": Line,
    "vote": Vote,
    "leave": Leave,
    "set_mentoring_role": SetMentoringRole,
    "whoswho_answer": WhosWhoAnswer,
    "whoswho_choose": WhosWhoChoose,
}

HOST: dict[str, type[Message]] = {
    "ping": Ping,
    "resync": Resync,
    "create_team": CreateTeam,
    "rename_team": RenameTeam,
    "delete_team": DeleteTeam,
    "move_player": MovePlayer,
    "kick": Kick,
    "lock": Lock,
    "close": Close,
    "choose_pack": ChoosePack,
    "next": Next,
    "pause": Pause,
    "resume": Resume,
    "extend": Extend,
    "reveal": Reveal,
    "skip": Skip,
    "accept_guess": AcceptGuess,
    "hide_line": HideLine,
    "auto_advance": AutoAdvance,
    "end_writing": EndWriting,
    "close_voting": CloseVoting,
    "finish": Finish,
    "mix_teams": MixTeams,
    "start_pairing": StartPairing,
    "shuffle_pairing": ShufflePairing,
    "end_pairing": EndPairing,
    "whoswho_hide": WhosWhoHide,
}

SCREEN: dict[str, type[Message]] = {"ping": Ping, "resync": Resync}

ALL_TYPES = set(OPENING) | set(PLAYER) | set(HOST)


def parse(frame: str | bytes, allowed: dict[str, type[Message]]) -> Message:
    """Decode and validate one inbound frame, or raise ``BadRequest`` with a precise code."""
    try:
        raw = orjson.loads(frame)
    except orjson.JSONDecodeError:
        raise BadRequest("the message is not valid JSON", code=ErrorCode.INVALID_JSON) from None
    if not isinstance(raw, dict):
        raise BadRequest("a message must be a JSON object", code=ErrorCode.INVALID_MESSAGE)
    kind = raw.get("type")
    if not isinstance(kind, str):
        raise BadRequest("a message needs a string field 'type'", code=ErrorCode.MISSING_TYPE)
    version = raw.get("v", PROTOCOL_VERSION)
    # Exactly the integer: True == 1 and 2.0 == 2 in Python, but neither is a version.
    if type(version) is not int or version != PROTOCOL_VERSION:
        raise BadRequest(
            f"unsupported protocol version (this server speaks {PROTOCOL_VERSION})",
            code=ErrorCode.UNSUPPORTED_VERSION,
        )
    schema = allowed.get(kind)
    if schema is None:
        if kind in ALL_TYPES:
            raise BadRequest(f"'{kind}' is not allowed here", code=ErrorCode.NOT_ALLOWED)
        raise BadRequest(f"unknown message type '{kind[:40]}'", code=ErrorCode.UNKNOWN_TYPE)
    try:
        return msgspec.convert(raw, type=schema, strict=True)
    except msgspec.ValidationError as exc:
        raise BadRequest(str(exc), code=ErrorCode.INVALID_FIELD) from None


def request_id_of(frame: str | bytes) -> str | int | None:
    """The ``id`` of a frame that failed validation, so its error can still be matched."""
    try:
        raw = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return None
    rid = raw.get("id") if isinstance(raw, dict) else None
    return rid if isinstance(rid, (str, int)) and not isinstance(rid, bool) else None


def encode(kind: str, **fields: Any) -> bytes:
    return orjson.dumps({"type": kind, "v": PROTOCOL_VERSION, **fields})


def error(code: ErrorCode, message: str, request_id: str | int | None = None) -> bytes:
    body: dict[str, Any] = {"code": code, "message": message}
    if request_id is not None:
        body["id"] = request_id
    return encode("error", **body)
