"""`flashpro demo`: the offline model and its API, and the whole demo run as a user runs it."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from flashpro.actions.context import FileView, LineSpan, build_context
from flashpro.actions.prompts import SYSTEM, task
from flashpro.actions import schemas
from flashpro.actions.schemas import Design, QuickEditAnswer, Review
from flashpro.demo.api import OfflineApi
from flashpro.demo.driver import accept_length, keystroke
from flashpro.demo.model import OfflineModel
from flashpro.providers import CallTrace, ChatRequest, DeepSeekProvider
from flashpro.providers.deepseek import FimRequest
from flashpro.tokens import LineCounter
from tests.lsp_session import clean_env

SMALL = '''import json


def load(path, cache=[]):
    if path == None:
        raise ValueError("no path")
    return json.loads(open(path).read())


# TODO: save the data back to the file
'''


def _action_prompt(action: str, text: str, span: LineSpan, instruction: str = "") -> list[dict[str, str]]:
    """The messages flashpro sends for `action` (the real prompt builders)."""
    view = FileView.of(text.split("\n")[:-1], LineCounter())
    context = build_context("pkg/small.py", view, span, 4000)
    selection = "".join(line + "\n" for line in view.lines[span.start : span.end + 1]) if action == "quickEdit" else ""
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": context.text + task(action, "pkg/small.py", span, selection, instruction)},
    ]


@pytest.mark.parametrize(
    ("action", "schema"),
    [("review", Review), ("design", Design), ("quickEdit", QuickEditAnswer), ("tests", schemas.TestsAnswer)],
)
def test_action_answers_validate_against_flashpros_schemas(action: str, schema: type) -> None:
    model = OfflineModel()
    span = LineSpan(9, 9) if action == "design" else LineSpan(3, 6)
    reply = model.chat(_action_prompt(action, SMALL, span, "rename it"), thinking=True, json_output=True, max_tokens=8192)
    answer = schema.model_validate_json(reply.text)
    assert reply.reasoning and reply.usage["completion_tokens_details"]["reasoning_tokens"] > 0
    if action == "review":
        snippets = {finding.snippet for finding in answer.findings}
        assert "path == None" in snippets and "except:" not in snippets
        assert any("mutable default" in finding.message for finding in answer.findings)
        assert all(4 <= finding.line_start <= 7 for finding in answer.findings)
    elif action == "design":
        assert answer.goal.startswith("save the data back to the file") and "simulated" in answer.goal
    elif action == "quickEdit":
        assert answer.replacement == "def load(path, cache=[]):\n    if path == None:\n" '        raise ValueError("no path")\n' "    return json.loads(open(path).read())\n"
    else:
        assert answer.path == "tests/test_small.py" and "import small" in answer.content


def test_usage_counts_tokens_and_cache_hits_on_a_repeated_head() -> None:
    model = OfflineModel()
    messages = _action_prompt("review", SMALL * 8, LineSpan(0, 3))
    first = model.chat(messages, thinking=False, json_output=True, max_tokens=4096)
    again = model.chat(messages[:1] + [{"role": "user", "content": messages[1]["content"] + " more"}], thinking=False, json_output=True, max_tokens=4096)
    for reply in (first, again):
        usage = reply.usage
        assert usage["prompt_cache_hit_tokens"] + usage["prompt_cache_miss_tokens"] == usage["prompt_tokens"]
        assert usage["completion_tokens"] > 0 and "completion_tokens_details" not in usage
    assert first.usage["prompt_cache_hit_tokens"] == 0
    assert 64 <= again.usage["prompt_cache_hit_tokens"] < again.usage["prompt_tokens"]


@pytest.mark.parametrize("p_right", [1.0, 0.0])
def test_fim_continues_a_known_file_or_answers_a_wrong_line(p_right: float) -> None:
    model = OfflineModel(p_right=p_right)
    model.learn(SMALL)
    right = 0
    positions = [i + 1 for i, char in enumerate(SMALL[:-1]) if char == "\n"]
    for at in positions:
        reply = model.fim(SMALL[:at], "", ["\n\n\n"], 128)
        assert reply.usage["prompt_tokens"] > 0
        right += bool(reply.text) and SMALL[at:].startswith(reply.text)
    assert right == (len(positions) if p_right else 0)

def test_fim_by_default_is_mostly_right() -> None:
    model = OfflineModel()
    model.learn(SMALL)
    answers = [model.fim(SMALL[:at], "", ["\n"], 64).text for at in range(1, len(SMALL) - 1)]
    right = sum(bool(text) and SMALL[at:].startswith(text) for at, text in zip(range(1, len(SMALL) - 1), answers))
    wrong = sum(bool(text) and not SMALL[at:].startswith(text) for at, text in zip(range(1, len(SMALL) - 1), answers))
    assert right > 2 * wrong > 0


def test_simulated_user_keys_and_accepts() -> None:
    assert keystroke("a\n    b", 1) == "\n    "
    assert keystroke("ab", 0) == "a"
    assert accept_length("return x", "return x\nmore") == len("return x")
    assert accept_length("return x\nother", "return x\nmore") == len("return x")
    assert accept_length("return y", "return x") == 0
    assert accept_length("  ", "  x") == 0


async def test_offline_api_speaks_deepseek_to_flashpros_provider() -> None:
    model = OfflineModel(p_right=1.0)
    model.learn(SMALL)
    with OfflineApi(model) as api:
        provider = DeepSeekProvider(api.key, api.url)
        try:
            assert "deepseek-v4-flash" in await provider.list_models()
            trace = CallTrace()
            text = await provider.fim(FimRequest("deepseek-v4-flash", SMALL[:20], "", 64, stop=["\n"]), trace)
            assert SMALL[20:].startswith(text) and text
            assert trace.usage is not None and trace.usage.prompt_tokens > 0
            trace = CallTrace()
            request = ChatRequest("deepseek-v4-pro", _action_prompt("review", SMALL, LineSpan(0, 9)), 8192, thinking=True, json_output=True)
            Review.model_validate_json(await provider.chat(request, trace))
            assert trace.usage is not None and trace.usage.reasoning_tokens > 0
        finally:
            await provider.aclose()
        wrong = DeepSeekProvider("sk-wrong-key", api.url)
        try:
            with pytest.raises(Exception, match="rejected the API key"):
                await wrong.list_models()
        finally:
            await wrong.aclose()


def test_demo_types_reviews_designs_and_reports(tmp_path: Path) -> None:
    source = tmp_path / "small.py"
    source.write_text(SMALL)
    ledger = tmp_path / "demo-ledger.sqlite3"
    result = subprocess.run(
        [sys.executable, "-m", "flashpro", "demo", str(source), "--no-live", "--speed", "40", "--ledger", str(ledger)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=300,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Traceback" not in out + result.stderr
    assert "offline model, simulated" in out and "simulated: offline model" in out
    summary = re.search(r"demo: typed=yes accepted=(\d+) accepted_chars=(\d+) keys=(\d+) review_findings=(\d+) design=(\S+) simulated=yes", out)
    assert summary, out
    assert int(summary.group(1)) >= 1 and int(summary.group(2)) > 0
    assert int(summary.group(3)) < len(SMALL)  # fewer keys than characters: suggestions typed the rest
    assert "the document matches the file" in out
    assert int(summary.group(4)) >= 2 and "finding: line 4:" in out and "finding: line 5:" in out
    assert "design written to .flashpro/designs/" in out and "# Design: save the data back to the file" in out
    assert "Spend by file" in out and "small.py" in out
    spend = re.search(r"flashpro spend \(workspace [^)]*\):\s+(\d+) calls,\s+\$([0-9.]+)", out)
    assert spend and int(spend.group(1)) > 0 and float(spend.group(2)) > 0
    assert ledger.is_file()
    assert not (tmp_path / ".flashpro").exists()  # the user's folder is untouched


def test_serve_api_prints_url_and_key_and_ctrl_c_stops() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "flashpro", "demo", "--serve-api"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(4)]
        assert "SIMULATED" in lines[0] and lines[3].strip() == "Ctrl-C stops."
        url = re.search(r"DEEPSEEK_BASE_URL=(\S+)", lines[1]).group(1)  # type: ignore[union-attr]
        key = re.search(r"DEEPSEEK_API_KEY=(\S+)", lines[2]).group(1)  # type: ignore[union-attr]
        request = urllib.request.Request(url + "/models", headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert "deepseek-v4-flash" in json.loads(answer.read())["data"][0]["id"]
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
        assert "Traceback" not in server.stderr.read()  # type: ignore[union-attr]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_demo_bad_file_is_one_line_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flashpro", "demo", str(tmp_path / "missing.py"), "--no-live"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("flashpro demo: cannot read") and result.stderr.count("\n") == 1


def _demo(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "small.py"
    source.write_text(SMALL)
    return subprocess.run(
        [sys.executable, "-m", "flashpro", "demo", str(source), "--no-live", *args],
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=300,
    )


def test_run_time_is_bounded(tmp_path: Path) -> None:
    result = _demo(tmp_path, "--speed", "0.5", "--max-seconds", "0.5")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"time is up: pasted the last {len(SMALL)} characters" in result.stdout
    assert "demo: typed=yes accepted=0" in result.stdout


def test_with_a_key_it_calls_that_api_and_says_what_failed(tmp_path: Path, fake_deepseek) -> None:  # noqa: ANN001
    # The tests' fake answers every action with JSON that does not validate: the demo must say
    # so in one line and exit 1, and must not claim to be simulated.
    result = _demo(tmp_path, "--speed", "40", DEEPSEEK_API_KEY="sk-test", DEEPSEEK_BASE_URL=fake_deepseek.url)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "Traceback" not in out + result.stderr
    assert f"({fake_deepseek.url})" in out and "simulated" not in out.replace("simulated=no", "")
    assert "demo: typed=yes" in out and "review_findings=failed" in out and "simulated=no" in out
    assert "problem: flashpro: Review this failed: the model's answer was unusable twice" in out
    assert fake_deepseek.requests_to("fim") and len(fake_deepseek.requests_to("chat")) == 4
