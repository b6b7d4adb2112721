"""The ledger: schema and migrations, non-blocking writes, outcomes, secrets, aggregates, report."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flashpro.ledger import CallRecord, Ledger, LedgerError, PriceTable, default_ledger_path
from flashpro.ledger.schema import CALL_COLUMNS, MIGRATIONS
from flashpro.usage import Usage

T0 = datetime(2026, 9, 14, 12, 0, tzinfo=UTC)  # a Monday, off-peak
FLASH = "deepseek-flash"
PRO = "deepseek-v4-pro"


def call(request_id: str, **fields: Any) -> CallRecord:
    base: dict[str, Any] = {
        "kind": "fim",
        "role": "executor",
        "model_requested": FLASH,
        "time_utc": T0,
    }
    base.update(fields)
    return CallRecord(request_id=request_id, **base)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


# --- location -----------------------------------------------------------------------------------


def test_default_path_prefers_setting_then_env_then_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("FLASHPRO_LEDGER", raising=False)
    default = default_ledger_path(None)
    assert default.name == "ledger.sqlite3" and "flashpro" in str(default.parent)
    monkeypatch.setenv("FLASHPRO_LEDGER", str(tmp_path / "env.sqlite3"))
    assert default_ledger_path(None) == tmp_path / "env.sqlite3"
    assert default_ledger_path("") == tmp_path / "env.sqlite3"
    assert default_ledger_path(str(tmp_path / "setting.sqlite3")) == tmp_path / "setting.sqlite3"


# --- schema -------------------------------------------------------------------------------------


def test_new_ledger_has_schema_wal_and_recorded_migrations(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ledger.sqlite3"
    Ledger(path).close()
    Ledger(path).close()  # reopening applies nothing twice
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert [r[0] for r in conn.execute("SELECT id FROM migrations ORDER BY id")] == list(
        range(1, len(MIGRATIONS) + 1)
    )
    columns = [r[1] for r in conn.execute("PRAGMA table_info(calls)")]
    assert columns == ["id", *CALL_COLUMNS]
    assert not any("key" in c for c in columns)
    conn.close()


# --- writing ------------------------------------------------------------------------------------


def test_record_flush_and_read_back(ledger: Ledger) -> None:
    ledger.record(
        call(
            "r1",
            session_id="s",
            workspace="file:///ws",
            file_uri="file:///ws/a.py",
            model_reported=FLASH,
            prompt_tokens=1000,
            cache_hit_tokens=800,
            cache_miss_tokens=200,
            output_tokens=50,
            reasoning_tokens=0,
            cost_usd=0.00027,
            latency_first_ms=120.4,
            latency_total_ms=340,
            details={"trigger": "automatic", "lines": [1, 2]},
        )
    )
    assert ledger.flush()
    row = ledger.get("r1")
    assert row is not None
    assert row["time_utc"] == "2026-09-14T12:00:00.000000Z"
    assert (
        row["prompt_tokens"] == 1000
        and row["cache_hit_tokens"] == 800
        and row["output_tokens"] == 50
    )
    assert row["cost_usd"] == pytest.approx(0.00027)
    assert row["latency_first_ms"] == 120 and row["latency_total_ms"] == 340
    assert row["status"] == "ok" and row["outcome"] is None
    assert json.loads(row["details"]) == {"lines": [1, 2], "trigger": "automatic"}
    assert row["prompt_text"] is None


def test_cancelled_call_without_usage_keeps_null_tokens(ledger: Ledger) -> None:
    record = CallRecord.from_usage(
        request_id="c",
        kind="fim",
        role="executor",
        model_requested=FLASH,
        usage=None,
        prices=PriceTable.load(),
        status="cancelled",
        time_utc=T0,
    )
    ledger.record(record)
    assert ledger.flush()
    row = ledger.get("c")
    assert row is not None and row["status"] == "cancelled"
    for column in (
        "prompt_tokens",
        "cache_hit_tokens",
        "cache_miss_tokens",
        "output_tokens",
        "reasoning_tokens",
        "cost_usd",
    ):
        assert row[column] is None


def test_ledger_prices_rows_that_carry_tokens_but_no_cost(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.sqlite3", prices=PriceTable.load()) as ledger:
        ledger.record(
            call(
                "p",
                prompt_tokens=10_000,
                cache_hit_tokens=10_000,
                cache_miss_tokens=0,
                output_tokens=0,
            )
        )
        ledger.record(
            call(
                "u",
                model_requested="mystery",
                prompt_tokens=10,
                cache_hit_tokens=0,
                cache_miss_tokens=10,
                output_tokens=1,
            )
        )
        assert ledger.flush()
        assert ledger.get("p")["cost_usd"] == pytest.approx(0.00003)  # type: ignore[index]
        assert ledger.get("u")["cost_usd"] is None  # type: ignore[index]
        assert ledger.stats().unpriced_calls == 1


def test_api_keys_never_reach_the_database(tmp_path: Path) -> None:
    secret = "sk-0123456789abcdef0123456789abcdef"
    with Ledger(tmp_path / "l.sqlite3", store_prompt_text=True) as ledger:
        ledger.record(
            call(
                "k",
                status="error",
                error_kind=f"auth failed for {secret}",
                details={
                    "api_key": "anything",
                    "headers": {"Authorization": f"Bearer {secret}"},
                    "note": f"key={secret}",
                },
                prompt_text=f"x = '{secret}'",
            )
        )
        assert ledger.flush()
    for file in tmp_path.glob("l.sqlite3*"):  # the database and any WAL left behind
        assert secret.encode() not in file.read_bytes()
    with Ledger(tmp_path / "l.sqlite3", read_only=True) as reader:
        row = reader.get("k")
    assert row is not None
    assert secret not in json.dumps(row)
    assert json.loads(row["details"])["api_key"] == "[redacted]"


def test_prompt_text_only_with_opt_in(tmp_path: Path) -> None:
    with (
        Ledger(tmp_path / "off.sqlite3") as off,
        Ledger(tmp_path / "on.sqlite3", store_prompt_text=True) as on,
    ):
        for ledger in (off, on):
            ledger.record(call("p", prompt_text="def f():"))
            assert ledger.flush()
        assert off.get("p")["prompt_text"] is None  # type: ignore[index]
        assert on.get("p")["prompt_text"] == "def f():"  # type: ignore[index]


def test_invalid_rows_are_rejected_at_once(ledger: Ledger) -> None:
    with pytest.raises(ValueError):
        ledger.record(call("x", status="weird"))
    with pytest.raises(ValueError):
        ledger.record(call("x", outcome="liked"))
    with pytest.raises(ValueError):
        ledger.record(call("x", prompt_tokens=-1))
    with pytest.raises(ValueError):
        ledger.record(call(""))
    with pytest.raises(ValueError):
        ledger.set_outcome("x", "liked")


def test_outcomes_update_the_row(ledger: Ledger) -> None:
    ledger.record(call("o"))
    ledger.set_outcome("o", "shown", shown_chars=80)
    ledger.set_outcome("o", "partially_accepted", accepted_chars=30)
    assert ledger.flush()
    row = ledger.get("o")
    assert row is not None
    assert (row["outcome"], row["accepted_chars"], row["shown_chars"]) == (
        "partially_accepted",
        30,
        80,
    )


def test_outcome_before_record_is_kept_until_the_record_arrives(ledger: Ledger) -> None:
    ledger.set_outcome("early", "accepted", accepted_chars=12)
    assert ledger.flush()
    assert ledger.get("early") is None
    ledger.record(call("early"))
    assert ledger.flush()
    row = ledger.get("early")
    assert row is not None and row["outcome"] == "accepted" and row["accepted_chars"] == 12


def test_recording_a_request_twice_replaces_it_but_keeps_the_outcome(ledger: Ledger) -> None:
    ledger.record(call("d", status="ok"))
    ledger.set_outcome("d", "accepted", accepted_chars=5)
    ledger.record(call("d", status="ok", output_tokens=7))
    assert ledger.flush()
    assert ledger.stats().calls == 1
    row = ledger.get("d")
    assert row is not None and row["output_tokens"] == 7 and row["outcome"] == "accepted"


async def test_record_from_the_event_loop_and_flush_in_a_thread(ledger: Ledger) -> None:
    for i in range(200):
        ledger.record(call(f"a{i}", output_tokens=1))
    assert await asyncio.to_thread(ledger.flush)
    stats = await asyncio.to_thread(ledger.stats)
    assert stats.calls == 200 and stats.output_tokens == 200


def test_reads_run_while_the_writer_commits(ledger: Ledger) -> None:
    errors: list[BaseException] = []
    seen: list[int] = []

    def reader() -> None:
        try:
            for _ in range(50):
                seen.append(ledger.stats().calls)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    for i in range(500):
        ledger.record(call(f"w{i}"))
    thread.join()
    assert ledger.flush()
    assert not errors
    assert seen == sorted(seen)  # committed rows only ever grow
    assert ledger.stats().calls == 500


def test_two_ledgers_on_one_file_both_write(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    with Ledger(path) as first, Ledger(path) as second:
        for i in range(100):
            first.record(call(f"f{i}"))
            second.record(call(f"s{i}"))
        assert first.flush() and second.flush()
        assert first.stats().calls == 200


def test_after_close_records_are_dropped_not_raised(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    ledger.record(call("before"))
    ledger.close()  # commits what was queued
    ledger.record(call("after"))
    ledger.close()
    with Ledger(tmp_path / "l.sqlite3", read_only=True) as reader:
        assert reader.get("before") is not None
        assert reader.get("after") is None


def test_read_only_refuses_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(LedgerError):
        Ledger(tmp_path / "missing.sqlite3", read_only=True)
    assert not (tmp_path / "missing.sqlite3").exists()
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError):
        Ledger(garbage, read_only=True)
    other = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(LedgerError):
        Ledger(other, read_only=True)


# --- aggregates ---------------------------------------------------------------------------------

A = "file:///ws/a.py"
B = "file:///ws/b.py"


def _fill(ledger: Ledger) -> None:
    m = timedelta(minutes=1)
    rows = [
        call(
            "r1",
            file_uri=A,
            time_utc=T0,
            prompt_tokens=1000,
            cache_hit_tokens=800,
            cache_miss_tokens=200,
            output_tokens=50,
            cost_usd=0.001,
            outcome="accepted",
            accepted_chars=40,
            shown_chars=40,
        ),
        call(
            "r2",
            file_uri=A,
            time_utc=T0 + m,
            prompt_tokens=1000,
            cache_hit_tokens=0,
            cache_miss_tokens=1000,
            output_tokens=20,
            cost_usd=0.002,
            outcome="rejected",
            shown_chars=30,
        ),
        call(
            "r3",
            file_uri=A,
            time_utc=T0 + 2 * m,
            prompt_tokens=1000,
            cache_hit_tokens=900,
            cache_miss_tokens=100,
            output_tokens=10,
            cost_usd=0.0005,
            outcome="superseded",
        ),
        call("r4", file_uri=A, time_utc=T0 + 3 * m, status="cancelled"),
        call(
            "r5",
            file_uri=A,
            time_utc=T0 + 4 * m,
            status="cancelled",
            prompt_tokens=500,
            cache_hit_tokens=500,
            cache_miss_tokens=0,
            output_tokens=5,
            cost_usd=0.0001,
        ),
        call(
            "r6",
            file_uri=B,
            time_utc=T0 + 5 * m,
            kind="review",
            role="planner",
            model_requested=PRO,
            prompt_tokens=2000,
            cache_hit_tokens=1000,
            cache_miss_tokens=1000,
            output_tokens=300,
            reasoning_tokens=200,
            cost_usd=0.01,
            outcome="partially_accepted",
            accepted_chars=60,
        ),
        call(
            "r7",
            file_uri=B,
            time_utc=T0 + 6 * m,
            kind="design",
            role="planner",
            model_requested=PRO,
            status="error",
            error_kind="rate_limited",
        ),
        call(
            "r8",
            file_uri=B,
            time_utc=T0 + 7 * m,
            kind="design",
            role="planner",
            model_requested=PRO,
            status="error",
            error_kind="truncated",
            prompt_tokens=100,
            cache_hit_tokens=0,
            cache_miss_tokens=100,
            output_tokens=0,
            cost_usd=0.0002,
        ),
    ]
    for row in rows:
        ledger.record(
            row if row.file_uri is None else _with(row, workspace="file:///ws", session_id="s1")
        )
    ledger.record(
        call(
            "r9",
            file_uri=A,
            workspace="other",
            session_id="s2",
            time_utc=T0 + timedelta(days=1),
            model_requested="deepseek-v4-flash",
            model_reported=FLASH,
            prompt_tokens=100,
            cache_hit_tokens=50,
            cache_miss_tokens=50,
            output_tokens=10,
            cost_usd=0.003,
            outcome="shown",
            shown_chars=10,
        )
    )
    assert ledger.flush()


def _with(record: CallRecord, **fields: Any) -> CallRecord:
    from dataclasses import replace

    return replace(record, **fields)


def test_stats_of_one_file_in_one_workspace(ledger: Ledger) -> None:
    _fill(ledger)
    s = ledger.stats(file_uri=A, workspace="file:///ws")
    assert (s.calls, s.calls_with_usage) == (5, 4)
    assert (s.prompt_tokens, s.cache_hit_tokens, s.cache_miss_tokens, s.output_tokens) == (
        3500,
        2200,
        1300,
        85,
    )
    assert s.cost_usd == pytest.approx(0.0036)
    assert s.cache_hit_ratio == pytest.approx(2200 / 3500)
    # A superseded answer never reached the user: shown counts accepted and rejected only.
    assert (s.shown, s.accepted, s.rejected, s.superseded, s.partially_accepted) == (2, 1, 1, 1, 0)
    assert (s.cancelled, s.errors) == (2, 0)
    assert s.accepted_chars == 40 and s.shown_chars == 70
    assert s.acceptance_rate == pytest.approx(1 / 2)
    assert s.usd_per_1k_accepted_chars == pytest.approx(0.09)
    assert s.wasted_usd == pytest.approx(0.002 + 0.0005 + 0.0001)


def test_stats_totals_and_filters(ledger: Ledger) -> None:
    _fill(ledger)
    total = ledger.stats()
    assert total.calls == 9
    assert total.cost_usd == pytest.approx(0.0168)
    assert total.wasted_usd == pytest.approx(
        0.0026 + 0.0002
    )  # the billed error counts, the unbilled adds 0
    assert total.errors == 2 and total.reasoning_tokens == 200
    assert ledger.stats(since=T0 + timedelta(hours=1)).calls == 1
    assert ledger.stats(since=T0 + 5 * timedelta(minutes=1)).calls == 4  # since is inclusive
    assert ledger.stats(session_id="s2").cost_usd == pytest.approx(0.003)
    assert ledger.stats(workspace=["other", "file:///ws"]).calls == 9
    empty = ledger.stats(file_uri="file:///nowhere")
    assert empty.calls == 0 and empty.cache_hit_ratio is None and empty.acceptance_rate is None
    assert empty.usd_per_1k_accepted_chars is None


def test_report_groups_by_file_model_role_and_day(ledger: Ledger) -> None:
    _fill(ledger)
    report = ledger.report()
    assert [g.key for g in report.by_file] == [B, A]  # by cost, highest first
    assert report.by_file[1].stats.calls == 6
    assert {g.key: g.stats.calls for g in report.by_model} == {
        FLASH: 6,
        PRO: 3,
    }  # reported name wins
    assert {g.key: g.stats.calls for g in report.by_role} == {"executor": 6, "planner": 3}
    assert [(g.key, g.stats.calls) for g in report.by_day] == [("2026-09-14", 8), ("2026-09-15", 1)]
    data = json.loads(report.to_json())
    assert data["total"]["calls"] == 9
    assert data["by_day"][0]["key"] == "2026-09-14"
    assert data["by_file"][0]["acceptance_rate"] == pytest.approx(1.0)
    only = ledger.report(since=T0 + timedelta(hours=1), workspace="other")
    assert only.total.calls == 1 and only.workspace == ("other",) and only.since_utc is not None


def test_empty_ledger_report(ledger: Ledger) -> None:
    report = ledger.report()
    assert (
        report.empty
        and report.by_file == ()
        and json.loads(report.to_json())["total"]["calls"] == 0
    )


def test_usage_round_trip_through_from_usage(ledger: Ledger) -> None:
    usage = Usage.from_api(
        {
            "prompt_tokens": 300,
            "completion_tokens": 40,
            "prompt_cache_hit_tokens": 256,
            "prompt_cache_miss_tokens": 44,
            "completion_tokens_details": {"reasoning_tokens": 30},
        }
    )
    record = CallRecord.from_usage(
        request_id="u",
        kind="explain",
        role="planner",
        model_requested=PRO,
        usage=usage,
        prices=PriceTable.load(),
        time_utc=T0,
        file_uri=A,
    )
    ledger.record(record)
    assert ledger.flush()
    row = ledger.get("u")
    assert row is not None
    assert (row["prompt_tokens"], row["cache_hit_tokens"], row["cache_miss_tokens"]) == (
        300,
        256,
        44,
    )
    assert (row["output_tokens"], row["reasoning_tokens"]) == (40, 30)
    # 256 x 0.022 + 44 x 0.66 + 40 x 1.98 = 5.632 + 29.04 + 79.2 = 113.872 per 1M
    assert row["cost_usd"] == pytest.approx(0.000113872)
