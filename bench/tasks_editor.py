"""The editor side of bench/tasks.py: the REAL flashpro server over stdio, driven as an editor would.

`Editor` starts `python -m flashpro lsp` with pytest-lsp's client and a real editor's captured
capabilities (VS Code by default, tests/client_capabilities/), on a workspace folder. To run a
task it opens the file, asks for code actions on the spot (kind `refactor.flashpro.implement`),
resolves the "Implement this" action when the client resolves lazily, and executes its command
(`flashpro.implement {uri, lines}`). While the task runs it answers what the server asks:

- `window/showMessageRequest`: the `answer(message, options)` policy picks the title (a stuck
  node: Retry / Skip node / Abort; Apply / Discard on clients without change annotations);
- `workspace/applyEdit`: applied to the files on disk as an editor applies an edit — versioned
  document edits refused when the document's version moved, `CreateFile`, annotated edits,
  positions in the negotiated encoding — and the open buffer is synced with one `didChange`.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.lsp_session import clean_env, load_capabilities

__all__ = ["Editor", "apply_text_edits", "offset_of"]

logger = logging.getLogger(__name__)

Policy = Callable[[str, list[str]], "str | None"]


def _path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def offset_of(text: str, position: types.Position, encoding: str) -> int:
    """The string index of an LSP position in `text` (columns in the negotiated encoding)."""
    lines = text.splitlines(keepends=True)
    if position.line >= len(lines):
        return len(text)
    start = sum(len(line) for line in lines[: position.line])
    line = lines[position.line].rstrip("\r\n")
    units = 0
    for index, char in enumerate(line):
        if units >= position.character:
            return start + index
        if encoding == "utf-8":
            units += len(char.encode("utf-8"))
        elif encoding == "utf-16":
            units += 2 if ord(char) > 0xFFFF else 1
        else:
            units += 1
    return start + len(line)


def apply_text_edits(text: str, edits: list[Any], encoding: str) -> str:
    """`edits` (TextEdit / AnnotatedTextEdit against `text`) applied, last first."""
    spans = sorted(
        (
            (offset_of(text, e.range.start, encoding), offset_of(text, e.range.end, encoding), e.new_text)
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


class Editor:
    """One editor session on one workspace folder."""

    def __init__(
        self,
        root: Path,
        init_options: dict[str, Any],
        ledger: Path,
        answer: Policy,
        editor: str = "vscode",
        env: dict[str, str] | None = None,
    ):
        self.root = root
        self.init_options = init_options
        self.ledger = ledger
        self.answer = answer
        self.editor = editor
        self.env = dict(env or {})
        self.client: LanguageClient | None = None
        self.encoding = "utf-16"
        self.versions: dict[str, int] = {}
        self.texts: dict[str, str] = {}
        self.questions: list[dict[str, Any]] = []  # message, options, answer
        self.edits: list[types.WorkspaceEdit] = []
        self.refused: list[str] = []

    async def start(self) -> None:
        config = ClientServerConfig(
            server_command=[sys.executable, "-m", "flashpro", "lsp"],
            server_env=clean_env(FLASHPRO_LEDGER=str(self.ledger), **self.env),
        )
        client = await config.start()
        assert isinstance(client, LanguageClient)
        self.client = client

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def on_apply_edit(
            _client: LanguageClient, params: types.ApplyWorkspaceEditParams
        ) -> types.ApplyWorkspaceEditResult:
            problem = self._apply(params.edit)
            if problem is not None:
                self.refused.append(problem)
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason=problem)
            self.edits.append(params.edit)
            return types.ApplyWorkspaceEditResult(applied=True)

        @client.feature("flashpro/status")
        def on_status(_client: LanguageClient, params: Any) -> None:
            return None  # the status bar's figures; the bench reads the ledger instead

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def on_question(
            _client: LanguageClient, params: types.ShowMessageRequestParams
        ) -> types.MessageActionItem | None:
            options = [action.title for action in params.actions or []]
            title = self.answer(params.message, options)
            self.questions.append({"message": params.message, "options": options, "answer": title})
            return types.MessageActionItem(title=title) if title is not None else None

        result = await client.initialize_session(
            types.InitializeParams(
                capabilities=load_capabilities(self.editor),
                root_uri=self.root.as_uri(),
                initialization_options=self.init_options,
            )
        )
        self.encoding = str(result.capabilities.position_encoding or "utf-16")

    async def stop(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if client._server is not None and client._server.returncode is None:  # noqa: SLF001
                await asyncio.wait_for(client.shutdown_session(), timeout=20)
        finally:
            process = client._server  # noqa: SLF001 - pytest-lsp exposes no public handle
            if process is not None and process.returncode is None:
                process.kill()
            await client.stop()

    # -- documents -----------------------------------------------------------------------------
    def open(self, path: Path) -> str:
        assert self.client is not None
        uri = path.as_uri()
        text = path.read_text(encoding="utf-8")
        self.versions[uri], self.texts[uri] = 1, text
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
            )
        )
        return uri

    def close(self, uri: str) -> None:
        assert self.client is not None
        self.versions.pop(uri, None)
        self.texts.pop(uri, None)
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def _sync(self, uri: str, text: str) -> None:
        """The open buffer changed by an applied edit: one full-text didChange."""
        assert self.client is not None
        self.versions[uri] += 1
        self.texts[uri] = text
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def _apply(self, edit: types.WorkspaceEdit) -> str | None:
        """Apply `edit` to the files (all or nothing); the reason when it cannot be applied."""
        writes: dict[str, str] = {}
        created: set[str] = set()

        def current(uri: str) -> str | None:
            if uri in writes:
                return writes[uri]
            if uri in self.texts:
                return self.texts[uri]
            path = _path(uri)
            return path.read_text(encoding="utf-8") if path.exists() else None

        steps: list[Any] = list(edit.document_changes or [])
        steps += [
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                edits=list(edits),
            )
            for uri, edits in (edit.changes or {}).items()
        ]
        for step in steps:
            if isinstance(step, types.CreateFile):
                exists = current(step.uri) is not None
                if exists and not (
                    step.options and (step.options.overwrite or step.options.ignore_if_exists)
                ):
                    return f"{step.uri} already exists"
                if not exists or (step.options and step.options.overwrite):
                    writes[step.uri] = ""
                    created.add(step.uri)
            elif isinstance(step, types.TextDocumentEdit):
                uri = step.text_document.uri
                version = step.text_document.version
                if version is not None and self.versions.get(uri) != version:
                    return f"{uri} is at version {self.versions.get(uri)}, the edit expects {version}"
                text = current(uri)
                if text is None:
                    return f"{uri} does not exist"
                writes[uri] = apply_text_edits(text, list(step.edits), self.encoding)
            else:
                return f"unsupported change {type(step).__name__}"
        for uri, text in writes.items():
            path = _path(uri)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
            if uri in self.texts:
                self._sync(uri, text)
        return None

    # -- the task ------------------------------------------------------------------------------
    async def actions(
        self, uri: str, lines: tuple[int, int], only: list[str] | None = None
    ) -> list[types.CodeAction]:
        """The code actions offered on `lines` (selected whole) of the open document."""
        assert self.client is not None
        end = types.Position(line=lines[1] + 1, character=0)
        found = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=types.Position(line=lines[0], character=0), end=end),
                context=types.CodeActionContext(diagnostics=[], only=only),
            )
        )
        return [action for action in found or [] if isinstance(action, types.CodeAction)]

    async def implement(self, uri: str, lines: tuple[int, int]) -> dict[str, Any]:
        """Run "Implement this" on `lines` of the open document, as the user picks it from the
        code action menu; the command's result."""
        client = self.client
        assert client is not None
        actions = await self.actions(uri, lines, ["refactor.flashpro.implement"])
        found = [a for a in actions if a.title.startswith("Implement this")]
        if not found:
            return {"status": "no_action", "message": "the server offered no 'Implement this' action"}
        action = found[0]
        if action.command is None:
            action = await client.code_action_resolve_async(action)
        command = action.command
        if command is None:
            return {"status": "no_action", "message": "the action resolved without a command"}
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command.command, arguments=list(command.arguments or []))
        )
        return dict(result) if isinstance(result, dict) else {"status": "unknown", "message": repr(result)}
