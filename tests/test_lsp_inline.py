"""End to end: the real server over stdio, real editors' capabilities, the fake DeepSeek API."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.fakes import FakeDeepSeek
from tests.lsp_session import INLINE_CLIENTS, Session, start_session

URI = "file:///workspace/calc.py"
HEADER = "# path: calc.py\n"  # the prompt names the file, relative to the workspace root


def options(fake: FakeDeepSeek, **completion: object) -> dict[str, object]:
    return {"apiKey": "sk-test", "baseUrl": fake.url, "completion": completion}


@pytest.fixture(params=sorted(INLINE_CLIENTS))
def editor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_capabilities_advertise_inline_completion_and_incremental_sync(
    fake_deepseek: FakeDeepSeek, editor: str
) -> None:
    async with start_session(editor, init_options=options(fake_deepseek)) as session:
        caps = session.result.capabilities
        assert caps.inline_completion_provider is not None
        sync = caps.text_document_sync
        assert isinstance(sync, types.TextDocumentSyncOptions)
        assert sync.change == types.TextDocumentSyncKind.Incremental
        assert session.result.server_info is not None and session.result.server_info.name == "flashpro"


async def test_completion_is_inserted_at_the_cursor(fake_deepseek: FakeDeepSeek, editor: str) -> None:
    fake_deepseek.script_fim("return a + b\n")
    async with start_session(editor, init_options=options(fake_deepseek)) as session:
        session.open(URI, "def add(a, b):\n    \n\nprint(add(1, 2))\n")
        items = await session.inline(URI, 1, 4)
        assert [item.insert_text for item in items] == ["return a + b"]
        assert items[0].range == types.Range(
            start=types.Position(line=1, character=4), end=types.Position(line=1, character=4)
        )
        assert items[0].command is not None and items[0].command.command == "flashpro.accept"
        (request,) = fake_deepseek.requests_to("fim")
        assert request.body["prompt"] == HEADER + "def add(a, b):\n    "
        assert request.body["suffix"] == "\n\nprint(add(1, 2))\n"
        assert request.body["model"] == "deepseek-v4-flash"
        assert request.body["stream"] is True
        assert request.usage is not None and request.usage["prompt_tokens"] > 0


async def test_text_after_the_cursor_is_not_repeated(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.script_fim("a, b)\n")
    async with start_session("vscode", init_options=options(fake_deepseek)) as session:
        session.open(URI, "total = add()\n")
        items = await session.inline(URI, 0, 12)
        assert [item.insert_text for item in items] == ["a, b"]
        (request,) = fake_deepseek.requests_to("fim")
        assert request.body["stop"] == ["\n"]  # mid-line: one line is enough


async def test_invoked_multi_line_offers_the_first_line_too(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.script_fim("total = a + b\n    return total\n")
    async with start_session("vscode", init_options=options(fake_deepseek)) as session:
        session.open(URI, "def add(a, b):\n    ")
        automatic = await session.inline(URI, 1, 4)
        assert len(automatic) == 1
        fake_deepseek.script_fim("total = a + b\n    return total\n")
        invoked = await session.inline(URI, 1, 4, invoked=True)
        assert [item.insert_text for item in invoked] == ["total = a + b\n    return total", "total = a + b"]
        requests = fake_deepseek.requests_to("fim")
        assert requests[1].body["max_tokens"] > requests[0].body["max_tokens"]


async def test_cancel_request_aborts_the_http_call(fake_deepseek: FakeDeepSeek, editor: str) -> None:
    fake_deepseek.latency_s = 30
    async with start_session(editor, init_options=options(fake_deepseek)) as session:
        session.open(URI, "x = 1\n")
        pending = asyncio.ensure_future(
            session.client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, session.inline_params(URI, 1, 0), msg_id="inline-1"
            )
        )
        await fake_deepseek.wait_for_request_async(lambda r: r.endpoint == "fim")
        session.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="inline-1"))
        record = await fake_deepseek.wait_for_disconnect_async(timeout=10)
        assert record.endpoint == "fim" and not record.finished
        with pytest.raises(Exception, match="cancel"):
            await pending


async def test_a_newer_request_supersedes_the_older_one_on_the_wire(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.latency_s = 30
    async with start_session("vscode", init_options=options(fake_deepseek)) as session:
        session.open(URI, "x = 1\n")
        first = asyncio.ensure_future(session.inline(URI, 1, 0))
        # The fake reads `latency_s` after it records a request: lower it only once the first
        # request's delay is chosen, or the first call may answer at once.
        old = await fake_deepseek.wait_for_request_async(lambda r: r.endpoint == "fim" and r.delay_s is not None)
        fake_deepseek.latency_s = 0
        # An edit the first (still silent) stream cannot match: appending at the cursor could,
        # and the newer request would follow that stream instead of superseding it.
        session.edit(URI, (0, 4), (0, 5), "2")
        second = await session.inline(URI, 1, 0)
        assert await first == []  # superseded: an empty answer, not an error
        assert [item.insert_text for item in second]
        # The fake notices the closed connection on its next poll: wait for the record to close.
        await fake_deepseek.wait_until_async(lambda: old.done)
        first_call, new = fake_deepseek.requests_to("fim")
        assert first_call is old and old.disconnected and not old.finished
        assert new.finished and new.body["prompt"] == HEADER + "x = 2\n"


async def test_missing_key_is_reported_once_and_nothing_is_sent(fake_deepseek: FakeDeepSeek, editor: str) -> None:
    async with start_session(editor, init_options={"baseUrl": fake_deepseek.url}) as session:
        session.open(URI, "x = 1\n")
        for _ in range(3):
            assert await session.inline(URI, 1, 0) == []
        await session.wait_for(lambda: bool(session.messages()))
        await asyncio.sleep(0.2)
        (message,) = session.messages()
        assert "DEEPSEEK_API_KEY" in message and "flashpro.apiKey" in message
        assert fake_deepseek.requests == []


async def test_wrong_key_is_reported_once_and_pauses_requests(fake_deepseek: FakeDeepSeek) -> None:
    init = {"apiKey": "sk-wrong-key-123456", "baseUrl": fake_deepseek.url}
    async with start_session("vscode", init_options=init) as session:
        session.open(URI, "x = 1\n")
        for _ in range(3):
            assert await session.inline(URI, 1, 0) == []
        await session.wait_for(lambda: bool(session.messages()))
        await asyncio.sleep(0.2)
        (message,) = session.messages(types.MessageType.Error)
        assert "API key" in message
        assert "sk-wrong-key-123456" not in message
        # The key is checked once (models at start-up, or the first FIM call); then no more calls.
        assert len(fake_deepseek.requests) <= 2
        logs = " ".join(m.message for m in session.client.log_messages)
        assert "sk-wrong-key-123456" not in logs


@pytest.mark.parametrize("status", [402, 429, 500, 503])
async def test_api_errors_leave_the_server_serving(fake_deepseek: FakeDeepSeek, status: int) -> None:
    async with start_session("vscode", init_options=options(fake_deepseek)) as session:
        session.open(URI, "x = 1\n")
        await fake_deepseek.wait_until_async(lambda: len(fake_deepseek.requests) >= 1)  # models check
        fake_deepseek.fail_next(status, headers={"Retry-After": "0"}, path="completions")
        assert await session.inline(URI, 1, 0) == []
        await session.wait_for(lambda: bool(session.messages()))
        for _ in range(2):
            await session.inline(URI, 1, 0)
        if status != 402:  # 402 pauses calls for a while; the others recover at once
            assert [item.insert_text for item in await session.inline(URI, 1, 0)]
        assert len(session.messages()) == 1
        expected = {402: "balance", 429: "rate limit", 500: "server error", 503: "server error"}[status]
        assert expected in session.messages()[0]


async def test_timeout_aborts_and_the_next_request_works(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.latency_s = 30
    async with start_session("vscode", init_options=options(fake_deepseek, timeout=0.5)) as session:
        session.open(URI, "x = 1\n")
        assert await session.inline(URI, 1, 0) == []
        record = await fake_deepseek.wait_for_disconnect_async(timeout=10)
        assert record.endpoint == "fim"
        fake_deepseek.latency_s = 0
        assert [item.insert_text for item in await session.inline(URI, 1, 0)]
        (message,) = session.messages()
        assert "in time" in message


@pytest.mark.parametrize("editor", ["vscode", "neovim", "emacs"])
async def test_positions_follow_the_negotiated_encoding(fake_deepseek: FakeDeepSeek, editor: str) -> None:
    text = "s = '😀é' + \nt = 2\n"
    async with start_session(editor, init_options=options(fake_deepseek)) as session:
        encoding = session.encoding
        assert encoding == {"vscode": "utf-16", "neovim": "utf-8", "emacs": "utf-32"}[editor]
        head = "s = '😀é' + "
        units = {"utf-16": len(head) + 1, "utf-8": len(head.encode()), "utf-32": len(head)}[encoding]
        session.open(URI, text)
        # An incremental edit placed in client units, right after the emoji and accent.
        inside = {"utf-16": 8, "utf-8": 11, "utf-32": 7}[encoding]  # after "s = '😀é"
        session.edit(URI, (0, inside), (0, inside), "ü")
        items = await session.inline(URI, 0, units + {"utf-16": 1, "utf-8": 2, "utf-32": 1}[encoding])
        assert items and items[0].range is not None
        assert items[0].range.start.character == units + {"utf-16": 1, "utf-8": 2, "utf-32": 1}[encoding]
        (request,) = fake_deepseek.requests_to("fim")
        assert request.body["prompt"] == HEADER + "s = '😀éü' + "
        assert request.body["suffix"] == "\nt = 2\n"


async def test_incremental_edits_build_the_same_text_as_the_editor(fake_deepseek: FakeDeepSeek) -> None:
    async with start_session("vscode", init_options=options(fake_deepseek)) as session:
        session.open(URI, "def f():\n    pass\n")
        session.edit(URI, (1, 4), (1, 8), "return 1")  # replace
        session.edit(URI, (2, 0), (2, 0), "\ndef g():\n    ")  # insert lines
        session.edit(URI, (0, 4), (0, 5), "h")  # rename f -> h
        session.edit(URI, (1, 12), (3, 0), "\n")  # delete across lines
        await session.inline(URI, 2, 0, invoked=True)  # in front of code: only an explicit request asks
        (request,) = fake_deepseek.requests_to("fim")
        assert request.body["prompt"] + request.body["suffix"] == HEADER + "def h():\n    return 1\ndef g():\n    "


async def test_five_megabyte_file_still_answers(fake_deepseek: FakeDeepSeek) -> None:
    line = "    total = compute(alpha, beta, gamma)  # résumé\n"
    text = "def big():\n" + line * (5_000_000 // len(line))
    lines = text.count("\n")
    async with start_session("vscode", init_options=options(fake_deepseek)) as session:
        session.open(URI, text)
        for i in range(20):
            session.edit(URI, (lines, i), (lines, i), "x")
        items = await session.inline(URI, lines, 20)
        assert items
        (request,) = fake_deepseek.requests_to("fim")
        assert request.body["prompt"].endswith(line + "x" * 20)
        assert len(request.body["prompt"]) < 100_000  # cut to the token budget


async def test_excluded_and_secret_files_never_reach_the_api(fake_deepseek: FakeDeepSeek) -> None:
    async with start_session("vscode", init_options=options(fake_deepseek)) as session:
        session.open("file:///workspace/.env", "API_TOKEN=abc\n", language_id="dotenv")
        session.open("file:///workspace/keys.py", "KEY = '''-----BEGIN PRIVATE KEY-----\nMIIB'''\n")
        assert await session.inline("file:///workspace/.env", 1, 0, invoked=True) == []
        assert await session.inline("file:///workspace/keys.py", 2, 0, invoked=True) == []
        assert fake_deepseek.requests_to("fim") == []


async def test_invalid_setting_is_reported_once_and_the_default_applies(fake_deepseek: FakeDeepSeek) -> None:
    init = {**options(fake_deepseek), "completion": {"maxOutputTokens": -5}}
    async with start_session("vscode", init_options=init) as session:
        session.open(URI, "x = 1\n")
        await session.inline(URI, 1, 0)
        await session.wait_for(lambda: bool(session.messages()))
        (message,) = session.messages(types.MessageType.Warning)
        assert "flashpro.completion.maxOutputTokens" in message
        (request,) = fake_deepseek.requests_to("fim")
        assert request.body["max_tokens"] == 128


async def test_configuration_is_pulled_and_reread_on_change(fake_deepseek: FakeDeepSeek) -> None:
    async with start_session(
        "vscode", init_options=options(fake_deepseek), configuration={"completion": {"automatic": False}}
    ) as session:
        session.open(URI, "x = 1\n")
        await asyncio.sleep(0.3)  # let the initialized handler pull the configuration
        assert await session.inline(URI, 1, 0) == []
        assert fake_deepseek.requests_to("fim") == []
        session.client.set_configuration({"completion": {"automatic": True}}, section="flashpro")
        session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await asyncio.sleep(0.3)
        assert await session.inline(URI, 1, 0)


async def test_typing_through_a_suggestion_costs_no_tokens(fake_deepseek: FakeDeepSeek) -> None:
    fake_deepseek.script_fim("return a + b\n")
    async with start_session("vscode", init_options=options(fake_deepseek)) as session:
        session.open(URI, "def add(a, b):\n    \n")
        (item,) = await session.inline(URI, 1, 4)
        assert item.insert_text == "return a + b"
        for i, char in enumerate("ret"):
            session.edit(URI, (1, 4 + i), (1, 4 + i), char)
            (again,) = await session.inline(URI, 1, 5 + i)
            assert again.insert_text == "return a + b"[i + 1 :]
        assert len(fake_deepseek.requests_to("fim")) == 1  # the type-through answers cost nothing
        session.edit(URI, (1, 7), (1, 7), "x")  # diverges from the suggestion: a new request
        await session.inline(URI, 1, 8)
        assert len(fake_deepseek.requests_to("fim")) == 2


async def test_automatic_requests_skip_places_unlikely_to_be_accepted(fake_deepseek: FakeDeepSeek) -> None:
    async with start_session("vscode", init_options=options(fake_deepseek)) as session:
        session.open(URI, "value = compute(x)\n")
        assert await session.inline(URI, 0, 10) == []  # a word character right after the cursor
        assert await session.inline(URI, 0, 0) == []  # in front of existing code
        assert fake_deepseek.requests_to("fim") == []
        assert await session.inline(URI, 0, 10, invoked=True)  # an explicit request always asks


async def test_a_keystroke_that_matches_the_stream_follows_it_instead_of_asking_again(
    fake_deepseek: FakeDeepSeek,
) -> None:
    fake_deepseek.script_fim("return a + b\n")
    fake_deepseek.chunk_delay_s = 0.3
    async with start_session("vscode", init_options=options(fake_deepseek)) as session:
        session.open(URI, "def add(a, b):\n    \n")
        first = asyncio.ensure_future(
            session.client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, session.inline_params(URI, 1, 4), msg_id="first"
            )
        )
        await fake_deepseek.wait_for_request_async(lambda r: r.endpoint == "fim" and r.chunks_sent >= 1)
        # The user types "re" (the start of the streamed "return"); VS Code cancels the old request.
        session.edit(URI, (1, 4), (1, 4), "re")
        session.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="first"))
        (item,) = await session.inline(URI, 1, 6)
        assert item.insert_text == "turn a + b"
        (request,) = fake_deepseek.requests_to("fim")  # no second call
        assert request.finished and not request.disconnected
        with pytest.raises(Exception, match="cancel"):
            await first
