"""Client frames as RFC 6455 requires them, where aiohttp's reader is lenient.

A client must mask every frame it sends, and a server must close the
connection when one is not masked (RFC 6455, section 5.1): masking keeps a
page's script from writing bytes of its choosing to proxies between the
browser and the server. aiohttp's frame reader unmasks what is masked and
accepts the rest, and has no option to refuse it, so ``MaskedFramesOnly``
sits in front of it: it follows the frame boundaries of the byte stream
(reading headers, skipping payloads without copying them) and fails the
connection with 1002 at the first unmasked frame, before the reader sees it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import WebSocketError, WSCloseCode, web
from aiohttp.web_request import BaseRequest

MASK_BIT = 0x80
PONG_HEADER = b"\x8a"  # FIN, opcode 0xA (pong): control frames are never fragmented
LONGEST_HEADER = 14  # 2 bytes, an 8-byte length, a 4-byte mask


class MaskedFramesOnly:
    """Feeds aiohttp's frame reader, failing the connection at an unmasked frame."""

    __slots__ = ("_failed", "_head", "_queue", "_reader", "_skip")

    def __init__(self, reader: Any, queue: Any) -> None:
        self._reader = reader
        self._queue = queue
        self._head = b""  # the first bytes of a frame header split across reads
        self._skip = 0  # bytes of the current frame's payload still to come
        self._failed = False

    def feed_data(self, data: bytes | bytearray | memoryview) -> tuple[bool, bytes]:
        if self._failed:
            return True, b""
        if type(data) is not bytes:
            data = bytes(data)
        if (
            data[:1] == PONG_HEADER
            and 6 <= len(data) <= 6 + 125
            and len(data) == 6 + (data[1] & 0x7F)
            and data[1] & MASK_BIT
            and not self._skip
            and not self._head
        ):
            # A whole pong, alone in its read: the answer to the keep-alive's
            # ping, which already counted the read as a sign of life. The
            # reader would queue it and wake the connection's handler only to
            # drop it; 20,000 idle players answer 1,000 pings a second.
            return False, b""
        bad = self._unmasked_at(data)
        if bad is None:
            result: tuple[bool, bytes] = self._reader.feed_data(data)
            return result
        if bad > 0:  # the frames before it are whole and valid
            eof, tail = self._reader.feed_data(data[:bad])
            if eof:
                return eof, tail
        self._failed = True
        self._queue.set_exception(
            WebSocketError(WSCloseCode.PROTOCOL_ERROR, "client frames must be masked")
        )
        return True, b""

    def feed_eof(self) -> None:
        self._reader.feed_eof()

    def _unmasked_at(self, data: bytes) -> int | None:
        """Where in ``data`` the first unmasked frame starts (0 if it began earlier), or None."""
        pos, size = 0, len(data)
        while pos < size:
            if self._skip:
                step = min(self._skip, size - pos)
                self._skip -= step
                pos += step
                continue
            held = len(self._head)
            header = self._head + data[pos : pos + LONGEST_HEADER - held]
            if len(header) < 2:
                self._head = header
                return None
            if not header[1] & MASK_BIT:
                return max(0, pos - held)
            length = header[1] & 0x7F
            extra = 2 if length == 126 else 8 if length == 127 else 0
            needed = 2 + extra + 4
            if len(header) < needed:
                self._head = header
                return None
            if extra:
                length = int.from_bytes(header[2 : 2 + extra], "big")
            self._head = b""
            pos += needed - held
            self._skip = length
        return None


class StrictWebSocketResponse(web.WebSocketResponse):
    """A ``WebSocketResponse`` whose reader refuses unmasked client frames (close 1002)."""

    def _post_start(self, request: BaseRequest, protocol: str | None, writer: Any) -> None:
        handler = request.protocol
        # Bytes that came in the same read as the handshake are fed to the
        # reader as it is installed: hold them back and pass them through the check.
        early = handler._message_tail
        handler._message_tail = b""
        super()._post_start(request, protocol, writer)
        check = MaskedFramesOnly(handler._payload_parser, self._reader)
        handler._payload_parser = check
        if early:
            eof, _ = check.feed_data(early)
            if eof:
                handler.close()
