"""End to end: no planted secret reaches the API, by any path, over LSP against the fake DeepSeek.

A workspace of canaries (tests/canaries.py) is opened in a real server; completions in every
file (around, inside and after each secret), extra context from the other open files, every
code action, each secret typed one key per didChange, and a document closed and reopened
with the same version; then every request body the fake received is searched for every
canary. The tests also check that calls were made and that redaction (not silence) is what
kept the values out, so they fail if the server simply stopped asking.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flashpro.actions import ACTIONS
from lsprotocol import types
from flashpro.ledger import run_report
from flashpro.privacy import REDACTED

from tests.canaries import CANARIES, FILES, secret_line, write_workspace
from tests.fakes import FakeDeepSeek
from tests.lsp_session import Session, ledger_rows, start_session

LANGUAGES = {".py": "python", ".ts": "typescript", ".yml": "yaml", ".md": "markdown", ".js": "javascript", ".json": "json"}
VALUE_FILES = sorted({c.path for c in CANARIES if c.kind == "value"})
PRIVATE_FILES = sorted({c.path for c in CANARIES if c.kind != "value"})
DESIGN = {"goal": "g", "decisions": [], "steps": [{"title": "s", "detail": "d", "files": ["a.py"]}], "risks": [], "acceptance": []}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def leaked(fake: FakeDeepSeek) -> list[tuple[str, int]]:
    """(canary name, request id) for every canary found in any request body."""
    found = []
    for request in fake.requests:
        text = "\n".join(_strings(request.body))
        found += [(canary.name, request.id) for canary in CANARIES if canary.secret in text]
    return found


def _answer(body: dict[str, Any]) -> str:
    """A valid answer for whichever action the request is."""
    task = body["messages"][1]["content"]
    if "Task: review" in task:
        return json.dumps({"findings": []})
    if "Task: design" in task:
        return json.dumps(DESIGN)
    if "Task: rewrite" in task:
        return json.dumps({"replacement": "VALUE = 1\n"})
    if "Task: write unit tests" in task:
        return json.dumps({"path": "tests/test_canary.py", "content": "def test_it():\n    assert True\n"})
    return "It configures the service."


def _start(fake: FakeDeepSeek, tmp_path: Path):
    fake.script_chat(_answer)
    workspace = tmp_path / "ws"
    write_workspace(workspace)
    return workspace, start_session(
        "vscode",
        init_options={"apiKey": "sk-test", "baseUrl": fake.url},
        root_uri=workspace.as_uri(),
        ledger=tmp_path / "ledger.sqlite3",
    )


def _open_all(session: Session, workspace: Path) -> dict[str, str]:
    uris = {}
    for relative, text in FILES.items():
        uri = (workspace / relative).as_uri()
        session.open(uri, text, LANGUAGES.get(Path(relative).suffix, "plaintext"))
        uris[relative] = uri
    return uris


def _lines(relative: str) -> list[str]:
    return FILES[relative].split("\n")


async def test_completions_and_extra_context_send_no_canary(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    workspace, starting = _start(fake_deepseek, tmp_path)
    async with starting as session:
        uris = _open_all(session, workspace)
        for relative in FILES:  # every file has a recent edit: a region candidate for extra context
            session.edit(uris[relative], (1, 0), (1, 0), "")
        asked = 0
        for canary in CANARIES:
            lines = _lines(canary.path)
            line, text = secret_line(canary) if canary.kind == "value" else (1, lines[1])
            for position in ((line, len(text)), (line, len(text) // 2), (line + 1, 0), (0, 0), (len(lines) - 1, 0)):
                await session.inline(uris[canary.path], *position, invoked=True)
                asked += 1
        main = (workspace / "app" / "main.py").as_uri()
        session.open(main, "from app import cloud, keys, local_settings\nfrom config import settings\n\n")
        util = (workspace / "config" / "__init__.py").as_uri()
        session.open(util, "def helper_one():\n    pass\ndef helper_two():\n    pass\ndef helper_three():\n    pass\n")
        session.edit(util, (0, 0), (0, 0), "")
        assert await session.inline(main, 3, 0, invoked=True)
        fims = fake_deepseek.requests_to("fim")
        # Every call for a file that may be sent happened; none for a private one.
        value_positions = sum(5 for c in CANARIES if c.kind == "value")
        assert len(fims) == value_positions + 1 and asked > value_positions
        prompts = [r.body["prompt"] + r.body["suffix"] for r in fims]
        assert sum(REDACTED in p for p in prompts) == value_positions  # redacted, not dropped
        assert "# path: config/__init__.py" in prompts[-1]  # extra context still flows
        assert leaked(fake_deepseek) == []
        # The ledger records which lines went out, and `report --sent` lists those calls.
        await session.wait_for(lambda: len(ledger_rows(session.ledger)) >= len(fims))
    rows = ledger_rows(tmp_path / "ledger.sqlite3")
    sent = [json.loads(r["details"])["sent"] for r in rows if r["file_uri"].endswith("config/settings.py")]
    own = [[entry["lines"] for entry in s if entry["file"] == "config/settings.py"] for s in sent]
    assert len(own) == 10  # two canaries, five places each: one range from the top (the suffix has a budget)
    assert all(len(ranges) == 1 and ranges[0][0] == 1 and 8 <= ranges[0][1] <= 11 for ranges in own)
    assert all(s[-1]["file"] == "config/settings.py" for s in sent)  # snippets come first
    main = json.loads(rows[-1]["details"])["sent"]
    assert main[0]["file"] == "config/__init__.py" and main[-1] == {"file": "app/main.py", "lines": [1, 4]}
    assert all(r["prompt_text"] is None for r in rows)
    assert all(canary.secret not in (r["details"] or "") for r in rows for canary in CANARIES)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ledger = str(tmp_path / "ledger.sqlite3")
        assert run_report(["--ledger", ledger, "--sent", str(workspace / "config/settings.py"), "--json"]) == 0
    calls = json.loads(out.getvalue())["calls"]
    assert [c["lines"] for c in calls] == own


async def test_every_code_action_sends_no_canary(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    workspace, starting = _start(fake_deepseek, tmp_path)
    async with starting as session:
        uris = _open_all(session, workspace)
        ran = 0
        for relative in VALUE_FILES:
            last = len(_lines(relative)) - 1
            for name, spec in ACTIONS.items():
                args = {"uri": uris[relative], "lines": [0, last], "now": True, "instruction": "tidy this"}
                if name == "quickEdit":  # a selection beside the secrets; one holding them is refused
                    clean = next(i for i, text in enumerate(_lines(relative)) if text.strip() and not _holds_secret(relative, i))
                    refused = await session.execute(spec.command, {**args, "lines": [0, last]})
                    assert refused["status"] == "error" and "looks like a secret" in refused["message"]
                    args["lines"] = [clean, clean]
                result = await session.execute(spec.command, args)
                assert result["status"] == "ok", (relative, name, result)
                ran += 1
        for relative in PRIVATE_FILES:
            for name, spec in ACTIONS.items():
                result = await session.execute(spec.command, {"uri": uris[relative], "lines": [0, 0], "now": True, "instruction": "x"})
                assert result["status"] == "error", (relative, name)
        chats = fake_deepseek.requests_to("chat")
        assert ran == len(VALUE_FILES) * len(ACTIONS) and len(chats) == ran
        assert all(REDACTED in r.body["messages"][1]["content"] for r in chats)
        assert leaked(fake_deepseek) == []


def _holds_secret(relative: str, line: int) -> bool:
    return any(c.path == relative and c.secret in _lines(relative)[line] for c in CANARIES if c.kind == "value")


async def test_secrets_typed_one_key_at_a_time_are_never_sent(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    workspace, starting = _start(fake_deepseek, tmp_path)
    async with starting as session:
        values = [c for c in CANARIES if c.kind == "value"]
        for index, canary in enumerate(values):
            uri = (workspace / "typed" / f"{index}_{Path(canary.path).name}").as_uri()
            session.open(uri, "# typed\n", LANGUAGES.get(Path(canary.path).suffix, "plaintext"))
            _, text = secret_line(canary)
            whole = text.index(canary.secret) + len(canary.secret)
            for column, char in enumerate(text + "\n"):
                session.edit(uri, (1, column), (1, column), char)
                if column + 1 >= whole - 1:  # from just before the value is whole to the line end
                    await session.inline(uri, 1, column + 1, invoked=True)
            await session.inline(uri, 2, 0, invoked=True)
            result = await session.execute(ACTIONS["explain"].command, {"uri": uri, "lines": [0, 1], "now": True})
            assert result["status"] == "ok"
        pem = (workspace / "typed" / "key.py").as_uri()
        session.open(pem, "")
        block = "KEY = '''\n" + FILES["id_rsa"] + "'''\n"
        line = column = 0
        for char in block:
            session.edit(pem, (line, column), (line, column), char)
            line, column = (line + 1, 0) if char == "\n" else (line, column + 1)
            if char == "\n":
                await session.inline(pem, line, 0, invoked=True)
        assert len(fake_deepseek.requests_to("chat")) == len(values)
        assert len(fake_deepseek.requests_to("fim")) >= 3 * len(values) + 1  # the PEM: only before its header
        assert leaked(fake_deepseek) == []


async def test_a_document_reopened_with_the_same_version_is_never_answered_from_stale_text(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    workspace, starting = _start(fake_deepseek, tmp_path)
    async with starting as session:
        uri = (workspace / "app" / "stale.py").as_uri()
        stale = "stale_marker_0193 = 1\n" + FILES["app/cloud.py"]
        session.open(uri, stale)
        await _list_actions(session, uri)
        await session.inline(uri, 3, 0, invoked=True)
        session.client.text_document_did_close(_close(uri))
        session.open(uri, "fresh_marker_7781 = 2\n\ndef f():\n    return 1\n")  # version 1 again
        for name, spec in ACTIONS.items():
            result = await session.execute(spec.command, {"uri": uri, "lines": [0, 3], "now": True, "instruction": "x"})
            assert result["status"] == "ok", name
        await session.inline(uri, 4, 0, invoked=True)
        bodies = ["\n".join(_strings(r.body)) for r in fake_deepseek.requests[-(len(ACTIONS) + 1) :]]
        assert all("fresh_marker_7781" in b and "stale_marker_0193" not in b and REDACTED not in b for b in bodies)
        # Private at version 1, reopened clean at version 1: served from the new text.
        session.client.text_document_did_close(_close(uri))
        session.open(uri, FILES["app/keys.py"])
        assert (await session.execute(ACTIONS["review"].command, {"uri": uri, "now": True}))["status"] == "error"
        session.client.text_document_did_close(_close(uri))
        session.open(uri, "clean_marker_4420 = 3\n")
        assert (await session.execute(ACTIONS["explain"].command, {"uri": uri, "lines": [0, 0], "now": True}))["status"] == "ok"
        assert "clean_marker_4420" in "\n".join(_strings(fake_deepseek.requests[-1].body))
        # Clean at version 1, reopened holding a private key at version 1: refused.
        session.client.text_document_did_close(_close(uri))
        session.open(uri, FILES["app/keys.py"])
        before = len(fake_deepseek.requests)
        assert (await session.execute(ACTIONS["explain"].command, {"uri": uri, "lines": [0, 0], "now": True}))["status"] == "error"
        assert await session.inline(uri, 2, 0, invoked=True) == []
        assert len(fake_deepseek.requests) == before
        assert leaked(fake_deepseek) == []


async def _list_actions(session: Session, uri: str) -> None:
    await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=3, character=0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )


def _close(uri: str) -> types.DidCloseTextDocumentParams:
    return types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
