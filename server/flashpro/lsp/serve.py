"""Serving over TCP: pygls' `start_tcp`, plus a callback once the socket listens.

The command line prints where the server listens only when it really does (with port 0, the
port the system chose), so a user or a test never races the bind.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from threading import Event

from pygls.io_ import run_async

from flashpro.lsp.server import FlashproLanguageServer

__all__ = ["serve_tcp"]

logger = logging.getLogger(__name__)


def serve_tcp(
    server: FlashproLanguageServer,
    host: str,
    port: int,
    on_listening: Callable[[str, int], None] | None = None,
) -> None:
    """Serve one LSP client at a time on `host:port` until the client's connection ends."""

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        logger.debug("client connected")
        server.protocol.set_writer(writer)  # type: ignore[arg-type]
        await run_async(
            stop_event=stop_event,
            reader=reader,
            protocol=server.protocol,
            logger=logger,
            error_handler=server.report_server_error,
        )
        logger.debug("client disconnected")
        server.shutdown()

    async def listen() -> None:
        listener = await asyncio.start_server(connection, host, port)
        server._server = listener  # noqa: SLF001 - pygls' shutdown() closes it
        bound = listener.sockets[0].getsockname()
        if on_listening is not None:
            on_listening(str(bound[0]), int(bound[1]))
        async with listener:
            await listener.serve_forever()

    stop_event = Event()
    server._stop_event = stop_event  # noqa: SLF001 - pygls' shutdown() sets it
    try:
        asyncio.run(listen())
    except asyncio.CancelledError:
        logger.debug("TCP server stopped")
