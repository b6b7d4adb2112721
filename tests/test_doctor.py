"""`flashpro doctor`: each check against the fake DeepSeek API, a wrong key, bad settings and
ledgers, the JSON output, and editor snippets with the absolute path of this flashpro."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from flashpro.doctor import run_doctor
from flashpro.ledger import CallRecord, Ledger
from flashpro.ledger.schema import MIGRATIONS
from tests.fakes import FakeDeepSeek
from tests.lsp_session import clean_env

BIN = str(Path(sys.executable).parent)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_deepseek: FakeDeepSeek) -> Path:
    """The fake API's URL and key, a ledger path in tmp_path, this venv's bin on PATH."""
    for name in list(os.environ):
        if name.startswith(("DEEPSEEK_", "FLASHPRO_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-test")
    monkeypatch.setenv("DEEPSEEK_BASE_URL", fake_deepseek.url)
    monkeypatch.setenv("FLASHPRO_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("PATH", BIN + os.pathsep + os.environ.get("PATH", ""))
    return tmp_path


def _doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = run_doctor(["--json", *args])
    return code, json.loads(capsys.readouterr().out)


def _check(data: dict, name: str) -> dict:
    return next(c for c in data["checks"] if c["name"] == name)


def test_all_pass_against_the_fake_api(env: Path, capsys: pytest.CaptureFixture[str], fake_deepseek: FakeDeepSeek) -> None:
    code, data = _doctor(capsys)
    assert code == 0 and data["ok"] is True
    assert [c["status"] for c in data["checks"]] == ["ok"] * len(data["checks"])
    assert {c["name"] for c in data["checks"]} >= {"python", "PATH", "API key", "base URL", "API", "models", "prices", "ledger"}
    assert "GET /models answered" in _check(data, "API")["detail"]
    assert len(fake_deepseek.requests_to("models")) == 1
    assert "sk-test" not in json.dumps(data)


def test_wrong_key_fails_the_api_check(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-wrong-key-123")
    code, data = _doctor(capsys)
    assert code == 1 and data["ok"] is False
    api = _check(data, "API")
    assert api["status"] == "fail" and "rejected the API key" in api["detail"] and api["fix"]
    assert _check(data, "models")["status"] == "skip"
    assert "sk-wrong-key-123" not in json.dumps(data)


def test_no_key_and_unreachable_api(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DEEPSEEK_API_KEY")
    code, data = _doctor(capsys)
    assert code == 1 and _check(data, "API key")["status"] == "fail"
    assert _check(data, "API")["status"] == "skip"
    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-test")
    with FakeDeepSeek() as gone:
        url = gone.url
    monkeypatch.setenv("DEEPSEEK_BASE_URL", url)
    code, data = _doctor(capsys, "--timeout", "5")
    assert code == 1 and "cannot reach DeepSeek" in _check(data, "API")["detail"]


def test_offline_skips_the_call(env: Path, capsys: pytest.CaptureFixture[str], fake_deepseek: FakeDeepSeek) -> None:
    code, data = _doctor(capsys, "--offline")
    assert code == 0 and _check(data, "API")["status"] == "skip"
    assert fake_deepseek.requests == []


def test_settings_file_models_and_prices(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = env / "settings.json"
    settings.write_text(json.dumps({"flashpro": {"models": {"pro": "deepseek-v9-pro"}, "completion": {"timeout": -1}}}))
    code, data = _doctor(capsys, "--settings", str(settings))
    assert code == 1
    assert "flashpro.completion.timeout" in _check(data, "settings")["detail"]
    models = _check(data, "models")
    assert models["status"] == "fail" and "deepseek-v9-pro (flashpro.models.pro)" in models["detail"]
    prices = _check(data, "prices")
    assert prices["status"] == "fail" and "no price for deepseek-v9-pro" in prices["detail"]
    assert "deepseek-v4-flash" in prices["detail"] and "per 1M tokens" in prices["detail"]


def test_unreadable_settings_file_exits_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = _doctor(capsys, "--settings", str(env / "missing.json"))
    assert code == 2 and "cannot read settings" in data["error"]


def test_ledger_states(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = env / "ledger.sqlite3"
    code, data = _doctor(capsys, "--offline")
    assert "created at the first call" in _check(data, "ledger")["detail"] and not path.exists()
    with Ledger(path) as ledger:
        ledger.record(CallRecord(request_id="a", kind="fim", role="executor", model_requested="deepseek-v4-flash"))
        assert ledger.flush()
    code, data = _doctor(capsys, "--offline")
    detail = _check(data, "ledger")["detail"]
    assert code == 0 and f"schema {len(MIGRATIONS)} (this flashpro: {len(MIGRATIONS)})" in detail and "1 calls" in detail
    junk = env / "junk.sqlite3"
    junk.write_bytes(b"not a database" * 100)
    monkeypatch.setenv("FLASHPRO_LEDGER", str(junk))
    code, data = _doctor(capsys, "--offline")
    assert code == 1 and "cannot be read" in _check(data, "ledger")["detail"]
    foreign = env / "foreign.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    monkeypatch.setenv("FLASHPRO_LEDGER", str(foreign))
    code, data = _doctor(capsys, "--offline")
    assert code == 1 and _check(data, "ledger")["status"] == "fail"


def test_not_on_path_fails(env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(env))
    code, data = _doctor(capsys, "--offline")
    assert code == 1 and _check(data, "PATH")["status"] == "fail"


def test_snippets_use_the_absolute_path(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = _doctor(capsys, "--offline")
    command = data["command"]
    assert Path(command[0]).is_absolute() and Path(command[0]).exists() and command[-1] == "lsp"
    for editor in ("neovim", "helix", "emacs", "vscode"):
        assert json.dumps(command[0]) in data["snippets"][editor]
    assert '"flashpro.server.command": ' + json.dumps(command) in data["snippets"]["vscode"]


def test_text_output_marks_each_check(env: Path, tmp_path: Path, fake_deepseek: FakeDeepSeek) -> None:
    result = subprocess.run(
        [str(Path(BIN) / "flashpro"), "doctor"],
        capture_output=True,
        text=True,
        env=clean_env(
            DEEPSEEK_API_KEY="sk-wrong",
            DEEPSEEK_BASE_URL=fake_deepseek.url,
            FLASHPRO_LEDGER=str(tmp_path / "l.sqlite3"),
            PATH=BIN + os.pathsep + os.environ["PATH"],
        ),
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("flashpro ") and lines[0].endswith(" doctor")
    assert any(line.startswith("✓ python") for line in lines)
    assert any(line.startswith("✗ API ") and "rejected the API key" in line for line in lines)
    assert any(line.strip().startswith("→ ") for line in lines)
    assert f'cmd = {{ "{BIN}/flashpro", "lsp" }}' in result.stdout
    assert "Traceback" not in result.stderr
