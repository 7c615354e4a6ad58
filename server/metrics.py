"""Prometheus metrics of one server process, served at ``/metrics``.

Each app has its own ``CollectorRegistry`` (never the global default), so
several apps in one test process do not clash. Gauges that describe the
present (rooms, connections, the timer lease) are set when scraped; counters
and histograms are updated where things happen. Label values come from fixed
sets (message types of the protocol, error codes of the server), never from
client input, so a fuzzing client cannot blow up the number of series.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from . import protocol

# Latencies here are milliseconds on a LAN; the tail is what matters.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# Inbound frames are counted by message type, or as one of these when they
# never became a message: unparsable or refused by the schemas, binary, or
# dropped by the rate limiter.
UNTYPED_FRAMES = frozenset({"invalid", "binary", "rate_limited"})
KNOWN_INBOUND = frozenset(protocol.ALL_TYPES | {"ping"} | UNTYPED_FRAMES)


class Metrics:
    """Every metric of one process, on the app's own registry."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.rooms = Gauge(
            "ritrovo_rooms", "Live rooms in the store, across every process", registry=r
        )
        self.rooms_connected = Gauge(
            "ritrovo_rooms_connected",
            "Rooms with at least one connection on this process",
            registry=r,
        )
        self.connections = Gauge(
            "ritrovo_connections",
            "Open WebSocket connections on this process, by role",
            ["role"],
            registry=r,
        )
        self.connections_dropped = Counter(
            "ritrovo_connections_dropped",
            "TCP connections closed by the edge (address_cap, header_timeout, body_timeout)",
            ["reason"],
            registry=r,
        )
        self.messages_in = Counter(
            "ritrovo_messages_in", "WebSocket messages received, by type", ["type"], registry=r
        )
        self.messages_out = Counter(
            "ritrovo_messages_out",
            "WebSocket messages queued for sending, by type",
            ["type"],
            registry=r,
        )
        self.errors = Counter(
            "ritrovo_errors", "Errors reported to clients, by code", ["code"], registry=r
        )
        self.broadcast_latency = Histogram(
            "ritrovo_broadcast_latency_seconds",
            "From a room's change notice to its state frames being queued (coalescing included)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.store_roundtrip = Histogram(
            "ritrovo_redis_roundtrip_seconds",
            "Duration of each Redis store call, by operation",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.store_up = Gauge(
            "ritrovo_store_up", "1 when the store answers, 0 during an outage", registry=r
        )
        self.timer_lease = Gauge(
            "ritrovo_timer_lease_held", "1 when this process holds the timer lease", registry=r
        )
        self.timer_fires = Counter(
            "ritrovo_timer_fires", "Due rooms ticked by this process", registry=r
        )
        self.forwarded = Counter(
            "ritrovo_forwarded_commands",
            "Commands sent to the process that owns their (hot) room, by outcome: "
            "sent (answered) or timeout",
            ["outcome"],
            registry=r,
        )
        self.store_up.set(1)
        # Labelled children by label value: ``labels()`` validates and locks on
        # every call, and a flush to a room of 2,000 counts 2,000 frames (it
        # was a sixth of the server's CPU in S1). The label sets are fixed
        # (see above), so these stay small.
        self._in: dict[str, Any] = {}
        self._out: dict[str, Any] = {}

    def message_in(self, kind: str) -> None:
        label = kind if kind in KNOWN_INBOUND else "invalid"
        child = self._in.get(label)
        if child is None:
            child = self._in[label] = self.messages_in.labels(label)
        child.inc()

    def message_out(self, kind: str, count: int = 1) -> None:
        child = self._out.get(kind)
        if child is None:
            child = self._out[kind] = self.messages_out.labels(kind)
        child.inc(count)

    def error(self, code: str) -> None:
        self.errors.labels(code).inc()

    def observe_store(self, operation: str, seconds: float) -> None:
        self.store_roundtrip.labels(operation).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


METRICS = web.AppKey("metrics", Metrics)
