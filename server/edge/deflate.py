"""permessage-deflate (RFC 7692) as a room's fan-out can afford it.

aiohttp's own compression keeps a compressor per socket (~120 KiB with its
window, S3's whole budget several times over) and compresses every frame
again for every connection. Ritrovo instead negotiates no context takeover in
both directions, so that every compressed message stands alone:

* a frame many connections share (a ``patch`` or ``state`` of one view) is
  compressed once and the same bytes go to all of them (``Deflated``);
* a client's compressed message is inflated on its own by a decompressor
  made for it and dropped after (``inflate``), so an idle connection keeps no
  zlib state at all.

Small frames (acks, errors, ``you``) go uncompressed, which the extension
allows message by message: they would hardly shrink.
"""

from __future__ import annotations

import zlib
from typing import Any

from aiohttp import WSMsgType
from aiohttp.client_exceptions import ClientConnectionResetError

# What the server answers to an acceptable offer: neither side keeps a
# compression context from one message to the next.
RESPONSE = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
# Frames shorter than this are sent as they are (a compressed 100-byte ack
# saves a few dozen bytes for the cost of a compressor).
WORTH_FROM = 256
LEVEL = 6  # compressed once per view, not per connection: the better ratio is affordable
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


def accepts(offers: list[str]) -> bool:
    """Whether one of the client's ``Sec-WebSocket-Extensions`` offers can be accepted.

    An offer of permessage-deflate is accepted unless it asks the server for
    a window under 15 bits (a frame compressed once for everybody uses the
    whole window) or has a parameter the RFC does not define or gives twice.
    """
    for header in offers:
        for offer in header.split(","):
            name, *parameters = (part.strip() for part in offer.split(";"))
            if name.lower() == "permessage-deflate" and _acceptable(parameters):
                return True
    return False


def _acceptable(parameters: list[str]) -> bool:
    seen: set[str] = set()
    for parameter in parameters:
        key, equals, value = parameter.partition("=")
        key, value = key.strip().lower(), value.strip().strip('"')
        if key not in _OFFER_PARAMETERS or key in seen:
            return False
        seen.add(key)
        if key.endswith("_no_context_takeover"):
            if equals:
                return False
        elif key == "client_max_window_bits":
            if equals and _window_bits(value) is None:
                return False
        elif _window_bits(value) != 15:  # server_max_window_bits: ours is always 15
            return False
    return True


def _window_bits(value: str) -> int | None:
    return int(value) if value.isdigit() and 8 <= int(value) <= 15 else None


def deflate(payload: bytes) -> Deflated:
    """``payload`` compressed as one message with no context (RFC 7692, 7.2.1)."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return Deflated(data.removesuffix(TRAILER))


def inflate(payload: bytes, limit: int) -> bytes | None:
    """A client's compressed message, inflated; None if it would exceed ``limit`` bytes.

    Raises ``zlib.error`` when it is not valid DEFLATE data. The output is
    bounded as it is produced, so a small message that inflates to gigabytes
    costs no more than ``limit`` bytes.
    """
    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
    data = decompressor.decompress(payload + TRAILER, limit + 1)
    if len(data) > limit:
        return None
    return data


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
