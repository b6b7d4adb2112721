"""Forward Python log records to the editor's log (`window/logMessage`)."""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.lsp.server import LanguageServer

__all__ = ["EditorLogHandler"]

_LEVELS = (
    (logging.ERROR, types.MessageType.Error),
    (logging.WARNING, types.MessageType.Warning),
    (logging.INFO, types.MessageType.Info),
    (logging.DEBUG, types.MessageType.Log),
)


class EditorLogHandler(logging.Handler):
    """A logging handler that sends each record as a `window/logMessage` notification."""

    def __init__(self, server: LanguageServer, level: int = logging.INFO):
        super().__init__(level)
        self._server = server
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        protocol = self._server.protocol
        # LSP lets a server speak only once initialize has been received (and not after exit).
        if protocol.writer is None or not getattr(protocol, "initialize_seen", True):
            return
        kind = next((k for lvl, k in _LEVELS if record.levelno >= lvl), types.MessageType.Log)
        try:
            self._server.window_log_message(types.LogMessageParams(type=kind, message=self.format(record)))
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)
