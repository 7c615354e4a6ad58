"""Firing stored deadlines, by one process at a time.

Every room's next deadline is a score in the store's deadline set. The process
that holds the timer lease polls that set and ticks what is due; the others
only try, every third of the lease's lifetime, to take the lease over. When
the holder dies its lease expires in the store, and another process takes it
and fires whatever became due meanwhile: a dead holder delays deadlines by at
most ``ttl + ttl / 3`` seconds and loses none.

The lease is an optimisation, not the safety net: two processes that both
think they hold it (a holder frozen past its lease, say) still fire each
deadline once, because a tick is a compare-and-set commit and the second one
finds the room already moved on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Collection

from .errors import NotFound, RitrovoError, StoreUnavailable
from .game import flow, rooms
from .game.models import Room
from .game.pack import Pack
from .metrics import Metrics
from .service import GameService, NoChange
from .store.base import DeadlineIndex, LeaseStorage, PresenceRegistry

log = logging.getLogger(__name__)

FAILING_ROOM_BACKOFF = 5.0  # seconds before ticking again a room whose tick raised a bug
MIN_INSTANCE_TIMEOUT = 5.0  # seconds without a heartbeat before a process counts as dead


class TimerLease:
    """This process's view of the timer lease held in the store."""

    def __init__(self, store: LeaseStorage, holder: str, ttl: float) -> None:
        self.store = store
        self.holder = holder
        self.ttl = ttl
        self._valid_until = 0.0  # time.monotonic()

    @property
    def held(self) -> bool:
        return time.monotonic() < self._valid_until

    async def refresh(self) -> bool:
        """Take or renew the lease; False while another process holds it or the store is down."""
        asked = time.monotonic()
        try:
            held = await self.store.hold_lease(self.holder, self.ttl)
        except StoreUnavailable:
            held = False
        # Counted from before the request: the store's expiry is later than
        # this, so we never believe we hold a lease the store has let go.
        self._valid_until = asked + self.ttl if held else 0.0
        return held

    async def release(self) -> None:
        """Let another process take over now rather than when the lease expires."""
        was_held = self.held
        self._valid_until = 0.0
        if was_held:
            with contextlib.suppress(RitrovoError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await self.store.release_lease(self.holder)


class DeadlineTimers:
    """The two loops of a process: keep (or seek) the lease, and fire due rooms while held."""

    def __init__(
        self,
        service: GameService,
        lease: TimerLease,
        deadlines: DeadlineIndex,
        registry: PresenceRegistry,
        poll_interval: float,
        metrics: Metrics,
        served: Callable[[], Collection[str]] = frozenset,
        revive: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.service = service
        self.lease = lease
        self.deadlines = deadlines
        self.registry = registry
        self.served = served  # the rooms this process has connections in
        # Counts this process's live connections again when it finds it was
        # taken for dead (frozen past the instance timeout) and forgotten.
        self.revive = revive
        self._beaten = False
        self._revive_pending = False
        # Heartbeats go out every ttl / 3; three missed ones mean the process is gone.
        self.instance_timeout = max(MIN_INSTANCE_TIMEOUT, 3 * lease.ttl)
        self.poll_interval = poll_interval
        self.metrics = metrics
        self._failing: dict[str, float] = {}  # room -> time.monotonic() to try again
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._keep_lease(), name="timer-lease"),
            asyncio.create_task(self._poll(), name="timers"),
        ]

    async def stop(self) -> None:
        """Stop firing and hand the lease over (a clean shutdown)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.lease.release()
        with contextlib.suppress(RitrovoError, TimeoutError):
            async with asyncio.timeout(1.0):
                await self.registry.forget_instance(self.lease.holder)

    async def _keep_lease(self) -> None:
        # Its own loop, so a slow batch of ticks never delays a renewal.
        while True:
            was_held = self.lease.held
            try:
                held = await self.lease.refresh()
            except Exception:
                log.exception("timer lease: refresh failed")
                held = False
            if held != was_held:
                log.info("timer lease %s", "taken" if held else "lost")
            self.metrics.timer_lease.set(1 if held else 0)
            try:
                await self._beat()
                if held:
                    await self.reap_dead_instances()
            except StoreUnavailable:
                pass  # the outage watcher reports it
            except Exception:
                log.exception("instances: heartbeat or clean-up failed")
            # Decoded rooms with no connection here and no recent command go.
            self.service.forget_idle(self.served())
            await asyncio.sleep(self.lease.ttl / 3)

    async def _beat(self) -> None:
        # Wall-clock time on purpose: liveness is about real processes, even
        # when the game runs on a test's fake clock.
        known = await self.registry.beat(self.lease.holder, time.time(), sorted(self.served()))
        if self.revive is not None and ((self._beaten and not known) or self._revive_pending):
            log.warning("this process was taken for dead (frozen?): counting its connections again")
            self._revive_pending = True
            await self.revive()
            self._revive_pending = False
        self._beaten = True

    async def reap_dead_instances(self) -> None:
        """Take the connections of processes that died without a goodbye out of their rooms.

        Without this, the players of a SIGKILLed process would look connected
        forever, and a story would keep handing them turns.
        """
        dead = await self.registry.dead_instances(time.time() - self.instance_timeout)
        for instance, codes in dead.items():
            if instance == self.lease.holder:
                continue
            for code in codes:

                def drop(room: Room, pack: Pack | None, now: float, gone: str = instance) -> None:
                    if not rooms.drop_process(room, gone, now):
                        raise NoChange
                    flow.on_presence_changed(room, pack, now)

                with contextlib.suppress(NotFound):
                    await self.service.execute(code, drop)
            await self.registry.forget_instance(instance)
            log.warning("instance %s stopped beating; its connections were dropped", instance)

    async def _poll(self) -> None:
        while True:
            if self.lease.held:
                try:
                    await self.fire_due()
                except StoreUnavailable:
                    pass  # the outage watcher reports it; due rooms wait in the store
                except Exception:
                    log.exception("timers: polling failed")
            await asyncio.sleep(self.poll_interval)

    async def fire_due(self) -> None:
        now = self.service.clock()
        wall = time.monotonic()
        codes = [
            code
            for code in await self.deadlines.due_rooms(now)
            if self._failing.get(code, 0.0) <= wall
        ]
        if codes:
            # Rooms are independent: one slow commit must not hold up the others.
            await asyncio.gather(*(self._fire(code) for code in codes))

    async def _fire(self, code: str) -> None:
        try:
            await self.service.tick(code)
            self.metrics.timer_fires.inc()
            self._failing.pop(code, None)
        except StoreUnavailable:
            pass
        except Exception:
            log.exception("timers: tick failed", extra={"room": code})
            self._failing[code] = time.monotonic() + FAILING_ROOM_BACKOFF
