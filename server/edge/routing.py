"""A hot room's commands, run by the one process that owns it.

Processes that serve one busy room race for it: each commits with a
compare-and-set, and a process that lost a race learns so one round trip
later, catches up and tries again, while the winner, which knew at once,
has already committed its next batch. Under a burst the loser can lose many
times in a row, and its players wait. So the loser of a race becomes the
room's owner (``store.base.Claim``), and a process that knows another owns
the room sends it the room's commands instead (``ProcessMail``): the owner
runs them as if its own players had sent them, in its group commits, and
sends back each command's result or error, which this process turns into
the usual ``ack`` or ``error`` frame. Every process still fans the room's
changes out to its own connections from the published notices.

Ownership is an optimisation, never a condition of correctness: the version
check still decides every commit. A command whose owner has no listener
(it died) or has let its lease go is simply run here. Only a command the
owner received and never answered (it died or froze while running it) is
answered ``busy`` after ``FORWARD_TIMEOUT``: it may or may not have been
committed, as with a connection lost before its ack.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import OrderedDict
from typing import Any

import msgspec
import orjson

from .. import protocol
from ..errors import (
    BadRequest,
    Conflict,
    ErrorCode,
    Forbidden,
    LimitExceeded,
    NotFound,
    RitrovoError,
    StoreUnavailable,
)
from ..metrics import Metrics
from ..service import GameService
from ..store.base import ProcessMail
from .commands import HOST_COMMANDS, PLAYER_COMMANDS, Caller, Command

log = logging.getLogger(__name__)

FORWARD_TIMEOUT = 3.0  # seconds an owner has to answer a command sent to it
# An owner refuses to apply a command this long before its sender gives up on
# it: an answer that comes too late then never hides an applied change.
FORWARD_MARGIN = 0.5
SEEN = 10_000  # (sender, request) pairs an owner remembers, against a delivery twice
# The error classes a forwarded command may end with, by name, so the sender
# raises what the owner raised (the edges map classes to HTTP statuses).
_ERRORS: dict[str, type[RitrovoError]] = {
    cls.__name__: cls
    for cls in (BadRequest, Conflict, Forbidden, LimitExceeded, NotFound, StoreUnavailable)
}


class _NotTaken(Exception):
    """The owner did not get the command, or would not run it: run it here."""

    def __init__(self, reachable: bool) -> None:
        super().__init__()
        self.reachable = reachable


class Router:
    """Runs each command here, or at the process that owns its room."""

    def __init__(
        self,
        service: GameService,
        mail: ProcessMail,
        instance: str,
        metrics: Metrics | None = None,
        *,
        timeout: float = FORWARD_TIMEOUT,
    ) -> None:
        self.service = service
        self.mail = mail
        self.instance = instance
        self.metrics = metrics or Metrics()
        # Children looked up once: labels() validates and locks on every call,
        # and a hot room forwards thousands of commands a second.
        forwarded = self.metrics.forwarded
        self._sent, self._timed_out = forwarded.labels("sent"), forwarded.labels("timeout")
        self.timeout = timeout
        self._ids = itertools.count(1)
        # Commands sent and not answered yet: id -> (future of the answer, room, owner).
        self._pending: dict[int, tuple[asyncio.Future[dict[str, Any]], str, str]] = {}
        # What goes out with the next send, by destination: a burst of commands
        # (or of answers) to one process is one message, one round trip.
        self._outbox: dict[str, list[list[Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Commands run for other processes, by (sender, request): a message
        # delivered twice (a publish retried after its reply was lost) runs once.
        self._seen: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._closing = False

    async def start(self) -> None:
        """Receive the commands other processes send, and their answers."""
        await self.mail.receive_mail(self.instance, self.on_mail)

    async def run(self, caller: Caller, msg: protocol.Message, command: Command) -> Any:
        """``command(caller, msg)``: here, or at the room's owner when another process owns it."""
        owner = self.service.owner_elsewhere(caller.code)
        if owner is not None:
            try:
                return await self._forward(owner, caller, msg)
            except _NotTaken as exc:
                if exc.reachable:  # no longer the owner
                    self.service.note_owner(caller.code, None)
                else:
                    self.service.owner_unreachable(caller.code, owner)
        return await command(caller, msg)

    async def _forward(self, owner: str, caller: Caller, msg: protocol.Message) -> Any:
        loop = asyncio.get_running_loop()
        request = next(self._ids)
        answer: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending[request] = (answer, caller.code, owner)
        body = msgspec.to_builtins(msg)
        # Wall-clock time, as the owner's: processes are expected to keep NTP time.
        deadline = time.time() + self.timeout - FORWARD_MARGIN
        self._post(owner, ["run", request, caller.code, caller.player_id, body, deadline])
        try:
            async with asyncio.timeout(self.timeout):
                reply = await answer
        except TimeoutError:
            self._timed_out.inc()
            self.service.owner_unreachable(caller.code, owner)
            raise StoreUnavailable(
                "the room's server did not answer; try again", code=ErrorCode.BUSY
            ) from None
        finally:
            self._pending.pop(request, None)
        self._sent.inc()
        if "error" in reply:
            kind, code, message = reply["error"]
            try:
                error_code = ErrorCode(code)
            except ValueError:
                error_code = ErrorCode.INTERNAL_ERROR
            raise _ERRORS.get(kind, RitrovoError)(message, code=error_code)
        return reply.get("result")

    # -- mail ------------------------------------------------------------------

    def _post(self, instance: str, item: list[Any]) -> None:
        batch = self._outbox.get(instance)
        if batch is None:
            batch = self._outbox[instance] = []
            # Sent once this turn of the loop is over: what else is posted to
            # the same process in this turn goes with it.
            asyncio.get_running_loop().call_soon(self._send, instance)
        batch.append(item)

    def _send(self, instance: str) -> None:
        batch = self._outbox.pop(instance, None)
        if batch:
            self._spawn(self._deliver(instance, batch))

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, instance: str, batch: list[list[Any]]) -> None:
        data = orjson.dumps({"from": self.instance, "items": batch})
        try:
            heard = await self.mail.send_mail(instance, data)
        except Exception as exc:  # noqa: BLE001 - reported to each command sent
            # It may have arrived (a reply lost): running it here too could
            # apply it twice, so its sender hears "busy".
            log.warning("mail to %s failed: %s", instance, exc)
            for item in batch:
                if item[0] == "run":
                    self._fail(item[1])
            return
        if heard:
            return
        # Nobody listens on that process's channel: it is gone. Its commands
        # never ran; they run here. Answers to it are dropped with it.
        for item in batch:
            if item[0] == "run":
                self._settle(item[1], None)

    def _fail(self, request: int) -> None:
        pending = self._pending.get(request)
        if pending is not None and not pending[0].done():
            pending[0].set_exception(
                StoreUnavailable("the room's server could not be reached", code=ErrorCode.BUSY)
            )

    def _settle(self, request: int, reply: dict[str, Any] | None) -> None:
        """Hand the answer to a command sent (None: its owner never got it)."""
        pending = self._pending.get(request)
        if pending is None or pending[0].done():
            return  # timed out already
        answer, code, owner = pending
        if reply is None:
            answer.set_exception(_NotTaken(reachable=False))
        elif reply.get("moved"):
            answer.set_exception(_NotTaken(reachable=True))
        else:
            # The owner answered as owner: it held the room a moment ago.
            self.service.note_owner(code, owner)
            answer.set_result(reply)

    def on_mail(self, data: bytes) -> None:
        """What another process sent: commands to run here, answers to commands sent."""
        try:
            envelope = orjson.loads(data)
            sender = envelope["from"]
            items = envelope["items"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            log.warning("unreadable mail dropped")
            return
        if not isinstance(sender, str):
            log.warning("unreadable mail dropped")
            return
        for item in items if isinstance(items, list) else ():
            try:
                if item[0] == "answer":
                    self._settle(item[1], item[2])
                elif item[0] == "run":
                    _, request, code, player_id, body, deadline = item
                    if (sender, request) in self._seen:
                        continue  # delivered twice: it runs (or ran) once
                    if self._closing or not self.service.owns(code):
                        # The lease went (or moved), or this process is
                        # stopping: the sender runs it itself.
                        self._post(sender, ["answer", request, {"moved": True}])
                        continue
                    self._seen[(sender, request)] = None
                    if len(self._seen) > SEEN:
                        self._seen.popitem(last=False)
                    self._spawn(self._serve(sender, request, code, player_id, body, deadline))
            except (IndexError, KeyError, TypeError, ValueError, AttributeError):
                # One bad item (a peer of another version?) does not cost the others.
                log.warning("unreadable mail item dropped")

    async def _serve(
        self,
        sender: str,
        request: int,
        code: str,
        player_id: str,
        body: dict[str, Any],
        deadline: float,
    ) -> None:
        """Run a command another process sent, as the player (or host) who sent it there."""
        reply: dict[str, Any]
        try:
            schemas = protocol.PLAYER if player_id else protocol.HOST
            table = PLAYER_COMMANDS if player_id else HOST_COMMANDS
            msg = msgspec.convert(body, type=schemas[body["type"]])
            command = table[type(msg)]
            result = await command(Caller(self.service, code, player_id, deadline), msg)
            reply = {"result": result}
        except RitrovoError as exc:
            reply = {"error": [type(exc).__name__, exc.code, exc.message]}
        except Exception:
            log.exception("forwarded command failed", extra={"room": code})
            reply = {"error": ["RitrovoError", ErrorCode.INTERNAL_ERROR, "internal error"]}
        self._post(sender, ["answer", request, reply])

    async def close(self) -> None:
        """Stop taking commands; let those running finish (briefly) and send their answers."""
        self._closing = True
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=1.0)
        for task in list(self._tasks):
            task.cancel()
        for request in list(self._pending):
            self._fail(request)
