"""End to end: code actions listed for free, then run on V4 Pro / V4 Flash against the fake."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flashpro.ledger import Ledger
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from tests.fakes import Answer, FakeDeepSeek
from tests.lsp_session import Session, ledger_rows, start_session

SOURCE = (
    "import os\n"
    "\n"
    "\n"
    "def load(path):\n"
    "    if path == None:\n"
    "        return {}\n"
    "    with open(path) as handle:\n"
    "        return handle.read()\n"
    "\n"
    "\n"
    "def area(r):\n"
    "    return 3.14 * r * r\n"
)

REVIEW = {
    "findings": [
        {
            "line_start": 5,
            "line_end": 5,
            "snippet": "path == None",
            "severity": "warning",
            "category": "style",
            "message": "Compare with None using 'is'.",
            "replacement": "path is None",
        },
        {
            "line_start": 7,
            "line_end": 8,
            "severity": "error",
            "category": "bug",
            "message": "Returns text, not the dict the empty case returns.",
        },
    ]
}

DESIGN = {
    "goal": "Cache loaded files",
    "decisions": [{"decision": "Use functools.lru_cache", "reason": "load is pure"}],
    "steps": [{"title": "Decorate load", "detail": "Add the cache", "files": ["calc.py"]}],
    "risks": ["Stale data after edits"],
    "acceptance": ["Loading twice reads once"],
}

# Pro after 2026-09-10, USD per 1M tokens (hit, miss, output).
PRO_OFF_PEAK = (0.022, 0.66, 1.98)
PRO_PEAK = (0.044, 1.32, 3.96)


def _options(fake: FakeDeepSeek, **extra: Any) -> dict[str, Any]:
    return {"apiKey": "sk-test", "baseUrl": fake.url, **extra}


def _start(fake: FakeDeepSeek, tmp_path: Path, editor: str = "vscode", **options: Any):
    """A session rooted at `tmp_path`, its ledger in `tmp_path / "ledger.sqlite3"`."""
    return start_session(
        editor,
        init_options=_options(fake, **options),
        root_uri=tmp_path.as_uri(),
        ledger=tmp_path / "ledger.sqlite3",
    )


def _uri(root: Path, name: str = "calc.py") -> str:
    return (root / name).as_uri()


def _range(start: tuple[int, int], end: tuple[int, int]) -> types.Range:
    return types.Range(
        start=types.Position(line=start[0], character=start[1]),
        end=types.Position(line=end[0], character=end[1]),
    )


async def _actions(
    session: Session, uri: str, rng: types.Range, diagnostics: list[types.Diagnostic] | None = None
) -> list[types.CodeAction]:
    result = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=rng,
            context=types.CodeActionContext(diagnostics=diagnostics or []),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def _run(session: Session, actions: list[types.CodeAction], title: str) -> Any:
    """Pick the action whose title starts with `title`, resolve it, run its command."""
    (action,) = [a for a in actions if a.title.startswith(title)]
    if action.command is None:
        action = await session.client.code_action_resolve_async(action)
    assert action.command is not None
    return await session.execute(action.command.command, *(action.command.arguments or []))


def _review_diagnostics(session: Session, uri: str) -> list[types.Diagnostic]:
    return [d for d in session.client.diagnostics.get(uri, []) if d.source == "flashpro-review"]


async def test_listing_is_free_and_titles_carry_a_cost_preview(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    async with _start(fake_deepseek, tmp_path, "vscode") as session:
        uri = _uri(tmp_path)
        session.open(uri, SOURCE)
        actions = await _actions(session, uri, _range((3, 0), (8, 0)))
        titles = [a.title for a in actions]
        assert [t.split(" (")[0] for t in titles] == [
            "Review this",
            "Design this",
            "Quick edit…",
            "Explain this",
            "Write tests for this",
            "Implement this",
        ]
        assert "V4 Pro · ~" in titles[0] and "tokens · ~$" in titles[0]
        assert "V4 Flash · ~" in titles[2]
        # VS Code supports codeAction/resolve: the command is filled in only when picked.
        assert all(a.command is None and a.data for a in actions)
        resolved = await session.client.code_action_resolve_async(actions[0])
        assert resolved.command is not None and resolved.command.command == "flashpro.review"
        assert fake_deepseek.requests_to("chat") == []


@pytest.mark.parametrize("editor", ["neovim-0.11", "emacs", "vim"])
async def test_every_captured_client_can_list_and_run_an_action(
    fake_deepseek: FakeDeepSeek, tmp_path: Path, editor: str
) -> None:
    async with _start(fake_deepseek, tmp_path, editor) as session:
        uri = _uri(tmp_path)
        session.open(uri, SOURCE)
        actions = await _actions(session, uri, _range((10, 0), (11, 0)))
        assert len(actions) == 6  # the five actions and Implement this
        fake_deepseek.script_chat("It squares r and scales by pi.")
        result = await _run(session, actions, "Explain this")  # resolved, or carrying its command
        assert result["status"] == "ok" and Path(result["path"]).read_text().count("squares") == 1
        assert fake_deepseek.requests_to("chat")[0].body["model"] == "deepseek-v4-flash"


async def test_review_findings_become_diagnostics_with_a_quick_fix(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    async with _start(fake_deepseek, tmp_path, "vscode") as session:
        uri = _uri(tmp_path)
        session.open(uri, SOURCE)
        fake_deepseek.script_chat(json.dumps(REVIEW))
        result = await _run(session, await _actions(session, uri, _range((3, 0), (8, 0))), "Review this")
        assert result["status"] == "ok" and result["findings"] == 2 and result["fixes"] == 1
        await session.wait_for(lambda: len(_review_diagnostics(session, uri)) == 2)
        style, bug = _review_diagnostics(session, uri)
        assert style.range == _range((4, 7), (4, 19))  # exactly `path == None`
        assert style.severity == types.DiagnosticSeverity.Warning and style.code == "style"
        assert bug.range == _range((6, 4), (7, 28)) and bug.severity == types.DiagnosticSeverity.Error

        (request,) = fake_deepseek.requests_to("chat")
        body = request.body
        assert body["model"] == "deepseek-v4-pro" and body["thinking"] == {"type": "enabled"}
        assert body["response_format"] == {"type": "json_object"}
        assert "json" in body["messages"][1]["content"]
        assert "    5|     if path == None:" in body["messages"][1]["content"]

        fixes = await _actions(session, uri, style.range, [style])
        (fix,) = [a for a in fixes if a.kind == types.CodeActionKind.QuickFix]
        assert fix.edit is not None and fix.edit.changes is not None
        (edit,) = fix.edit.changes[uri]
        assert edit.range == style.range and edit.new_text == "path is None"

        session.edit(uri, (4, 7), (4, 19), "path is None")  # the editor applies the fix
        await session.wait_for(lambda: len(_review_diagnostics(session, uri)) == 1)
        assert _review_diagnostics(session, uri)[0].code == "bug"

        session.edit(uri, (0, 0), (0, 0), "import sys\n")  # a line above: the finding moves down
        await asyncio.sleep(0.2)
        await session.wait_for(lambda: _review_diagnostics(session, uri)[0].range.start.line == 7)

        await session.wait_for(lambda: "planner $" in getattr(session.spend_diagnostic(uri), "message", ""))
        assert session.spend_diagnostic(uri).message.startswith("flashpro: ")

        report = await session.execute("flashpro.report")
        assert {group["key"] for group in report["by_role"]} == {"planner"}

        assert (await session.execute("flashpro.clearReview", {"uri": uri}))["cleared"] == 1
        await session.wait_for(lambda: _review_diagnostics(session, uri) == [])

    (row,) = ledger_rows(ledger)
    assert row["role"] == "planner" and row["kind"] == "chat" and row["status"] == "ok"
    assert row["model_requested"] == "deepseek-v4-pro"
    assert row["cache_hit_tokens"] + row["cache_miss_tokens"] == row["prompt_tokens"]
    when = datetime.fromisoformat(row["time_utc"])
    peak = when.weekday() < 5 and (1 <= when.hour < 4 or 6 <= when.hour < 10)
    hit, miss, out = PRO_PEAK if peak else PRO_OFF_PEAK
    expected = (
        row["cache_hit_tokens"] * hit + row["cache_miss_tokens"] * miss + row["output_tokens"] * out
    ) / 1e6
    assert abs(row["cost_usd"] - expected) < 1e-12


async def test_invalid_json_is_retried_once_then_fails_clearly(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    async with _start(fake_deepseek, tmp_path, "neovim") as session:
        uri = _uri(tmp_path)
        session.open(uri, SOURCE)
        fake_deepseek.script_chat(["this is not json", json.dumps(REVIEW)])
        result = await session.execute("flashpro.review", {"uri": uri})
        assert result["status"] == "ok" and result["findings"] == 2
        first, second = fake_deepseek.requests_to("chat")
        retry = second.body["messages"]
        assert retry[2] == {"role": "assistant", "content": "this is not json"}
        assert "not valid json" in retry[3]["content"]

        fake_deepseek.script_chat(["", '{"findings": "none"}'])
        result = await session.execute("flashpro.review", {"uri": uri})
        assert result["status"] == "error"
        assert "unusable twice" in result["message"]
        await session.wait_for(
            lambda: any("unusable twice" in m for m in session.messages(types.MessageType.Error))
        )
        assert len(_review_diagnostics(session, uri)) == 2  # the earlier findings are untouched
    rows = ledger_rows(ledger)
    assert [r["status"] for r in rows] == ["ok"] * 4
    assert {r["role"] for r in rows} == {"planner"}
    # Answers that failed validation were billed and thrown away: unusable, counted as wasted.
    assert [r["outcome"] for r in rows] == ["unusable", None, "unusable", "unusable"]
    with Ledger(ledger, read_only=True) as read:
        stats = read.stats()
    wasted = sum(r["cost_usd"] for r in rows if r["outcome"] == "unusable")
    assert wasted > 0 and stats.unusable == 3 and stats.wasted_usd == pytest.approx(wasted)


async def test_design_is_written_and_shown(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    async with _start(fake_deepseek, tmp_path, "neovim") as session:
        uri = _uri(tmp_path)
        session.open(uri, SOURCE + "\n# TODO: cache what load() reads\n")
        fake_deepseek.script_chat(json.dumps(DESIGN))
        actions = await _actions(session, uri, _range((13, 5), (13, 5)))
        result = await _run(session, actions, "Design this")
        assert result["status"] == "ok"
        markdown = Path(result["path"])
        assert markdown.parent == tmp_path / ".flashpro" / "designs"
        text = markdown.read_text()
        assert "# Design: Cache loaded files" in text and "**Use functools.lru_cache** — load is pure" in text
        assert "- [ ] Loading twice reads once" in text
        assert json.loads(markdown.with_suffix(".json").read_text())["steps"][0]["files"] == ["calc.py"]
        (shown,) = session.client.shown_documents
        assert shown.uri == markdown.as_uri()
        (request,) = fake_deepseek.requests_to("chat")
        assert "lines 14" in request.body["messages"][1]["content"]  # the comment stating the intent


async def test_quick_edit_arrives_as_one_applied_edit(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    async with _start(fake_deepseek, tmp_path, "vscode") as session:
        uri = _uri(tmp_path)
        session.open(uri, SOURCE)
        new = "def area(r: float) -> float:\n    return math.pi * r * r\n"
        fake_deepseek.script_chat(json.dumps({"replacement": new}))
        result = await session.execute(
            "flashpro.quickEdit", {"uri": uri, "lines": [10, 11], "instruction": "add type hints"}
        )
        assert result["status"] == "ok" and result["applied"] is True
        (params,) = session.applied_edits
        (change,) = params.edit.document_changes
        assert change.text_document.uri == uri and change.text_document.version == 1
        (edit,) = change.edits
        assert edit.range == _range((10, 0), (12, 0)) and edit.new_text == new  # whole lines
        (request,) = fake_deepseek.requests_to("chat")
        assert request.body["model"] == "deepseek-v4-flash"
        assert request.body["thinking"] == {"type": "disabled"}
        assert "add type hints" in request.body["messages"][1]["content"]

        # Instruction from a `flashpro:` comment above the selection.
        session.edit(uri, (10, 0), (10, 0), "# flashpro: use math.pi\n")
        fake_deepseek.script_chat(json.dumps({"replacement": "def area(r):\n    return math.pi * r * r\n"}))
        result = await session.execute("flashpro.quickEdit", {"uri": uri, "lines": [11, 12]})
        assert result["status"] == "ok"
        assert "use math.pi" in fake_deepseek.requests_to("chat")[-1].body["messages"][1]["content"]

        # No instruction at all: a clear message, no call.
        calls = len(fake_deepseek.requests_to("chat"))
        result = await session.execute("flashpro.quickEdit", {"uri": uri, "lines": [4, 5]})
        assert result["status"] == "error" and "needs an instruction" in result["message"]
        assert len(fake_deepseek.requests_to("chat")) == calls
    assert {r["role"] for r in ledger_rows(ledger)} == {"executor"}


async def test_explain_and_tests_run_on_flash(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    async with _start(fake_deepseek, tmp_path, "vscode") as session:
        uri = _uri(tmp_path)
        session.open(uri, SOURCE)
        fake_deepseek.script_chat("`area` returns the area of a circle of radius `r`.")
        result = await session.execute("flashpro.explain", {"uri": uri, "lines": [10, 11]})
        assert result["status"] == "ok" and "area of a circle" in Path(result["path"]).read_text()
        assert fake_deepseek.requests_to("chat")[-1].body.get("response_format") is None

        test_file = "from calc import area\n\n\ndef test_area():\n    assert area(1) > 3\n"
        fake_deepseek.script_chat(json.dumps({"path": "tests/test_calc.py", "content": test_file}))
        result = await session.execute("flashpro.writeTests", {"uri": uri, "lines": [10, 11]})
        assert result["status"] == "ok"
        create, change = session.applied_edits[-1].edit.document_changes
        assert (
            isinstance(create, types.CreateFile)
            and create.uri == (tmp_path / "tests" / "test_calc.py").as_uri()
        )
        assert change.edits[0].new_text == test_file

        fake_deepseek.script_chat(json.dumps({"path": "../../etc/evil.py", "content": test_file}))
        await session.execute("flashpro.writeTests", {"uri": uri, "lines": [10, 11]})
        create, _ = session.applied_edits[-1].edit.document_changes
        assert create.uri == (tmp_path / "tests" / "test_calc.py").as_uri()  # kept inside the workspace


async def test_routing_is_configuration(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    route = {"model": "executor", "thinking": False, "maxOutputTokens": 500}
    async with _start(fake_deepseek, tmp_path, actions={"review": route}) as session:
        uri = _uri(tmp_path)
        session.open(uri, SOURCE)
        actions = await _actions(session, uri, _range((3, 0), (8, 0)))
        assert "V4 Flash" in actions[0].title
        fake_deepseek.script_chat(json.dumps({"findings": []}))
        await session.execute("flashpro.review", {"uri": uri})
        body = fake_deepseek.requests_to("chat")[0].body
        assert body["model"] == "deepseek-v4-flash" and body["thinking"] == {"type": "disabled"}
        assert body["max_tokens"] == 500


async def test_provider_errors_are_reported_and_the_server_keeps_serving(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    async with _start(fake_deepseek, tmp_path, requestTimeout=1) as session:
        uri = _uri(tmp_path)
        session.open(uri, SOURCE)
        fake_deepseek.hang = True
        result = await session.execute("flashpro.explain", {"uri": uri, "lines": [10, 11]})
        assert result["status"] == "error" and "did not answer in time" in result["message"]
        fake_deepseek.hang = False

        fake_deepseek.script_chat("fine")
        result = await session.execute("flashpro.explain", {"uri": uri, "lines": [10, 11]})
        assert result["status"] == "ok"

        fake_deepseek.fail_next(402, path="chat")
        result = await session.execute("flashpro.review", {"uri": uri})
        assert result["status"] == "error" and "balance" in result["message"]
        result = await session.execute("flashpro.review", {"uri": uri})  # paused: told, not sent
        assert result["status"] == "error" and len(fake_deepseek.requests_to("chat")) == 3
        items = await session.inline(uri, 11, 0, invoked=True)  # still serving
        assert isinstance(items, list)
    statuses = [(r["status"], r["error_kind"]) for r in ledger_rows(ledger)]
    assert statuses == [("error", "timeout"), ("ok", None), ("error", "insufficient_balance")]


async def test_cancelled_call_is_recorded_with_tokens_spent(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    fake_deepseek.chunk_delay_s = 0.05
    async with _start(fake_deepseek, tmp_path) as session:
        uri = _uri(tmp_path)
        session.open(uri, SOURCE)
        fake_deepseek.script_chat(Answer(json.dumps(REVIEW), reasoning="Let me look at each line. " * 40))
        pending = asyncio.ensure_future(session.execute("flashpro.review", {"uri": uri}))
        record = await fake_deepseek.wait_for_request_async(lambda r: r.endpoint == "chat")
        await fake_deepseek.wait_until_async(lambda: record.chunks_sent >= 5)
        (token,) = session.client.progress_reports
        session.client.window_work_done_progress_cancel(  # the progress UI's cancel button
            types.WorkDoneProgressCancelParams(token=token)
        )
        await fake_deepseek.wait_for_disconnect_async()
        try:
            await asyncio.wait_for(pending, 5)
        except Exception:  # noqa: BLE001 - the request ends cancelled; how is the client's business
            pass
        reports = session.client.progress_reports[token]
        assert reports[0].kind == "begin" and reports[0].cancellable
        assert reports[-1].kind == "end" and reports[-1].message == "cancelled"
        assert _review_diagnostics(session, uri) == []
    (row,) = ledger_rows(ledger)
    assert row["status"] == "cancelled" and row["role"] == "planner"
    assert row["prompt_tokens"] > 100 and row["output_tokens"] > 0
    assert row["cache_miss_tokens"] == row["prompt_tokens"] and row["cost_usd"] > 0
    assert json.loads(row["details"])["estimated"] is True


async def test_peak_titles_and_deferral_to_off_peak(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    start, end = now - timedelta(minutes=30), min(now + timedelta(hours=1), now.replace(hour=23, minute=59))
    prices = {
        "peak_hours_utc": {
            "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "ranges": [[f"{start:%H:%M}", f"{end:%H:%M}"]],
        }
    }
    if start.date() != now.date():
        prices["peak_hours_utc"]["ranges"] = [["00:00", f"{end:%H:%M}"]]
    async with _start(fake_deepseek, tmp_path, "neovim", prices=prices) as session:
        uri = _uri(tmp_path)
        session.open(uri, SOURCE)
        actions = await _actions(session, uri, _range((3, 0), (8, 0)))
        assert actions[0].title.endswith("· peak ×2)")

        session.client.set_configuration({"actions": {"deferOffPeak": True}}, section="flashpro")
        session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await asyncio.sleep(0.3)
        actions = await _actions(session, uri, _range((3, 0), (8, 0)))
        titles = [a.title for a in actions]
        assert any(t.startswith("Review this at off-peak (from ") for t in titles)
        assert any(t.startswith("Review this now (") and "peak ×2" in t for t in titles)
        result = await _run(session, actions, "Review this at off-peak")
        assert result["status"] == "deferred"
        assert fake_deepseek.requests_to("chat") == []


async def test_malformed_commands_get_a_clear_error(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    # A malformed command is a malformed request: InvalidParams naming the problem, no pop-up.
    async with _start(fake_deepseek, tmp_path) as session:
        with pytest.raises(JsonRpcInvalidParams, match="one argument object with the `uri`"):
            await session.execute("flashpro.review")
        with pytest.raises(JsonRpcInvalidParams, match="never-opened.py is not open: open the file"):
            await session.execute("flashpro.design", {"uri": _uri(tmp_path, "never-opened.py")})
        with pytest.raises(JsonRpcInvalidParams, match="`uri` must be a string; `lines` must be"):
            await session.execute("flashpro.quickEdit", {"uri": 42, "lines": "x"})
        with pytest.raises(JsonRpcInvalidParams, match="`since`"):
            await session.execute("flashpro.report", {"since": "yesterday-ish"})
        with pytest.raises(JsonRpcInvalidParams, match="request id and the accepted length"):
            await session.execute("flashpro.accept", "id", -1)
        with pytest.raises(JsonRpcInvalidParams, match="takes {uri, lines"):
            await session.execute("flashpro.implement", {"uri": _uri(tmp_path), "lines": [1]})
        assert fake_deepseek.requests_to("chat") == []
        session.open(_uri(tmp_path), SOURCE)  # still serving
        assert len(await _actions(session, _uri(tmp_path), _range((0, 0), (0, 0)))) == 6
        assert session.messages() == []


async def test_excluded_files_get_no_actions_and_are_never_sent(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    async with _start(fake_deepseek, tmp_path, "vscode") as session:
        uri = _uri(tmp_path, ".env")
        session.open(uri, "API_TOKEN=abc\n", language_id="dotenv")
        assert await _actions(session, uri, _range((0, 0), (0, 3))) == []
        result = await session.execute("flashpro.review", {"uri": uri})
        assert result["status"] == "error" and "excluded" in result["message"]
        assert fake_deepseek.requests_to("chat") == []
