"""An editor for flashpro's own tools: starts `flashpro lsp` and drives it over stdio.

`EditorClient` wraps pygls' `LanguageClient` behind plain Python values, so the code that uses
it (`flashpro.demo`) never sees lsprotocol: it keeps each open document's text, sends
incremental `didChange`s from character offsets (converted to UTF-16 positions), asks for inline
completions (a pending one is cancelled with `$/cancelRequest` as VS Code does), reports accepts
(the item's `flashpro.accept` command, or `didPartiallyAcceptCompletion`), runs commands, and
hands the server's notifications (`flashpro/status`, diagnostics, messages, `$/progress`,
`window/showDocument`) to callbacks as dicts. The server's stderr is drained and its last lines
kept for error messages.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.lsp.client import LanguageClient

from flashpro import __version__

__all__ = ["EditorClient", "Handlers", "Suggestion", "plain"]

_PARTIAL_ACCEPT = "textDocument/didPartiallyAcceptCompletion"
_STATUS = "flashpro/status"


def plain(value: Any) -> Any:
    """A decoded payload (pygls objects, attrs classes, namedtuples) as plain dicts and lists."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "_asdict"):
        value = value._asdict()
    elif hasattr(value, "__attrs_attrs__"):
        value = get_converter().unstructure(value)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        value = vars(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An inline completion as shown: the text to insert at `offset`, and how to report it."""

    text: str
    offset: int
    request_id: str | None
    item: Any


@dataclass(slots=True)
class Handlers:
    """Callbacks for what the server sends (each gets a plain dict)."""

    status: Callable[[dict[str, Any]], None] | None = None
    diagnostics: Callable[[str, list[dict[str, Any]]], None] | None = None
    message: Callable[[str, str], None] | None = None
    progress: Callable[[dict[str, Any]], None] | None = None
    show_document: Callable[[str], None] | None = None


class EditorClient:
    """A started flashpro server and the documents open in it."""

    def __init__(self, handlers: Handlers | None = None) -> None:
        self.handlers = handlers or Handlers()
        self._client = LanguageClient("flashpro-demo", __version__)
        self._texts: dict[str, str] = {}
        self._versions: dict[str, int] = {}
        self._stderr: deque[str] = deque(maxlen=20)
        self._drain: asyncio.Task[None] | None = None
        self._requests = 0
        self._register()

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, root: Path, env: dict[str, str], init_options: dict[str, Any] | None = None) -> str:
        """Start `python -m flashpro lsp` with `env` and initialize it on workspace `root`;
        returns the server's name and version."""
        await self._client.start_io(sys.executable, "-m", "flashpro", "lsp", env=env)
        process = self._client._server  # noqa: SLF001 - pygls keeps the process here
        if process is not None and process.stderr is not None:
            self._drain = asyncio.ensure_future(self._read_stderr(process.stderr))
        capabilities = types.ClientCapabilities(
            general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
            text_document=types.TextDocumentClientCapabilities(
                synchronization=types.TextDocumentSyncClientCapabilities(),
                inline_completion=types.InlineCompletionClientCapabilities(),
                publish_diagnostics=types.PublishDiagnosticsClientCapabilities(),
            ),
            window=types.WindowClientCapabilities(
                work_done_progress=True,
                show_document=types.ShowDocumentClientCapabilities(support=True),
            ),
        )
        result = await self._client.initialize_async(
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
                initialization_options=init_options or {},
            )
        )
        self._client.initialized(types.InitializedParams())
        info = result.server_info
        return f"{info.name} {info.version}" if info is not None else "flashpro"

    async def close(self, timeout: float = 10.0) -> int | None:
        """`shutdown`, `exit`, and wait for the server to end; returns its exit status."""
        process = self._client._server  # noqa: SLF001
        try:
            if process is not None and process.returncode is None:
                await asyncio.wait_for(self._client.shutdown_async(None), timeout)
                self._client.exit(None)
                await asyncio.wait_for(process.wait(), timeout)
        except (TimeoutError, RuntimeError, ConnectionError):
            pass
        finally:
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
            await self._client.stop()
            if self._drain is not None:
                await asyncio.gather(self._drain, return_exceptions=True)
        return process.returncode if process is not None else None

    @property
    def stderr_tail(self) -> str:
        """The server's last stderr lines (for a message when something went wrong)."""
        return "".join(self._stderr)

    @property
    def running(self) -> bool:
        """Whether the server process is still alive."""
        process = self._client._server  # noqa: SLF001
        return process is not None and process.returncode is None

    # -- documents -------------------------------------------------------------------------
    def open(self, uri: str, text: str, language_id: str) -> None:
        """`didOpen` a document with `text`."""
        self._texts[uri], self._versions[uri] = text, 1
        self._client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)
            )
        )

    def text(self, uri: str) -> str:
        """The document's text as the server has it."""
        return self._texts[uri]

    def position(self, uri: str, offset: int) -> types.Position:
        """The LSP (UTF-16) position of a character offset."""
        text = self._texts[uri]
        line = text.count("\n", 0, offset)
        start = text.rfind("\n", 0, offset) + 1
        return types.Position(line=line, character=_utf16(text[start:offset]))

    def insert(self, uri: str, offset: int, text: str) -> None:
        """Insert `text` at a character offset (one incremental `didChange`)."""
        at = self.position(uri, offset)
        self._versions[uri] += 1
        old = self._texts[uri]
        self._texts[uri] = old[:offset] + text + old[offset:]
        self._client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self._versions[uri]),
                content_changes=[types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text=text)],
            )
        )

    def close_document(self, uri: str) -> None:
        """`didClose`."""
        self._client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    # -- inline completion -----------------------------------------------------------------
    def suggest(self, uri: str, offset: int) -> tuple[str, asyncio.Future[Suggestion | None]]:
        """Ask for an automatic inline completion at `offset`; (request id, its future)."""
        self._requests += 1
        msg_id = f"demo-inline-{self._requests}"
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=self.position(uri, offset),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        )
        raw = self._client.protocol.send_request_async(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id)

        async def answer() -> Suggestion | None:
            result = await raw
            items = result.items if isinstance(result, types.InlineCompletionList) else (result or [])
            for item in items:
                text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
                if text:
                    args = item.command.arguments if item.command is not None else None
                    request_id = str(args[0]) if args else None
                    return Suggestion(text, offset, request_id, item)
            return None

        future = asyncio.ensure_future(answer())
        future.add_done_callback(lambda done: done.cancelled() or done.exception())  # seen, if unread
        return msg_id, future

    def cancel(self, msg_id: str) -> None:
        """`$/cancelRequest` for a pending request."""
        self._client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))

    def accept(self, uri: str, suggestion: Suggestion, chars: int) -> asyncio.Future[Any] | None:
        """Insert the first `chars` of `suggestion` and report it: the whole item's command, or
        a partial accept (in UTF-16 units)."""
        inserted = suggestion.text[:chars]
        self.insert(uri, suggestion.offset, inserted)
        command = suggestion.item.command
        if chars == len(suggestion.text) and command is not None:
            return asyncio.ensure_future(self.execute(command.command, *(command.arguments or [])))
        payload = {"item": get_converter().unstructure(suggestion.item), "acceptedLength": _utf16(inserted)}
        self._client.protocol.notify(_PARTIAL_ACCEPT, payload)
        return None

    async def execute(self, command: str, *arguments: Any) -> Any:
        """`workspace/executeCommand`; the result as plain values."""
        result = await self._client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(arguments))
        )
        return plain(result)

    # -- what the server sends -------------------------------------------------------------
    def _register(self) -> None:
        client, handlers = self._client, self.handlers

        @client.feature(_STATUS)
        def on_status(_ls: LanguageClient, params: Any) -> None:
            if handlers.status is not None:
                handlers.status(plain(params))

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(_ls: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
            if handlers.diagnostics is not None:
                handlers.diagnostics(params.uri, [plain(d) for d in params.diagnostics])

        @client.feature(types.WINDOW_SHOW_MESSAGE)
        def on_message(_ls: LanguageClient, params: types.ShowMessageParams) -> None:
            if handlers.message is not None:
                handlers.message(types.MessageType(params.type).name.lower(), params.message)

        @client.feature(types.WINDOW_LOG_MESSAGE)
        def on_log(_ls: LanguageClient, params: types.LogMessageParams) -> None:
            return None  # the editor log; the demo shows what matters elsewhere

        @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def on_progress_create(_ls: LanguageClient, params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @client.feature(types.PROGRESS)
        def on_progress(_ls: LanguageClient, params: types.ProgressParams) -> None:
            if handlers.progress is not None:
                value = plain(params.value)
                handlers.progress(value if isinstance(value, dict) else {"message": str(value)})

        @client.feature(types.WINDOW_SHOW_DOCUMENT)
        def on_show_document(_ls: LanguageClient, params: types.ShowDocumentParams) -> types.ShowDocumentResult:
            if handlers.show_document is not None:
                handlers.show_document(params.uri)
            return types.ShowDocumentResult(success=True)

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def on_apply_edit(_ls: LanguageClient, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="the demo applies no edits")

    async def _read_stderr(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self._stderr.append(line.decode("utf-8", "replace"))
