"""The per-file spend line as the editor shows it: a diagnostic on line 0, or a code lens above it.

The core hands over one line of text per file (`Frontend.publish_spend`); `SpendView` keeps it
and presents it as `flashpro.diagnostics.display` says:

- `diagnostic` (the default, for any client): an Information (or Hint) diagnostic with source
  `flashpro` spanning the first line, published with the file's review findings;
- `codeLens`: one lens at the top of the file, answered to `textDocument/codeLens`, whose
  command opens the spend report (`flashpro.report`). Each change asks the client to query
  again (`workspace/codeLens/refresh`) when it supports that; otherwise the client sees the new
  line the next time it asks (on its next edit).

Switching the setting moves every file's line from one form to the other at once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

from lsprotocol import types

from flashpro.documents import Position

if TYPE_CHECKING:
    from flashpro.lsp.server import FlashproLanguageServer

__all__ = ["REPORT_COMMAND", "SPEND_SOURCE", "SpendView", "register_spend"]

logger = logging.getLogger(__name__)

SPEND_SOURCE = "flashpro"
REPORT_COMMAND = "flashpro.report"

Display = Literal["diagnostic", "codeLens"]

_SEVERITIES = {
    "information": types.DiagnosticSeverity.Information,
    "hint": types.DiagnosticSeverity.Hint,
}
_TOP = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=0))


class SpendView:
    """The spend line of each open file, and the form it is shown in."""

    def __init__(self, server: FlashproLanguageServer) -> None:
        self._server = server
        self._lines: dict[str, tuple[str, str]] = {}
        self._shown_as: Display = self.display

    @property
    def display(self) -> Display:
        """The form the settings ask for now."""
        return self._server.core.settings.diagnostics.display

    def show(self, uri: str, message: str | None, severity: str) -> None:
        """Set (or with None, clear) the spend line of `uri` and show it."""
        before = self._lines.get(uri)
        if message is not None and self._server.core.documents.get(uri) is not None:
            self._lines[uri] = (message, severity)
        else:
            self._lines.pop(uri, None)
        if self.sync():
            return
        if self._shown_as == "diagnostic":
            self._server.publish_review(uri)
        elif self._lines.get(uri) != before:
            self.refresh_lenses()

    def sync(self) -> bool:
        """Move every line to the other form if the display setting changed; True when it did."""
        if self.display == self._shown_as:
            return False
        self._shown_as = self.display
        for uri in list(self._lines):
            self._server.publish_review(uri)
        if self._lines:
            self.refresh_lenses()
        return True

    def diagnostic(self, uri: str) -> types.Diagnostic | None:
        """The spend diagnostic of `uri`, when there is one and the display is `diagnostic`."""
        found = self._lines.get(uri)
        doc = self._server.core.documents.get(uri)
        if found is None or doc is None or self._shown_as != "diagnostic":
            return None
        message, severity = found
        end = doc.buffer.to_units(Position(0, len(doc.buffer.line_content(0))))
        return types.Diagnostic(
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=end)),
            message=message,
            severity=_SEVERITIES.get(severity, types.DiagnosticSeverity.Information),
            source=SPEND_SOURCE,
            code="spend",
        )

    def lenses(self, uri: str) -> list[types.CodeLens]:
        """The spend lens of `uri` (none unless the display is `codeLens`)."""
        found = self._lines.get(uri)
        if found is None or self._shown_as != "codeLens" or self._server.core.documents.get(uri) is None:
            return []
        return [
            types.CodeLens(
                range=_TOP,
                command=types.Command(title=found[0], command=REPORT_COMMAND),
            )
        ]

    def refresh_lenses(self) -> None:
        """Ask the client to query code lenses again, when it supports that."""
        workspace = self._server.client_capabilities.workspace
        lens = workspace.code_lens if workspace is not None else None
        if lens is None or not lens.refresh_support:
            return
        self._server.run_task(self._refresh(), "refresh code lenses")

    async def _refresh(self) -> None:
        try:
            await self._server.workspace_code_lens_refresh_async(None)
        except Exception as exc:  # noqa: BLE001 - a client's refusal must not stop the server
            logger.warning("workspace/codeLens/refresh failed: %s", exc)


def register_spend(server: FlashproLanguageServer) -> None:
    """Answer `textDocument/codeLens` with the spend lens."""

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def code_lens(ls: FlashproLanguageServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        return ls.spend.lenses(params.text_document.uri)
