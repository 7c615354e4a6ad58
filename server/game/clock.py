"""The clock of an open question, as riddles and "Who's who" keep it.

A deadline, frozen while the host pauses (the seconds left are kept instead)
and moved on by the host's "+N s" (which also counts towards the question's
time limit, and so towards its scoring). Both rounds keep the same three
fields on their state and follow the same rules, written here once; each
round checks that a question is open and records its own change.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import BadRequest, Conflict, ErrorCode

MAX_EXTEND_SECONDS = 600


class Clocked(Protocol):
    deadline_at: float
    paused_remaining: float | None  # seconds left, while the host has paused
    extra_seconds: float  # added by the host's "extend"


def remaining(state: Clocked, now: float) -> float:
    """Seconds left (frozen while paused)."""
    if state.paused_remaining is not None:
        return state.paused_remaining
    return max(0.0, state.deadline_at - now)


def elapsed(state: Clocked, time_limit: float, now: float) -> float:
    """Seconds used so far, pauses excluded."""
    return max(0.0, time_limit + state.extra_seconds - remaining(state, now))


def pause(state: Clocked, now: float, what: str) -> None:
    """Stop the clock; refused when paused already, or when the time is up."""
    if state.paused_remaining is not None:
        raise Conflict("already paused", code=ErrorCode.ALREADY_PAUSED)
    _refuse_if_due(state, now, what)
    state.paused_remaining = state.deadline_at - now


def resume(state: Clocked, now: float) -> None:
    """Start the clock again with the seconds it had left."""
    if state.paused_remaining is None:
        raise Conflict("not paused", code=ErrorCode.NOT_PAUSED)
    state.deadline_at = now + state.paused_remaining
    state.paused_remaining = None


def extend(state: Clocked, seconds: object, now: float, what: str) -> None:
    """Give ``seconds`` more (1 to MAX_EXTEND_SECONDS, paused or not)."""
    if state.paused_remaining is None:
        _refuse_if_due(state, now, what)
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int)
        or not 1 <= seconds <= MAX_EXTEND_SECONDS
    ):
        raise BadRequest(
            f"seconds must be a whole number from 1 to {MAX_EXTEND_SECONDS}",
            code=ErrorCode.INVALID_FIELD,
        )
    state.extra_seconds += seconds
    if state.paused_remaining is not None:
        state.paused_remaining += seconds
    else:
        state.deadline_at += seconds


def _refuse_if_due(state: Clocked, now: float, what: str) -> None:
    # Due but not yet fired (the timer polls): too late to stop it or bring
    # it back (a pause would freeze it at zero, to wait for the host).
    if now >= state.deadline_at:
        raise Conflict(f"time is already up for this {what}", code=ErrorCode.TOO_LATE)
