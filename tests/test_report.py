"""``flashpro report``: the rich tables, --json, --since, --workspace and the error exits."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from flashpro.ledger import CallRecord, Ledger, render_report, run_report
from flashpro.ledger.report import parse_since

NOW = datetime(2026, 9, 14, 12, tzinfo=UTC)


def _console() -> Console:
    return Console(record=True, width=200, color_system=None, file=io.StringIO())


def _make_ledger(path: Path, workspace: str = "/home/dev/proj") -> None:
    with Ledger(path) as ledger:
        ledger.record(
            CallRecord(
                request_id="a",
                kind="fim",
                role="executor",
                model_requested="deepseek-flash",
                time_utc=NOW - timedelta(days=10),
                workspace=workspace,
                file_uri=f"file://{workspace}/old.py",
                prompt_tokens=1000,
                cache_hit_tokens=500,
                cache_miss_tokens=500,
                output_tokens=10,
                cost_usd=0.0001,
            )
        )
        ledger.record(
            CallRecord(
                request_id="b",
                kind="review",
                role="planner",
                model_requested="deepseek-v4-pro",
                time_utc=NOW,
                workspace=workspace,
                file_uri=f"file://{workspace}/src/main.py",
                prompt_tokens=4000,
                cache_hit_tokens=3000,
                cache_miss_tokens=1000,
                output_tokens=500,
                cost_usd=0.25,
                outcome="accepted",
                accepted_chars=500,
                shown_chars=500,
            )
        )
        ledger.record(
            CallRecord(
                request_id="c",
                kind="fim",
                role="executor",
                model_requested="mystery-model",
                time_utc=NOW,
                workspace="/elsewhere",
                file_uri="file:///elsewhere/x.py",
                status="cancelled",
                prompt_tokens=10,
                cache_hit_tokens=0,
                cache_miss_tokens=10,
                output_tokens=0,
            )
        )
        assert ledger.flush()


def test_render_shows_every_group(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    _make_ledger(path)
    with Ledger(path, read_only=True) as ledger:
        report = ledger.report(workspace="/home/dev/proj")
    console = _console()
    render_report(report, console)
    text = console.export_text()
    for heading in ("Spend by file", "Spend by model", "Spend by role", "Spend by day (UTC)"):
        assert heading in text
    assert "src/main.py" in text and "old.py" in text  # shown relative to the workspace
    assert "deepseek-v4-pro" in text and "planner" in text and "2026-09-14" in text
    assert "75.0%" in text  # cache hit of the review call: 3000 / 4000
    assert "$0.2501" in text  # total cost
    assert "$0.5000" in text  # $ per 1k accepted chars: 0.25 / 500 x 1000
    assert "mystery" not in text


def test_render_warns_about_unpriced_calls(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    _make_ledger(path)
    with Ledger(path, read_only=True) as ledger:
        report = ledger.report()
    console = _console()
    render_report(report, console)
    text = console.export_text()
    assert "1 call used a model with no known price" in text
    assert "1 cancelled" in text


def test_run_report_tables(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    _make_ledger(path)
    console = _console()
    assert run_report(["--ledger", str(path)], console=console) == 0
    assert "Spend by file" in console.export_text()


def test_run_report_json_with_since_and_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "l.sqlite3"
    _make_ledger(path)
    assert run_report(["--ledger", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["calls"] == 3
    assert run_report(["--ledger", str(path), "--json", "--since", "2026-09-10"]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["calls"] == 2
    assert run_report(["--ledger", str(path), "--json", "--workspace", "/home/dev/proj"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"]["calls"] == 2
    assert [g["key"] for g in data["by_role"]] == ["planner", "executor"]


def test_workspace_given_as_path_matches_rows_stored_as_uri(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "l.sqlite3"
    project = tmp_path / "proj"
    project.mkdir()
    _make_ledger(path, workspace=project.as_uri())
    assert run_report(["--ledger", str(path), "--json", "--workspace", str(project)]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["calls"] == 2


def test_empty_ledger_is_friendly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "l.sqlite3"
    Ledger(path).close()
    console = _console()
    assert run_report(["--ledger", str(path)], console=console) == 0
    assert "No calls recorded yet" in console.export_text()
    assert run_report(["--ledger", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["calls"] == 0


def test_missing_ledger_exits_2_without_creating_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nope.sqlite3"
    assert run_report(["--ledger", str(path)]) == 2
    assert "no ledger at" in capsys.readouterr().err
    assert not path.exists()


def test_unreadable_ledger_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_text("not sqlite at all\n" * 200)
    assert run_report(["--ledger", str(path)]) == 2
    assert "cannot read ledger" in capsys.readouterr().err


def test_ledger_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "env.sqlite3"
    _make_ledger(path)
    monkeypatch.setenv("FLASHPRO_LEDGER", str(path))
    assert run_report(["--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["calls"] == 3


def test_bad_arguments_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_report(["--since", "last tuesday", "--ledger", str(tmp_path / "x")]) == 2
    assert "--since" in capsys.readouterr().err
    assert run_report(["--bogus"]) == 2
    assert run_report(["--help"]) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-09-01", datetime(2026, 9, 1, tzinfo=UTC)),
        ("7d", NOW - timedelta(days=7)),
        ("24h", NOW - timedelta(hours=24)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-09-01T06:30:00+02:00", datetime(2026, 9, 1, 4, 30, tzinfo=UTC)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    assert parse_since(text, now=NOW) == expected


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    ("since", "words"),
    [
        ("99999999d", "before the year 1"),
        ("", "not ''"),
        ("2026-13-45", "2026-13-45"),
        ("yesterday", "yesterday"),
        ("7x", "7x"),
    ],
)
def test_bad_since_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], since: str, words: str
) -> None:
    path = tmp_path / "l.sqlite3"
    _make_ledger(path)
    assert run_report(["--ledger", str(path), "--since", since]) == 2
    captured = capsys.readouterr()
    line = _one_error_line(captured.err)
    assert line.startswith("flashpro report: --since:") and words in line
    assert captured.out == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["--since", "99999999d"],
        ["--since", ""],
        ["--since", "2026-02-30"],
        ["--bogus"],
        ["--workspace", ""],
        ["--since"],
    ],
)
def test_json_errors_are_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    path = tmp_path / "l.sqlite3"
    _make_ledger(path)
    assert run_report(["--ledger", str(path), "--json", *argv]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert set(data) == {"error"} and data["error"]
    assert captured.err == ""


def test_missing_ledger_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nope.sqlite3"
    assert run_report(["--ledger", str(path), "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert "no ledger at" in data["error"] and "--ledger PATH" in data["error"]
    assert run_report(["--ledger", str(path)]) == 2
    assert "no ledger at" in _one_error_line(capsys.readouterr().err)
    assert not path.exists()


@pytest.mark.parametrize("content", [b"not sqlite at all\n" * 200, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_corrupt_ledger_json_and_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes
) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(content)
    assert run_report(["--ledger", str(path)]) == 2
    assert "ledger" in _one_error_line(capsys.readouterr().err)
    assert run_report(["--ledger", str(path), "--json"]) == 2
    assert "ledger" in json.loads(capsys.readouterr().out)["error"]


def test_foreign_sqlite_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    assert run_report(["--ledger", str(path), "--json"]) == 2
    assert "not a flashpro ledger" in json.loads(capsys.readouterr().out)["error"]


def test_files_relative_to_each_workspace(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    _make_ledger(path, workspace="/home/dev/a-very-long-project-folder-name")
    with Ledger(path) as ledger:
        ledger.record(
            CallRecord(
                request_id="d",
                kind="fim",
                role="executor",
                model_requested="deepseek-flash",
                time_utc=NOW,
                workspace="file:///srv/other",
                file_uri="file:///srv/other/pkg/mod.py",
                prompt_tokens=10,
                cache_hit_tokens=0,
                cache_miss_tokens=10,
                output_tokens=1,
                cost_usd=0.001,
            )
        )
        assert ledger.flush()
    console = Console(record=True, width=80, color_system=None, file=io.StringIO())
    assert run_report(["--ledger", str(path)], console=console) == 0
    text = console.export_text()
    # Several workspaces: each file relative to its own, under the workspace's folder name; a
    # name too long for the line is cut at a `/` from the left, never wrapped mid-name.
    assert "…/src/main.py" in text and "…/old.py" in text
    assert "other/pkg/mod.py" in text
    assert "/home/dev" not in text and "/srv/" not in text and "file://" not in text
    wide = Console(record=True, width=160, color_system=None, file=io.StringIO())
    assert run_report(["--ledger", str(path)], console=wide) == 0
    assert "a-very-long-project-folder-name/src/main.py" in wide.export_text()


def test_one_workspace_gives_bare_relative_paths(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    _make_ledger(path)
    console = _console()
    assert run_report(["--ledger", str(path), "--workspace", "/home/dev/proj"], console=console) == 0
    files = console.export_text().split("Spend by file", 1)[1].split("Spend by model", 1)[0]
    assert "src/main.py" in files and "old.py" in files
    assert "proj/src/main.py" not in files and "/home/dev" not in files


def test_command_line_errors_are_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.lsp_session import clean_env

    path = tmp_path / "l.sqlite3"
    _make_ledger(path)
    for args in (["--since", "99999999d"], ["--since", ""], ["--bogus"]):
        result = subprocess.run(
            [sys.executable, "-m", "flashpro", "report", "--ledger", str(path), *args],
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=60,
        )
        assert result.returncode == 2 and result.stdout == ""
        assert _one_error_line(result.stderr).startswith("flashpro report: ")
