"""End to end: every call in the ledger with exact costs, outcomes, diagnostics, status, report."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from lsprotocol import types

from tests.fakes import FakeDeepSeek
from tests.lsp_session import ledger_rows, start_session

URI = "file:///workspace/calc.py"
SOURCE = "".join(f"def helper_{i}(value):\n    return value * {i} + {i * 3}\n\n" for i in range(25))

# deepseek-v4-flash after 2026-09-10 is billed as deepseek-flash (USD per 1M: hit / miss / output).
OFF_PEAK = (0.003, 0.15, 0.60)
PEAK = (0.006, 0.30, 1.20)


def _options(fake: FakeDeepSeek) -> dict[str, Any]:
    return {"apiKey": "sk-test", "baseUrl": fake.url}


def _hand_cost(row: sqlite3.Row) -> float:
    when = datetime.fromisoformat(row["time_utc"])
    peak = when.weekday() < 5 and (1 <= when.hour < 4 or 6 <= when.hour < 10)
    hit, miss, out = PEAK if peak else OFF_PEAK
    return (row["cache_hit_tokens"] * hit + row["cache_miss_tokens"] * miss + row["output_tokens"] * out) / 1e6



async def test_ledger_outcomes_diagnostic_status_and_report(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    async with start_session("vscode", init_options=_options(fake_deepseek), ledger=ledger) as session:
        session.open(URI, SOURCE)
        end = SOURCE.count("\n")

        # 1: shown and accepted through the item's command.
        fake_deepseek.script_fim("def main():\n    print(helper_1(2))\n")
        (first, *_) = await session.inline(URI, end, 0, invoked=True)
        assert first.command is not None
        await session.execute(first.command.command, *(first.command.arguments or []))

        # 2: shown, then partially accepted (Copilot-style notification).
        fake_deepseek.script_fim("def spare():\n    return 0\n")
        (second, *_) = await session.inline(URI, end, 0, invoked=True)
        session.client.protocol.notify(
            "textDocument/didPartiallyAcceptCompletion",
            {"item": {"insertText": second.insert_text, "command": {"title": "", "command": "flashpro.accept", "arguments": second.command.arguments}}, "acceptedLength": 4},  # type: ignore[union-attr]
        )

        # 3: superseded while waiting (cancelled on the wire), 4: answers and is then ignored.
        fake_deepseek.latency_s = 30
        slow = asyncio.ensure_future(session.inline(URI, end, 0, invoked=True))
        await fake_deepseek.wait_for_request_async(lambda r: r.endpoint == "fim" and r.id > 0 and not r.done and r.delay_s)
        fake_deepseek.latency_s = 0
        fake_deepseek.script_fim("unused = 1\n")
        ignored = await session.inline(URI, end, 0, invoked=True)
        assert await slow == [] and ignored

        # 5: a further request: the ignored suggestion (4) now counts as rejected.
        fake_deepseek.script_fim("final = 2\n")
        await session.inline(URI, end, 0, invoked=True)

        await session.wait_for(lambda: session.spend_diagnostic(URI) is not None)
        await session.wait_for(lambda: any(s.get("calls") == 5 for s in session.statuses))
        diagnostic = session.spend_diagnostic(URI)
        assert diagnostic is not None
        assert diagnostic.severity == types.DiagnosticSeverity.Information
        assert diagnostic.range.start.line == 0
        assert "tokens ·" in diagnostic.message and "cache hit" in diagnostic.message and "$" in diagnostic.message
        assert "completions accepted" in diagnostic.message

        report = await session.execute("flashpro.report")
        assert report["total"]["calls"] == 5
        assert [group["key"] for group in report["by_file"]] == [URI]

    fims = fake_deepseek.requests_to("fim")
    rows = ledger_rows(ledger)
    assert len(rows) == len(fims) == 5
    by_outcome = [row["outcome"] for row in rows]
    assert by_outcome == ["accepted", "partially_accepted", "superseded", "rejected", "shown"]
    assert rows[0]["accepted_chars"] == len(first.insert_text)  # type: ignore[arg-type]
    assert rows[1]["accepted_chars"] == 4
    assert rows[2]["status"] == "cancelled" and fims[2].disconnected
    for row, fim in zip(rows, fims):
        assert row["kind"] == "fim" and row["role"] == "executor"
        assert row["model_requested"] == "deepseek-v4-flash"
        assert row["file_uri"] == URI and row["workspace"] == "/workspace"
        if row["status"] == "ok":
            usage = fim.usage or {}
            assert row["prompt_tokens"] == usage["prompt_tokens"]
            assert row["cache_hit_tokens"] == usage["prompt_cache_hit_tokens"]
            assert row["cache_miss_tokens"] == usage["prompt_cache_miss_tokens"]
            assert row["cache_hit_tokens"] + row["cache_miss_tokens"] == row["prompt_tokens"]
            assert row["output_tokens"] == usage["completion_tokens"]
            assert abs(row["cost_usd"] - _hand_cost(row)) < 1e-12
            assert row["latency_total_ms"] is not None
    assert rows[1]["cache_hit_tokens"] > 0  # the same prompt again: served from the prompt cache
    assert b"sk-test" not in ledger.read_bytes()

    # The CLI reads the same ledger.
    out = subprocess.run(
        [sys.executable, "-m", "flashpro", "report", "--ledger", str(ledger), "--json"],
        capture_output=True, text=True, check=True,
    ).stdout
    cli = json.loads(out)
    assert cli["total"]["calls"] == 5
    assert abs(cli["total"]["cost_usd"] - sum(r["cost_usd"] or 0 for r in rows)) < 1e-12
    table = subprocess.run(
        [sys.executable, "-m", "flashpro", "report", "--ledger", str(ledger)], capture_output=True, text=True, check=True
    ).stdout
    assert "calc.py" in table


async def test_cache_drop_names_the_changed_line(fake_deepseek: FakeDeepSeek) -> None:
    async with start_session("vscode", init_options=_options(fake_deepseek)) as session:
        session.open(URI, SOURCE)
        end = SOURCE.count("\n")
        for _ in range(4):
            await session.inline(URI, end, 0, invoked=True)
        session.edit(URI, (3, 0), (3, 0), "# a new comment\n")
        await session.inline(URI, end + 1, 0, invoked=True)
        await session.wait_for(
            lambda: (d := session.spend_diagnostic(URI)) is not None and "prompt head changed" in d.message
        )
        diagnostic = session.spend_diagnostic(URI)
        assert diagnostic is not None
        assert "prompt head changed at line 4" in diagnostic.message


async def test_spend_diagnostic_can_be_a_hint_or_off(fake_deepseek: FakeDeepSeek) -> None:
    init = {**_options(fake_deepseek), "diagnostics": {"severity": "hint"}}
    async with start_session("neovim", init_options=init) as session:
        session.open(URI, SOURCE)
        await session.inline(URI, 3, 0, invoked=True)
        await session.wait_for(lambda: session.spend_diagnostic(URI) is not None)
        assert session.spend_diagnostic(URI).severity == types.DiagnosticSeverity.Hint  # type: ignore[union-attr]
        session.client.set_configuration({"diagnostics": {"enabled": False}}, section="flashpro")
        session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await asyncio.sleep(0.3)
        await session.inline(URI, 3, 0, invoked=True)
        await session.wait_for(lambda: session.spend_diagnostic(URI) is None)


async def test_rows_survive_kill_9(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    async with start_session("vscode", init_options=_options(fake_deepseek), ledger=ledger) as session:
        session.open(URI, SOURCE)
        for _ in range(3):
            await session.inline(URI, 10, 0, invoked=True)
        # The diagnostic is computed from committed rows: once it shows 3 completions, they are on disk.
        await session.wait_for(
            lambda: (d := session.spend_diagnostic(URI)) is not None and "/3 completions" in d.message
        )
        process = session.client._server  # noqa: SLF001
        assert process is not None
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()
    rows = ledger_rows(ledger)
    assert len(rows) == 3
    assert all(row["status"] == "ok" and row["prompt_tokens"] for row in rows)
    conn = sqlite3.connect(ledger)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


async def test_spending_caps_degrade_in_stages_and_say_so_once(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    async with start_session("vscode", init_options=_options(fake_deepseek), ledger=ledger) as session:
        session.open(URI, SOURCE)
        end = SOURCE.count("\n")
        await session.inline(URI, end, 0, invoked=True)
        await session.wait_for(lambda: session.spend_diagnostic(URI) is not None)
        (first,) = ledger_rows(ledger)
        spent = first["cost_usd"]
        assert spent > 0

        # Today's spend is now 92% of the daily cap: automatic completion stops, invoked still works.
        session.client.set_configuration({"budget": {"dayUsd": spent / 0.92}}, section="flashpro")
        session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await asyncio.sleep(0.3)
        fake_deepseek.script_fim("x = 1\n")
        assert await session.inline(URI, end - 1, 0) == []  # (not a place answered from the cache)
        assert len(fake_deepseek.requests_to("fim")) == 1
        await session.wait_for(lambda: any("automatic completion is off" in m for m in session.messages()))
        assert await session.inline(URI, end, 0, invoked=True)
        assert len(fake_deepseek.requests_to("fim")) == 2

        # Over the cap: nothing more is sent, announced once, shown in the status and diagnostic.
        session.client.set_configuration({"budget": {"dayUsd": spent}}, section="flashpro")
        session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await asyncio.sleep(0.3)
        for _ in range(3):
            assert await session.inline(URI, end, 0, invoked=True) == []
        assert len(fake_deepseek.requests_to("fim")) == 2
        stopped = [m for m in session.messages() if "reached" in m]
        assert len(stopped) == 1 and "no more API calls" in stopped[0]
        await session.wait_for(lambda: any(s.get("budget") == "stopped" for s in session.statuses))
        await session.wait_for(
            lambda: (d := session.spend_diagnostic(URI)) is not None and "budget: stopped" in d.message
        )
    assert len(ledger_rows(ledger)) == 2


async def test_status_is_sent_at_start_and_when_calls_pause(fake_deepseek: FakeDeepSeek) -> None:
    async with start_session("vscode", init_options={"baseUrl": fake_deepseek.url}) as session:
        await session.wait_for(lambda: len(session.statuses) >= 1)
        assert session.statuses[0]["calls"] == 0
        # No key: check_models reports it, and the status says why calls are paused.
        await session.wait_for(lambda: any(s["state"] == "paused" for s in session.statuses))
        paused = [s for s in session.statuses if s["state"] == "paused"][-1]
        assert paused["pausedBy"] == "missing_key"
