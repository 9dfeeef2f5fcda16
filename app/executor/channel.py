"""Length-prefixed byte messages over a socket pair between the web process and a worker.

Our own framing rather than multiprocessing's Connection: the event loop (uvloop) puts the
parent's end in non-blocking mode, and Connection.recv_bytes cannot resume a half-read
message. asyncio streams can.
"""

from __future__ import annotations

import asyncio
import select
import socket
import struct

_HEADER = struct.Struct(">Q")


class BlockingChannel:
    """The worker's end: plain blocking socket calls."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(True)
        self.sock = sock

    def send(self, data: bytes) -> None:
        self.sock.sendall(_HEADER.pack(len(data)) + data)

    def _read_exactly(self, size: int) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            chunk = self.sock.recv(min(remaining, 1 << 20))
            if not chunk:
                raise EOFError("the other end closed the channel")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def recv(self) -> bytes:
        (size,) = _HEADER.unpack(self._read_exactly(_HEADER.size))
        return self._read_exactly(size)

    def poll(self, timeout: float = 0.0) -> bool:
        readable, _, _ = select.select([self.sock], [], [], timeout)
        return bool(readable)

    def close(self) -> None:
        self.sock.close()


class AsyncChannel:
    """The web process's end, driven by the event loop."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, sock: socket.socket) -> AsyncChannel:
        reader, writer = await asyncio.open_connection(sock=sock)
        return cls(reader, writer)

    def send(self, data: bytes) -> None:
        self.writer.write(_HEADER.pack(len(data)) + data)

    async def recv(self) -> bytes:
        try:
            (size,) = _HEADER.unpack(await self.reader.readexactly(_HEADER.size))
            return await self.reader.readexactly(size)
        except asyncio.IncompleteReadError as closed:
            raise EOFError("the worker closed the channel") from closed

    def close(self) -> None:
        self.writer.close()
