"""The pygls language server: owns one `Flashpro` core and speaks LSP for it.

The protocol (`protocol.FlashproProtocol`) answers every request and keeps document sync in
flashpro's own buffers. The read loop is flashpro's too (`framing`): pygls' loop cannot
survive a bad header, so `start_io` / `start_tcp` feed the strict frame parser and stop on
`exit`, at the end of input, or at a framing error, leaving the process's status in
`exit_code` (0 after shutdown and exit or at the end of input, 1 after exit without shutdown
or a framing error). Server errors are logged, never shown as pop-ups.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from flashpro import __version__
from flashpro.app import Flashpro
from flashpro.documents import Position
from flashpro.lsp.framing import CHUNK_BYTES, FrameParser, FramingError, ThreadedReader
from flashpro.lsp.protocol import FlashproProtocol, describe, strict_converter
from flashpro.lsp.spend import SpendView

__all__ = ["REVIEW_SOURCE", "STATUS_NOTIFICATION", "FlashproLanguageServer", "FlashproProtocol"]

logger = logging.getLogger(__name__)

STATUS_NOTIFICATION = "flashpro/status"

_SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
REVIEW_SOURCE = "flashpro-review"

_MESSAGE_TYPES = {
    "error": types.MessageType.Error,
    "warning": types.MessageType.Warning,
    "info": types.MessageType.Info,
}


class FlashproLanguageServer(LanguageServer):
    """The flashpro server: LSP plumbing around a `Flashpro` core."""

    def __init__(self) -> None:
        super().__init__(
            "flashpro",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=FlashproProtocol,
            converter_factory=strict_converter,
        )
        self.exit_code = 0
        """The process's exit status once serving has ended."""
        self.core = Flashpro(frontend=self)
        self.spend = SpendView(self)
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- transport -------------------------------------------------------------------------
    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve LSP over stdio until `exit`, the end of input, or a framing error."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        reader = ThreadedReader(stdin or sys.stdin.buffer)
        try:
            asyncio.run(self.serve(reader.read))
        except KeyboardInterrupt:
            pass
        finally:
            self.shutdown()

    def start_tcp(
        self, host: str, port: int, on_listening: Callable[[str, int], None] | None = None
    ) -> None:
        """Serve LSP to the first client that connects to host:port, until it is done;
        `on_listening(host, port)` is called once the socket listens (port 0: the one chosen)."""
        self._stop_event = threading.Event()

        async def main() -> None:
            finished = asyncio.Event()

            async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                if finished.is_set() or self.protocol.writer is not None:
                    writer.close()  # one client per server, as with stdio
                    return
                self.protocol.set_writer(writer)
                try:
                    await self.serve(partial(reader.read, CHUNK_BYTES))
                finally:
                    writer.close()
                    finished.set()

            server = await asyncio.start_server(connection, host, port)
            bound = server.sockets[0].getsockname()
            logger.info("flashpro: listening on %s:%s", bound[0], bound[1])
            if on_listening is not None:
                on_listening(str(bound[0]), int(bound[1]))
            async with server:
                await finished.wait()

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            pass
        finally:
            self.shutdown()

    async def serve(self, read: Callable[[], Awaitable[bytes]]) -> None:
        """Read framed messages with `read` (b"" at the end) and handle them until told to stop."""
        parser = FrameParser()
        protocol = self.protocol
        assert isinstance(protocol, FlashproProtocol)
        while True:
            data = await read()
            if not data:
                if parser.pending:
                    logger.warning("flashpro: the input ended inside a message")
                logger.info("flashpro: end of input: stopping")
                return
            parser.feed(data)
            while True:
                try:
                    body = parser.next()
                except FramingError as exc:
                    logger.error(
                        "flashpro: malformed LSP framing (%s): exiting; the editor restarts the server", exc
                    )
                    self.exit_code = 1
                    return
                if body is None:
                    break
                protocol.receive(body)
                if protocol.exit_code is not None:
                    self.exit_code = protocol.exit_code
                    if self.exit_code:
                        logger.warning("flashpro: exit without shutdown: exit status %d", self.exit_code)
                    return
                await asyncio.sleep(0)  # let the tasks the message started run between messages

    def report_server_error(self, error: Exception, source: Any) -> None:
        """pygls' fallback for errors outside a request: a log line, never a pop-up."""
        logger.error("flashpro: server error: %s", describe(error))

    # -- Frontend --------------------------------------------------------------------------
    def show_message(self, level: str, text: str) -> None:
        """window/showMessage, plus the same line in the log."""
        kind = _MESSAGE_TYPES.get(level, types.MessageType.Info)
        self.window_show_message(types.ShowMessageParams(type=kind, message=text))

    def publish_spend(self, uri: str, message: str | None, severity: str) -> None:
        """Show (or with None, clear) the spend line of `uri`: a diagnostic or a code lens."""
        self.spend.show(uri, message, severity)

    def publish_review(self, uri: str) -> None:
        """Re-publish `uri`'s diagnostics with its current review findings."""
        self._publish(uri)

    def review_diagnostics(self, uri: str) -> list[types.Diagnostic]:
        """The review findings of `uri` as `flashpro-review` diagnostics."""
        doc = self.core.documents.get(uri)
        if doc is None:
            return []
        return [
            types.Diagnostic(
                range=self.to_range(doc, finding.start, finding.end),
                message=finding.message,
                severity=_SEVERITIES.get(finding.severity, types.DiagnosticSeverity.Warning),
                source=REVIEW_SOURCE,
                code=finding.category,
                data={"findingId": finding.id, "fix": finding.replacement is not None},
            )
            for finding in self.core.reviews.get(uri)
        ]

    @staticmethod
    def to_range(doc: Any, start: Position, end: Position) -> types.Range:
        """A domain (code point) range as an LSP range in the client's units."""
        return types.Range(
            start=types.Position(line=start.line, character=doc.buffer.to_units(start)),
            end=types.Position(line=end.line, character=doc.buffer.to_units(end)),
        )

    def _publish(self, uri: str) -> None:
        diagnostics = self.review_diagnostics(uri)
        if (spend := self.spend.diagnostic(uri)) is not None:
            diagnostics.insert(0, spend)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics)
        )

    def send_status(self, status: dict[str, Any]) -> None:
        """The `flashpro/status` notification for status bars."""
        self.protocol.notify(STATUS_NOTIFICATION, status)

    # -- helpers ---------------------------------------------------------------------------
    def run_task(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Start a background task, keep a reference, and log its failure."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                logger.error("background task %s failed", name, exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    async def pull_configuration(self) -> None:
        """Ask the client for the `flashpro` section, if it supports workspace/configuration."""
        workspace = self.client_capabilities.workspace
        if workspace is None or not workspace.configuration:
            return
        try:
            result = await self.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="flashpro")])
            )
        except Exception as exc:  # noqa: BLE001 - a client's refusal must not stop the server
            logger.warning("workspace/configuration failed: %s", exc)
            return
        section = result[0] if result else None
        if isinstance(section, dict):
            self.core.configure(workspace_config=section)
