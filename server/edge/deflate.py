"""permessage-deflate (RFC 7692) as a room's fan-out can afford it.

aiohttp's own compression keeps a compressor per socket (~120 KiB with its
window, S3's whole budget several times over) and compresses every frame
again for every connection. Ritrovo compresses a frame once for every
connection that gets it:

* the frames of one view (the ``patch`` after ``patch`` that every player of
  a team gets) are compressed as one stream (``Stream``): each refers to the
  ones before it, as a connection's own compressor would, and the same bytes
  go to every connection that got all of the stream's frames so far; a
  connection that did not (it joined, resynced or missed one) gets the frame
  compressed on its own, and the stream starts again once its frames go to
  such connections;
* any other shared frame is compressed on its own (``deflate``);
* the client is told to compress every message on its own
  (``client_no_context_takeover``), so its messages are inflated by a
  decompressor made for each and dropped after (``inflate``): an idle
  connection keeps no zlib state at all.

Small frames (acks, errors, ``you``) go uncompressed, which the extension
allows message by message: they would hardly shrink, and an uncompressed
message does not touch the client's decompressor, so the streams stay whole.
"""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections import OrderedDict
from typing import Any, NamedTuple

from aiohttp import WSMsgType
from aiohttp.client_exceptions import ClientConnectionResetError

# What the server answers to an acceptable offer: the client compresses each
# message on its own; the server's frames may refer to earlier ones ...
RESPONSE = "permessage-deflate; client_no_context_takeover"
# ... unless the client asked it not to (its decompressor forgets between
# messages): then every frame it gets is compressed on its own.
RESPONSE_NO_CONTEXT = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
# What a connection negotiated: nothing, frames compressed on their own only,
# or streams as well.
OFF, ALONE, STREAMS = 0, 1, 2
# The window a client compresses with, when it lets the server choose (browsers
# and ``websockets`` do): a client's message is a small JSON object, and its
# decompressor then takes ~8 KiB for a moment instead of ~40 KiB.
CLIENT_WINDOW_BITS = 9
# Frames shorter than this are sent as they are (a compressed 100-byte ack
# saves a few dozen bytes for the cost of a compressor).
WORTH_FROM = 256
# ... and patches shorter than this are compressed only as part of a stream:
# a patch compressed on its own pays a full flush of the compressor (10-20 us
# at any level for S2's story patches of 400-700 bytes, more in a busy
# process) to save ~300 bytes to a handful of phones; in a stream the same
# patch shrinks to a few dozen. (A full state, sent on joining, is
# compressed from WORTH_FROM.)
PATCH_ALONE_FROM = 1024
# Compressed once per view, not per connection: the best ratio is affordable
# for the frames of a game in progress (S1, P = 2,000: 5% fewer bytes than
# zlib's default level, ~60 us a frame) ...
LEVEL = 9
# ... but not on the event loop for the full state of a 2,000-player room (a
# host's is ~500 KB: 22 ms at level 9 for 340 KB, 7 ms at 6, 1 ms at 1).
# Frames over these sizes are compressed at the lower levels, alone.
LEVELS_BY_SIZE = ((16 * 1024, LEVEL), (128 * 1024, 6), (1 << 62, 1))
# A stream's window: 4 KiB holds the last patch or two of a busy view, which
# is what the next one repeats (S1, P = 2,000: 44% fewer bytes than frames
# compressed alone; an 8 KiB window saves 4% more for twice the memory, the
# whole 32 KiB 6% more for ten times). ~37 KiB per stream; a stream lives
# only while its view is busy, and a process keeps at most MAX_STREAMS.
STREAM_WINDOW_BITS = 12
STREAM_MEMORY_LEVEL = 5
STREAM_IDLE = 5.0  # seconds without a frame before a stream's compressor is dropped
MAX_STREAMS = 256  # ~9 MiB of compressors; past it the least recently used goes
# Connections that must share a view for it to have a stream: a compressor
# costs as much as two idle connections, and a view of a few players (a team
# in a small room, the host, the screen) gets its frames compressed alone.
STREAM_FROM = 8
RSV1 = 0x40  # the frame header's bit that marks a compressed message
TRAILER = b"\x00\x00\xff\xff"  # the empty stored block a sync flush ends with (section 7.2.1)
_OFFER_PARAMETERS = {
    "server_no_context_takeover",
    "client_no_context_takeover",
    "server_max_window_bits",
    "client_max_window_bits",
}


class Deflated(bytes):
    """A text message's payload, compressed: sent with RSV1 set."""

    __slots__ = ()


class Agreement(NamedTuple):
    """What a connection agreed to, from the client's offer."""

    mode: int  # OFF, ALONE or STREAMS
    client_window: int  # the window bits of the client's messages (0: OFF)
    response: str  # the Sec-WebSocket-Extensions answer ("": none)


NOTHING = Agreement(OFF, 0, "")


def negotiate(offers: list[str]) -> Agreement:
    """What to accept of the client's ``Sec-WebSocket-Extensions`` offers.

    The first acceptable offer of permessage-deflate is taken: STREAMS, or
    ALONE if it asks the server to keep no context, with the window of the
    client's messages (CLIENT_WINDOW_BITS if the offer lets the server
    choose, else 15). An offer is refused if it asks the server for a window
    under 15 bits (the server's frames are compressed once for many clients,
    with the window they all accept), or has a parameter the RFC does not
    define, or one twice.
    """
    for header in offers:
        for offer in header.split(","):
            name, *parameters = (part.strip() for part in offer.split(";"))
            if name.lower() == "permessage-deflate" and _acceptable(parameters):
                given = dict(_parameter(p) for p in parameters)
                mode = ALONE if "server_no_context_takeover" in given else STREAMS
                bits = given.get("client_max_window_bits")
                if bits is None:
                    window = zlib.MAX_WBITS
                else:  # "client_max_window_bits=N": the client's own limit
                    window = min(_window_bits(bits) or zlib.MAX_WBITS, CLIENT_WINDOW_BITS)
                answer = response(mode, window)
                if "server_max_window_bits" in given:  # accepted: said back (7.1.2.1)
                    answer += "; server_max_window_bits=15"
                return Agreement(mode, window, answer)
    return NOTHING


def response(mode: int, client_window: int) -> str:
    """The ``Sec-WebSocket-Extensions`` answer to an offer accepted as ``mode``."""
    answer = RESPONSE if mode == STREAMS else RESPONSE_NO_CONTEXT
    if client_window < zlib.MAX_WBITS:
        answer += f"; client_max_window_bits={client_window}"
    return answer


def _parameter(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    return key.strip().lower(), value.strip().strip('"')


def _acceptable(parameters: list[str]) -> bool:
    seen: set[str] = set()
    for parameter in parameters:
        key, value = _parameter(parameter)
        if key not in _OFFER_PARAMETERS or key in seen:
            return False
        seen.add(key)
        if key.endswith("_no_context_takeover"):
            if "=" in parameter:
                return False
        elif key == "client_max_window_bits":
            if "=" in parameter and _window_bits(value) is None:
                return False
        elif _window_bits(value) != 15:  # server_max_window_bits: ours is always 15
            return False
    return True


def _window_bits(value: str) -> int | None:
    """8 to 15, written as one or two ASCII digits; else None ("²" is a digit to Python)."""
    if len(value) > 2 or not value.isascii() or not value.isdigit():
        return None
    return int(value) if 8 <= int(value) <= 15 else None


# The compressors of the frames compressed alone, one per level, for the
# process: a full flush after each frame leaves one as if new (the next frame
# refers to nothing before it). A compressor made per frame allocated and
# freed ~40 KiB each time, and the holes it left between long-lived objects
# cost S3 ~0.4 KiB per idle connection.
_ALONE: dict[int, Any] = {}


def level_for(size: int) -> int:
    """The compression level of a frame of ``size`` bytes."""
    return next(level for largest, level in LEVELS_BY_SIZE if size <= largest)


def deflate(payload: bytes) -> Deflated:
    """``payload`` compressed as one message with no context (RFC 7692, 7.2.1)."""
    level = level_for(len(payload))
    compressor = _ALONE.get(level)
    if compressor is None:
        compressor = _ALONE[level] = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, 8)
    data = compressor.compress(payload) + compressor.flush(zlib.Z_FULL_FLUSH)
    return Deflated(data.removesuffix(TRAILER))


class Stream:
    """The frames of one view, each compressed with the ones before it as context.

    A connection can read a frame of the stream only if its decompressor saw
    every frame of the stream before it, in order, and no other compressed
    frame since: ``mark`` changes at every frame, and a connection given the
    frame keeps the new mark (``Connection.stream_mark``). The first frame of
    a stream refers to nothing before it, so anybody can read it.
    """

    __slots__ = ("_compressor", "frames", "key", "mark", "used_at")

    def __init__(self, key: tuple[str, str]) -> None:
        self._compressor = zlib.compressobj(
            LEVEL, zlib.DEFLATED, -STREAM_WINDOW_BITS, STREAM_MEMORY_LEVEL
        )
        self.key = key  # (room code, view key)
        self.mark = object()
        self.used_at = 0.0
        self.frames = 0  # frames so far

    def deflate(self, payload: bytes, now: float) -> Deflated:
        """The stream's next frame."""
        compressor = self._compressor
        data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
        self.mark = object()
        self.used_at = now
        self.frames += 1
        return Deflated(data.removesuffix(TRAILER))


class Streams:
    """The streams of a process's busy views, by (room code, view key).

    At most ``limit``, least recently used first: a new one past the limit
    drops the oldest (its connections get frames compressed alone until
    their view's stream starts again), and a stream unused for ``idle``
    seconds is dropped, so an idle room keeps no compressor.
    """

    def __init__(self, limit: int = MAX_STREAMS, idle: float = STREAM_IDLE) -> None:
        self._streams: OrderedDict[tuple[str, str], Stream] = OrderedDict()
        self._sweeping: asyncio.TimerHandle | None = None
        self._limit = limit
        self._idle = idle

    def __len__(self) -> int:
        return len(self._streams)

    def get(self, code: str, key: str) -> Stream | None:
        return self._streams.get((code, key))

    def start(self, code: str, key: str) -> Stream | None:
        """A new stream for the view (in place of the one it had, if any).

        None when the process keeps as many streams as it may and even the
        least recently used had a frame within the last second: dropping it
        would only start a stream per frame, a compressor made and dropped
        each time (the view's frames are compressed alone instead).
        """
        streams = self._streams
        if (code, key) not in streams and len(streams) >= self._limit:
            oldest = next(iter(streams.values()))
            if oldest.used_at > asyncio.get_running_loop().time() - self._idle / 5:
                return None
        stream = streams[code, key] = Stream((code, key))
        streams.move_to_end((code, key))
        while len(streams) > self._limit:
            streams.popitem(last=False)
        if self._sweeping is None:
            loop = asyncio.get_running_loop()
            self._sweeping = loop.call_later(self._idle, self.drop_idle)
        return stream

    def deflate(self, stream: Stream, payload: bytes) -> Deflated:
        """The stream's next frame; the stream becomes the most recently used."""
        if stream.key in self._streams:
            self._streams.move_to_end(stream.key)
        return stream.deflate(payload, asyncio.get_running_loop().time())

    def forget(self, code: str) -> None:
        """Drop the room's streams (its last connection here went)."""
        for key in [k for k in self._streams if k[0] == code]:
            del self._streams[key]

    def drop_idle(self, now: float | None = None) -> None:
        """Drop the streams unused for ``idle`` seconds by ``now`` (the loop's time if None).

        A timer calls it while streams are kept.
        """
        if self._sweeping is not None:
            self._sweeping.cancel()
            self._sweeping = None
        loop = asyncio.get_running_loop()
        idle_since = (loop.time() if now is None else now) - self._idle
        streams = self._streams
        while streams:
            oldest = next(iter(streams.values()))
            if oldest.used_at > idle_since:
                break
            streams.popitem(last=False)
        if streams:
            self._sweeping = loop.call_later(self._idle, self.drop_idle)


def inflate(payload: bytes, limit: int, window: int = zlib.MAX_WBITS) -> bytes | None:
    """A client's compressed message, inflated; None if it would exceed ``limit`` bytes.

    ``window``: the bits of the window the client compresses with (a zlib
    client asked for 8 uses 9, so 9 is the least). Raises ``zlib.error`` when it is not valid DEFLATE data. The output is
    bounded as it is produced, so a small message that inflates to gigabytes
    costs no more than ``limit`` bytes.
    """
    decompressor = zlib.decompressobj(-max(9, window))
    data = decompressor.decompress(payload + TRAILER, limit + 1)
    if len(data) > limit:
        return None
    return data


def framed(payload: bytes) -> bytes:
    """``payload`` as a whole server frame on the wire: a text message, RSV1 set if ``Deflated``.

    What aiohttp's ``_write_websocket_frame`` writes for a server (no mask),
    built once for every connection that gets the same payload.
    """
    first = 0xC1 if type(payload) is Deflated else 0x81  # FIN, (RSV1,) text
    size = len(payload)
    if size < 126:
        header = _HEAD1(first, size)
    elif size < 65536:
        header = _HEAD2(first, 126, size)
    else:
        header = _HEAD3(first, 127, size)
    return header + payload


_HEAD1 = struct.Struct("!BB").pack
_HEAD2 = struct.Struct("!BBH").pack
_HEAD3 = struct.Struct("!BBQ").pack


async def send(ws: Any, payload: Deflated) -> None:
    """Send a compressed text message: aiohttp's ``send_frame`` with RSV1 set.

    aiohttp writes a frame's bits as given (``_write_websocket_frame``) but
    offers no way to send bytes compressed elsewhere, so this is its
    ``send_frame`` for an uncompressed frame, with the bit (aiohttp is pinned
    to 3.14.x for this and the other edge modules).
    """
    writer = ws._writer
    if writer is None:
        raise RuntimeError("Call .prepare() first")
    if writer._closing:
        raise ClientConnectionResetError("Cannot write to closing transport")
    writer._write_websocket_frame(payload, WSMsgType.TEXT, RSV1)
    if writer._output_size > writer._limit:
        writer._output_size = 0
        if writer.protocol._paused:
            await writer.protocol._drain_helper()
