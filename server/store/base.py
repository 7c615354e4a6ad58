"""The state store interfaces, shared by the in-memory and the Redis stores.

A room is a versioned set of parts (``parts.py``). Writers never overwrite
blindly: they load a version, apply a rule, and ``commit`` the parts it
changed only if the version is still the one they loaded (compare-and-set). That single rule makes every
read-modify-write atomic across connections and processes, and makes a
deadline fire once even when several processes see it due at the same time.

A successful commit also records the room's next deadline and publishes a
change notice to every process, in the same atomic step.

Deadlines are fired by one process at a time: the holder of the timer lease
(``hold_lease``). The lease only saves work and keeps the firing in one place;
correctness never depends on it, since a deadline fired twice is a commit that
loses its compare-and-set the second time.

A hot room has an owner in the same way: a process that loses a
compare-and-set on a room claims it (``Claim``), and the others send it the
room's commands (``ProcessMail``) instead of racing it. Also only an
optimisation: a commit by anyone else still succeeds if its version is right.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

NoticeHandler = Callable[[str, bytes], Awaitable[None] | None]
MailHandler = Callable[[bytes], None]
DEFAULT_ROOM_TTL_SECONDS = 24 * 3600
# Changes kept per room for writers that lost a compare-and-set: they catch up
# from these instead of reading the whole room (older gaps read it whole).
LOG_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class Stored:
    """A room as stored: its version and every part (see ``parts.py``)."""

    version: int
    parts: dict[str, bytes]


@dataclass(frozen=True, slots=True)
class Arrival:
    """What ``arrive_circle`` found or made.

    ``member``: the member id ("" when refused). ``data``: a returning
    member's part as stored (b"" for a new one). ``refused``: "circle" (the
    circle has ``max_members``) or "room" (the room added its share of new
    members), nothing written.
    """

    member: str = ""
    data: bytes = b""
    new: bool = False
    refused: str = ""


@dataclass(frozen=True, slots=True)
class CommitResult:
    """What a commit did. On a conflict, either ``missed`` (the notices of the
    versions after the expected one, in order: the caller catches up at the
    cost of those changes) or ``current`` (the whole room, when the log no
    longer holds them); neither: the room is gone."""

    ok: bool
    current: Stored | None = None
    missed: list[bytes] | None = None
    # The process that owns the room after this commit (None: nobody, or no
    # claim was made): see ``Claim``.
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """Who commits, and for how long they would own the room.

    Given with a commit: a commit that loses the compare-and-set makes
    ``instance`` the room's owner for ``lease`` seconds if it has none, and
    the owner's own successful commits renew it. Other processes learn the
    owner from the ``CommitResult`` of their next lost race.
    """

    instance: str
    lease: float


class RoomStorage(ABC):
    """Rooms as versioned sets of parts, written by compare-and-set."""

    room_ttl: float = DEFAULT_ROOM_TTL_SECONDS  # idle seconds after which a room expires

    @abstractmethod
    async def create(
        self, code: str, parts: dict[str, bytes], now: float, ttl: float | None = None
    ) -> bool:
        """Store a new room (all its parts) at version 0; False if the code is taken.

        ``ttl`` (shorter than the room TTL): the room expires that soon unless
        a change is committed first; its first commit gives it the full TTL.
        A room nobody ever used then does not hold a place for a day.
        """

    @abstractmethod
    async def load(self, code: str) -> Stored | None: ...

    @abstractmethod
    async def commit(
        self,
        code: str,
        expected_version: int,
        version: int,
        written: dict[str, bytes],
        gone: list[str],
        *,
        whole: bool,
        deadline_at: float | None,
        notice: bytes,
        now: float,
        claim: Claim | None = None,
        keep_log: bool = True,
    ) -> CommitResult:
        """Write the changed parts if the room is still at ``expected_version``.

        ``written`` parts replace theirs, ``gone`` parts are deleted; with
        ``whole``, ``written`` is the whole room and every other part goes.
        In the same atomic step: record the room's next deadline (see
        ``DeadlineIndex``) and publish ``notice`` (see ``NoticeBus``); with
        ``claim``, claim or renew the room's ownership (see ``Claim``). Without
        ``keep_log`` (the room is closed: nothing will race for it any more)
        its log of changes is deleted instead of appended to.
        """

    @abstractmethod
    async def delete(self, code: str, notice: bytes) -> None: ...

    @abstractmethod
    async def count_rooms(self, now: float) -> int: ...


class DeadlineIndex(ABC):
    """Every room's next deadline, written by ``RoomStorage.commit``."""

    @abstractmethod
    async def due_rooms(self, now: float, limit: int = 100) -> list[str]:
        """Codes of rooms whose next deadline is at or before ``now``."""


class NoticeBus(ABC):
    """Change notices, published by ``RoomStorage.commit`` to every process."""

    @abstractmethod
    async def listen(self, handler: NoticeHandler) -> None:
        """Deliver every room's change notices to ``handler(code, notice)``.

        An empty code means notices may have been lost: resync every room.
        """


class LeaseStorage(ABC):
    """The timer lease: which process fires deadlines (see ``timers.py``)."""

    @abstractmethod
    async def hold_lease(self, holder: str, ttl: float) -> bool:
        """Take the timer lease, or renew it if ``holder`` has it, for ``ttl`` seconds.

        True when ``holder`` holds the lease now. A lease that is not renewed
        expires by itself, so a process that dies gives it up within ``ttl``.
        """

    @abstractmethod
    async def release_lease(self, holder: str) -> None:
        """Give the timer lease up now, if ``holder`` has it (a clean shutdown)."""

    @abstractmethod
    async def lease_holder(self) -> str | None:
        """Who holds the timer lease (None: nobody), for health reports."""


class Counters(ABC):
    """Fixed-window counters shared by every process (attempt limits)."""

    @abstractmethod
    async def hit(self, name: str, window_seconds: int, now: float, amount: int = 1) -> int:
        """Count ``amount`` events in the current fixed window of ``name``; return the count.

        ``amount=0`` reads the count without changing it.
        """

    @abstractmethod
    async def reserve(
        self, name: str, window_seconds: int, now: float, limit: int
    ) -> tuple[bool, int]:
        """Take one of the ``limit`` places of the current window of ``name``, atomically.

        A place is held by an attempt in flight and kept by one that failed
        (``settle``). Returns whether a place was taken and, when none was,
        how many attempts failed in the window: below ``limit``, some places
        are held by attempts still in flight, and one may be given back.
        """

    @abstractmethod
    async def settle(self, name: str, window_seconds: int, taken_at: float, failed: bool) -> int:
        """End the attempt that took a place of ``name`` at ``taken_at``.

        A success gives its place back; a failure keeps it and is counted as
        failed. Returns the failures of that window (0 once it is gone: then
        nothing is changed).
        """


class PresenceRegistry(ABC):
    """Which processes are alive, and which rooms each has connections in."""

    @abstractmethod
    async def beat(self, instance: str, now: float, rooms: list[str]) -> bool:
        """Record that ``instance`` is alive and has connections in ``rooms``.

        Returns whether it was still known: False for its first beat, and
        after another process took it for dead and forgot it (it was frozen
        past the instance timeout, and its connections were dropped).
        """

    @abstractmethod
    async def dead_instances(self, before: float) -> dict[str, list[str]]:
        """Instances whose last heartbeat is older than ``before``, with their rooms."""

    @abstractmethod
    async def forget_instance(self, instance: str) -> None:
        """Drop an instance's heartbeat and room list (it stopped, or was cleaned up)."""


class ProcessMail(ABC):
    """Messages to one server process, by its instance id: a hot room's commands
    go to its owner, and the answers come back. At most once, like notices."""

    @abstractmethod
    async def send_mail(self, instance: str, data: bytes) -> int:
        """Send ``data`` to ``instance``; how many listeners got it (0: nobody, it is lost)."""

    @abstractmethod
    async def receive_mail(self, instance: str, handler: MailHandler) -> None:
        """Deliver what is sent to ``instance`` to ``handler``; call before ``listen``."""


class PackStorage(ABC):
    """Uploaded packs, by content hash, each kept only as long as someone keeps it.

    The service keeps a pack alive while a room that uses it is (``keep_pack``
    on that room's commits), so it expires with its last room. Times are
    seconds: ``now`` is the caller's clock (the memory store lives by it), Redis
    counts the time to live itself.
    """

    @abstractmethod
    async def save_pack(self, key: str, data: bytes, *, ttl: float, now: float) -> None:
        """Store ``data`` under ``key`` for at least ``ttl`` seconds (never shortening a longer
        life: the same key is the same pack, stored once)."""

    @abstractmethod
    async def keep_pack(self, key: str, *, ttl: float, now: float) -> bool:
        """Make the pack live at least ``ttl`` more seconds (never shorter); False if it is gone."""

    @abstractmethod
    async def load_pack(self, key: str) -> bytes | None:
        """The pack's data; None once it expired (loading does not keep it)."""


class CircleStorage(ABC):
    """Circles (``game/circles.py``): versioned sets of parts, written by compare-and-set.

    Like a room without deadlines, notices or log: a circle changes seldom (a
    member arrives, a session is recorded), and a writer that loses reads it
    again. Each write makes the circle live ``ttl`` more seconds from ``now``
    (the memory store lives by ``now``; Redis counts the time itself).
    """

    @abstractmethod
    async def create_circle(
        self, circle_id: str, parts: dict[str, bytes], *, ttl: float, now: float
    ) -> bool:
        """Store a new circle at version 0; False if the id is taken."""

    @abstractmethod
    async def load_circle(
        self, circle_id: str, *, now: float, without: str | None = None
    ) -> Stored | None:
        """The circle's version and parts; None if there is none (or it expired).

        ``without``: a prefix of part names to leave out, read neither from
        the store nor over the network (the circle's kept keepsakes, ``k:``,
        up to ``keepsake.CIRCLE_MAX_BYTES`` each, that most readers need not).
        """

    @abstractmethod
    async def commit_circle(
        self,
        circle_id: str,
        expected_version: int,
        written: dict[str, bytes],
        gone: list[str],
        *,
        ttl: float,
        now: float,
    ) -> bool:
        """Write ``written`` and delete ``gone`` if the circle is still at ``expected_version``.

        The version goes up by one. False (nothing written): the circle moved
        on, or is gone.
        """

    @abstractmethod
    async def delete_circle(self, circle_id: str) -> bool:
        """Delete the circle and everything it keeps; False if there was none."""

    @abstractmethod
    async def arrive_circle(
        self,
        circle_id: str,
        device_hash: str,
        member: tuple[bytes, bytes],
        *,
        room: str,
        max_members: int,
        room_limit: int,
        ttl: float,
        now: float,
    ) -> Arrival | None:
        """The member of ``device_hash`` (its index entry ``d:<hash>``), or a new one; None: no circle.

        In one atomic step that leaves the circle's version alone, so that
        arrivals never make each other (or a compare-and-set writer) retry. A
        new member gets the next number of the circle's counter ``n`` (id
        ``c<n>``), its part (``member``: the JSON before and after the id,
        joined around it) and its index entry, unless the circle has
        ``max_members`` members or room ``room`` already added ``room_limit``
        new ones (counted for as long as a room lives). A new member gives
        the circle ``ttl`` more seconds; a returning one changes nothing.
        """

    @abstractmethod
    async def put_circle_member(
        self,
        circle_id: str,
        device_hash: str,
        member_id: str,
        data: bytes,
        *,
        ttl: float,
        now: float,
    ) -> bool:
        """Write member ``member_id``'s part if the device's index entry still names them.

        False (nothing written): the circle, or that member, is gone. Leaves
        the version alone; gives the circle ``ttl`` more seconds.
        """

    @abstractmethod
    async def count_circles(self, now: float) -> int:
        """How many circles there are (not expired by ``now``)."""


class RoomStore(
    RoomStorage,
    CircleStorage,
    DeadlineIndex,
    NoticeBus,
    ProcessMail,
    LeaseStorage,
    Counters,
    PresenceRegistry,
    PackStorage,
):
    """A whole store: every small interface above, over one backend.

    ``create_app`` hands each part of the server only the interfaces it uses;
    the contract tests (tests/store) check each interface on both stores.
    """

    durable = False

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` when the store cannot serve."""

    @abstractmethod
    async def close(self) -> None: ...
