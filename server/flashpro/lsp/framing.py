"""The LSP base protocol on the wire: `Content-Length` framing, parsed strictly and incrementally.

`FrameParser` is fed bytes as they arrive and hands out each complete message body. A header it
cannot trust — a missing, repeated, non-numeric or oversized `Content-Length`, a header line
that is not `Name: value` (raw JSON where a header should be, a bare line feed), or a header
section over `MAX_HEADER_BYTES` — raises `FramingError` as soon as the offending byte arrives:
past it the stream cannot be resynchronised, so the server logs one line and exits, and the
editor restarts it. A body is buffered only as its bytes arrive, and a declared length over
`MAX_MESSAGE_BYTES` is refused before any of it is read, so no claimed size is ever allocated.

`ThreadedReader` reads a blocking binary stream (stdin) in a daemon thread, one chunk per
`read()`, so the event loop never blocks on the pipe and a reader stuck in `read` never keeps
the process alive after `exit`.
"""

from __future__ import annotations

import asyncio
import re
import threading
from typing import BinaryIO

__all__ = [
    "CHUNK_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_MESSAGE_BYTES",
    "FrameParser",
    "FramingError",
    "ThreadedReader",
]

MAX_MESSAGE_BYTES = 256 * 1024 * 1024
"""The largest message body accepted (a 50 MB file sent whole fits several times over)."""
MAX_HEADER_BYTES = 8 * 1024
"""The largest header section accepted (real ones are under 100 bytes)."""
CHUNK_BYTES = 1024 * 1024
"""The most bytes one read asks the stream for."""

_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]*")
_DIGITS = re.compile(rb"[0-9]+")


class FramingError(Exception):
    """The byte stream does not follow the LSP base protocol; it cannot be resynchronised."""


def _shown(data: bytes, limit: int = 40) -> str:
    """A short, printable rendering of bytes for a log line."""
    text = repr(bytes(data[:limit]))[2:-1]
    return text + ("…" if len(data) > limit else "")


def _content_length(section: bytes) -> int:
    """The body length a complete header section (without its blank line) declares."""
    if not section:
        raise FramingError("a message without Content-Length")
    length: int | None = None
    for line in section.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if not colon or not name:
            raise FramingError(f"malformed header line {_shown(line)!r}")
        if name.strip().lower() != b"content-length":
            continue  # Content-Type and any other header: nothing to check
        if length is not None:
            raise FramingError("Content-Length appears twice")
        value = value.strip()
        if _DIGITS.fullmatch(value) is None:
            raise FramingError(f"Content-Length is not a number: {_shown(value)!r}")
        if len(value) > 12 or int(value) > MAX_MESSAGE_BYTES:
            raise FramingError(f"Content-Length {_shown(value)} is over the {MAX_MESSAGE_BYTES} byte limit")
        length = int(value)
    if length is None:
        raise FramingError("a message without Content-Length")
    return length


class FrameParser:
    """Splits a byte stream into LSP message bodies; raises `FramingError` on a bad header."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._length: int | None = None  # the body length, once the header section is read
        self._checked = 0  # bytes of the current header section already checked

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a whole message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        """Add received bytes (`next` takes the messages out)."""
        self._buffer += data

    def next(self) -> bytes | None:
        """The next complete message body, or None until more bytes arrive.

        Raises `FramingError` at the first header byte that no valid header could contain."""
        if self._length is None:
            end = self._buffer.find(b"\r\n\r\n")
            self._check_header(len(self._buffer) if end < 0 else end)
            if end < 0:
                return None
            self._length = _content_length(bytes(self._buffer[:end]))
            del self._buffer[: end + 4]
            self._checked = 0
        if len(self._buffer) < self._length:
            return None
        body = bytes(self._buffer[: self._length])
        del self._buffer[: self._length]
        self._length = None
        return body

    def _check_header(self, end: int) -> None:
        """Fail at once on header bytes no valid header could contain (`end`: bytes to check)."""
        if end > MAX_HEADER_BYTES:
            raise FramingError(f"a header section over {MAX_HEADER_BYTES} bytes")
        if end <= self._checked:
            return
        # Re-check from the start of the line the previous check ended in.
        line_end = self._buffer.rfind(b"\r\n", 0, self._checked)
        start = line_end + 2 if line_end >= 0 else 0
        lines = bytes(self._buffer[start:end]).split(b"\r\n")
        for index, line in enumerate(lines):
            if index == len(lines) - 1 and line.endswith(b"\r"):
                line = line[:-1]  # its line feed has not arrived yet
            name = _NAME.match(line)
            assert name is not None  # the pattern matches the empty string
            rest = line[name.end() :]
            if rest[:1] not in (b"", b":") or (rest and not name.group()) or b"\r" in rest or b"\n" in rest:
                raise FramingError(f"malformed header {_shown(line)!r}")
        self._checked = end


class ThreadedReader:
    """Reads a blocking binary stream in a daemon thread, one chunk per `read()`."""

    def __init__(self, stream: BinaryIO, chunk: int = CHUNK_BYTES) -> None:
        self._stream = stream
        self._chunk = chunk
        self._wanted = threading.Semaphore(0)
        self._future: asyncio.Future[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    async def read(self) -> bytes:
        """The next chunk of bytes; b"" at end of stream."""
        loop = asyncio.get_running_loop()
        if self._thread is None:
            self._loop = loop
            self._thread = threading.Thread(target=self._run, name="flashpro-stdin", daemon=True)
            self._thread.start()
        self._future = loop.create_future()
        self._wanted.release()
        return await self._future

    def _run(self) -> None:
        assert self._loop is not None
        read = getattr(self._stream, "read1", self._stream.read)
        while True:
            self._wanted.acquire()
            future = self._future
            assert future is not None
            try:
                data = read(self._chunk)
            except (OSError, ValueError):  # closed under us: the same as the end of the stream
                data = b""
            try:
                self._loop.call_soon_threadsafe(_settle, future, data)
            except RuntimeError:  # the loop is closed: nobody is reading any more
                return
            if not data:
                return


def _settle(future: asyncio.Future[bytes], data: bytes) -> None:
    if not future.done():
        future.set_result(data)
