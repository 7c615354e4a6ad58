"""The typed command table: each inbound message class, the rule it runs.

A command is one service call: ``GameService.execute`` with a rule built
from the typed message. The rules themselves live in ``game/``; this table
only picks the rule and the fields it takes, and shapes the ack's ``result``.
Every command first checks that the room is open (and, for players, that
they are still in it), inside the rule, so the check and the change are one
atomic step.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import protocol
from ..errors import ErrorCode, NotFound, RitrovoError, StoreUnavailable
from ..game import coffee, flow, riddles, rooms, whoswho
from ..game.models import Room
from ..game.pack import Pack
from ..service import GameService

log = logging.getLogger(__name__)

Rule = Callable[[Room, Pack | None, float], Any]
M = TypeVar("M", bound=protocol.Message)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who sends a command, to which room; ``player_id`` is empty for the host.

    ``deadline`` (``time.time()``): a command another process sent here is
    refused with ``busy`` if it would be applied after it, since its sender
    has stopped waiting by then (edge/routing.py).
    """

    service: GameService
    code: str
    player_id: str = ""
    deadline: float | None = None

    async def apply(self, rule: Rule) -> Any:
        deadline = self.deadline
        if deadline is not None:
            inner = rule

            def rule(room: Room, pack: Pack | None, now: float) -> Any:
                if time.time() > deadline:
                    raise StoreUnavailable("the room was too busy; try again", code=ErrorCode.BUSY)
                return inner(room, pack, now)

        _, result = await self.service.execute(self.code, rule)
        return result


Command = Callable[[Caller, Any], Awaitable[Any]]
PLAYER_COMMANDS: dict[type[protocol.Message], Command] = {}
HOST_COMMANDS: dict[type[protocol.Message], Command] = {}


Handler = Callable[[Caller, M], Awaitable[Any]]


def _register(
    table: dict[type[protocol.Message], Command], kind: type[M]
) -> Callable[[Handler[M]], Handler[M]]:
    def register(command: Handler[M]) -> Handler[M]:
        table[kind] = command
        return command

    return register


def player(kind: type[M]) -> Callable[[Handler[M]], Handler[M]]:
    """Register the handler of a player's message."""
    return _register(PLAYER_COMMANDS, kind)


def host(kind: type[M]) -> Callable[[Handler[M]], Handler[M]]:
    """Register the handler of a host command."""
    return _register(HOST_COMMANDS, kind)


def _member(room: Room, player_id: str) -> None:
    rooms.require_open(room)
    rooms.get_player(room, player_id)


async def _host_rule(caller: Caller, rule: Rule) -> Any:
    def guarded(room: Room, pack: Pack | None, now: float) -> Any:
        rooms.require_open(room)
        return rule(room, pack, now)

    return await caller.apply(guarded)


# -- players -------------------------------------------------------------


@player(protocol.GuessMsg)
async def guess(caller: Caller, msg: protocol.GuessMsg) -> dict[str, Any]:
    def rule(room: Room, pack: Pack | None, now: float) -> dict[str, Any]:
        _member(room, caller.player_id)
        outcome = riddles.guess(room, pack, caller.player_id, msg.text, now)
        return {"verdict": outcome.verdict, "nudge": outcome.nudge, "points": outcome.points}

    result: dict[str, Any] = await caller.apply(rule)
    return result


@player(protocol.Hint)
async def hint(caller: Caller, msg: protocol.Hint) -> dict[str, Any]:
    def rule(room: Room, pack: Pack | None, now: float) -> dict[str, Any]:
        _member(room, caller.player_id)
        return {"hint": riddles.open_hint(room, pack, caller.player_id, now)}

    result: dict[str, Any] = await caller.apply(rule)
    return result


@player(protocol.Line)
async def line(caller: Caller, msg: protocol.Line) -> None:
    def rule(room: Room, pack: Pack | None, now: float) -> None:
        _member(room, caller.player_id)
        flow.submit_line(room, pack, caller.player_id, msg.text, now)

    await caller.apply(rule)


@player(protocol.Vote)
async def vote(caller: Caller, msg: protocol.Vote) -> None:
    def rule(room: Room, pack: Pack | None, now: float) -> None:
        _member(room, caller.player_id)
        flow.vote(room, pack, caller.player_id, msg.team, now)

    await caller.apply(rule)


@player(protocol.Leave)
async def leave(caller: Caller, msg: protocol.Leave) -> None:
    def rule(room: Room, pack: Pack | None, now: float) -> None:
        flow.leave(room, pack, caller.player_id, now)

    await caller.apply(rule)


@player(protocol.SetMentoringRole)
async def set_mentoring_role(caller: Caller, msg: protocol.SetMentoringRole) -> None:
    def rule(room: Room, pack: Pack | None, now: float) -> None:
        _member(room, caller.player_id)
        coffee.set_mentoring_role(room, caller.player_id, msg.role)

    await caller.apply(rule)


@player(protocol.WhosWhoAnswer)
async def whoswho_answer(caller: Caller, msg: protocol.WhosWhoAnswer) -> dict[str, int]:
    # Random ids, drawn once here so that a retried rule names the answers the
    # same: the room's counter would tell the host which answers came together.
    new_ids = [secrets.token_urlsafe(6) for _ in range(whoswho.NEW_IDS)]

    def rule(room: Room, pack: Pack | None, now: float) -> dict[str, int]:
        _member(room, caller.player_id)
        given = [(item.prompt, item.text) for item in msg.answers]
        entry = whoswho.answer(room, pack, caller.player_id, given, msg.line, now, new_ids)
        return {"answers": len(entry.answers)}

    result: dict[str, int] = await caller.apply(rule)
    return result


@player(protocol.WhosWhoChoose)
async def whoswho_choose(caller: Caller, msg: protocol.WhosWhoChoose) -> dict[str, str]:
    def rule(room: Room, pack: Pack | None, now: float) -> dict[str, str]:
        _member(room, caller.player_id)
        chosen = whoswho.choose(room, pack, caller.player_id, now, chosen=msg.player, name=msg.name)
        return {"chosen": chosen}

    result: dict[str, str] = await caller.apply(rule)
    return result


# -- the host --------------------------------------------------------------


@host(protocol.CreateTeam)
async def create_team(caller: Caller, msg: protocol.CreateTeam) -> dict[str, str]:
    team_id: str = await _host_rule(caller, lambda r, p, now: rooms.create_team(r, msg.name).id)
    return {"team": team_id}


@host(protocol.RenameTeam)
async def rename_team(caller: Caller, msg: protocol.RenameTeam) -> None:
    await _host_rule(caller, lambda r, p, now: rooms.rename_team(r, msg.team, msg.name))


@host(protocol.DeleteTeam)
async def delete_team(caller: Caller, msg: protocol.DeleteTeam) -> None:
    await _host_rule(caller, lambda r, p, now: rooms.delete_team(r, msg.team))


@host(protocol.MovePlayer)
async def move_player(caller: Caller, msg: protocol.MovePlayer) -> None:
    await _host_rule(caller, lambda r, p, now: flow.move_player(r, p, msg.player, msg.team, now))


@host(protocol.Kick)
async def kick(caller: Caller, msg: protocol.Kick) -> None:
    await _host_rule(caller, lambda r, p, now: flow.kick(r, p, msg.player, now))


@host(protocol.Lock)
async def lock(caller: Caller, msg: protocol.Lock) -> None:
    await _host_rule(caller, lambda r, p, now: rooms.set_locked(r, msg.locked))


@host(protocol.Close)
async def close(caller: Caller, msg: protocol.Close) -> None:
    # The session's keepsake is kept by its circle from the commit itself (GameService._ended).
    await _host_rule(caller, lambda r, p, now: flow.close(r, now))


@host(protocol.ChoosePack)
async def choose_pack(caller: Caller, msg: protocol.ChoosePack) -> None:
    # Looked up here, not in the rule: an uploaded pack is read from the store.
    # Another room's upload is refused as an unknown pack is.
    if await caller.service.pack_for_room(caller.code, msg.pack) is None:
        raise NotFound("no such pack", code=ErrorCode.PACK_NOT_FOUND)
    await _host_rule(caller, lambda r, p, now: flow.choose_pack(r, msg.pack))


@host(protocol.Next)
async def next_step(caller: Caller, msg: protocol.Next) -> dict[str, str]:
    # Drawn once here, so that a retried rule draws the same "Who's who"
    # questions, and secret: a seed from the room would let anyone replay the draw.
    seed = secrets.randbits(128)
    step: str = await _host_rule(caller, lambda r, p, now: flow.advance(r, p, now, seed))
    _remember(caller)  # the teams as the game goes on (a write only when they changed)
    return {"step": step}


@host(protocol.Pause)
async def pause(caller: Caller, msg: protocol.Pause) -> None:
    await _host_rule(caller, flow.pause)


@host(protocol.Resume)
async def resume(caller: Caller, msg: protocol.Resume) -> None:
    await _host_rule(caller, flow.resume)


@host(protocol.Extend)
async def extend(caller: Caller, msg: protocol.Extend) -> None:
    await _host_rule(caller, lambda r, p, now: flow.extend(r, p, msg.seconds, now))


@host(protocol.Reveal)
async def reveal(caller: Caller, msg: protocol.Reveal) -> None:
    await _host_rule(caller, flow.reveal)


@host(protocol.Skip)
async def skip(caller: Caller, msg: protocol.Skip) -> None:
    await _host_rule(caller, riddles.skip)


@host(protocol.AcceptGuess)
async def accept_guess(caller: Caller, msg: protocol.AcceptGuess) -> Any:
    return await _host_rule(
        caller, lambda r, p, now: riddles.accept_guess(r, p, msg.team, msg.guess, now)
    )


@host(protocol.HideLine)
async def hide_line(caller: Caller, msg: protocol.HideLine) -> None:
    await _host_rule(caller, lambda r, p, now: flow.hide_line(r, p, msg.team, msg.line, msg.hidden))


@host(protocol.AutoAdvance)
async def auto_advance(caller: Caller, msg: protocol.AutoAdvance) -> None:
    await _host_rule(caller, lambda r, p, now: flow.set_auto_advance(r, msg.enabled))


@host(protocol.EndWriting)
async def end_writing(caller: Caller, msg: protocol.EndWriting) -> None:
    await _host_rule(caller, flow.end_writing)


@host(protocol.CloseVoting)
async def close_voting(caller: Caller, msg: protocol.CloseVoting) -> None:
    await _host_rule(caller, flow.close_voting)


@host(protocol.Finish)
async def finish(caller: Caller, msg: protocol.Finish) -> None:
    await _host_rule(caller, lambda r, p, now: flow.finish(r, now, p))  # recorded as close is


def _pairing_result(pairing: Any) -> dict[str, int]:
    return {"rotation": pairing.rotation, "groups": len(pairing.groups), "seed": pairing.seed}


# -- circles: what a room of a circle weighs and remembers ----------------------


async def _circle_history(
    caller: Caller, refuse: Callable[[Room], None] | None = None
) -> tuple[list[list[str]], list[list[str]]]:
    """The circle's coffee groups and team rosters of its other sessions, as this room's players.

    Read before the command: a retried rule weighs the same history, so it
    stays deterministic. Best effort, as recording is: a circle that cannot
    be read (whatever the error) leaves the command to go on without its
    history. ``refuse``: a check of the rule's that needs no history, made
    first, so that a command the rule would refuse reads no circle.
    """
    circles = caller.service.circles
    if circles is None:
        return [], []
    room = await caller.service.load(caller.code)
    if refuse is not None:
        refuse(room)
    try:
        return await circles.history(room)
    except RitrovoError as exc:
        log.warning("could not read the circle's history: %s", exc.code)
    except Exception:  # best effort: the command goes on without it
        log.exception("could not read the circle's history")
    return [], []


def _remember(caller: Caller) -> None:
    """Record the room's coffee groups and teams as its session of its circle, if it has one.

    After the command's answer, in the background (``CircleService.record_soon``):
    the command is done whatever the circle's store says or how long it takes,
    and the next recorded command writes the whole session again.
    """
    circles = caller.service.circles
    if circles is not None:
        circles.record_soon(caller.code, caller.service.current)


@host(protocol.MixTeams)
async def mix_teams(caller: Caller, msg: protocol.MixTeams) -> dict[str, int]:
    _, teams = await _circle_history(caller)
    assignment = await _host_rule(
        caller, lambda r, p, now: rooms.mix_teams(r, teams, now, seed=msg.seed)
    )
    _remember(caller)
    return {"players": len(assignment)}


@host(protocol.StartPairing)
async def start_pairing(caller: Caller, msg: protocol.StartPairing) -> dict[str, int]:
    groups, _ = await _circle_history(caller, coffee.require_rotation_left)
    pairing = await _host_rule(
        caller,
        lambda r, p, now: coffee.start(
            r, p, msg.seconds, now, mentoring=msg.mentoring, seed=msg.seed, history=groups
        ),
    )
    _remember(caller)
    return _pairing_result(pairing)


@host(protocol.ShufflePairing)
async def shuffle_pairing(caller: Caller, msg: protocol.ShufflePairing) -> dict[str, int]:
    groups, _ = await _circle_history(caller)
    pairing = await _host_rule(
        caller, lambda r, p, now: coffee.shuffle(r, now, seed=msg.seed, history=groups)
    )
    _remember(caller)
    return _pairing_result(pairing)


@host(protocol.WhosWhoHide)
async def whoswho_hide(caller: Caller, msg: protocol.WhosWhoHide) -> None:
    await _host_rule(caller, lambda r, p, now: whoswho.hide(r, p, msg.answer, msg.hidden))


@host(protocol.EndPairing)
async def end_pairing(caller: Caller, msg: protocol.EndPairing) -> None:
    await _host_rule(caller, lambda r, p, now: coffee.end(r))
