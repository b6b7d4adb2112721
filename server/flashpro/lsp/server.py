"""The pygls language server: owns one `Flashpro` core and speaks LSP for it.

Document sync is handled by flashpro's own incremental buffers, so the protocol subclass
below stops pygls from keeping a second, whole-text copy of every document (which costs a
full-text rebuild per keystroke in large files).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from flashpro import __version__
from flashpro.app import Flashpro
from flashpro.documents import Position
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


class FlashproProtocol(LanguageServerProtocol):
    """LSP protocol whose document sync feeds only flashpro's own document store."""

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class FlashproLanguageServer(LanguageServer):
    """The flashpro server: LSP plumbing around a `Flashpro` core."""

    def __init__(self) -> None:
        super().__init__(
            "flashpro",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=FlashproProtocol,
        )
        self.core = Flashpro(frontend=self)
        self.spend = SpendView(self)
        self._tasks: set[asyncio.Task[Any]] = set()

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
