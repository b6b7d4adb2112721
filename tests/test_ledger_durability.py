"""Nothing the ledger flushed is lost, and the file stays sound, when its process is kill -9'd."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

HELPER = Path(__file__).with_name("ledger_kill_helper.py")

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")


def _start(db: Path, mode: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HELPER), str(db), mode, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _kill(proc: subprocess.Popen[str]) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _check(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {row[0] for row in conn.execute("SELECT request_id FROM calls")}
    finally:
        conn.close()


def _read_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        assert proc.stderr is not None
        pytest.fail(f"helper exited early: {proc.wait()} {proc.stderr.read()}")
    return line.strip()


def test_flushed_rows_survive_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite3"
    proc = _start(db, "once", 300)
    try:
        assert _read_line(proc) == "ready"
    finally:
        _kill(proc)
    assert _check(db) == {f"req-{i}" for i in range(300)}


def test_kill_9_while_writing_loses_nothing_flushed(tmp_path: Path) -> None:
    db = tmp_path / "ledger.sqlite3"
    proc = _start(db, "continuous", 50)
    try:
        flushed = 0
        for _ in range(5):
            flushed = int(_read_line(proc).split()[1])
    finally:
        _kill(proc)  # the child is still recording its next batches
    ids = _check(db)
    assert {f"req-{i}" for i in range(flushed)} <= ids
    # Rows are committed in order: whatever survived past the last flush is a prefix, no holes.
    assert ids == {f"req-{i}" for i in range(len(ids))}
