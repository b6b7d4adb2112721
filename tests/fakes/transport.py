"""Socket-level side of the fake DeepSeek server: one HTTP exchange on one connection.

Owns reading the request body, writing plain and chunked responses, waiting (latency, hang,
keep-alives), aborting a connection with a TCP reset, and noticing that the CLIENT WENT AWAY:
while waiting the socket is polled with `select` + `recv(MSG_PEEK)` (b"" or a reset means
closed); while writing, a failed write means closed. No DeepSeek semantics here.
"""

from __future__ import annotations

import math
import select
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler

__all__ = ["Exchange", "ServerStopping"]

POLL_S = 0.05


class ServerStopping(Exception):
    """The server is shutting down; the exchange must end without answering."""


class Exchange:
    """One request/response on a `BaseHTTPRequestHandler` connection."""

    def __init__(self, handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        self._handler = handler
        self._sock: socket.socket = handler.connection
        self._stopping = stopping
        self.gone = False
        """The client closed the connection (or it broke) before we finished."""
        self.headers_sent = False
        self._chunked = False

    def read_body(self) -> bytes:
        length = int(self._handler.headers.get("Content-Length") or 0)
        return self._handler.rfile.read(length) if length > 0 else b""

    def client_gone(self) -> bool:
        """Poll, without blocking, whether the client has closed the connection."""
        if not self.gone:
            self._poll(0.0)
        return self.gone

    def _poll(self, timeout: float) -> None:
        """Block up to `timeout` for the socket to turn readable; mark `gone` on EOF/reset."""
        try:
            readable, _, _ = select.select([self._sock], [], [], max(timeout, 0.0))
            if not readable:
                return
            if self._sock.recv(1, socket.MSG_PEEK) == b"":
                self.gone = True
            else:  # stray bytes from the client: not a close; don't spin on them
                time.sleep(max(timeout, 0.0))
        except (OSError, ValueError):
            self.gone = True

    def wait(self, seconds: float, keepalive: bytes | None = None, every_s: float | None = None) -> bool:
        """Wait `seconds` (math.inf: until the client leaves); False if the client left.

        With `keepalive`, send it (as a body chunk, so headers must be out) every `every_s`.
        Raises ServerStopping when the server shuts down meanwhile.
        """
        start = time.monotonic()
        deadline = start + seconds
        next_ping = start + every_s if keepalive and every_s else math.inf
        while not self.gone:
            if self._stopping.is_set():
                raise ServerStopping
            now = time.monotonic()
            if now >= deadline:
                return True
            self._poll(min(deadline, next_ping, now + POLL_S) - now)
            if not self.gone and time.monotonic() >= next_ping:
                assert keepalive is not None and every_s is not None
                self.write_chunk(keepalive)
                next_ping += every_s
        return False

    def _write(self, data: bytes) -> bool:
        if self.gone:
            return False
        try:
            self._handler.wfile.write(data)
            self._handler.wfile.flush()
        except (OSError, ValueError):
            self.gone = True
        return not self.gone

    def _send_head(self, status: int, headers: dict[str, str]) -> bool:
        try:
            self._handler.send_response(status)
            for name, value in headers.items():
                self._handler.send_header(name, value)
            self._handler.end_headers()
        except (OSError, ValueError):
            self.gone = True
        self.headers_sent = True
        return not self.gone

    def send_body(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> bool:
        """A complete response with Content-Length."""
        head = {"Content-Type": content_type, "Content-Length": str(len(body)), **(headers or {})}
        return self._send_head(status, head) and self._write(body)

    def start_chunked(self, status: int, content_type: str) -> bool:
        """Send the headers of a chunked response (streams, or JSON behind keep-alives)."""
        self._chunked = True
        head = {"Content-Type": content_type, "Transfer-Encoding": "chunked", "Cache-Control": "no-cache"}
        return self._send_head(status, head)

    def write_chunk(self, data: bytes) -> bool:
        """One piece of a chunked body; False once the client is gone."""
        if not data:
            return not self.gone
        return self._write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_chunked(self, last: bytes = b"") -> bool:
        """The last piece (if any) and the end of a chunked body, in one write."""
        chunk = b"%x\r\n%s\r\n" % (len(last), last) if last else b""
        return self._write(chunk + b"0\r\n\r\n")

    def close(self) -> None:
        """Make the handler drop the connection after this exchange."""
        self._handler.close_connection = True

    def reset(self) -> None:
        """Abort the connection now with a TCP reset (RST), as a crashed server or proxy would."""
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self._handler.rfile.close()  # the last reference besides the socket: close() is real
            self._sock.close()
        except OSError:
            pass
        self.close()
