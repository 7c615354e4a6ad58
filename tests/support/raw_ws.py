"""A WebSocket spoken by hand, so a test can send what no library sends."""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import zlib


def frame(
    payload: bytes,
    *,
    masked: bool = True,
    opcode: int = 0x1,
    fin: bool = True,
    rsv1: bool = False,
) -> bytes:
    """One client frame (final unless ``fin`` is false; RSV1 marks a compressed message)."""
    size = len(payload)
    mask_bit = 0x80 if masked else 0
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    if size < 126:
        header = bytes([first, mask_bit | size])
    elif size < 1 << 16:
        header = bytes([first, mask_bit | 126]) + struct.pack("!H", size)
    else:
        header = bytes([first, mask_bit | 127]) + struct.pack("!Q", size)
    if not masked:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def deflated(message: bytes, window: int = 15) -> bytes:
    """``message`` compressed as permessage-deflate sends it (no context, trailer removed)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -window)
    data = compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


def inflated(payload: bytes) -> bytes:
    return zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")


class RawSocket:
    """A WebSocket spoken by hand: frames are written and read as bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes):
        self.reader, self.writer = reader, writer
        self.head = head  # the server's handshake response
        self.rsv1 = False  # whether the last frame read had RSV1 set
        # One decompressor for the connection's life, as a browser keeps it:
        # the server's compressed frames may refer to earlier ones.
        self.inflater = zlib.decompressobj(-15)
        self.alone: list[bool] = []  # per compressed message: whether it reads on its own

    @classmethod
    async def open(cls, base_url: str, first: bytes = b"", extensions: str = "") -> RawSocket:
        """Upgrade a TCP connection; ``first`` goes in the same write as the handshake."""
        host, port = base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        key = base64.b64encode(os.urandom(16)).decode()
        offer = f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions else ""
        request = (
            f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n{offer}\r\n"
        )
        writer.write(request.encode() + first)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer, head)

    async def send(self, data: bytes, piece: int = 0) -> None:
        """Write ``data``, in pieces of ``piece`` bytes each drained alone if given."""
        for i in range(0, len(data), piece or len(data)):
            self.writer.write(data[i : i + (piece or len(data))])
            await self.writer.drain()

    async def next_frame(self) -> tuple[int, bytes]:
        """(opcode, payload) of the server's next frame (server frames are not masked)."""
        first, second = await self.reader.readexactly(2)
        self.rsv1 = bool(first & 0x40)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", await self.reader.readexactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", await self.reader.readexactly(8))[0]
        return first & 0x0F, await self.reader.readexactly(size)

    async def next_message(self) -> bytes:
        """The next text message's bytes, inflated if it came compressed (control frames skipped).

        Also notes in ``alone`` whether a compressed one could be read
        without the ones before it.
        """
        while True:
            opcode, payload = await self.next_frame()
            if opcode == 0x1:
                if not self.rsv1:
                    return payload
                message = self.inflater.decompress(payload + b"\x00\x00\xff\xff")
                try:
                    self.alone.append(inflated(payload) == message)
                except zlib.error:
                    self.alone.append(False)
                return message
            assert opcode >= 0x8, opcode

    async def close_code(self) -> int:
        """The code of the server's close frame, skipping the frames before it."""
        while True:
            opcode, payload = await self.next_frame()
            if opcode == 0x8:
                return int(struct.unpack("!H", payload[:2])[0])

    def close(self) -> None:
        self.writer.close()
