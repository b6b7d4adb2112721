"""Every billed call is a row, and every row says exactly what became of its answer.

The metered call writes a row before the request goes out (`interrupted` until the call ends), so
a process killed mid-stream leaves a visible row; outcomes are exact (a superseded answer is not
"shown"; an answer that lands after its request was cancelled gets an outcome); a corrupt ledger
is moved aside, and the budget's spend lookup never waits on SQLite.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flashpro.accounting import Accounting
from flashpro.app import Flashpro
from flashpro.config import Settings
from flashpro.ledger import CallRecord, Ledger
from flashpro.providers import CallTrace, FimRequest
from flashpro.usage import Usage

from tests.fakes import FakeDeepSeek
from tests.lsp_session import ledger_rows, start_session

URI = "file:///workspace/calc.py"
SOURCE = "def add(a, b):\n    \n"


def _options(fake: FakeDeepSeek) -> dict[str, Any]:
    return {"apiKey": "sk-test", "baseUrl": fake.url}


async def _wait_for_row(ledger: Path, status: str) -> sqlite3.Row:
    for _ in range(500):
        if ledger.exists():
            rows = [row for row in ledger_rows(ledger) if row["status"] == status]
            if rows:
                return rows[0]
        await asyncio.sleep(0.02)
    raise TimeoutError(f"no {status} row in {ledger}")


async def test_a_call_killed_mid_stream_leaves_an_interrupted_row(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    fake_deepseek.script_fim("return a + b\n")
    fake_deepseek.hang_after_chunks = 1
    async with start_session("vscode", init_options=_options(fake_deepseek), ledger=ledger) as session:
        session.open(URI, SOURCE)
        pending = asyncio.ensure_future(session.inline(URI, 1, 4, invoked=True))
        await fake_deepseek.wait_for_request_async(lambda r: r.endpoint == "fim" and r.chunks_sent >= 1)
        row = await _wait_for_row(ledger, "interrupted")  # written before the request went out
        process = session.client._server  # noqa: SLF001
        assert process is not None
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()
        pending.cancel()
    (row,) = ledger_rows(ledger)
    assert row["status"] == "interrupted" and row["kind"] == "fim" and row["file_uri"] == URI
    assert row["prompt_tokens"] is None and row["cost_usd"] is None  # nothing known, nothing invented
    with Ledger(ledger, read_only=True) as read:
        assert read.stats().interrupted == 1


async def test_a_superseded_answer_is_not_counted_as_shown(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite3"
    fake_deepseek.hang = True
    async with start_session("vscode", init_options=_options(fake_deepseek), ledger=ledger) as session:
        session.open(URI, SOURCE)
        first = asyncio.ensure_future(session.inline(URI, 1, 4, invoked=True))
        # The fake reads `hang` after recording the request: wait until it chose to hang.
        await fake_deepseek.wait_for_request_async(lambda r: r.endpoint == "fim" and r.delay_s is not None)
        fake_deepseek.hang = False
        assert await session.inline(URI, 0, 14, invoked=True)  # an invoked request asks afresh
        assert await first == []
        report = await session.execute("flashpro.report")
    old, new = ledger_rows(ledger)
    assert (old["status"], old["outcome"]) == ("cancelled", "superseded")
    assert (new["status"], new["outcome"]) == ("ok", "shown")
    assert report["total"]["shown"] == 1 and report["total"]["superseded"] == 1


class _Quiet:
    def show_message(self, level: str, text: str) -> None: ...

    def publish_spend(self, uri: str, message: str | None, severity: str) -> None: ...

    def send_status(self, status: dict[str, Any]) -> None: ...

    def publish_review(self, uri: str) -> None: ...


class _HeldProvider:
    """A provider whose FIM answer waits until the test releases it."""

    has_key = True

    def __init__(self, text: str) -> None:
        self.text = text
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def fim(self, request: FimRequest, trace: CallTrace, on_text: Any = None) -> str:
        self.started.set()
        await self.release.wait()
        trace.parts.append(self.text)
        trace.usage = Usage(prompt_tokens=100, completion_tokens=5, cache_hit_tokens=0, cache_miss_tokens=100)
        trace.finished_at = trace.started
        return self.text

    async def aclose(self) -> None: ...


def _core(tmp_path: Path) -> Flashpro:
    core = Flashpro(_Quiet(), env={})
    core.configure(init_options={"apiKey": "sk-test", "ledgerPath": str(tmp_path / "ledger.sqlite3")})
    return core


async def test_an_answer_landing_after_its_request_was_cancelled_is_superseded(tmp_path: Path) -> None:
    core = _core(tmp_path)
    provider = _HeldProvider("return a + b\n")
    core.meter.provider = provider  # type: ignore[assignment]
    doc = core.documents.open(URI, "python", 1, SOURCE)
    request = asyncio.ensure_future(core.completion.complete(doc, 1, 4, invoked=True))
    await provider.started.wait()
    request.cancel()  # the editor cancelled; the stream lives on for a follower's grace
    await asyncio.gather(request, return_exceptions=True)
    provider.release.set()  # ... and the answer lands inside that grace, with nobody following
    ledger = core.accounting.ledger
    for _ in range(200):
        ledger.flush()
        rows = [ledger.get(r) for r in _request_ids(ledger)]
        if rows and rows[0] is not None and rows[0]["status"] == "ok":
            break
        await asyncio.sleep(0.01)
    (row,) = rows
    assert row is not None and (row["status"], row["outcome"]) == ("ok", "superseded")
    assert ledger.stats().shown == 0 and ledger.stats().wasted_usd == row["cost_usd"] > 0
    await core.shutdown()


def _request_ids(ledger: Ledger) -> list[str]:
    conn = sqlite3.connect(ledger.path)
    try:
        return [row[0] for row in conn.execute("SELECT request_id FROM calls ORDER BY id")]
    finally:
        conn.close()


async def test_a_followed_stream_counts_as_shown_once(tmp_path: Path) -> None:
    core = _core(tmp_path)
    provider = _HeldProvider("return a + b\n")
    core.meter.provider = provider  # type: ignore[assignment]
    doc = core.documents.open(URI, "python", 1, SOURCE)
    first = asyncio.ensure_future(core.completion.complete(doc, 1, 4, invoked=False))
    await provider.started.wait()
    core.change_document(URI, 2, [_insert(1, 4, "re")])
    second = asyncio.ensure_future(core.completion.complete(doc, 1, 6, invoked=False))
    await asyncio.sleep(0)  # the second request starts following the running stream
    first.cancel()
    provider.release.set()
    (item,) = await second
    await asyncio.gather(first, return_exceptions=True)
    assert item.text == "turn a + b"
    ledger = core.accounting.ledger
    ledger.flush()
    (request_id,) = _request_ids(ledger)
    row = ledger.get(request_id)
    assert row is not None and (row["status"], row["outcome"]) == ("ok", "shown")
    await core.shutdown()


def _insert(line: int, column: int, text: str) -> Any:
    from flashpro.documents import TextChange

    return TextChange(text, (line, column), (line, column))


def test_a_corrupt_ledger_is_moved_aside_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    problems: list[str] = []
    accounting = Accounting("s1", on_problem=problems.append)
    accounting.configure(Settings(ledger_path=str(path)))
    accounting.ledger.record(CallRecord(request_id="r1", kind="fim", role="executor", model_requested="m"))
    accounting.close()
    (aside,) = tmp_path.glob("ledger.sqlite3.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    (problem,) = problems
    assert str(path) in problem and str(aside) in problem
    with Ledger(path, read_only=True) as read:
        assert read.get("r1") is not None


def test_spend_today_never_waits_for_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    now = datetime.now(UTC)
    with Ledger(path) as other:  # another session spent $0.25 on a.py today
        other.record(
            CallRecord(
                request_id="old", kind="fim", role="executor", model_requested="m", time_utc=now,
                session_id="other", file_uri="file:///a.py", cost_usd=0.25,
            )
        )
    accounting = Accounting("mine", on_problem=lambda text: None)
    accounting.configure(Settings(ledger_path=str(path)))
    ledger = accounting.ledger
    blocked = threading.Event()
    release = threading.Event()
    original = ledger.spend_by_file

    def slow(**kwargs: Any) -> dict[str, float]:
        blocked.set()
        release.wait(10)
        return original(**kwargs)

    ledger.spend_by_file = slow  # type: ignore[method-assign]
    assert accounting.spend_today("file:///a.py") == (0.0, 0.0)  # the read is still running
    assert blocked.wait(10)
    release.set()
    for _ in range(500):
        if accounting.spend_today("file:///a.py") != (0.0, 0.0):
            break
        threading.Event().wait(0.01)
    assert accounting.spend_today("file:///a.py") == (0.25, 0.25)
    assert accounting.spend_today("file:///b.py") == (0.25, 0.0)
    accounting.close()
