"""Client frames as RFC 6455 requires them, where aiohttp's reader is lenient,
and compressed client messages (RFC 7692) inflated one at a time.

A client must mask every frame it sends, and a server must close the
connection when one is not masked (RFC 6455, section 5.1): masking keeps a
page's script from writing bytes of its choosing to proxies between the
browser and the server. aiohttp's frame reader unmasks what is masked and
accepts the rest, and has no option to refuse it, so ``ClientFrames`` sits in
front of it: it follows the frame boundaries of the byte stream (reading
headers, skipping payloads without copying them) and fails the connection
with 1002 at the first unmasked frame, before the reader sees it.

Where permessage-deflate was negotiated (``deflate.py``), the frames of a
compressed message are held back here instead, inflated with a decompressor
made for the message, and handed to the reader as one plain frame. aiohttp's
reader would keep a decompressor per connection for its lifetime (~40 KiB
once a client has sent one compressed message); the client was told to
compress every message on its own (``client_no_context_takeover``), so none
has to be kept.
"""

from __future__ import annotations

import zlib
from typing import Any

from aiohttp import WebSocketError, WSCloseCode, hdrs, web
from aiohttp._websocket.helpers import websocket_mask
from aiohttp.web_request import BaseRequest

from . import deflate

MASK_BIT = 0x80
FIN_BIT = 0x80
RSV_BITS = 0x70
PONG_HEADER = b"\x8a"  # FIN, opcode 0xA (pong): control frames are never fragmented
LONGEST_HEADER = 14  # 2 bytes, an 8-byte length, a 4-byte mask
CONTROL = 0x8  # opcodes from 8 up are control frames
# A compressed message in more frames than this is refused (1009), and each
# frame counts this many bytes against the message's limit besides its
# payload: empty continuation frames cost memory too.
MAX_FRAGMENTS = 64
FRAGMENT_COST = 16
# What one socket read may inflate to, in messages' limits: a read of 256
# KiB of tiny compressed bombs would inflate to ~150 MB in one call, holding
# the event loop (aiohttp pauses reading only between reads).
READ_INFLATE_LIMITS = 2


def plain_frame(opcode: int, payload: bytes) -> bytes:
    """A final, unmasked frame: how an inflated message is handed to aiohttp's reader."""
    size = len(payload)
    if size < 126:
        header = bytes((FIN_BIT | opcode, size))
    elif size < 1 << 16:
        header = bytes((FIN_BIT | opcode, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((FIN_BIT | opcode, 127)) + size.to_bytes(8, "big")
    return header + payload


class _Held:
    """A compressed message being read: held back until its last frame is in."""

    __slots__ = ("collect", "fin", "mask", "opcode", "parts", "payload", "size")

    def __init__(self, opcode: int) -> None:
        self.opcode = opcode
        self.parts: list[bytes] = []  # the payloads of its frames read so far, unmasked
        self.size = 0  # their size, with the frame being read
        # The frame being read: its payload so far (masked), the bytes still
        # to come, its mask, and whether it ends the message.
        self.payload = bytearray()
        self.collect = 0
        self.mask = b""
        self.fin = False


class ClientFrames:
    """Feeds aiohttp's frame reader: fails the connection at an unmasked frame, inflates.

    ``inflate_limit``: permessage-deflate was negotiated, and the longest
    message the reader takes is that many bytes (0: not negotiated);
    ``window``: the window bits the client compresses with.
    """

    # Kept for every connection's lifetime: the state of a compressed message
    # is an object of its own, there only while one is being read.
    __slots__ = (
        "_budget",
        "_failed",
        "_head",
        "_held",
        "_limit",
        "_queue",
        "_reader",
        "_skip",
        "_window",
    )

    def __init__(
        self, reader: Any, queue: Any, *, inflate_limit: int = 0, window: int = zlib.MAX_WBITS
    ) -> None:
        self._reader = reader
        self._queue = queue
        self._limit = inflate_limit
        self._window = window
        self._head = b""  # the first bytes of a frame header split across reads
        self._skip = 0  # bytes of the current frame's payload still to come
        self._held: _Held | None = None
        self._failed = False
        self._budget = 0  # bytes the read being walked may still inflate to

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
            and (self._held is None or not self._held.collect)
        ):
            # A whole pong, alone in its read: the answer to the keep-alive's
            # ping, which already counted the read as a sign of life. The
            # reader would queue it and wake the connection's handler only to
            # drop it; 20,000 idle players answer 1,000 pings a second.
            return False, b""
        passed, error = self._walk(data)
        if passed:
            eof, tail = self._reader.feed_data(passed)
            if eof:
                return eof, tail
        if error is None:
            return False, b""
        self._failed = True
        self._held = None
        self._queue.set_exception(error)
        return True, b""

    def feed_eof(self) -> None:
        self._reader.feed_eof()

    def _walk(self, data: bytes) -> tuple[bytes, WebSocketError | None]:
        """What of ``data`` goes on to the reader, and the error that fails the connection.

        Frames the reader reads as they are go on untouched (``data`` itself
        when nothing is held back); the frames of a compressed message are
        held back, and the message goes on inflated once its last frame is in.
        On an error, what came before the bad frame goes on (it is whole and
        valid) and the rest is dropped.
        """
        pos, size = 0, len(data)
        pieces: list[bytes] = []  # what goes on, once something was held back
        run = 0  # where the bytes that go on as they are start
        self._budget = self._limit * READ_INFLATE_LIMITS
        while pos < size:
            if self._skip:
                step = min(self._skip, size - pos)
                self._skip -= step
                pos += step
                continue
            held = self._held
            if held is not None and held.collect:
                step = min(held.collect, size - pos)
                held.payload += data[pos : pos + step]
                held.collect -= step
                pos = run = pos + step
                if not held.collect:
                    error = self._frame_read(held, pieces)
                    if error is not None:
                        return b"".join(pieces), error
                continue
            kept = len(self._head)
            header = self._head + data[pos : pos + LONGEST_HEADER - kept]
            first = header[0]
            holds = self._holds(first)
            if holds:
                pieces.append(data[run:pos])
                run = pos
            if len(header) < 2:
                self._head = header
                if holds:
                    run = size  # the start of a held frame's header does not go on
                break
            if not header[1] & MASK_BIT:
                pieces.append(data[run:pos])
                return b"".join(pieces), WebSocketError(
                    WSCloseCode.PROTOCOL_ERROR, "client frames must be masked"
                )
            length = header[1] & 0x7F
            extra = 2 if length == 126 else 8 if length == 127 else 0
            needed = 2 + extra + 4
            if len(header) < needed:
                self._head = header
                if holds:
                    run = size
                break
            if extra:
                length = int.from_bytes(header[2 : 2 + extra], "big")
            self._head = b""
            pos += needed - kept
            if not holds:
                self._skip = length
                continue
            run = pos
            held, error = self._hold(first, header[needed - 4 : needed], length)
            if held is not None and not length:
                error = self._frame_read(held, pieces)
            if error is not None:
                return b"".join(pieces), error
        if not pieces and not run:
            return data, None
        pieces.append(data[run:])
        return b"".join(pieces), None

    def _holds(self, first: int) -> bool:
        """Whether the frame whose header starts with the byte ``first`` is held back."""
        if not self._limit or first & 0x0F >= CONTROL:
            return False  # control frames go on, even in the middle of a held message
        return self._held is not None or bool(first & deflate.RSV1)

    def _hold(
        self, first: int, mask: bytes, length: int
    ) -> tuple[_Held | None, WebSocketError | None]:
        """Start reading a held frame of ``length`` bytes (its header just read)."""
        opcode = first & 0x0F
        held = self._held
        if held is None:  # a message's first frame: RSV1 said it is compressed
            if first & RSV_BITS != deflate.RSV1:
                return None, WebSocketError(WSCloseCode.PROTOCOL_ERROR, "RSV2 and RSV3 must be 0")
            if opcode not in (0x1, 0x2):  # RSV1 on a continuation (RFC 7692, 6.1)
                return None, WebSocketError(
                    WSCloseCode.PROTOCOL_ERROR, "a compressed message starts with a data frame"
                )
            held = self._held = _Held(opcode)
        elif opcode != 0 or first & RSV_BITS:
            return None, WebSocketError(
                WSCloseCode.PROTOCOL_ERROR,
                "a compressed message goes on in continuation frames without RSV bits",
            )
        elif len(held.parts) >= MAX_FRAGMENTS:
            return None, WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, "too many fragments")
        held.size += length + FRAGMENT_COST
        # DEFLATE can make data a little larger (5 bytes per stored block of 64 KiB).
        if held.size > self._limit + 1024:
            return None, WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, "message too big")
        held.mask, held.collect, held.fin = mask, length, bool(first & FIN_BIT)
        return held, None

    def _frame_read(self, held: _Held, pieces: list[bytes]) -> WebSocketError | None:
        """A held frame is in: keep its payload; at the message's end, pass it on inflated.

        Spends the read's inflate budget (``_budget``, set by ``_walk``).
        """
        payload, held.payload = held.payload, bytearray()
        if payload:
            websocket_mask(held.mask, payload)
        held.parts.append(bytes(payload))
        if not held.fin:
            return None
        self._held = None
        limit = min(self._limit, self._budget)
        try:
            message = deflate.inflate(b"".join(held.parts), limit, self._window)
        except zlib.error:
            return WebSocketError(WSCloseCode.INVALID_TEXT, "invalid compressed data")
        if message is None:
            if limit < self._limit:
                return WebSocketError(
                    WSCloseCode.POLICY_VIOLATION, "too much compressed data at once"
                )
            return WebSocketError(WSCloseCode.MESSAGE_TOO_BIG, "message too big")
        self._budget -= len(message)
        pieces.append(plain_frame(held.opcode, message))
        return None


class StrictWebSocketResponse(web.WebSocketResponse):
    """A ``WebSocketResponse`` that refuses unmasked client frames (close 1002).

    With ``deflate``, it accepts a client's offer of permessage-deflate on
    Ritrovo's terms (``deflate.negotiate``) and sets ``deflated`` to what was
    agreed (``deflate.OFF``, ``ALONE`` or ``STREAMS``): compressed client
    messages are inflated by ``ClientFrames``, and the caller may send
    ``deflate.Deflated`` frames (aiohttp itself is given compress=False and
    never compresses).
    """

    __slots__ = ("client_window", "deflated")

    def __init__(self, *, deflate: bool = False, **kwargs: Any) -> None:
        super().__init__(compress=False, **kwargs)
        self.deflated = int(deflate)  # until the handshake: whether to accept an offer
        self.client_window = 0  # the window bits of the client's compressed messages

    def _handshake(self, request: BaseRequest) -> tuple[Any, str | None, int, bool]:
        headers, protocol, compress, notakeover = super()._handshake(request)
        if self.deflated:
            offers = request.headers.getall(hdrs.SEC_WEBSOCKET_EXTENSIONS, [])
            agreed = deflate.negotiate(offers)
            self.deflated, self.client_window = agreed.mode, agreed.client_window
            if agreed.mode:
                headers[hdrs.SEC_WEBSOCKET_EXTENSIONS] = agreed.response
        return headers, protocol, compress, notakeover

    def _post_start(self, request: BaseRequest, protocol: str | None, writer: Any) -> None:
        handler = request.protocol
        # Bytes that came in the same read as the handshake are fed to the
        # reader as it is installed: hold them back and pass them through the check.
        early = handler._message_tail
        handler._message_tail = b""
        super()._post_start(request, protocol, writer)
        # The reader refuses a message of its max_msg_size bytes (hence the - 1).
        check = ClientFrames(
            handler._payload_parser,
            self._reader,
            inflate_limit=self._max_msg_size - 1 if self.deflated else 0,
            window=self.client_window,
        )
        handler._payload_parser = check
        if early:
            eof, _ = check.feed_data(early)
            if eof:
                handler.close()
