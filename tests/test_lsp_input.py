"""End to end over raw stdio: malformed requests, the lifecycle, framing errors, lone surrogates.

Every request gets exactly one answer, with no traceback in it and no pop-up for the user;
a framing error ends the process with one log line; `exit` without `shutdown` exits 1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fakes import FakeDeepSeek
from tests.raw_lsp import INITIALIZE_PARAMS, RawClient

URI = "file:///workspace/calc.py"
SOURCE = "import os\n\n\ndef area(r):\n    return 3.14 * r * r\n"
TD = {"uri": URI}


def _range(start: tuple[int, int], end: tuple[int, int]) -> dict[str, Any]:
    return {
        "start": {"line": start[0], "character": start[1]},
        "end": {"line": end[0], "character": end[1]},
    }


def _code_action(rng: Any = None, diagnostics: Any = (), **extra: Any) -> dict[str, Any]:
    return {"textDocument": TD, "range": rng or _range((3, 0), (4, 0)), "context": {"diagnostics": list(diagnostics)}, **extra}


def _inline(position: Any, kind: Any = 1) -> dict[str, Any]:
    return {"textDocument": TD, "position": position, "context": {"triggerKind": kind}}


@pytest.fixture
async def client(fake_deepseek: FakeDeepSeek) -> AsyncIterator[RawClient]:
    raw = await RawClient.start()
    raw.init_options = {"apiKey": "sk-test", "baseUrl": fake_deepseek.url}
    try:
        yield raw
    finally:
        await raw.close()


async def _open(client: RawClient, text: str = SOURCE, uri: str = URI) -> None:
    await client.notify(
        "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}
    )


def _assert_quiet(client: RawClient) -> None:
    """No pop-up, and no traceback anywhere a user looks (stderr, the editor's log)."""
    assert client.notifications("window/showMessage") == []
    logs = " ".join(str(p.get("message")) for p in client.notifications("window/logMessage"))
    assert "Traceback" not in logs and "Traceback" not in client.stderr()


INVALID_PARAMS = [
    ("textDocument/codeAction", _code_action(_range((-1, 0), (0, 0)))),
    ("textDocument/codeAction", _code_action(_range((2**31, 0), (2**31, 0)))),
    ("textDocument/codeAction", {"textDocument": TD, "context": {"diagnostics": []}}),  # no range
    ("textDocument/codeAction", []),
    ("textDocument/codeAction", _code_action(diagnostics=[{"garbage": True}])),
    ("textDocument/codeAction", _code_action(diagnostics=[{"range": _range((0, 0), (0, 1)), "message": 5}])),
    ("codeAction/resolve", {"kind": "source.flashpro.review", "data": {"command": "flashpro.review"}}),
    ("textDocument/inlineCompletion", _inline({"line": "1", "character": 0})),
    ("textDocument/inlineCompletion", _inline({"line": 1, "character": True})),
    ("textDocument/inlineCompletion", _inline({"line": 1, "character": 0}, kind=9)),
    ("workspace/executeCommand", {"command": 5}),
    ("workspace/executeCommand", {"command": "flashpro.nope"}),
    ("workspace/executeCommand", {"command": "flashpro.review", "arguments": [{"uri": 5}]}),
    ("workspace/executeCommand", {"command": "flashpro.explain", "arguments": [{"uri": URI, "lines": [-1, 2]}]}),
    ("workspace/executeCommand", {"command": "flashpro.quickEdit", "arguments": [{"uri": URI, "range": [1]}]}),
    ("workspace/executeCommand", {"command": "flashpro.accept", "arguments": [{}]}),
]


async def test_malformed_requests_get_invalid_params_and_the_server_keeps_serving(client: RawClient) -> None:
    await client.initialize()
    await _open(client)
    refused = []
    for method, params in INVALID_PARAMS:
        response = await client.request(method, params)
        assert response["error"]["code"] == -32602, (method, params, response)
        assert "data" not in response["error"] and "Traceback" not in response["error"]["message"]
        refused.append(response["id"])
        listed = await client.request("textDocument/codeAction", _code_action())
        assert [a["title"].split(" (")[0] for a in listed["result"]][:2] == ["Review this", "Design this"]
    _assert_quiet(client)
    lines = client.stderr().splitlines()
    assert [sum(f"(request {msg_id})" in line for line in lines) for msg_id in refused] == [1] * len(refused)


async def test_messages_that_are_not_requests_get_the_json_rpc_error(client: RawClient) -> None:
    await client.initialize()
    await client.send_bytes(b"Content-Length: 1\r\n\r\n{")
    await client.send([{"jsonrpc": "2.0", "id": 1, "method": "shutdown"}])  # a batch
    await client.send({"jsonrpc": "2.0", "id": 1.5, "method": "shutdown"})
    await client.send({"jsonrpc": "2.0", "id": {"x": 1}, "method": "shutdown"})
    await client.send({"jsonrpc": "1.0", "id": "old", "method": "shutdown"})
    await client.send({"jsonrpc": "2.0", "id": "nameless", "method": 7})
    await client.send({"jsonrpc": "2.0", "id": "unknown", "method": "flashpro/nope", "params": {}})
    assert (await client.response("old"))["error"]["code"] == -32600
    assert (await client.response("nameless"))["error"]["code"] == -32600
    assert (await client.response("unknown"))["error"]["code"] == -32601
    null_answers = [m["error"]["code"] for m in client.received if "id" in m and m["id"] is None]
    assert null_answers == [-32700, -32600, -32600, -32600]
    await client.notify("textDocument/didOpen", {"textDocument": "nonsense"})  # dropped
    await client.notify("$/cancelRequest", {"id": [1]})  # dropped
    assert "result" in await client.request("textDocument/codeAction", _code_action())
    _assert_quiet(client)


async def test_lifecycle_before_initialize_and_after_shutdown(client: RawClient) -> None:
    early = await client.request("textDocument/codeAction", _code_action())
    assert early["error"]["code"] == -32002
    await _open(client)  # a notification before initialize is dropped
    await client.initialize()
    assert (await client.request("textDocument/codeAction", _code_action()))["result"] == []  # never opened
    again = await client.request("initialize", {**INITIALIZE_PARAMS, "initializationOptions": client.init_options})
    assert again["error"]["code"] == -32600
    assert (await client.request("shutdown"))["result"] is None
    late = await client.request("textDocument/codeAction", _code_action())
    assert late["error"]["code"] == -32600
    await client.notify("exit")
    assert await client.wait_exit() == 0
    _assert_quiet(client)


async def test_exit_without_shutdown_exits_with_status_1(client: RawClient) -> None:
    await client.initialize()
    await client.notify("exit")
    assert await client.wait_exit() == 1


async def test_exit_before_initialize_is_obeyed(client: RawClient) -> None:
    await client.notify("exit")
    assert await client.wait_exit() == 1


@pytest.mark.parametrize(
    "data",
    [
        b"Content-Length: 1000000000000\r\n\r\n{}",
        b"Content-Length: twelve\r\n\r\n{}",
        b'{"jsonrpc": "2.0", "id": 9, "method": "shutdown"}',  # no header at all
        b'Content-Length: 10\r\n\r\n{"jsonrpc": "2.0", "id": 9, "method": "shutdown"}',  # too short
    ],
    ids=["huge", "not-a-number", "missing", "too-short"],
)
async def test_a_framing_error_ends_the_process_with_one_log_line(client: RawClient, data: bytes) -> None:
    await client.initialize()
    await client.send_bytes(data)
    assert await client.wait_exit() == 1
    lines = [line for line in client.stderr().splitlines() if line.strip()]
    assert "malformed LSP framing" in lines[-1], lines
    # A too-short length first cuts a body that is not JSON (answered ParseError, logged).
    assert len(lines) == (2 if data.startswith(b"Content-Length: 10\r") else 1), lines
    _assert_quiet(client)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8"])
async def test_lone_surrogates_keep_document_sync_and_listing(client: RawClient, encoding: str) -> None:
    params = json.loads(json.dumps({**INITIALIZE_PARAMS, "initializationOptions": client.init_options}))
    params["capabilities"]["general"] = {"positionEncodings": [encoding]}
    result = (await client.initialize(params))["result"]
    assert result["capabilities"]["positionEncoding"] == encoding
    await _open(client, "x = '\ud800'\n\ndef f(y):\n    return y\n")
    width = {"utf-16": 1, "utf-8": 3}[encoding]  # the client's units for one lone surrogate
    change = {"range": _range((0, 5 + width), (0, 5 + width)), "text": "\udfff\ud83d"}
    await client.notify("textDocument/didChange", {"textDocument": {"uri": URI, "version": 2}, "contentChanges": [change]})
    for rng in (_range((0, 0), (0, 5 + 3 * width)), _range((2, 0), (3, 0)), _range((0, 9), (0, 9))):
        listed = await client.request("textDocument/codeAction", _code_action(rng))
        assert len(listed["result"]) == 6, listed  # the five actions and Implement this
    explain = listed["result"][3]["data"]["arguments"][0]  # the cursor's line: no enclosing scope
    assert explain["uri"] == URI and explain["lines"] == [0, 0]
    _assert_quiet(client)
    assert " ERROR " not in client.stderr()
