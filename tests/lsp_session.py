"""Drive the real flashpro server over stdio with pytest-lsp's client, as a real editor would.

`start_session` launches `python -m flashpro lsp` with a clean environment (no real API key
can leak in), initializes it with the capabilities captured from a real editor, and points
it at the fake DeepSeek server through `initializationOptions`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from flashpro.lsp.client import plain
from lsprotocol import types
from lsprotocol.converters import get_converter
from pytest_lsp import ClientServerConfig, LanguageClient

CAPABILITIES_DIR = Path(__file__).parent / "client_capabilities"

# Editors whose captured capabilities advertise inline completion, and the encodings they pick.
INLINE_CLIENTS = {
    "vscode": "vscode_v1.139.1_languageclient_11.0.0.json",  # utf-16
    "neovim": "neovim_v0.12.4.json",  # utf-8
}
OTHER_CLIENTS = {
    "neovim-0.11": "neovim_v0.11.4.json",
    "emacs": "emacs_v30.1.json",  # utf-32
    "vim": "vim_yegappan_lsp_9.0.json",
}


def load_capabilities(name: str) -> types.ClientCapabilities:
    """Capabilities exactly as a real editor sent them."""
    file = {**INLINE_CLIENTS, **OTHER_CLIENTS}[name]
    data = json.loads((CAPABILITIES_DIR / file).read_text())
    return get_converter().structure(data["capabilities"], types.ClientCapabilities)


def ledger_rows(ledger: Path) -> list[sqlite3.Row]:
    """Every row of a ledger file, oldest first."""
    conn = sqlite3.connect(ledger)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM calls ORDER BY id").fetchall()
    finally:
        conn.close()


def clean_env(**extra: str) -> dict[str, str]:
    """The test process environment without any DeepSeek or flashpro variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEEPSEEK_", "FLASHPRO_"))}
    env.update(extra)
    return env


class Session:
    """A started, initialized server plus helpers for documents and inline completion."""

    def __init__(self, client: LanguageClient, result: types.InitializeResult, ledger: Path):
        self.client = client
        self.result = result
        self.ledger = ledger
        self.statuses: list[Any] = []
        self.applied_edits: list[types.ApplyWorkspaceEditParams] = []
        self.apply_result = True
        self.questions: list[types.ShowMessageRequestParams] = []
        self.answers: list[str | None] = []  # titles to pick for window/showMessageRequest, in order
        self._versions: dict[str, int] = {}

    def spend_diagnostic(self, uri: str) -> types.Diagnostic | None:
        """The `flashpro` spend diagnostic currently published for `uri`."""
        found = [d for d in self.client.diagnostics.get(uri, []) if d.source == "flashpro"]
        assert len(found) <= 1, "at most one spend diagnostic per file"
        return found[0] if found else None

    async def execute(self, command: str, *arguments: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(arguments))
        )

    @property
    def encoding(self) -> str:
        return str(self.result.capabilities.position_encoding or "utf-16")

    def open(self, uri: str, text: str, language_id: str = "python") -> None:
        self._versions[uri] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=1, text=text)
            )
        )

    def edit(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        self._versions[uri] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self._versions[uri]),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            start=types.Position(line=start[0], character=start[1]),
                            end=types.Position(line=end[0], character=end[1]),
                        ),
                        text=text,
                    )
                ],
            )
        )

    def inline_params(self, uri: str, line: int, character: int, invoked: bool = False) -> types.InlineCompletionParams:
        kind = types.InlineCompletionTriggerKind.Invoked if invoked else types.InlineCompletionTriggerKind.Automatic
        return types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=kind),
        )

    async def inline(self, uri: str, line: int, character: int, invoked: bool = False) -> list[types.InlineCompletionItem]:
        result = await self.client.text_document_inline_completion_async(
            self.inline_params(uri, line, character, invoked)
        )
        if result is None:
            return []
        return list(result.items if isinstance(result, types.InlineCompletionList) else result)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll until `predicate()` holds (messages and notifications arrive asynchronously)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.02)

    def messages(self, level: types.MessageType | None = None) -> list[str]:
        return [m.message for m in self.client.messages if level is None or m.type == level]


@asynccontextmanager
async def start_session(
    editor: str = "vscode",
    *,
    init_options: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    configuration: dict[str, Any] | None = None,
    ledger: Path | None = None,
    root_uri: str = "file:///workspace",
    log_level: str | None = None,
) -> AsyncIterator[Session]:
    """Start `python -m flashpro lsp`, initialize it as `editor` would, yield a Session.

    The ledger goes to `ledger`, else to a throw-away temporary file (never the user's own).
    """
    scratch = tempfile.TemporaryDirectory(prefix="flashpro-test-")
    ledger_path = ledger if ledger is not None else Path(scratch.name) / "ledger.sqlite3"
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "flashpro", "lsp", *(["--log-level", log_level] if log_level else [])],
        server_env=env if env is not None else clean_env(FLASHPRO_LEDGER=str(ledger_path)),
    )
    client = await config.start()
    assert isinstance(client, LanguageClient)
    if configuration is not None:
        client.set_configuration(configuration, section="flashpro")
    try:
        result = await client.initialize_session(
            types.InitializeParams(
                capabilities=load_capabilities(editor),
                root_uri=root_uri,
                initialization_options=init_options or {},
            )
        )
        session = Session(client, result, ledger_path)

        @client.feature("flashpro/status")
        def on_status(_client: LanguageClient, params: Any) -> None:
            session.statuses.append(plain(params))

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def on_apply_edit(_client: LanguageClient, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            session.applied_edits.append(params)
            if session.apply_result:
                return types.ApplyWorkspaceEditResult(applied=True)
            return types.ApplyWorkspaceEditResult(applied=False, failure_reason="the test client refused")

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def on_question(
            _client: LanguageClient, params: types.ShowMessageRequestParams
        ) -> types.MessageActionItem | None:
            session.questions.append(params)
            title = session.answers.pop(0) if session.answers else None
            return types.MessageActionItem(title=title) if title is not None else None

        yield session
        if client._server is None or client._server.returncode is None:  # noqa: SLF001
            await asyncio.wait_for(client.shutdown_session(), timeout=10)
    finally:
        # After a failed test the server was never asked to exit: end it, or stop() waits forever.
        process = client._server  # noqa: SLF001 - pytest-lsp exposes no public handle
        if process is not None and process.returncode is None:
            process.kill()
        await client.stop()
        scratch.cleanup()
