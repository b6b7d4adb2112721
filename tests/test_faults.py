"""The fault matrix, end to end: the real server over stdio against the fake DeepSeek API.

For each API fault and each of inline completion, Review and Quick edit: the server answers
(no items / an error status in the command's result), tells the user once (automatic
completions: once per kind; actions: once per invocation), keeps serving (a normal request
right after works), shows no traceback (stderr, window/logMessage, JSON-RPC errors), and the
ledger row of the failed call says `error` with the fault's `error_kind`. Deadlines are short
settings (completion.timeout, requestTimeout) so stalls end quickly; nothing here sleeps to
wait for an event. Also: `pausedBy` and the end of a pause in `flashpro/status`, and documents
holding lone UTF-16 surrogates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from flashpro.completion.layout import build_layout
from flashpro.documents import Position, TextBuffer
from flashpro.providers import sendable
from flashpro.tokens import LineCounter, count
from tests.fakes import Answer, FakeDeepSeek
from tests.lsp_session import Session, ledger_rows, start_session

DEADLINE_S = 3.0  # completion.timeout and requestTimeout (the idle gap is half): a loaded machine
# must not turn a normal call into a timeout
SOURCE = "import math\n\n\ndef add(a, b):\n    \n\n\ndef area(r):\n    return 3.14 * r * r\n"
INLINE_AT = (4, 4)
REVIEW_OK = json.dumps({"findings": []})
EDIT_OK = json.dumps({"replacement": "def area(r):\n    return math.pi * r * r\n"})
DEFAULTS = FakeDeepSeek()  # never started: only its knobs' default values are read


@dataclass(frozen=True)
class Fault:
    """One way the API goes wrong, and the `error_kind` the ledger must record for it."""

    kind: str
    knobs: dict[str, Any] = field(default_factory=dict)
    status: int | None = None
    finish_reason: str | None = None
    stop_server: bool = False

    def inject(self, fake: FakeDeepSeek, endpoint: str) -> None:
        for name, value in self.knobs.items():
            setattr(fake, name, value)
        if self.status is not None:
            fake.fail_next(self.status, path="completions")
        if self.finish_reason is not None:
            script = fake.script_fim if endpoint == "fim" else fake.script_chat
            text = "return a + b\n" if endpoint == "fim" else REVIEW_OK
            script(Answer(text, finish_reason=self.finish_reason))
        if self.stop_server:
            fake.stop()

    def clear(self, fake: FakeDeepSeek) -> None:
        for name in self.knobs:
            setattr(fake, name, getattr(DEFAULTS, name))
        if self.stop_server:
            fake.start()  # the same port again


KEEPALIVE = 0.05
FAULTS = {
    "malformed SSE event": Fault("malformed", {"malformed_after_chunks": 1}),
    "garbage body": Fault("malformed", {"garbage_body": b'{"choi'}),
    "stream cut short": Fault("truncated", {"end_after_chunks": 2}),
    "no [DONE]": Fault("truncated", {"omit_done": True}),
    "no usage": Fault("truncated", {"omit_usage": True}),
    "trickle": Fault("stalled", {"trickle_after_chunks": 2}),
    "keep-alive forever": Fault("timeout", {"hang": True, "keepalive_interval_s": KEEPALIVE}),
    "reset mid-stream": Fault("connection", {"reset_after_chunks": 2}),
    "refused": Fault("connection", stop_server=True),
    "500": Fault("unavailable", status=500),
    "503": Fault("overloaded", status=503),
    "422": Fault("bad_request", status=422),
    "insufficient_system_resource": Fault("overloaded", finish_reason="insufficient_system_resource"),
}


def start(fake: FakeDeepSeek, root: Path, ledger: Path | None = None) -> Any:
    """A vscode session on the fake, rooted at `root`, with the short deadlines."""
    return start_session("vscode", init_options=options(fake), root_uri=root.as_uri(), ledger=ledger)


def options(fake: FakeDeepSeek) -> dict[str, Any]:
    return {
        "apiKey": "sk-test",
        "baseUrl": fake.url,
        "completion": {"timeout": DEADLINE_S},
        "requestTimeout": DEADLINE_S,
    }


def user_messages(session: Session) -> list[str]:
    """What the user was told about problems (errors and warnings)."""
    return session.messages(types.MessageType.Error) + session.messages(types.MessageType.Warning)


def no_traceback(session: Session, stderr: str) -> None:
    logs = "\n".join(m.message for m in session.client.log_messages)
    for where in (logs, stderr, *session.messages()):
        assert "Traceback" not in where and "Exception occurred" not in where


async def told_once(session: Session, call: Callable[[], Any]) -> Any:
    """Run `call`; check exactly one new problem message reached the user; return its result."""
    before = len(user_messages(session))
    result = await call()
    await session.wait_for(lambda: len(user_messages(session)) > before)
    assert len(user_messages(session)) == before + 1, user_messages(session)[before:]
    return result


@pytest.mark.parametrize("name", list(FAULTS))
async def test_fault_matrix(
    fake_deepseek: FakeDeepSeek, tmp_path: Path, capfd: pytest.CaptureFixture[str], name: str
) -> None:
    fault = FAULTS[name]
    ledger = tmp_path / "ledger.sqlite3"
    uri = (tmp_path / "calc.py").as_uri()
    async with start(fake_deepseek, tmp_path, ledger) as session:
        session.open(uri, SOURCE)
        await fake_deepseek.wait_for_request_async(lambda r: r.endpoint == "models" and r.done)

        # Inline completion (automatic): nothing shown, told once per kind, then fine again.
        fault.inject(fake_deepseek, "fim")
        assert await told_once(session, lambda: session.inline(uri, *INLINE_AT)) == []
        fault.inject(fake_deepseek, "fim")
        assert await session.inline(uri, *INLINE_AT) == []  # the same kind again: not told twice
        fault.clear(fake_deepseek)
        assert [item.insert_text for item in await session.inline(uri, *INLINE_AT)] == ["return 42"]
        told = len(user_messages(session))
        assert told == 1, user_messages(session)

        # Review: an error result and one message per invocation, then a normal review.
        fault.inject(fake_deepseek, "chat")
        result = await told_once(session, lambda: session.execute("flashpro.review", {"uri": uri}))
        assert result["status"] == "error" and result["message"] == user_messages(session)[-1]
        fault.clear(fake_deepseek)
        fake_deepseek.script_chat(REVIEW_OK)
        assert (await session.execute("flashpro.review", {"uri": uri}))["status"] == "ok"

        # Quick edit: the same, and nothing is applied.
        edit = {"uri": uri, "lines": [7, 8], "instruction": "use math.pi"}
        fault.inject(fake_deepseek, "chat")
        result = await told_once(session, lambda: session.execute("flashpro.quickEdit", edit))
        assert result["status"] == "error" and session.applied_edits == []
        fault.clear(fake_deepseek)
        fake_deepseek.script_chat(EDIT_OK)
        assert (await session.execute("flashpro.quickEdit", edit))["status"] == "ok"
        assert len(session.applied_edits) == 1
        assert len(user_messages(session)) == told + 2
    no_traceback(session, capfd.readouterr().err)
    rows = [(r["kind"], r["status"], r["error_kind"]) for r in ledger_rows(ledger)]
    failed = ("error", fault.kind)
    assert rows == [
        ("fim", *failed), ("fim", *failed), ("fim", "ok", None),
        ("chat", *failed), ("chat", "ok", None),
        ("chat", *failed), ("chat", "ok", None),
    ]  # fmt: skip


def _status(session: Session) -> dict[str, Any]:
    return session.statuses[-1] if session.statuses else {}


async def test_a_402_pause_is_reported_as_insufficient_balance(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    uri = (tmp_path / "calc.py").as_uri()
    async with start(fake_deepseek, tmp_path) as session:
        session.open(uri, SOURCE)
        fake_deepseek.fail_next(402, path="completions")
        assert await session.inline(uri, *INLINE_AT) == []
        await session.wait_for(lambda: _status(session).get("state") == "paused")
        assert _status(session)["pausedBy"] == "insufficient_balance"
        result = await session.execute("flashpro.review", {"uri": uri})  # paused: told, not sent
        assert result["status"] == "error" and "balance" in result["message"]
        assert fake_deepseek.requests_to("chat") == []


async def test_status_stops_saying_paused_when_a_429_pause_ends(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    uri = (tmp_path / "calc.py").as_uri()
    async with start(fake_deepseek, tmp_path) as session:
        session.open(uri, SOURCE)
        fake_deepseek.fail_next(429, headers={"Retry-After": "1"}, path="completions")
        assert await session.inline(uri, *INLINE_AT) == []
        await session.wait_for(lambda: _status(session).get("state") == "paused")
        assert _status(session)["pausedBy"] == "rate_limited"
        calls = len(fake_deepseek.requests)
        await session.wait_for(lambda: _status(session).get("state") == "idle", timeout=10)
        assert _status(session)["pausedBy"] is None
        assert len(fake_deepseek.requests) == calls  # no call was needed to notice
        assert [item.insert_text for item in await session.inline(uri, *INLINE_AT)] == ["return 42"]


async def test_documents_with_lone_surrogates_are_completed_reviewed_and_edited(
    fake_deepseek: FakeDeepSeek, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    uri = (tmp_path / "calc.py").as_uri()
    text = 'ODD = "\ud800 and \udfff"\n' + SOURCE
    async with start(fake_deepseek, tmp_path, ledger) as session:
        session.open(uri, text)
        items = await session.inline(uri, INLINE_AT[0] + 1, INLINE_AT[1])  # one line further down
        assert [item.insert_text for item in items] == ["return 42"]
        fake_deepseek.script_chat(REVIEW_OK)
        assert (await session.execute("flashpro.review", {"uri": uri}))["status"] == "ok"
        fake_deepseek.script_chat(json.dumps({"replacement": 'ODD = "?"\n'}))
        edit = {"uri": uri, "lines": [0, 0], "instruction": "make it plain"}
        assert (await session.execute("flashpro.quickEdit", edit))["status"] == "ok"
        assert user_messages(session) == []
    no_traceback(session, capfd.readouterr().err)
    fim, review, quick = fake_deepseek.requests_to("fim") + fake_deepseek.requests_to("chat")
    assert 'ODD = "\ufffd and \ufffd"' in fim.body["prompt"]
    assert all('"\ufffd and \ufffd"' in r.body["messages"][1]["content"] for r in (review, quick))
    assert [r["status"] for r in ledger_rows(ledger)] == ["ok", "ok", "ok"]


def test_lone_surrogates_are_counted_and_laid_out() -> None:
    text = 'ODD = "\ud800"\n' * 50 + "def f():\n    \udc00"
    buffer = TextBuffer(text)
    layout = build_layout(buffer, Position(51, 5), 200, 32, (), LineCounter())
    context = layout.context
    assert context.prompt.endswith("def f():\n    \udc00")
    assert context.prompt_tokens == count(context.prompt) == count(sendable(context.prompt))
    assert LineCounter().count_lines(buffer.lines(0, 52)) == count(text)
