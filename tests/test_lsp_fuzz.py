"""Property: whatever params arrive, every request is answered, the server keeps serving, no pop-up.

One server process (after a normal `initialize`) receives, over raw stdio, generated params
for every method it handles — the list is read from the server itself, so a new handler
without a strategy here fails `test_every_handled_method_is_fuzzed`. Params are either any
JSON at all or the method's real shape with fields swapped for wrong types, out-of-range
numbers (-1, 2^31, ...), lone surrogates and missing parts. Runs are deterministic
(`derandomize`) and bounded (`max_examples`).

Kept out on purpose: `initialize`/`shutdown`/`exit` (the lifecycle is `test_lsp_input`'s), a
well-formed action command on an open document (it would really run the action: the LSP tests
of actions cover that), and a well-formed `flashpro` settings object (invalid settings are
shown to the user by design: `test_config`).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import FakeDeepSeek
from tests.raw_lsp import RawClient

URI = "file:///workspace/fuzz.py"
TEXT = "import os\n\n\ndef area(r):\n    return 3.14 * r * r  # \ud800\n"
COMMANDS = [
    "flashpro.accept",
    "flashpro.clearReview",
    "flashpro.design",
    "flashpro.explain",
    "flashpro.implement",
    "flashpro.quickEdit",
    "flashpro.report",
    "flashpro.review",
    "flashpro.writeTests",
]
ACTION_COMMANDS = {
    "flashpro.design",
    "flashpro.explain",
    "flashpro.implement",
    "flashpro.quickEdit",
    "flashpro.review",
    "flashpro.writeTests",
}

# -- building blocks ---------------------------------------------------------------------------
numbers = st.one_of(
    st.sampled_from([0, 1, 3, -1, 2**31 - 1, 2**31, 2**53, -(2**63)]),
    st.integers(-5, 50),
    st.floats(allow_nan=False, allow_infinity=False),
)
texts = st.one_of(
    st.text(max_size=12),
    st.lists(st.sampled_from(["a", " ", "\n", "\r\n", "\ud800", "\udfff", "\ud83d\ude00", "é", "\x00", "sk-"]), max_size=12).map(
        "".join
    ),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)


def shaped(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """An object of `fields`, each kept, swapped for junk, or left out."""
    return st.fixed_dictionaries(
        {}, optional={name: st.one_of(strategy, strategy, junk) for name, strategy in fields.items()}
    )


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the shape, sometimes any JSON at all."""
    return st.one_of(strategy, strategy, strategy, junk)


uris = st.one_of(st.just(URI), st.just("file:///workspace/other.py"), texts)
position = shaped({"line": numbers, "character": numbers})
range_ = shaped({"start": position, "end": position})
document = shaped({"uri": uris})
versioned = shaped({"uri": uris, "version": numbers})
diagnostic = shaped(
    {
        "range": range_,
        "message": texts,
        "source": st.sampled_from(["flashpro-review", "flashpro", "x"]),
        "severity": numbers,
        "data": st.one_of(shaped({"findingId": numbers, "fix": st.booleans()}), junk),
    }
)
change = shaped({"range": range_, "text": texts})
item = shaped({"command": shaped({"arguments": st.lists(st.one_of(texts, numbers), max_size=3)})})
not_open = st.one_of(texts, st.just("file:///workspace/never-opened.py")).filter(lambda uri: uri != URI)
action_args = st.one_of(
    junk,
    shaped({"uri": st.one_of(numbers, st.none()), "lines": st.lists(numbers, max_size=3), "range": range_}),
    shaped({"uri": not_open, "lines": st.lists(numbers, max_size=3), "now": st.booleans(), "instruction": texts}),
)


def command(name: str) -> st.SearchStrategy[dict[str, Any]]:
    arguments = st.lists(action_args if name in ACTION_COMMANDS else junk, max_size=3)
    return shaped({"command": st.just(name), "arguments": arguments})


REQUESTS: dict[str, st.SearchStrategy[Any]] = {
    "textDocument/inlineCompletion": maybe(
        shaped({"textDocument": document, "position": position, "context": shaped({"triggerKind": numbers})})
    ),
    "textDocument/codeAction": maybe(
        shaped(
            {
                "textDocument": document,
                "range": range_,
                "context": shaped({"diagnostics": st.lists(diagnostic, max_size=2), "only": st.lists(texts, max_size=2)}),
            }
        )
    ),
    "codeAction/resolve": maybe(
        shaped({"title": texts, "kind": texts, "data": shaped({"command": st.sampled_from(COMMANDS), "arguments": junk})})
    ),
    "workspace/executeCommand": st.one_of(*(command(name) for name in COMMANDS), junk),
    "textDocument/codeLens": maybe(shaped({"textDocument": document})),
}
NOTIFICATIONS: dict[str, st.SearchStrategy[Any]] = {
    "initialized": maybe(st.just({})),
    "textDocument/didOpen": maybe(
        shaped({"textDocument": shaped({"uri": uris, "languageId": texts, "version": numbers, "text": texts})})
    ),
    "textDocument/didChange": maybe(
        shaped({"textDocument": versioned, "contentChanges": st.lists(change, max_size=3)})
    ),
    "textDocument/didClose": maybe(shaped({"textDocument": document})),
    "textDocument/didShowCompletion": maybe(shaped({"item": item})),
    "textDocument/didPartiallyAcceptCompletion": maybe(shaped({"item": item, "acceptedLength": numbers})),
    "workspace/didChangeConfiguration": maybe(shaped({"settings": st.one_of(junk, shaped({"flashpro": scalars}))})),
    "workspace/didChangeWorkspaceFolders": maybe(
        shaped({"event": shaped({"added": st.lists(shaped({"uri": uris, "name": texts}), max_size=2), "removed": junk})})
    ),
    "window/workDoneProgress/cancel": maybe(shaped({"token": st.one_of(texts, numbers)})),
    "$/setTrace": maybe(shaped({"value": st.sampled_from(["off", "messages", "verbose", "loud"])})),
    "notebookDocument/didOpen": junk,
    "notebookDocument/didChange": junk,
    "notebookDocument/didClose": junk,
}
messages = st.one_of(
    *(st.tuples(st.just(method), st.just(True), params) for method, params in REQUESTS.items()),
    *(st.tuples(st.just(method), st.just(False), params) for method, params in NOTIFICATIONS.items()),
)
NORMAL_REQUEST = {
    "textDocument": {"uri": URI},
    "range": {"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 0}},
    "context": {"diagnostics": []},
}


def test_every_handled_method_is_fuzzed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLASHPRO_LEDGER", str(tmp_path / "ledger.sqlite3"))
    from flashpro.lsp import create_server

    features = create_server().protocol.fm
    handled = set(features.features) | set(features.builtin_features)
    assert handled - {"initialize", "shutdown", "exit"} == set(REQUESTS) | set(NOTIFICATIONS)
    assert sorted(features.commands) == COMMANDS


async def _exchange(client: RawClient, ids: itertools.count[int], method: str, is_request: bool, params: Any) -> None:
    """Send one generated message; check the answer and that the server still serves."""
    await client.notify(
        "textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": TEXT}}
    )
    message = {"jsonrpc": "2.0", "method": method, "params": params}
    if is_request:
        message["id"] = msg_id = f"fuzz-{next(ids)}"
        await client.send(message)
        answer = await client.response(msg_id, timeout=60)
        assert ("result" in answer) != ("error" in answer), answer
        if "error" in answer:
            error = answer["error"]
            assert isinstance(error["code"], int) and isinstance(error["message"], str) and "data" not in error
    else:
        await client.send(message)
    normal = await client.request("textDocument/codeAction", NORMAL_REQUEST, timeout=60)
    assert isinstance(normal["result"], list), normal  # fewer than 5 after a didClose, a secret, ...
    assert client.notifications("window/showMessage") == []


def test_any_params_get_an_answer_and_leave_the_server_serving(fake_deepseek: FakeDeepSeek) -> None:
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(RawClient.start())
    client.init_options = {"apiKey": "sk-test", "baseUrl": fake_deepseek.url}
    ids = itertools.count(1)

    @settings(
        max_examples=int(os.environ.get("FLASHPRO_FUZZ_EXAMPLES", "250")),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(messages)
    def check(message: tuple[str, bool, Any]) -> None:
        loop.run_until_complete(_exchange(client, ids, *message))

    try:
        loop.run_until_complete(client.initialize())
        check()
        assert "Traceback" not in client.stderr()
        logs = " ".join(str(p.get("message")) for p in client.notifications("window/logMessage"))
        assert "Traceback" not in logs
        assert loop.run_until_complete(client.request("shutdown"))["result"] is None
        loop.run_until_complete(client.notify("exit"))
        assert loop.run_until_complete(client.wait_exit()) == 0
    finally:
        loop.run_until_complete(client.close())
        loop.close()
