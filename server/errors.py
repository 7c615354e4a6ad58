"""The one exception root of Ritrovo.

Every error a client may see is a ``RitrovoError`` subclass carrying a stable,
machine-readable ``code``. Only the edges (WebSocket handler, HTTP handlers)
turn them into ``{"type": "error", "code": ..., "message": ...}`` frames or
JSON bodies; the game rules and the stores just raise them.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every code a client may see in an ``error`` frame or an HTTP error body.

    The wire contract: ``protocol.py`` exposes it, ``web/js/protocol.js`` is
    generated from it, and a test keeps docs/protocol.md's table in step.
    """

    ALREADY_PAUSED = "already_paused"
    ALREADY_SOLVED = "already_solved"
    ALREADY_VOTING = "already_voting"
    ANSWER_NOT_FOUND = "answer_not_found"
    ANSWER_TOO_LONG = "answer_too_long"
    ANSWERS_CLOSED = "answers_closed"
    BAD_CIRCLE_TOKEN = "bad_circle_token"
    BAD_HOST_TOKEN = "bad_host_token"
    BINARY_NOT_SUPPORTED = "binary_not_supported"
    BODY_TOO_LARGE = "body_too_large"
    BUSY = "busy"
    CIRCLE_FULL = "circle_full"
    CIRCLE_NOT_FOUND = "circle_not_found"
    EMPTY_ANSWER = "empty_answer"
    EMPTY_GUESS = "empty_guess"
    EMPTY_LINE = "empty_line"
    EMPTY_NAME = "empty_name"
    EMPTY_ROOM_NAME = "empty_room_name"
    EMPTY_TEAM_NAME = "empty_team_name"
    FORBIDDEN = "forbidden"
    FRAME_TOO_LARGE = "frame_too_large"
    GAME_IN_PROGRESS = "game_in_progress"
    GAME_OVER = "game_over"
    GUESS_NOT_FOUND = "guess_not_found"
    GUESS_RATE_LIMITED = "guess_rate_limited"
    GUESS_TOO_LONG = "guess_too_long"
    HINT_LOCKED = "hint_locked"
    HOST_NOT_ALLOWED = "host_not_allowed"
    INTERNAL_ERROR = "internal_error"
    INVALID_ANSWER = "invalid_answer"
    INVALID_FIELD = "invalid_field"
    INVALID_GUESS = "invalid_guess"
    INVALID_JSON = "invalid_json"
    INVALID_LINE = "invalid_line"
    INVALID_MESSAGE = "invalid_message"
    INVALID_NAME = "invalid_name"
    INVALID_PACK = "invalid_pack"
    INVALID_ROOM_NAME = "invalid_room_name"
    INVALID_TEAM_NAME = "invalid_team_name"
    KICKED = "kicked"
    LAST_TEAM = "last_team"
    LINE_NOT_FOUND = "line_not_found"
    LINE_TOO_LONG = "line_too_long"
    MISSING_TYPE = "missing_type"
    NAME_TAKEN = "name_taken"
    NAME_TOO_LONG = "name_too_long"
    NO_FREE_CODE = "no_free_code"
    NO_MORE_GUESSES = "no_more_guesses"
    NO_MORE_HINTS = "no_more_hints"
    NO_OPEN_QUESTION = "no_open_question"
    NO_OPEN_RIDDLE = "no_open_riddle"
    NO_PACK = "no_pack"
    NO_PAIRING = "no_pairing"
    NO_PROMPTS = "no_prompts"
    NO_RIDDLE = "no_riddle"
    NO_STORY = "no_story"
    NO_TEAMS = "no_teams"
    NO_WHOSWHO = "no_whoswho"
    NOT_A_PROMPT = "not_a_prompt"
    NOT_ALLOWED = "not_allowed"
    NOT_AN_OPTION = "not_an_option"
    NOT_PAUSED = "not_paused"
    NOT_VOTING = "not_voting"
    NOT_WRITING = "not_writing"
    NOT_YOUR_TURN = "not_your_turn"
    NOTHING_TO_REVEAL = "nothing_to_reveal"
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"
    OWN_ANSWER = "own_answer"
    OWN_TEAM_VOTE = "own_team_vote"
    MEMBER_NOT_FOUND = "member_not_found"
    PACK_NOT_FOUND = "pack_not_found"
    PACK_TOO_COMPLEX = "pack_too_complex"
    PACK_TOO_LARGE = "pack_too_large"
    PAIRING_RUNNING = "pairing_running"
    PAUSED = "paused"
    PLAYER_NOT_FOUND = "player_not_found"
    QUESTION_CLOSED = "question_closed"
    QUESTION_OPEN = "question_open"
    RATE_LIMITED = "rate_limited"
    REQUEST_TIMEOUT = "request_timeout"
    RIDDLE_CLOSED = "riddle_closed"
    RIDDLE_OPEN = "riddle_open"
    RIDDLE_SKIPPED = "riddle_skipped"
    ROOM_CLOSED = "room_closed"
    ROOM_FULL = "room_full"
    ROOM_LOCKED = "room_locked"
    ROOM_NAME_TOO_LONG = "room_name_too_long"
    ROOM_NOT_FOUND = "room_not_found"
    ROUND_IN_PROGRESS = "round_in_progress"
    SERVER_RESTARTING = "server_restarting"
    STORE_UNAVAILABLE = "store_unavailable"
    TEAM_NAME_TAKEN = "team_name_taken"
    TEAM_NAME_TOO_LONG = "team_name_too_long"
    TEAM_NOT_FOUND = "team_not_found"
    TOO_FEW_PLAYERS = "too_few_players"
    TOO_LATE = "too_late"
    TOO_MANY_ANSWERS = "too_many_answers"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    TOO_MANY_CIRCLES = "too_many_circles"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    TOO_MANY_ROOMS = "too_many_rooms"
    TOO_MANY_ROTATIONS = "too_many_rotations"
    TOO_MANY_TEAMS = "too_many_teams"
    TOO_MANY_UPLOADS = "too_many_uploads"
    UNKNOWN_MEMBER = "unknown_member"
    UNKNOWN_TOKEN = "unknown_token"
    UNKNOWN_TYPE = "unknown_type"
    UNSUPPORTED_VERSION = "unsupported_version"
    VOTING_CLOSED = "voting_closed"


class RitrovoError(Exception):
    """Base of every error that is reported to a client."""

    http_status = 400

    def __init__(self, message: str = "", *, code: ErrorCode) -> None:
        super().__init__(message or self.__class__.__doc__ or str(code))
        # ValueError on a code that is not part of the wire contract (mypy
        # catches it first; this catches untyped callers).
        self.code = ErrorCode(code)

    @property
    def message(self) -> str:
        return str(self.args[0])

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message}


class BadRequest(RitrovoError, ValueError):
    """The message or request is malformed."""


class NotFound(RitrovoError, LookupError):
    """No such room, team or player."""

    http_status = 404


class Forbidden(RitrovoError, PermissionError):
    """This action needs the host token."""

    http_status = 403


class Misdirected(RitrovoError):
    """This server does not answer to the host the request names."""

    http_status = 421


class RequestTimeout(RitrovoError):
    """The request did not arrive in time."""

    http_status = 408


class Conflict(RitrovoError):
    """The action does not fit the room's current state."""

    http_status = 409


class LimitExceeded(RitrovoError):
    """A configured limit was reached."""

    http_status = 429


class PayloadTooLarge(LimitExceeded):
    """The upload is larger than the configured limit."""

    http_status = 413


class StoreUnavailable(RitrovoError, ConnectionError):
    """The state store cannot be reached; the game is paused until it returns."""

    http_status = 503
