"""``flashpro report --sent FILE``: the calls that sent part of a file, from their recorded ranges."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from flashpro.ledger import CallRecord, Ledger, run_report

NOW = datetime(2026, 9, 14, 12, tzinfo=UTC)
WS = "/home/dev/proj"


def _record(request_id: str, when: datetime, sent: list[dict[str, object]], **fields: object) -> CallRecord:
    details: dict[str, object] = {"sent": sent, **fields.pop("details", {})}  # type: ignore[dict-item]
    return CallRecord(
        request_id=request_id,
        kind=str(fields.pop("kind", "fim")),
        role=str(fields.pop("role", "executor")),
        model_requested=str(fields.pop("model", "deepseek-v4-flash")),
        time_utc=when,
        workspace=WS,
        file_uri=f"file://{WS}/src/main.py",
        details=details,
        **fields,  # type: ignore[arg-type]
    )


def _ledger(path: Path) -> None:
    with Ledger(path) as ledger:
        ledger.record(_record("old", NOW - timedelta(days=9), [{"file": "src/main.py", "lines": [1, 30]}]))
        ledger.record(
            _record(
                "fim",
                NOW,
                [
                    {"file": "src/util.py", "lines": [1, 12]},
                    {"file": "src/main.py", "lines": [12, 40]},
                    {"file": "src/main.py", "lines": [88, 88]},
                ],
            )
        )
        ledger.record(
            _record(
                "review",
                NOW + timedelta(minutes=1),
                [{"file": "src/util.py", "lines": [1, 200]}],
                kind="chat",
                role="planner",
                model="deepseek-v4-pro",
                details={"action": "review"},
            )
        )
        ledger.record(_record("outside", NOW, [{"file": "/etc/app/conf.py", "lines": [3, 4]}]))
        ledger.record(CallRecord(request_id="bare", kind="fim", role="executor", model_requested="m", time_utc=NOW))
        assert ledger.flush()


def test_json_lists_each_call_with_its_ranges_of_that_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "l.sqlite3"
    _ledger(path)
    assert run_report(["--ledger", str(path), "--sent", f"{WS}/src/main.py", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["file"] == f"{WS}/src/main.py"
    assert [(c["request_id"], c["lines"]) for c in payload["calls"]] == [
        ("old", [[1, 30]]),
        ("fim", [[12, 40], [88, 88]]),
    ]
    assert payload["calls"][1]["model"] == "deepseek-v4-flash" and payload["calls"][1]["kind"] == "fim"
    # The name as recorded (relative to the workspace) works too, and --since narrows it.
    assert run_report(["--ledger", str(path), "--sent", "src/util.py", "--json", "--since", "2026-09-14"]) == 0
    calls = json.loads(capsys.readouterr().out)["calls"]
    assert [(c["request_id"], c["action"], c["role"]) for c in calls] == [
        ("fim", None, "executor"),
        ("review", "review", "planner"),
    ]
    assert run_report(["--ledger", str(path), "--sent", "/etc/app/conf.py", "--json"]) == 0
    assert [c["lines"] for c in json.loads(capsys.readouterr().out)["calls"]] == [[[3, 4]]]


def test_rich_output_names_time_kind_model_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    _ledger(path)
    console = Console(record=True, width=200, color_system=None, file=io.StringIO())
    assert run_report(["--ledger", str(path), "--sent", f"{WS}/src/util.py"], console=console) == 0
    text = console.export_text()
    assert "Calls that sent" in text and "2 calls" in text
    assert "chat (review)" in text and "deepseek-v4-pro" in text and "1-200" in text
    assert "2026-09-14 12:00:00" in text
    quiet = Console(record=True, width=200, color_system=None, file=io.StringIO())
    assert run_report(["--ledger", str(path), "--sent", "src/never.py"], console=quiet) == 0
    assert "No recorded call sent any part of src/never.py" in quiet.export_text()
