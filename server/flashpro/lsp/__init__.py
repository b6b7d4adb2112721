"""The LSP layer: the only package that imports pygls and lsprotocol."""

from __future__ import annotations

import logging

from flashpro.logs import configure_logging
from flashpro.lsp.actions import register_actions
from flashpro.lsp.features import ACCEPT_COMMAND, register
from flashpro.lsp.log import EditorLogHandler
from flashpro.lsp.server import FlashproLanguageServer
from flashpro.lsp.spend import register_spend
from flashpro.lsp.tasks import register_tasks

__all__ = ["ACCEPT_COMMAND", "FlashproLanguageServer", "create_server"]


def create_server(log_level: int = logging.INFO) -> FlashproLanguageServer:
    """A fully wired flashpro language server, logging to the editor."""
    server = FlashproLanguageServer()
    register(server)
    register_actions(server)
    register_tasks(server)
    register_spend(server)
    configure_logging(EditorLogHandler(server, log_level), log_level)
    return server
