"""End to end: "Implement this" — Pro plans, Flash executes, the server checks, one reviewed edit."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.fakes import FakeDeepSeek
from tests.lsp_session import Session, clean_env, ledger_rows, start_session
from tests.task_script import TaskScript, edit, node_answer

CALC = "def add(a, b):\n    return a + b\n\n\n# TODO: sub(a, b) returns a - b\n"
TEST_CALC = "from calc import sub\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n"

PLAN = {
    "goal": "Add sub(a, b)",
    "decisions": [{"decision": "A plain function next to add", "reason": "same module"}],
    "risks": [],
    "acceptance": ["sub(5, 3) == 2"],
    "nodes": [
        {
            "id": "n1",
            "title": "Write sub",
            "writes": ["calc.py"],
            "instructions": "Replace the TODO with sub(a, b) returning a - b.",
            "checks": ["compiles", "lint", "tests:tests/test_calc.py"],
        },
        {
            "id": "n2",
            "title": "Document sub",
            "deps": ["n1"],
            "reads": ["calc.py"],
            "writes": ["CHANGES.md"],
            "instructions": "Create CHANGES.md saying sub was added.",
            "checks": ["compiles"],
        },
    ],
}
TODO = "# TODO: sub(a, b) returns a - b\n"
WRONG = node_answer([edit("calc.py", TODO, "def sub(a, b):\n    return a + b\n")], handoff="sub is in calc.py")
RIGHT = node_answer([edit("calc.py", TODO, "def sub(a, b):\n    return a - b\n")], handoff="sub is in calc.py")
DOCS = node_answer(new_files=[{"path": "CHANGES.md", "content": "- sub(a, b)\n"}])


def _workspace(root: Path) -> str:
    (root / "calc.py").write_text(CALC)
    (root / "tests").mkdir()
    (root / "tests" / "test_calc.py").write_text(TEST_CALC)
    return (root / "calc.py").as_uri()


def _start(fake: FakeDeepSeek, root: Path, editor: str = "vscode", **tasks: Any):
    options = {"apiKey": "sk-test", "baseUrl": fake.url, "tasks": {"runTests": True, **tasks}}
    return start_session(editor, init_options=options, root_uri=root.as_uri(), ledger=root / "ledger.sqlite3")


async def _implement(session: Session, uri: str) -> dict[str, Any]:
    return await session.execute("flashpro.implement", {"uri": uri, "lines": [4, 4]})


def _table(ledger: Path, table: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(ledger)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608 - test table names
    finally:
        conn.close()


async def test_a_node_that_fails_its_test_is_retried_with_the_output_and_one_annotated_edit_arrives(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    uri = _workspace(tmp_path)
    script = TaskScript(PLAN).node("n1", WRONG, RIGHT).node("n2", DOCS)
    fake_deepseek.script_chat(script)
    async with _start(fake_deepseek, tmp_path) as session:
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "applied", result
        assert result["nodes"] == {"n1": "passed", "n2": "passed"}
        (applied,) = session.applied_edits
    # The retry carried the failing test's output; the user's files were never touched.
    retry = script.calls("n1")[1]["messages"]
    assert retry[2]["role"] == "assistant" and "return a + b" in retry[2]["content"]
    assert "tests:tests/test_calc.py failed" in retry[3]["content"] and "assert" in retry[3]["content"]
    assert (tmp_path / "calc.py").read_text() == CALC and not (tmp_path / "CHANGES.md").exists()
    # One edit against the version the task started from, one annotation per node.
    edit_ = applied.edit
    assert set(edit_.change_annotations or {}) == {"n1", "n2"}
    assert all(a.needs_confirmation for a in (edit_.change_annotations or {}).values())
    assert edit_.change_annotations["n1"].label == "Write sub"
    assert "2 attempts" in (edit_.change_annotations["n1"].description or "")
    documents = [c for c in edit_.document_changes or [] if isinstance(c, types.TextDocumentEdit)]
    calc = next(d for d in documents if d.text_document.uri == uri)
    assert calc.text_document.version == 1
    (change,) = calc.edits
    assert change.new_text == "def sub(a, b):\n    return a - b\n" and change.annotation_id == "n1"
    assert any(isinstance(c, types.CreateFile) and c.uri.endswith("CHANGES.md") for c in edit_.document_changes or [])
    # The node prompts share their head (system + plan) byte for byte: the cache serves it.
    first, second = script.calls("n1")[0]["messages"], script.calls("n2")[0]["messages"]
    head = first[1]["content"].split("Your node:")[0]
    assert first[0] == second[0] and second[1]["content"].startswith(head)
    assert "Handoff from n1: sub is in calc.py" in second[1]["content"]
    # The ledger: the task, its nodes and attempts, and every call with its ids.
    ledger = tmp_path / "ledger.sqlite3"
    (task,) = _table(ledger, "tasks")
    assert (task["status"], task["applied"], task["nodes_total"], task["nodes_passed"]) == ("applied", 1, 2, 2)
    assert task["attempts"] == 3 and task["combination"] == "pro-flash"
    attempts = {(r["node_id"], r["n"]): r["outcome"] for r in _table(ledger, "attempts")}
    assert attempts == {("n1", 1): "check_failed", ("n1", 2): "passed", ("n2", 1): "passed"}
    calls = [r for r in ledger_rows(ledger) if r["task_id"] == task["id"]]
    assert [(r["role"], r["node_id"], r["attempt"]) for r in calls] == [
        ("planner", None, None),
        ("executor", "n1", 1),
        ("executor", "n1", 2),
        ("executor", "n2", 1),
        ("planner", None, None),
    ]
    assert [json.loads(r["details"])["task"] for r in calls] == ["plan", "node", "node", "node", "accept"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"nodes": [{**PLAN["nodes"][0], "deps": ["n2"]}, PLAN["nodes"][1]]}, "cycle"),
        ({"nodes": [{**PLAN["nodes"][0], "writes": ["../outside.py"]}]}, "outside the workspace"),
        ({"nodes": [{**PLAN["nodes"][0], "writes": [".env"]}]}, "excluded"),
        ({"nodes": [{**PLAN["nodes"][0], "deps": ["n9"]}]}, "unknown node"),
        ({"nodes": [{**PLAN["nodes"][0], "checks": ["rm -rf /"]}]}, "unknown check"),
    ],
)
async def test_a_bad_plan_is_rejected_and_nothing_runs(
    fake_deepseek: FakeDeepSeek, tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    uri = _workspace(tmp_path)
    script = TaskScript({**PLAN, **change})
    fake_deepseek.script_chat(script)
    async with _start(fake_deepseek, tmp_path) as session:
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "plan_rejected" and reason in result["message"]
        assert [kind for kind, _ in script.seen] == ["plan"]  # no node ran
        assert session.applied_edits == []
        await session.wait_for(lambda: any(reason in m for m in session.messages()))


async def test_a_node_flash_cannot_do_escalates_to_pro(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    plan = {**PLAN, "nodes": [PLAN["nodes"][0]]}
    bad = node_answer([edit("calc.py", "no such text", "x")])
    script = TaskScript(plan).node("n1", bad, bad, RIGHT)
    fake_deepseek.script_chat(script)
    async with _start(fake_deepseek, tmp_path, maxAttempts=2) as session:
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "applied"
    calls = script.calls("n1")
    assert [c["model"] for c in calls] == ["deepseek-v4-flash", "deepseek-v4-flash", "deepseek-v4-pro"]
    assert calls[2]["thinking"] == {"type": "enabled"}
    assert "the search text was not found in 'calc.py'" in calls[1]["messages"][3]["content"]
    (task,) = _table(tmp_path / "ledger.sqlite3", "tasks")
    assert task["escalations"] == 1 and task["tool_failures"] == 2


class _Held(TaskScript):
    """A script whose calls for one node wait until the test releases them."""

    def __init__(self, plan: dict[str, Any], node: str) -> None:
        super().__init__(plan)
        self.held_node = node
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, body: dict[str, Any]) -> str:
        messages = body.get("messages") or []
        if len(messages) > 1 and f"Your node: {self.held_node} " in messages[1]["content"]:
            self.arrived.set()
            self.release.wait(30)
        return super().__call__(body)


async def _arrived(script: _Held) -> None:
    await asyncio.get_running_loop().run_in_executor(None, script.arrived.wait, 30)


async def test_cancelling_a_task_aborts_its_calls_and_applies_nothing(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    script = _Held(PLAN, "n1")
    fake_deepseek.script_chat(script)
    async with _start(fake_deepseek, tmp_path) as session:
        session.open(uri, CALC)
        pending = asyncio.ensure_future(_implement(session, uri))
        await _arrived(script)
        (token,) = session.client.progress_reports
        session.client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        result = await asyncio.wait_for(pending, 30)
        assert result["status"] == "cancelled" and "nothing was applied" in result["message"]
        assert session.client.progress_reports[token][-1].message == "cancelled"
        script.release.set()
        assert session.applied_edits == []
        ledger = tmp_path / "ledger.sqlite3"
        await session.wait_for(lambda: [r["status"] for r in _table(ledger, "tasks")] == ["cancelled"])
    rows = [r for r in ledger_rows(ledger) if r["node_id"] == "n1"]
    assert [r["status"] for r in rows] == ["cancelled"]
    assert (tmp_path / "calc.py").read_text() == CALC


async def test_the_task_cap_stops_a_task_cleanly(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    script = TaskScript(PLAN).node("n1", RIGHT).node("n2", DOCS)
    fake_deepseek.script_chat(script)
    async with _start(fake_deepseek, tmp_path, maxUsd=0.000001) as session:
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "stopped" and "flashpro.tasks.maxUsd" in result["message"]
        assert [kind for kind, _ in script.seen] == ["plan"]  # the plan spent the cap; no node ran
        assert session.applied_edits == []
        await session.wait_for(lambda: any("maxUsd" in m for m in session.messages()))


async def test_an_edit_to_the_lines_the_task_changes_is_never_overwritten(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    uri = _workspace(tmp_path)
    plan = {**PLAN, "nodes": [PLAN["nodes"][0]]}
    script = _Held(plan, "n1").node("n1", RIGHT)
    fake_deepseek.script_chat(script)
    async with _start(fake_deepseek, tmp_path) as session:
        session.answers = ["Close"]
        session.open(uri, CALC)
        running = asyncio.ensure_future(_implement(session, uri))
        await _arrived(script)
        session.edit(uri, (4, 0), (4, 0), "# mine\n")  # right above the TODO the task replaces
        script.release.set()
        result = await running
        assert result["status"] == "conflict" and "nothing was overwritten" in result["message"]
        assert session.applied_edits == []
        (question,) = session.questions
        assert [a.title for a in question.actions or []] == ["Re-run task", "Close"]
        assert Path(result["review"]).read_text().count("return a - b") == 1


async def test_an_edit_elsewhere_is_kept_and_the_change_lands_around_it(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    plan = {**PLAN, "nodes": [PLAN["nodes"][0]]}
    script = _Held(plan, "n1").node("n1", RIGHT)
    fake_deepseek.script_chat(script)
    async with _start(fake_deepseek, tmp_path) as session:
        session.open(uri, CALC)
        running = asyncio.ensure_future(_implement(session, uri))
        await _arrived(script)
        session.edit(uri, (0, 0), (0, 0), '"""Arithmetic."""\n')  # far from the TODO
        script.release.set()
        result = await running
        assert result["status"] == "applied"
        (applied,) = session.applied_edits
    (document,) = [c for c in applied.edit.document_changes or [] if isinstance(c, types.TextDocumentEdit)]
    assert document.text_document.version == 2  # against the user's text now
    (change,) = document.edits
    assert change.range.start.line == 5  # the TODO moved down one line


async def test_replicas_run_at_once_and_the_smallest_passing_change_wins(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    node = {**PLAN["nodes"][0], "replicas": 3}
    script = TaskScript({**PLAN, "nodes": [node]})
    big = node_answer([edit("calc.py", TODO, "def sub(a, b):\n    result = a - b\n    return result\n")])
    fake_deepseek.script_chat(script.node("n1", WRONG, big, RIGHT))
    async with _start(fake_deepseek, tmp_path) as session:
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "applied"
        (applied,) = session.applied_edits
    assert len(script.calls("n1")) == 3
    (document,) = [c for c in applied.edit.document_changes or [] if isinstance(c, types.TextDocumentEdit)]
    assert document.edits[0].new_text == "def sub(a, b):\n    return a - b\n"
    outcomes = sorted(r["outcome"] for r in _table(tmp_path / "ledger.sqlite3", "attempts"))
    assert outcomes == ["check_failed", "passed", "passed"]


@pytest.mark.parametrize("editor", ["neovim-0.11", "emacs"])
async def test_clients_without_annotations_review_markdown_first(
    fake_deepseek: FakeDeepSeek, tmp_path: Path, editor: str
) -> None:
    uri = _workspace(tmp_path)
    fake_deepseek.script_chat(TaskScript(PLAN).node("n1", RIGHT).node("n2", DOCS))
    async with _start(fake_deepseek, tmp_path, editor) as session:
        session.answers = ["Apply"]
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "applied", result
        (question,) = session.questions
        assert [a.title for a in question.actions or []] == ["Apply", "Discard"]
        review = Path(result["review"]).read_text()
        assert "| n1: Write sub | passed | 1 |" in review and "+    return a - b" in review
        (applied,) = session.applied_edits
    edit_ = applied.edit
    assert not edit_.change_annotations
    texts = [e.new_text for c in edit_.document_changes or [] if isinstance(c, types.TextDocumentEdit) for e in c.edits]
    texts += [e.new_text for edits in (edit_.changes or {}).values() for e in edits]
    assert "def sub(a, b):\n    return a - b\n" in texts
    created = any(isinstance(c, types.CreateFile) for c in edit_.document_changes or [])
    if not created:  # a client that cannot create files through an edit: written on Apply
        assert (tmp_path / "CHANGES.md").read_text() == "- sub(a, b)\n"


async def test_discarding_the_review_applies_nothing(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    fake_deepseek.script_chat(TaskScript(PLAN).node("n1", RIGHT).node("n2", DOCS))
    async with _start(fake_deepseek, tmp_path, "neovim-0.11") as session:
        session.answers = ["Discard"]
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "discarded" and session.applied_edits == []
    (task,) = _table(tmp_path / "ledger.sqlite3", "tasks")
    assert (task["status"], task["applied"]) == ("discarded", 0)


async def test_a_stuck_node_asks_the_user_and_skipping_it_keeps_the_rest(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    plan = {**PLAN, "nodes": [PLAN["nodes"][0], {**PLAN["nodes"][1], "deps": []}]}
    fake_deepseek.script_chat(TaskScript(plan).node("n1", WRONG).node("n2", DOCS))
    async with _start(fake_deepseek, tmp_path, maxAttempts=1, concurrency=1) as session:
        session.answers = ["Skip node"]
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "applied" and result["nodes"] == {"n1": "skipped", "n2": "passed"}
        (question,) = session.questions
        assert "n1 'Write sub' failed after 2 attempts" in question.message
        assert [a.title for a in question.actions or []] == ["Retry", "Skip node", "Abort"]
    (task,) = _table(tmp_path / "ledger.sqlite3", "tasks")
    assert task["human_interventions"] == 1


async def test_the_stuck_question_names_the_failing_test_and_the_model_that_escalated(
    fake_deepseek: FakeDeepSeek, tmp_path: Path
) -> None:
    # Flash only escalates to Flash with thinking; the question must not claim V4 Pro was tried,
    # and its "last problem" is pytest's FAILED line, not the warnings pytest printed first.
    uri = _workspace(tmp_path)
    script = TaskScript({**PLAN, "nodes": [PLAN["nodes"][0]]}).node("n1", WRONG)
    fake_deepseek.script_chat(script)
    options = {
        "apiKey": "sk-test",
        "baseUrl": fake_deepseek.url,
        "tasks": {"runTests": True, "maxAttempts": 1},
        "actions": {"implement": {"combination": "flash"}},
    }
    ledger = tmp_path / "ledger.sqlite3"
    async with start_session("vscode", init_options=options, root_uri=tmp_path.as_uri(), ledger=ledger) as session:
        session.answers = ["Abort"]
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "aborted"
        (question,) = session.questions
    escalated = script.calls("n1")[-1]
    assert escalated["model"] == "deepseek-v4-flash" and escalated["thinking"] == {"type": "enabled"}
    assert "failed after 2 attempts, the last on V4 Flash with thinking" in question.message
    assert "V4 Pro" not in question.message
    assert "(last problem: tests:tests/test_calc.py failed: FAILED tests/test_calc.py::test_sub" in question.message


async def test_aborting_a_stuck_task_applies_nothing(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    fake_deepseek.script_chat(TaskScript(PLAN).node("n1", WRONG))
    async with _start(fake_deepseek, tmp_path, maxAttempts=1) as session:
        session.answers = ["Abort"]
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "aborted" and session.applied_edits == []


async def test_rework_reruns_the_named_node_with_the_findings(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    verdicts = [{"verdict": "rework", "findings": ["say what sub does"], "rework": ["n2"]}, {"verdict": "accept"}]
    better = node_answer([edit("CHANGES.md", "- sub(a, b)\n", "- sub(a, b) returns a - b\n")])
    script = TaskScript(PLAN, verdicts).node("n1", RIGHT).node("n2", DOCS, better)
    fake_deepseek.script_chat(script)
    async with _start(fake_deepseek, tmp_path) as session:
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "applied"
    second = script.calls("n2")[1]["messages"][1]["content"]
    assert "The reviewer asked for rework: say what sub does" in second
    assert len(script.calls("accept")) == 2
    (task,) = _table(tmp_path / "ledger.sqlite3", "tasks")
    assert task["rework_count"] == 1 and task["review_findings"] == 1


async def test_checks_never_see_the_api_key(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    seen = tmp_path / "env.txt"
    probe = [sys.executable, "-c", f"import os; open({str(seen)!r}, 'w').write('\\n'.join(sorted(os.environ)))"]
    plan = {**PLAN, "nodes": [{**PLAN["nodes"][0], "checks": ["compiles", "env"]}]}
    fake_deepseek.script_chat(TaskScript(plan).node("n1", RIGHT))
    options = {"baseUrl": fake_deepseek.url, "tasks": {"checks": {"env": probe}}}
    environment = clean_env(FLASHPRO_LEDGER=str(tmp_path / "ledger.sqlite3"), DEEPSEEK_API_KEY="sk-test")
    async with start_session("vscode", init_options=options, env=environment, root_uri=tmp_path.as_uri()) as session:
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "applied"
    names = seen.read_text().split("\n")
    assert "PATH" in names and "DEEPSEEK_API_KEY" not in names and not any("KEY" in n for n in names)


async def test_the_report_compares_model_combinations(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    fake_deepseek.script_chat(TaskScript(PLAN).node("n1", RIGHT).node("n2", DOCS))
    async with _start(fake_deepseek, tmp_path) as session:
        session.open(uri, CALC)
        assert (await _implement(session, uri))["status"] == "applied"
        session.client.set_configuration({"actions": {"implement": {"combination": "flash"}}}, section="flashpro")
        session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
        await asyncio.sleep(0.3)
        assert (await _implement(session, uri))["status"] == "applied"
        report = await session.execute("flashpro.report")
    combos = {c["models"]: c for c in report["tasks_by_combination"]}
    assert set(combos) == {
        "executor=deepseek-v4-flash · planner=deepseek-v4-pro",
        "executor=deepseek-v4-flash",
    }
    for combo in combos.values():
        assert combo["tasks"] == 1 and combo["completion_rate"] == 1.0 and combo["cost_per_task"] > 0
    assert [t["combination"] for t in report["tasks"]] == ["pro-flash", "flash"]


async def test_a_secret_in_a_file_a_node_reads_never_reaches_the_api(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    from tests.canaries import GITHUB_CLASSIC, GOOGLE

    uri = _workspace(tmp_path)
    (tmp_path / "settings.py").write_text(f'GITHUB_TOKEN = "{GITHUB_CLASSIC}"\nMAPS_KEY = "{GOOGLE}"\n')
    plan = {**PLAN, "nodes": [{**PLAN["nodes"][0], "reads": ["settings.py"]}]}
    fake_deepseek.script_chat(TaskScript(plan).node("n1", RIGHT))
    async with _start(fake_deepseek, tmp_path) as session:
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "applied"
    bodies = [json.dumps(r.body) for r in fake_deepseek.requests_to("chat")]
    assert any("settings.py" in body and "<redacted>" in body for body in bodies)
    assert not any(GITHUB_CLASSIC in body or GOOGLE in body for body in bodies)


async def test_without_run_tests_the_test_checks_are_skipped_and_said_so(fake_deepseek: FakeDeepSeek, tmp_path: Path) -> None:
    uri = _workspace(tmp_path)
    fake_deepseek.script_chat(TaskScript(PLAN).node("n1", WRONG).node("n2", DOCS))  # WRONG would fail the test
    async with _start(fake_deepseek, tmp_path, runTests=False) as session:
        session.open(uri, CALC)
        result = await _implement(session, uri)
        assert result["status"] == "applied" and "tests not run" in result["message"]
        reports = [r for token in session.client.progress_reports.values() for r in token]
        assert any("test check(s) skipped" in (getattr(r, "message", "") or "") for r in reports)
    review = Path(result["review"]).read_text()
    assert "Not run: `tests:tests/test_calc.py`" in review and "tests:tests/test_calc.py –" in review
