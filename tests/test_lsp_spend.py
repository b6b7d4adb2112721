"""End to end: the spend line as a diagnostic (default) or as a code lens with no underline.

`flashpro.diagnostics.display` = "codeLens" moves the per-file spend line from a diagnostic on
line 0 to a code lens there; the server asks clients that support it to refresh their lenses,
and switching the setting moves the line at once, without a new model call.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.fakes import FakeDeepSeek
from tests.lsp_session import Session, start_session

URI = "file:///workspace/calc.py"
SOURCE = "".join(f"def helper_{i}(value):\n    return value * {i} + {i * 3}\n\n" for i in range(10))
END = SOURCE.count("\n")


def _options(fake: FakeDeepSeek, display: str | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {"apiKey": "sk-test", "baseUrl": fake.url}
    if display is not None:
        options["diagnostics"] = {"display": display}
    return options


def _count_refreshes(session: Session) -> list[None]:
    """Records each `workspace/codeLens/refresh` the server sends (and answers it)."""
    seen: list[None] = []

    @session.client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def on_refresh(_client: LanguageClient, _params: None) -> None:
        seen.append(None)

    return seen


async def _lenses(session: Session) -> list[types.CodeLens]:
    result = await session.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=URI))
    )
    return list(result or [])


async def _wait_for_lens(session: Session, timeout: float = 10.0) -> types.CodeLens:
    """Asks for lenses until the spend lens is there (it follows the call's ledger write)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (found := await _lenses(session)):
        if loop.time() > deadline:
            raise AssertionError("no spend lens")
        await asyncio.sleep(0.02)
    (lens,) = found
    return lens


def _set_display(session: Session, display: str) -> None:
    session.client.set_configuration({"diagnostics": {"display": display}}, section="flashpro")
    session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))


async def test_code_lens_replaces_the_diagnostic_and_is_refreshed(fake_deepseek: FakeDeepSeek) -> None:
    async with start_session("vscode", init_options=_options(fake_deepseek, "codeLens")) as session:
        refreshes = _count_refreshes(session)
        assert session.result.capabilities.code_lens_provider is not None
        session.open(URI, SOURCE)
        fake_deepseek.script_fim("def main():\n    return helper_1(2)\n")
        assert await session.inline(URI, END, 0, invoked=True)

        await session.wait_for(lambda: len(refreshes) >= 1)
        lens = await _wait_for_lens(session)
        assert lens.range.start == types.Position(line=0, character=0)
        assert lens.range.end == types.Position(line=0, character=0)
        assert lens.command is not None and lens.command.command == "flashpro.report"
        title = lens.command.title
        assert title.startswith("flashpro: ") and "tokens ·" in title and "cache hit" in title and "$" in title
        assert "completions" in title  # a suggestion was shown
        # No squiggle: nothing from flashpro among the file's diagnostics.
        assert session.spend_diagnostic(URI) is None

        # A second call changes the line: the client is asked to refresh again.
        before = len(refreshes)
        fake_deepseek.script_fim("x = 1\n")
        await session.inline(URI, END - 1, 0, invoked=True)
        await session.wait_for(lambda: len(refreshes) > before)
        assert session.spend_diagnostic(URI) is None


async def test_switching_display_moves_the_line_without_a_call(fake_deepseek: FakeDeepSeek) -> None:
    async with start_session("vscode", init_options=_options(fake_deepseek, "codeLens")) as session:
        refreshes = _count_refreshes(session)
        session.open(URI, SOURCE)
        await session.inline(URI, END, 0, invoked=True)
        lens = await _wait_for_lens(session)
        assert lens.command is not None
        calls = len(fake_deepseek.requests_to("fim"))

        _set_display(session, "diagnostic")
        await session.wait_for(lambda: session.spend_diagnostic(URI) is not None)
        diagnostic = session.spend_diagnostic(URI)
        assert diagnostic is not None and diagnostic.message == lens.command.title
        assert diagnostic.severity == types.DiagnosticSeverity.Information
        assert await _lenses(session) == []

        before = len(refreshes)
        _set_display(session, "codeLens")
        await session.wait_for(lambda: session.spend_diagnostic(URI) is None)
        await session.wait_for(lambda: len(refreshes) > before)
        assert await _lenses(session) != []
        assert len(fake_deepseek.requests_to("fim")) == calls


async def test_default_is_a_diagnostic_and_no_lens(fake_deepseek: FakeDeepSeek) -> None:
    async with start_session("neovim", init_options=_options(fake_deepseek)) as session:
        refreshes = _count_refreshes(session)
        session.open(URI, SOURCE)
        await session.inline(URI, END, 0, invoked=True)
        await session.wait_for(lambda: session.spend_diagnostic(URI) is not None)
        assert await _lenses(session) == []
        assert refreshes == []


async def test_client_without_refresh_support_gets_the_lens_on_request(fake_deepseek: FakeDeepSeek) -> None:
    # Neovim 0.11 has code lenses but no workspace/codeLens/refresh.
    async with start_session("neovim-0.11", init_options=_options(fake_deepseek, "codeLens")) as session:
        refreshes = _count_refreshes(session)
        session.open(URI, SOURCE)
        await session.inline(URI, END, 0, invoked=True)
        lens = await _wait_for_lens(session)
        assert lens.command is not None and "tokens" in lens.command.title
        await _lenses(session)  # one more round trip: a refresh sent earlier would have arrived
        assert refreshes == []
        assert session.spend_diagnostic(URI) is None
