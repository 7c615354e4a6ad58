"""The one exception root of Ritrovo.

Every error a client may see is a ``RitrovoError`` subclass carrying a stable,
machine-readable ``code``. Only the edges (WebSocket handler, HTTP handlers)
turn them into ``{"type": "error", "code": ..., "message": ...}`` frames or
JSON bodies; the game rules and the stores just raise them.
"""

from __future__ import annotations


class RitrovoError(Exception):
    """Base of every error that is reported to a client."""

    code = "error"
    http_status = 400

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0])

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message}


class BadRequest(RitrovoError, ValueError):
    """The message or request is malformed."""

    code = "bad_request"


class NotFound(RitrovoError, LookupError):
    """No such room, team or player."""

    code = "not_found"
    http_status = 404


class Forbidden(RitrovoError, PermissionError):
    """This action needs the host token."""

    code = "forbidden"
    http_status = 403


class Conflict(RitrovoError):
    """The action does not fit the room's current state."""

    code = "conflict"
    http_status = 409


class LimitExceeded(RitrovoError):
    """A configured limit was reached."""

    code = "limit_exceeded"
    http_status = 429


class PayloadTooLarge(LimitExceeded):
    """The upload is larger than the configured limit."""

    code = "payload_too_large"
    http_status = 413


class StoreUnavailable(RitrovoError, ConnectionError):
    """The state store cannot be reached; the game is paused until it returns."""

    code = "store_unavailable"
    http_status = 503
