"""Thin LSP handlers: fetch the document, call the core, convert the result."""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from flashpro.documents import Encoding, TextChange, uri_to_path
from flashpro.ledger.report import parse_since
from flashpro.lsp.server import FlashproLanguageServer
from flashpro.lsp.spend import REPORT_COMMAND

__all__ = [
    "ACCEPT_COMMAND",
    "DID_PARTIALLY_ACCEPT",
    "DID_SHOW",
    "REPORT_COMMAND",
    "payload_field",
    "register",
]

logger = logging.getLogger(__name__)

ACCEPT_COMMAND = "flashpro.accept"
# Copilot-compatible acceptance notifications.
DID_SHOW = "textDocument/didShowCompletion"
DID_PARTIALLY_ACCEPT = "textDocument/didPartiallyAcceptCompletion"

_ENCODINGS: dict[str, Encoding] = {
    types.PositionEncodingKind.Utf8: "utf-8",
    types.PositionEncodingKind.Utf16: "utf-16",
    types.PositionEncodingKind.Utf32: "utf-32",
}


def _change(change: Any) -> TextChange:
    """An lsprotocol content change as a domain `TextChange`."""
    if isinstance(change, types.TextDocumentContentChangePartial):
        return TextChange(
            text=change.text,
            start=(change.range.start.line, change.range.start.character),
            end=(change.range.end.line, change.range.end.character),
        )
    return TextChange(text=change.text)


def payload_field(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a decoded payload (pygls gives objects or dicts)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _item_request(item: Any) -> tuple[str, int] | None:
    """(request id, suggestion length) from an inline item's `flashpro.accept` command."""
    command = payload_field(item, "command")
    arguments = payload_field(command, "arguments") if command is not None else None
    if isinstance(arguments, (list, tuple)) and len(arguments) >= 2 and isinstance(arguments[0], str):
        length = arguments[1]
        if type(length) is float and length.is_integer():
            length = int(length)
        if type(length) is int and length >= 0:
            return arguments[0], length
    return None


def _workspace_path(params: types.InitializeParams) -> str | None:
    """The workspace root as a path (first folder, else rootUri / rootPath)."""
    if params.workspace_folders:
        return uri_to_path(params.workspace_folders[0].uri)
    if params.root_uri:
        return uri_to_path(params.root_uri)
    return params.root_path


def register(server: FlashproLanguageServer) -> None:
    """Attach every flashpro feature to `server`."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: FlashproLanguageServer, params: types.InitializeParams) -> None:
        encoding = _ENCODINGS.get(ls.workspace.position_encoding or "utf-16", "utf-16")  # a str enum
        ls.core.set_encoding(encoding)
        ls.core.configure(init_options=params.initialization_options or {})
        ls.core.set_workspace(_workspace_path(params))

    @server.feature(types.INITIALIZED)
    async def initialized(ls: FlashproLanguageServer, params: types.InitializedParams) -> None:
        await ls.pull_configuration()
        ls.spend.sync()
        ls.send_status(await ls.core.status())  # the status bar has a state before any call
        ls.run_task(ls.core.check_models(), "check models")
        ls.run_task(ls.core.warm_up(), "load the tokenizer")

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: FlashproLanguageServer, params: types.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if isinstance(settings, dict) and isinstance(settings.get("flashpro"), dict):
            ls.core.configure(workspace_config=settings["flashpro"])
        await ls.pull_configuration()
        ls.spend.sync()  # flashpro.diagnostics.display may have changed

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: FlashproLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.core.open_document(item.uri, item.language_id, item.version, item.text)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: FlashproLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = params.text_document
        changes = [_change(change) for change in params.content_changes]
        if not ls.core.change_document(doc.uri, doc.version, changes):
            logger.warning("didChange for a document that is not open: %s", doc.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: FlashproLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.core.close_document(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: FlashproLanguageServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | None:
        doc = ls.core.documents.get(params.text_document.uri)
        if doc is None:
            return None
        cursor = doc.buffer.position(params.position.line, params.position.character)
        invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
        suggestions = await ls.core.completion.complete(doc, cursor.line, cursor.column, invoked)
        if not suggestions:
            return types.InlineCompletionList(items=[])
        at = types.Position(line=params.position.line, character=params.position.character)
        return types.InlineCompletionList(
            items=[
                types.InlineCompletionItem(
                    insert_text=suggestion.text,
                    range=types.Range(start=at, end=at),
                    command=types.Command(
                        title="flashpro: accepted",
                        command=ACCEPT_COMMAND,
                        arguments=[suggestion.request_id, len(suggestion.text)],
                    ),
                )
                for suggestion in suggestions
            ]
        )

    @server.command(ACCEPT_COMMAND)
    def accept(ls: FlashproLanguageServer, *args: Any) -> None:
        found = _item_request({"command": {"arguments": list(args)}})
        if found is None:
            raise JsonRpcInvalidParams(f"{ACCEPT_COMMAND} takes the request id and the accepted length")
        ls.core.accepted(*found)

    @server.feature(DID_SHOW)
    def did_show(ls: FlashproLanguageServer, params: Any) -> None:
        found = _item_request(payload_field(params, "item"))
        if found is not None:
            logger.debug("completion shown: %s", found[0])

    @server.feature(DID_PARTIALLY_ACCEPT)
    def did_partially_accept(ls: FlashproLanguageServer, params: Any) -> None:
        found = _item_request(payload_field(params, "item"))
        length = payload_field(params, "acceptedLength")
        if length is None:
            length = payload_field(params, "accepted_length")
        if found is not None and type(length) is int and length >= 0:
            ls.core.accepted(found[0], length, partial=True)

    @server.command(REPORT_COMMAND)
    async def report(ls: FlashproLanguageServer, *args: Any) -> dict[str, Any]:
        options = args[0] if args else {}
        if len(args) > 1 or not isinstance(options, dict):
            raise JsonRpcInvalidParams(f"{REPORT_COMMAND} takes no argument, or one object")
        since, workspace = options.get("since"), options.get("workspace")
        if not isinstance(since, str | None) or not isinstance(workspace, str | None):
            raise JsonRpcInvalidParams(f"{REPORT_COMMAND}: `since` and `workspace` must be strings")
        try:
            parse_since(since) if since else None
        except (ValueError, OverflowError) as exc:
            raise JsonRpcInvalidParams(f"{REPORT_COMMAND}: `since`: {exc}") from None
        return await ls.core.accounting.report(since=since, workspace=workspace)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: FlashproLanguageServer, params: None) -> None:
        await ls.core.shutdown()
