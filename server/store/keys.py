"""Every Redis key and channel name Ritrovo uses, built in one place."""

from __future__ import annotations

PREFIX = "ritrovo:"

# Sorted set: room code -> the room's next deadline (Unix seconds). The timer
# poller of every process reads what is due from here.
DEADLINES = PREFIX + "deadlines"

# Sorted set: room code -> last activity (Unix seconds); counts live rooms.
ROOMS = PREFIX + "rooms"

# Sorted set: circle id -> when it expires (Unix seconds); counts the circles
# (``max_circles``). Kept beside each circle write, not in its script: a
# circle's scripts touch its own hash tag only.
CIRCLES = PREFIX + "circles"

# String: the id of the process that holds the timer lease (SET NX PX, renewed
# by its holder with a compare-and-pexpire). Only the holder polls DEADLINES;
# one lease for all rooms (docs/architecture.md explains why not per room).
TIMER_LEASE = PREFIX + "timers:lease"

# Sorted set: server instance -> its last heartbeat (Unix seconds). An instance
# that stops beating died without saying goodbye; the lease holder then takes
# its connections out of the rooms listed in instance_rooms(instance).
INSTANCES = PREFIX + "instances"

# Every room's change notices are published on ROOM_EVENTS_PREFIX + code; a
# process listens with one pattern subscription.
ROOM_EVENTS_PREFIX = PREFIX + "events:"
ROOM_EVENTS_PATTERN = ROOM_EVENTS_PREFIX + "*"

# One channel per process (process_mail): what other processes send it.
PROCESS_MAIL_PREFIX = PREFIX + "mail:"


# A room's keys share the hash tag {CODE}: on Redis Cluster they live in one
# slot, so one script can change them together.
ROOM_PREFIX = PREFIX + "room:{"


def room(code: str) -> str:
    """Hash with field ``v`` (version, the room's seq) and one field per part (parts.py)."""
    return f"{ROOM_PREFIX}{code}}}"


def room_log(code: str) -> str:
    """Stream of the room's last changes (entry id ``<version>-1``, field ``n``: the notice)."""
    return f"{PREFIX}log:{{{code}}}"


def room_events(code: str) -> str:
    return ROOM_EVENTS_PREFIX + code


def room_owner(code: str) -> str:
    """String: the instance that owns a hot room (its commands are sent there), with a TTL.

    Claimed by a process that lost a compare-and-set race on the room, renewed
    by the owner's commits; it expires by itself when the room calms down or
    its owner dies. Advisory only: the version check still decides every commit.
    """
    return f"{PREFIX}owner:{{{code}}}"


def process_mail(instance: str) -> str:
    """Channel of one server process: commands other processes send to it, and replies."""
    return PROCESS_MAIL_PREFIX + instance


def pack(pack_key: str) -> str:
    """An uploaded pack's JSON, by content hash."""
    return f"{PREFIX}pack:{pack_key}"


def rate(name: str) -> str:
    """A fixed-window counter for rate limits (join attempts per address...)."""
    return f"{PREFIX}rate:{name}"


def attempts(name: str) -> str:
    """Hash of one window's attempt places (``r``: held, ``f``: kept by failures)."""
    return f"{PREFIX}attempts:{name}"


def instance_rooms(instance: str) -> str:
    """Set of the room codes where ``instance`` has (or had) connections."""
    return f"{PREFIX}instance-rooms:{instance}"


def circle(circle_id: str) -> str:
    """Hash of one circle: ``v`` (version) and its parts (``meta``, ``m:<member>``,
    ``s:<room code>``, ``d:<device hash>`` and ``n``; see ``server/circles.py``),
    one hash tag, one key."""
    return f"{PREFIX}circle:{{{circle_id}}}"


def circle_room(circle_id: str, code: str) -> str:
    """Counter of the new members room ``code`` added to the circle (the circle's hash tag)."""
    return f"{PREFIX}circle:{{{circle_id}}}:room:{code}"
